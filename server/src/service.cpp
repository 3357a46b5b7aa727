#include "kaoko/server/service.hpp"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <thread>
#include <toml++/toml.h>

#include "kaoko/server/auth.hpp"
#include "kaoko/server/config.hpp"
#include "kaoko/server/core.hpp"
#include "kaoko/server/http.hpp"
#include "kaoko/server/live.hpp"
#include "kaoko/server/log.hpp"
#include "kaoko/server/mqtt_link.hpp"
#include "kaoko/server/store.hpp"

namespace kaoko::server {
namespace {

class ServiceImpl : public Service {
 public:
  ServiceImpl(ServiceOptions options, alerting::Network network) : options_(std::move(options)), network_(std::move(network)) {}

  Result<bool> Init() {
    auto writer = store::Store::Open(options_.db_path);
    if (!writer) return writer.error();
    writer_ = std::move(*writer);
    auto reader = store::Store::Open(options_.db_path, {.read_only = true});
    if (!reader) return reader.error();
    CoreOptions core_options;
    if (options_.time_scale != 1.0 || options_.time_origin_ms != 0) {
      // Rehearsal: simulated time = origin + (real time since start) × scale, the same rule kaoko-sim follows.
      auto real_start = std::chrono::steady_clock::now();
      auto origin = options_.time_origin_ms != 0
                        ? TimePoint(std::chrono::milliseconds(options_.time_origin_ms))
                        : std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
      double scale = options_.time_scale;
      if (options_.time_origin_ms != 0) {
        // Anchor to the wall clock so that a service started after the simulator agrees with it.
        auto wall_origin = origin;
        core_options.clock = [wall_origin, scale] {
          auto real = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
          auto elapsed = std::chrono::duration<double, std::milli>(real - wall_origin).count();
          return wall_origin + std::chrono::milliseconds(static_cast<long long>(elapsed * scale));
        };
      } else {
        core_options.clock = [origin, real_start, scale] {
          auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - real_start).count();
          return origin + std::chrono::milliseconds(static_cast<long long>(elapsed * scale));
        };
      }
      log::Info("service", "REHEARSAL: kaoko's clock runs {}x faster than real time from {}", scale,
                wire::FormatTime(origin));
    }
    core_ = std::make_unique<Core>(network_, *writer_, publisher_, metrics_, core_options);
    MqttOptions mo;
    mo.url = options_.broker_url;
    mo.user = options_.mqtt_user;
    mo.password = options_.mqtt_password;
    mo.tambon = network_.tambon;
    mo.client_id = options_.client_id.empty() ? fmt::format("kaoko-{}", network_.tambon) : options_.client_id;
    mqtt_ = std::make_unique<MqttLink>(mo, metrics_, [this](Inbound in) { core_->Enqueue(std::move(in)); });
    publisher_.target = mqtt_.get();
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
          if (!mqtt_->connected()) h.broker = mqtt_->last_problem();
          if (auto p = core_->DbProblem()) h.database = *p;
          return h;
        },
        std::move(*auth), WebOptions{options_.web_root, options_.mqtt_ws_url});
    // Live updates: the core thread only posts its events to the io_context, where the hub fans them out.
    hub_ = std::make_unique<LiveHub>(network_, [this](std::int64_t id) { return api_->IncidentJson(id); });
    core_->SetObserver([this](const std::vector<LiveEvent>& events) {
      if (events.empty()) return;
      boost::asio::post(io_, [this, events] { hub_->Broadcast(events); });
    });
    try {
      auto address = boost::asio::ip::make_address(options_.http_address);
      http_ = std::make_unique<HttpServer>(io_, boost::asio::ip::tcp::endpoint(address, options_.http_port), *api_,
                                           hub_.get());
    } catch (const std::exception& e) {
      return MakeError("http", fmt::format("cannot listen on {}:{}: {}", options_.http_address, options_.http_port, e.what()));
    }
    return true;
  }

  void Run() override {
    std::jthread core_thread([this](std::stop_token st) { core_->Run(st); });
    mqtt_->Start();
    http_->Start();
    log::Info("service", "kaoko serving tambon {} ({} villages, {} stations, {} people); HTTP on http://{}:{}/",
              network_.tambon, network_.villages.size(), network_.stations.size(), network_.people.size(),
              options_.http_address, http_->port());
    io_.run();  // until Stop()
    log::Info("service", "stopping: committing what was received, then disconnecting");
    core_thread.request_stop();
    core_thread.join();
    mqtt_->Stop();
    log::Info("service", "stopped");
  }

  void Stop() override { io_.stop(); }
  unsigned short http_port() const override { return http_->port(); }

 private:
  // The core publishes through this; it forwards to the MQTT link once it exists.
  struct Forwarder : Publisher {
    Publisher* target = nullptr;
    void Publish(const std::string& topic, const std::string& payload, bool retained) override {
      target->Publish(topic, payload, retained);
    }
  };

  ServiceOptions options_;
  alerting::Network network_;
  Metrics metrics_;
  Forwarder publisher_;
  std::unique_ptr<store::Store> writer_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<MqttLink> mqtt_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<LiveHub> hub_;
  boost::asio::io_context io_{1};
  std::unique_ptr<HttpServer> http_;
};

}  // namespace

Result<std::unique_ptr<Service>> Service::Create(ServiceOptions options) {
  auto network = config::LoadNetwork(options.network_file);
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

}  // namespace kaoko::server
