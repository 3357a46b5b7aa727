#include "kaoko/app/service.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "kaoko/app/options.hpp"
#include "kaoko/app/station_texts_file.hpp"
#include "kaoko/common/log.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/http/auth.hpp"
#include "kaoko/http/http.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/live/live.hpp"
#include "kaoko/mqtt/mqtt_link.hpp"
#include "kaoko/mqtt/publish_router.hpp"
#include "kaoko/store/db_lock.hpp"
#include "kaoko/store/retention.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/tiers/tier.hpp"

namespace kaoko::server {
namespace {

class ServiceImpl : public Service {
 public:
  ServiceImpl(ServiceOptions options, alerting::Network network)
      : options_(std::move(options)), network_(std::move(network)) {}

  Result<bool> Init() {
    // Before any room reads the network: the engine and the delivery room see the people's deadlines as they last.
    if (options_.human_real_time) HumanDeadlinesAtRealTime(network_, options_.time_scale);
    // One service per database, and no restore while it runs (kaoko-admin restore takes the same lock).
    auto lock = store::DatabaseLock::Acquire(options_.db_path, "kaoko-server");
    if (!lock) return lock.error();
    db_lock_.emplace(std::move(*lock));
    // The stations' names and landmarks go to a nameless file beside the database, read when used (config.hpp).
    auto db_dir = std::filesystem::absolute(options_.db_path).parent_path().string();
    if (auto moved = app::MoveTextsToFile(network_, db_dir); !moved) {
      log::Warn("service", "the station texts stay in memory: {}", moved.error().reason);
    } else if (*moved >= (std::size_t{1} << 20)) {
      log::Info("service", "station texts: {:.1f} MB moved to a file beside the database, read from it when used",
                static_cast<double>(*moved) / 1e6);
    }
    std::error_code ec;
    auto before =
        std::filesystem::exists(options_.db_path, ec) ? store::SchemaVersionOf(options_.db_path) : std::nullopt;
    auto writer = store::Store::Open(options_.db_path);
    if (!writer) return writer.error();
    writer_ = std::move(*writer);
    if (before && *before > 0 && *before < writer_->schema_version()) {
      log::Info("store", "upgraded the database {} from schema version {} to {}", options_.db_path, *before,
                writer_->schema_version());
    }
    auto reader = store::Store::Open(options_.db_path, {.read_only = true});
    if (!reader) return reader.error();
    CoreOptions core_options;
    core_options.alert_trace = options_.alert_trace;
    // The tier (docs/tiers.md) sees what the core stores, inside its transactions.
    auto made = tier::Tier::Create(options_.tier, network_, *writer_, options_.db_path, metrics_);
    if (!made) return made.error();
    tier_ = std::move(*made);
    core_options.tap = tier_.get();
    core_options.clock = ClockOf(options_);
    if (auto made_delivery = MakeDelivery(core_options); !made_delivery) return made_delivery.error();
    if (core_options.clock.rehearsal()) {
      log::Info("service", "REHEARSAL: kaoko's clock runs {}x faster than real time from {}; people's deadlines {}",
                core_options.clock.scale(), wire::FormatTime(core_options.clock.origin()),
                options_.human_real_time ? "at real time" : "as fast");
    }
    core_ = std::make_unique<Core>(network_, *writer_, publisher_, metrics_, core_options);
    tier_->Attach(*core_);
    MqttOptions mo;
    mo.url = options_.broker_url;
    mo.user = options_.mqtt_user;
    mo.password = options_.mqtt_password;
    mo.tambon = network_.tambon;
    mo.client_id = options_.client_id.empty() ? fmt::format("kaoko-{}", network_.tambon) : options_.client_id;
    mo.extra_subscriptions = tier_->Subscriptions();
    mqtt_ = std::make_unique<MqttLink>(mo, metrics_, [this](Inbound in) { core_->Enqueue(std::move(in)); });
    // A second connection carries everything but acks (alerts, sirens, notifications, receipts, CAP, the tier's
    // journal): one TCP stream would put an alert behind every ack already written into it, and under load that was
    // most of an alert's latency (docs/benchmarks.md). It subscribes to nothing.
    MqttOptions out = mo;
    out.client_id = mo.client_id + "-out";
    out.extra_subscriptions.clear();
    out.subscribe = false;
    out_ = std::make_unique<MqttLink>(out, metrics_, [this](Inbound in) { core_->Enqueue(std::move(in)); });
    router_ = std::make_unique<PublishRouter>(*mqtt_, *out_);
    publisher_.target = &tier_->Output(*router_);
    // People's logins: a person without a stored web password may use their broker password once (the seed).
    std::map<std::string, std::string> seeds;
    if (!options_.credentials_file.empty()) {
      for (const auto& person : network_.people) {
        if (auto pw = ReadPassword(options_.credentials_file, person.id)) seeds[person.id] = *pw;
      }
    }
    auto auth = Auth::Open(options_.db_path, network_, std::move(seeds));
    if (!auth) return auth.error();
    api_ = std::make_unique<HttpApi>(
        network_, *core_, metrics_, std::move(*reader),
        [this] {
          Health h;
          if (!mqtt_->connected())
            h.broker = mqtt_->last_problem();
          else if (!out_->connected())
            h.broker = out_->last_problem();
          if (auto p = core_->DbProblem()) h.database = *p;
          if (delivery_) h.delivery = delivery_->Problem();
          return h;
        },
        std::move(*auth),
        WebOptions{options_.web_root, options_.mqtt_ws_url, core_options.clock.scale(), core_options.clock.rehearsal(),
                   options_.human_real_time || !core_options.clock.rehearsal()});
    api_->SetExtraRoutes([this](const Request& r) { return tier_->Http(r); });
    api_->SetDelivery(delivery_.get());
    // Live updates: the core thread only posts its events to the io_context, where the hub fans them out.
    hub_ = std::make_unique<LiveHub>(
        network_, [this](std::int64_t id) { return api_->IncidentJson(id); }, metrics_);
    core_->SetObserver(
        [this](std::vector<LiveEvent> events) {
          boost::asio::post(io_, [this, events = std::move(events)] { hub_->Broadcast(events); });
        },
        [this] { return hub_->Listening(); });
    try {
      auto address = boost::asio::ip::make_address(options_.http_address);
      http_ = std::make_unique<HttpServer>(io_, boost::asio::ip::tcp::endpoint(address, options_.http_port), *api_,
                                           hub_.get());
    } catch (const std::exception& e) {
      return MakeError("http",
                       fmt::format("cannot listen on {}:{}: {}", options_.http_address, options_.http_port, e.what()));
    }
    UpdateStorageGauges();
    return true;
  }

