// The Tier's frame (tier.hpp): start-up from the database, the MQTT subscriptions, the tier's thread, and the CoreTap
// entry points that hand each message to its role (journal_sending.cpp, journal_receiving.cpp, watchdog.cpp,
// edge_province.cpp).
#include "kaoko/tiers/tier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/contract/render.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/ingest/engine_codec.hpp"
#include "kaoko/store/tier_rows.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {
namespace {

std::string RandomEpoch() {
  std::random_device rd;
  std::uint64_t a = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{:016x}", a);
}

bool IsTierLeaf(std::string_view leaf) {
  return leaf == "journal" || leaf == "journal-ack" || leaf == "heartbeat" || leaf == "link";
}

}  // namespace

Tier::Tier(TierOptions options, const alerting::Network& network, store::Store& writer, Metrics& metrics)
    : options_(std::move(options)),
      network_(network),
      writer_(writer),
      metrics_(metrics),
      rows_(std::make_unique<store::TierRows>(writer)),
      pending_(std::make_unique<Pending>()),
      sender_(JournalSender::Options{static_cast<std::size_t>(std::max(1, options_.journal_batch)), 4000,
                                     std::chrono::milliseconds(options_.resend_ms), std::chrono::milliseconds(1000)}) {}

Tier::~Tier() { Stop(); }

// ------------------------------------------------------------------------------------------------ start-up

Result<std::unique_ptr<Tier>> Tier::Create(TierOptions options, const alerting::Network& network, store::Store& writer,
                                           const std::string& db_path, Metrics& metrics) {
  if (options.node.empty()) {
    options.node = options.mode == Mode::kEdge       ? "edge-" + options.village
                   : options.mode == Mode::kProvince ? std::string("province")
                                                     : network.tambon;
  }
  if (!config::IsIdentifier(options.node)) {
    return MakeError("usage", fmt::format("tier node '{}' is not an identifier (1–32 of a-z 0-9 -)", options.node));
  }
  options.heartbeat_seconds = std::max(1, options.heartbeat_seconds);
  options.silent_heartbeats = std::max(1, options.silent_heartbeats);
  std::unique_ptr<Tier> t(new Tier(std::move(options), network, writer, metrics));
  t->started_ = SteadyClock::now();
  const TierOptions& o = t->options_;
  if (o.mode == Mode::kProvince) {
    if (o.tambon_networks.empty()) {
      return MakeError("usage", "--tier province needs --tambon-network FILE (one per tambon)");
    }
    for (const auto& file : o.tambon_networks) {
      auto n = config::LoadNetwork(file);
      if (!n) return n.error();
      t->tambons_.push_back(std::move(*n));
    }
  }
  if (o.mode == Mode::kEdge) t->arbiter_ = std::make_unique<Arbiter>(network.tambon, o.village, metrics);
  try {
    t->LoadJournalPosition();
    // The edge's own incidents are numbered apart from the TAO's.
    if (o.mode == Mode::kEdge && !writer.EngineMeta()) {
      alerting::EngineState state;
      state.next_incident = o.edge_incident_base + 1;
      writer.SaveEngineMeta(EncodeEngineMeta(state));
    }
    t->LoadWatched();
    if (o.mode == Mode::kProvince) t->LoadProvince();
  } catch (const std::exception& e) {
    return MakeError("db", fmt::format("tier state in {}: {}", db_path, e.what()));
  }
  auto ro = store::Store::Open(db_path, {.read_only = true});
  if (!ro) return ro.error();
  t->sender_db_ = std::move(*ro);
  t->sender_rows_ = std::make_unique<store::TierRows>(*t->sender_db_);
  log::Info("tier", "tier {} as node '{}' of tambon {}{}{}", ToString(o.mode), o.node, network.tambon,
            o.mode == Mode::kEdge ? ", village " + o.village : std::string(),
            t->Sends() ? fmt::format(", journal epoch {} up to the tier above", t->epoch_) : std::string());
  return t;
}

void Tier::LoadJournalPosition() {
  // Its epoch (new for a new database), what the tier above has acknowledged, and the highest seq ever appended.
  std::uint64_t acked = 0;
  if (auto uplink = rows_->Uplink()) {
    acked = uplink->acked;
    epoch_ = uplink->epoch;
  } else {
    epoch_ = RandomEpoch();
    rows_->CreateUplink(epoch_);
  }
  std::uint64_t appended = std::max(acked, rows_->OutboxHigh());
  sender_.Restore(acked, appended);
  if (Sends() && appended > acked) {
    log::Info("tier", "journal {}: {} entries not yet acknowledged by the tier above (acked {}, appended {})", epoch_,
              appended - acked, acked, appended);
  }
}

void Tier::LoadWatched() {
  // The nodes below that this tier watches, and their open incidents. Silence is counted from Start(): this tier
  // was not listening while it was down.
  rows_->ForEachNode([this](const store::TierNodeRow& row) {
    Node& n = nodes_[row.node];
    n.tambon = row.tambon;
    n.tier = row.tier;
    n.village = row.village;
    n.interval_s = row.interval_s;
  });
  for (const auto& inc : rows_->RecentIncidents(static_cast<int>(kIncidentsShown))) {  // newest first
    json j{{"id", inc.id},
           {"node", inc.node},
           {"opened", wire::FormatTime(inc.opened)},
           {"closed", inc.closed ? json(wire::FormatTime(*inc.closed)) : json(nullptr)},
           {"detail", inc.detail}};
    if (!inc.closed) {
      auto it = nodes_.find(inc.node);
      if (it != nodes_.end()) it->second.incident = inc.id;
    }
    incidents_.insert(incidents_.begin(), std::move(j));
  }
}