  void Run() override {
    std::jthread core_thread([this](std::stop_token st) { core_->Run(st); });
    std::jthread retention_thread([this](std::stop_token st) { RetentionLoop(st); });
    mqtt_->Start();
    out_->Start();
    tier_->Start();
    http_->Start();
    if (delivery_) {
      delivery_->SetCallbackUrl(fmt::format("http://{}:{}", options_.http_address, http_->port()));
      delivery_->Start();
    }
    log::Info("service", "kaoko serving tambon {} ({} villages, {} stations, {} people); HTTP on http://{}:{}/",
              network_.tambon, network_.villages.size(), network_.stations.size(), network_.people.size(),
              options_.http_address, http_->port());
    if (std::none_of(network_.people.begin(), network_.people.end(),
                     [](const alerting::Person& p) { return p.role == alerting::Role::kDistrict; })) {
      log::Warn("service",
                "no district in the network file: nobody above the TAO is told when it misses its "
                "deadline (CAP still carries it; docs/district.md)");
    }
    io_.run();  // until Stop()
    log::Info("service", "stopping: committing what was received, then disconnecting");
    if (delivery_) delivery_->Stop();  // a send in progress finishes; what is queued stays in the outbox
    tier_->Stop();                     // before the core: its dead-man's switch waits for the core's next batch
    retention_thread.request_stop();   // before the core: its step waits for the core's next batch
    retention_thread.join();
    core_thread.request_stop();
    core_thread.join();
    mqtt_->Stop();
    out_->Stop();
    log::Info("service", "stopped");
  }

  void Stop() override { io_.stop(); }
  unsigned short http_port() const override { return http_->port(); }