void Tier::LoadProvince() {
  rows_->ForEachState([this](std::string_view key, std::string_view value) {
    if (key.starts_with("alert/")) alerts_[std::string(key.substr(6))] = std::string(value);
    if (key.starts_with("cap/")) caps_[std::string(key.substr(4))] = std::string(value);
  });
}

Publisher& Tier::Output(Publisher& mqtt) {
  mqtt_ = &mqtt;
  if (!arbiter_) return mqtt;
  arbiter_->SetOutput(&mqtt);
  return *arbiter_;
}

std::vector<std::string> Tier::Subscriptions() const {
  const std::string& t = network_.tambon;
  std::vector<std::string> out;
  switch (options_.mode) {
    case Mode::kEdge:
      out.push_back(std::string(kUpPrefix) + "#");
      out.push_back(TierTopic(t, options_.node, "link"));
      break;
    case Mode::kTao:
      out.push_back(TierTopic(t, "+", "journal"));
      out.push_back(TierTopic(t, "+", "heartbeat"));
      if (options_.uplink) {
        out.push_back(std::string(kUpPrefix) + "#");
        out.push_back(TierTopic(t, options_.node, "link"));
      }
      break;
    case Mode::kProvince:
      out.push_back("kaoko/v1/+/tier/+/journal");
      out.push_back("kaoko/v1/+/tier/+/heartbeat");
      out.push_back("kaoko/v1/+/+/alert");
      out.push_back("kaoko/v1/+/cap");
      break;
  }
  return out;
}

TimePoint Tier::Now() const {
  if (core_) return core_->Now();
  return Clock::Wall().Now();
}

std::string Tier::OutTopic(std::string_view leaf) const {
  return std::string(kOutPrefix) + TierTopic(network_.tambon, options_.node, leaf);
}

bool Tier::Watches(std::string_view tambon) const {
  return options_.mode == Mode::kTao ? tambon == network_.tambon : Tambon(tambon) != nullptr;
}

const alerting::Network* Tier::Tambon(std::string_view id) const {
  for (const auto& n : tambons_) {
    if (n.tambon == id) return &n;
  }
  return nullptr;
}

// ------------------------------------------------------------------------------------------------ the tier's thread

void Tier::Start() {
  if (options_.mode == Mode::kEdge && core_) {
    // What the engine last decided for the village, so that acting alone right after a restart republishes it.
    alerting::EngineState st = core_->engine().ExportState();
    for (const auto& a : st.alerts) {
      if (a.village == options_.village) arbiter_->Seed(wire::AlertTopic(network_.tambon, a.village), RenderAlert(a));
    }
    for (const auto& s : st.sirens) {
      if (s.village == options_.village) arbiter_->Seed(wire::SirenTopic(network_.tambon, s.village), RenderSiren(s));
    }
  }
  {
    std::lock_guard lock(mu_);
    for (auto& [name, n] : nodes_) {
      if (!n.last_heard) n.last_heard = Now();
    }
  }
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
}

void Tier::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    wake_.notify_all();
    thread_.join();
  }
}

void Tier::Tick() {
  TimePoint now = Now();
  if (Sends()) Pump();
  // Heartbeats go to the tier above; a TAO without --uplink has none (its broker has no bridge to carry them).
  if (Sends() && (!last_heartbeat_ || now - *last_heartbeat_ >= std::chrono::seconds(options_.heartbeat_seconds))) {
    last_heartbeat_ = now;
    Heartbeat(now);
  }
  if (options_.mode != Mode::kEdge) Watchdog(now);
  if (options_.mode == Mode::kEdge) UpdateMode("tick");
}

void Tier::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Tick();
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

// ------------------------------------------------------------------------------------------------ CoreTap

bool Tier::Intercept(const Inbound& in, TimePoint now) {
  const std::string& topic = in.topic;
  if (topic.starts_with(kUpPrefix)) {
    std::string rest = topic.substr(kUpPrefix.size());
    auto t = ParseTierTopic(rest);
    if (t && t->leaf == "journal-ack") {
      if (t->node == options_.node && t->tambon == network_.tambon) OnJournalAck(in.payload, now);
    } else if (options_.mode == Mode::kEdge) {
      FromAbove(rest, in.payload);
    }
    return true;
  }
  if (auto t = ParseTierTopic(topic); t && IsTierLeaf(t->leaf)) {
    if (t->node == options_.node) {
      if (t->leaf == "link") OnLink(in.payload);
      return true;  // our own heartbeat or journal seen again: nothing to do
    }
    if (options_.mode == Mode::kEdge) return true;  // an edge takes nothing from other nodes
    if (t->leaf == "journal")
      OnJournal(*t, in.payload, now);
    else if (t->leaf == "heartbeat")
      OnHeartbeat(*t, in.payload, now);
    return true;
  }
  if (options_.mode == Mode::kEdge) return EdgeIntercept(in, now);
  if (options_.mode == Mode::kProvince) return ProvinceIntercept(in, now);
  return false;
}

void Tier::Committed(TimePoint) {
  auto done = std::move(pending_);
  pending_ = std::make_unique<Pending>();
  if (mqtt_) {
    for (const auto& [node, ack] : done->acks) mqtt_->Publish(ack.first, ack.second, false);
  }
  for (auto& f : done->after) f();
  if (done->appended) {
    {
      std::lock_guard lock(mu_);
      sender_.Appended(done->appended);
    }
    metrics_.Count("kaoko_tier_journal_entries_total", "appended");
    wake_.notify_one();
  }
}

void Tier::RolledBack() {
  pending_ = std::make_unique<Pending>();
  std::lock_guard lock(mu_);
  for (auto& [name, n] : nodes_) n.opening = false;
}

}  // namespace kaoko::server::tier