 private:
  // The delivery room (docs/delivery.md), when a gateway is configured: SMS (--sms-gateway) and LINE (a [line] table
  // in the credentials). The core queues deliveries for the channels it has.
  Result<bool> MakeDelivery(CoreOptions& core_options) {
    if (options_.sms_sendsms_url.empty() && !options_.line) return true;
    delivery::DeliveryOptions d;
    d.db_path = options_.db_path;
    d.clock = core_options.clock;
    d.down_after = std::chrono::minutes(options_.gateway_down_minutes);
    if (!options_.sms_sendsms_url.empty()) {
      delivery::SmsGateway gw;
      gw.sendsms_url = options_.sms_sendsms_url;
      gw.username = options_.sms_username;
      gw.password = options_.sms_password;
      gw.from = options_.sms_from;
      gw.per_minute = options_.sms_per_minute;
      gw.callback_token = options_.sms_callback_token;
      gw.callback_url = options_.callback_url;
      d.sms = gw;
    }
    if (options_.line) {
      d.line = delivery::LineAccount{options_.line_api, options_.line_channel_token, options_.line_channel_secret,
                                     options_.line_ca_file, options_.line_per_minute};
    }
    auto made_delivery =
        delivery::Delivery::Create(network_, std::move(d), metrics_,
                                   [this](const std::string& user, const wire::DecisionMsg& m, const std::string& via) {
                                     CommandResult r = core_->Decide(user, m, via);
                                     if (r.error) return delivery::DecideOutcome{false, *r.error};
                                     if (r.receipt && !r.receipt->ok)
                                       return delivery::DecideOutcome{false, r.receipt->error};
                                     return delivery::DecideOutcome{true, ""};
                                   });
    if (!made_delivery) return made_delivery.error();
    delivery_ = std::move(*made_delivery);
    // People asked to act whom no channel reached: the engine passes them over (Engine::OnUnreached).
    delivery_->SetUnreached([this](std::int64_t incident, const std::string& user, alerting::ActionNeeded action,
                                   const std::vector<std::string>& others, bool every_channel_failed) {
      auto error = core_->Command([&](alerting::Engine& engine, wire::TimePoint now) {
        return engine.OnUnreached(incident, user, action, others, now, every_channel_failed);
      });
      return !error.has_value();
    });
    core_options.delivery_channels = delivery_->channels();
    return true;
  }

  // Retention (retention.hpp, docs/operations.md): one bounded step a minute, run on the core thread inside an
  // ordinary batch so that ingest never waits long; a step a second while older readings remain (after an upgrade or
  // a change of --raw-days). Also refreshes the storage gauges of /metrics.
  void RetentionLoop(std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    auto delay = std::chrono::milliseconds(5000);  // let the service settle first
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, stop, delay, [] { return false; });
      }
      if (stop.stop_requested()) return;
      UpdateStorageGauges();
      bool more = options_.raw_days > 0 && RetentionStep();
      delay = more ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(60000);
    }
  }

  // Returns whether older raw readings remain.
  bool RetentionStep() {
    store::DownsampleResult r;
    CommandResult result = core_->Run([this, &r](TimePoint now) {
      auto cutoff = now - std::chrono::hours(24) * options_.raw_days;
      writer_->Exec("SAVEPOINT retention");
      try {
        r = store::DownsampleStep(*writer_, cutoff);
        writer_->Exec("RELEASE retention");
        return CommandResult{};
      } catch (const std::exception& e) {
        // Undo only retention's part: the batch's readings still commit.
        writer_->Exec("ROLLBACK TO retention");
        writer_->Exec("RELEASE retention");
        return CommandResult{std::string(e.what()), std::nullopt};
      }
    });
    if (result.error) {
      if (log::ShouldLog("retention_error")) {
        log::Warn("retention", "folding old readings into hourly rows failed (tried again in a minute): {}",
                  *result.error);
      }
      return false;
    }
    if (r.raw_deleted > 0) {
      metrics_.Count("kaoko_retention_rows_total", "raw_deleted", static_cast<std::uint64_t>(r.raw_deleted));
      metrics_.Count("kaoko_retention_rows_total", "hourly_written", static_cast<std::uint64_t>(r.hourly_written));
      if (log::ShouldLog("retention_step")) {
        log::Info("retention", "folded {} readings older than {} days into {} hourly rows{}", r.raw_deleted,
                  options_.raw_days, r.hourly_written, r.more ? "; more to do" : "");
      }
    }
    return r.more;
  }

  // The database's size on disk (with its WAL) and the free space where it lives: what fills the disk, in /metrics.
  void UpdateStorageGauges() {
    std::map<std::string, double> g;
    std::error_code ec;
    double bytes = 0;
    for (const char* suffix : {"", "-wal"}) {
      auto n = std::filesystem::file_size(options_.db_path + suffix, ec);
      if (!ec) bytes += static_cast<double>(n);
    }
    g["database"] = bytes;
    auto space = std::filesystem::space(std::filesystem::absolute(options_.db_path).parent_path(), ec);
    if (!ec) {
      g["disk_free"] = static_cast<double>(space.available);
      g["disk_total"] = static_cast<double>(space.capacity);
    }
    metrics_.SetGauge("kaoko_storage_bytes", g);
  }

  // The core publishes through this; it forwards to the MQTT link once it exists.
  struct Forwarder : Publisher {
    Publisher* target = nullptr;
    void Publish(const std::string& topic, const std::string& payload, bool retained) override {
      target->Publish(topic, payload, retained);
    }
  };

  std::optional<store::DatabaseLock> db_lock_;  // first member: released last
  ServiceOptions options_;
  alerting::Network network_;
  Metrics metrics_;
  Forwarder publisher_;
  std::unique_ptr<store::Store> writer_;
  std::unique_ptr<tier::Tier> tier_;              // after the writer (its statements go first), before the core
  std::unique_ptr<delivery::Delivery> delivery_;  // before the core: its replies decide through it
  std::unique_ptr<Core> core_;
  std::unique_ptr<MqttLink> mqtt_;         // subscribes; publishes the acks
  std::unique_ptr<MqttLink> out_;          // publishes everything else
  std::unique_ptr<PublishRouter> router_;  // acks to mqtt_, the rest to out_
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<LiveHub> hub_;
  boost::asio::io_context io_{1};
  std::unique_ptr<HttpServer> http_;
};

}  // namespace

Result<std::unique_ptr<Service>> Service::Create(ServiceOptions options) {
  app::UseFileMappableTextStorage();  // before the network is loaded: its texts can then move to a file (Init)
  auto network = tier::CoreNetwork(options.tier, options.network_file);
  if (!network) return network.error();
  auto service = std::make_unique<ServiceImpl>(std::move(options), std::move(*network));
  auto ok = service->Init();
  if (!ok) return ok.error();
  return std::unique_ptr<Service>(std::move(service));
}

Result<std::string> ReadPassword(const std::string& file, const std::string& user) {
  try {
    toml::table t = toml::parse_file(file);
    if (auto v = t["accounts"][user].value<std::string>()) return *v;
    if (auto v = t[user].value<std::string>()) return *v;
    if (auto v = t[user]["password"].value<std::string>()) return *v;
    if (auto v = t["accounts"][user]["password"].value<std::string>()) return *v;
    return MakeError("credentials", fmt::format("{}: no password for '{}'", file, user));
  } catch (const toml::parse_error& e) {
    return MakeError("credentials", fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
  }
}

Result<bool> ReadSmsAccount(const std::string& file, ServiceOptions& o) {
  try {
    toml::table t = toml::parse_file(file);
    auto sms = t["sms"];
    auto user = sms["username"].value<std::string>();
    auto password = sms["password"].value<std::string>();
    auto token = sms["callback_token"].value<std::string>();
    if (!user || !password || !token) {
      return MakeError("credentials",
                       fmt::format("{}: the [sms] table needs username, password and callback_token", file));
    }
    if (token->size() < 16) {
      return MakeError("credentials", fmt::format("{}: [sms] callback_token must be at least 16 characters", file));
    }
    o.sms_username = *user;
    o.sms_password = *password;
    o.sms_callback_token = *token;
    if (auto from = sms["from"].value<std::string>()) o.sms_from = *from;
    return true;
  } catch (const toml::parse_error& e) {
    return MakeError("credentials", fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
  }
}

Result<bool> ReadLineAccount(const std::string& file, ServiceOptions& o) {
  try {
    toml::table t = toml::parse_file(file);
    if (!t.contains("line")) return false;
    auto line = t["line"];
    auto token = line["channel_token"].value<std::string>();
    auto secret = line["channel_secret"].value<std::string>();
    if (!token || !secret || token->empty() || secret->empty()) {
      return MakeError("credentials", fmt::format("{}: the [line] table needs channel_token and channel_secret", file));
    }
    o.line_channel_token = *token;
    o.line_channel_secret = *secret;
    return true;
  } catch (const toml::parse_error& e) {
    return MakeError("credentials", fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
  }
}

}  // namespace kaoko::server
