#include "kaoko/tiers/tier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/ingest/engine_codec.hpp"
#include "kaoko/common/log.hpp"
#include "kaoko/contract/render.hpp"
#include "kaoko/contract/wire.hpp"

namespace kaoko::server::tier {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxMessageBytes = 192 * 1024;  // under the brokers' max_packet_size (256 KiB)

std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

std::string RandomEpoch() {
  std::random_device rd;
  std::uint64_t a = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{:016x}", a);
}

json Parse(std::string_view text) { return json::parse(text.begin(), text.end(), nullptr, false); }

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::string RenderReading(const wire::ReadingMsg& r) {
  json j{{"seq", r.seq}, {"ts", wire::FormatTime(r.ts)}, {"level_cm", r.level_cm}};
  if (r.rain_mm) j["rain_mm"] = *r.rain_mm;
  if (r.battery_v) j["battery_v"] = *r.battery_v;
  return j.dump();
}

bool IsTierLeaf(std::string_view leaf) {
  return leaf == "journal" || leaf == "journal-ack" || leaf == "heartbeat" || leaf == "link";
}

Response JsonResponse(const Request& req, http::status status, const json& body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ modes, networks

const char* ToString(Mode mode) {
  switch (mode) {
    case Mode::kTao: return "tao";
    case Mode::kEdge: return "edge";
    case Mode::kProvince: return "province";
  }
  return "?";
}

std::optional<Mode> ParseMode(std::string_view text) {
  if (text == "tao") return Mode::kTao;
  if (text == "edge") return Mode::kEdge;
  if (text == "province") return Mode::kProvince;
  return std::nullopt;
}

alerting::Network VillageNetwork(const alerting::Network& network, const std::string& village) {
  alerting::Network out = network;
  out.villages.clear();
  out.stations.clear();
  out.people.clear();
  for (const auto& v : network.villages) {
    if (v.id != village) continue;
    alerting::Village copy = v;
    copy.travel_to_next = alerting::Seconds(0);  // the edge warns no one downstream: the TAO does
    out.villages.push_back(std::move(copy));
  }
  for (const auto& s : network.stations) {
    if (s.village == village) out.stations.push_back(s);
  }
  for (const auto& p : network.people) {
    if (p.village == village || p.role == alerting::Role::kTao) out.people.push_back(p);
  }
  out.BuildIndex();  // the copied index is the whole tambon's: without its own, every look-up would scan
  out.texts.reset();  // the copied stations own their texts; the tambon's arena is not needed here
  return out;
}

Result<alerting::Network> CoreNetwork(const TierOptions& options, const std::string& network_file) {
  if (options.mode == Mode::kProvince) {
    alerting::Network n;
    n.tambon = options.node.empty() ? "province" : options.node;
    n.tambon_name_th = "จังหวัด";
    n.tambon_name_en = "province";
    return n;
  }
  auto network = config::LoadNetwork(network_file);
  if (!network) return network.error();
  if (options.mode != Mode::kEdge) return network;
  if (options.village.empty()) return MakeError("usage", "--tier edge needs --village <the village it serves>");
  if (!network->FindVillage(options.village)) {
    return MakeError("usage", fmt::format("{}: there is no village '{}'", network_file, options.village));
  }
  return VillageNetwork(*network, options.village);
}

// ------------------------------------------------------------------------------------------------ Arbiter

Arbiter::Arbiter(std::string tambon, std::string village, Metrics& metrics)
    : alert_topic_(wire::AlertTopic(tambon, village)),
      siren_topic_(wire::SirenTopic(tambon, village)),
      notify_prefix_(fmt::format("kaoko/v1/{}/{}/notify/", tambon, village)),
      metrics_(metrics) {}

void Arbiter::Publish(const std::string& topic, const std::string& payload, bool retained) {
  // Publishing under the lock keeps the order of a switch and the core's own messages (Publish only queues).
  std::lock_guard lock(mu_);
  bool pass = true;
  if (topic == siren_topic_) {
    v_.own_siren = payload;
    pass = mode_ == false;
  } else if (topic == alert_topic_) {
    v_.own_alert = payload;
    pass = mode_ == false;
  } else if (topic.starts_with(notify_prefix_)) {
    pass = mode_ != true;
    if (!pass) {
      ++v_.suppressed_notifications;
      metrics_.Count("kaoko_tier_edge_total", "own_notification_suppressed");
    }
  }
  if (pass && out_) out_->Publish(topic, payload, retained);
}

void Arbiter::FromAbove(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  bool retained = false;
  if (topic == siren_topic_) {
    v_.tao_siren = payload;
    retained = true;
  } else if (topic == alert_topic_) {
    v_.tao_alert = payload;
    retained = true;
  } else if (!topic.starts_with(notify_prefix_)) {
    return;  // not the village's: nothing to relay
  }
  if (mode_ == true && out_) {
    out_->Publish(topic, payload, retained);
    ++v_.relayed;
    metrics_.Count("kaoko_tier_edge_total", "relayed_from_tao");
  }
}

void Arbiter::Seed(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  if (topic == siren_topic_) v_.own_siren = payload;
  if (topic == alert_topic_) v_.own_alert = payload;
}

bool Arbiter::SetFollowing(bool following, std::string_view why) {
  std::lock_guard lock(mu_);
  if (mode_ == following) return false;
  mode_ = following;
  v_.following = following;
  ++v_.handovers;
  metrics_.Count("kaoko_tier_edge_total", following ? "handover_to_tao" : "acting_alone");
  // The village's siren and alert now come from the other source. A state not known (never published) is left as it
  // stands: a siren is never switched off for want of a message.
  const auto& siren = following ? v_.tao_siren : v_.own_siren;
  const auto& alert = following ? v_.tao_alert : v_.own_alert;
  if (out_) {
    if (siren) out_->Publish(siren_topic_, *siren, true);
    if (alert) out_->Publish(alert_topic_, *alert, true);
  }
  if (following) {
    log::Info("tier", "following the TAO again ({}): the village's siren and alert are the TAO's", why);
  } else {
    log::Warn("tier", "acting alone ({}): this box's own engine sounds the siren and notifies the village", why);
  }
  return true;
}

bool Arbiter::following() const {
  std::lock_guard lock(mu_);
  return mode_ == true;
}

bool Arbiter::decided() const {
  std::lock_guard lock(mu_);
  return mode_.has_value();
}

Arbiter::View Arbiter::Snapshot() const {
  std::lock_guard lock(mu_);
  return v_;
}

// ------------------------------------------------------------------------------------------------ Tier

struct Tier::Node {
  std::string tambon;
  std::string tier;
  std::string village;
  std::optional<TimePoint> last_heard;  // this tier's clock
  int interval_s = 60;
  std::optional<std::int64_t> incident;  // open "silent" incident
  bool opening = false;
  json last;  // the last heartbeat
};

struct Tier::Pending {
  std::uint64_t appended = 0;
  std::map<std::string, std::pair<std::string, std::string>> acks;  // node → (topic, payload)
  std::vector<std::function<void()>> after;                          // in-memory changes once committed
};

Tier::Tier(TierOptions options, const alerting::Network& network, store::Store& writer, Metrics& metrics)
    : options_(std::move(options)),
      network_(network),
      writer_(writer),
      metrics_(metrics),
      pending_(std::make_unique<Pending>()),
      sender_(JournalSender::Options{static_cast<std::size_t>(std::max(1, options_.journal_batch)), 4000, std::chrono::milliseconds(options_.resend_ms),
                                     std::chrono::milliseconds(1000)}) {}

Tier::~Tier() { Stop(); }

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
    if (o.tambon_networks.empty()) return MakeError("usage", "--tier province needs --tambon-network FILE (one per tambon)");
    for (const auto& file : o.tambon_networks) {
      auto n = config::LoadNetwork(file);
      if (!n) return n.error();
      t->tambons_.push_back(std::move(*n));
    }
  }
  if (o.mode == Mode::kEdge) t->arbiter_ = std::make_unique<Arbiter>(network.tambon, o.village, metrics);
  try {
    // The journal's position: its epoch (new for a new database), what the tier above has acknowledged, and the
    // highest seq ever appended (AUTOINCREMENT keeps it in sqlite_sequence even when the outbox is pruned empty).
    {
      store::Stmt s(writer.db(), "SELECT acked, epoch FROM tier_uplink WHERE id = 1");
      std::uint64_t acked = 0;
      if (s.Step()) {
        acked = static_cast<std::uint64_t>(s.Int(0));
        t->epoch_ = s.Text(1);
      } else {
        s.Reset();
        t->epoch_ = RandomEpoch();
        store::Stmt add(writer.db(), "INSERT INTO tier_uplink (id, acked, epoch) VALUES (1, 0, ?)");
        add.Bind(1, t->epoch_).Run();
      }
      std::uint64_t appended = acked;
      store::Stmt q(writer.db(), "SELECT seq FROM sqlite_sequence WHERE name = 'tier_outbox'");
      if (q.Step()) appended = std::max<std::uint64_t>(appended, static_cast<std::uint64_t>(q.Int(0)));
      t->sender_.Restore(acked, appended);
      if (t->Sends() && appended > acked) {
        log::Info("tier", "journal {}: {} entries not yet acknowledged by the tier above (acked {}, appended {})",
                  t->epoch_, appended - acked, acked, appended);
      }
    }
    // The edge's own incidents are numbered apart from the TAO's.
    if (o.mode == Mode::kEdge && !writer.EngineMeta()) {
      alerting::EngineState state;
      state.next_incident = o.edge_incident_base + 1;
      writer.SaveEngineMeta(EncodeEngineMeta(state));
    }
    // The nodes below that this tier watches, and their open incidents. Silence is counted from Start(): this tier
    // was not listening while it was down.
    store::Stmt nodes(writer.db(), "SELECT node, tambon, tier, COALESCE(village, ''), interval_s FROM tier_nodes");
    while (nodes.Step()) {
      Node& n = t->nodes_[nodes.Text(0)];
      n.tambon = nodes.Text(1);
      n.tier = nodes.Text(2);
      n.village = nodes.Text(3);
      n.interval_s = static_cast<int>(nodes.Int(4));
    }
    store::Stmt inc(writer.db(),
                    "SELECT id, node, opened, closed, detail FROM tier_incidents ORDER BY id DESC LIMIT 50");
    while (inc.Step()) {
      json j{{"id", inc.Int(0)}, {"node", inc.Text(1)}, {"opened", wire::FormatTime(FromMs(inc.Int(2)))},
             {"closed", inc.IsNull(3) ? json(nullptr) : json(wire::FormatTime(FromMs(inc.Int(3))))},
             {"detail", inc.Text(4)}};
      if (inc.IsNull(3)) {
        auto it = t->nodes_.find(inc.Text(1));
        if (it != t->nodes_.end()) it->second.incident = inc.Int(0);
      }
      t->incidents_.insert(t->incidents_.begin(), std::move(j));
    }
    if (o.mode == Mode::kProvince) {
      store::Stmt st(writer.db(), "SELECT key, value FROM tier_state");
      while (st.Step()) {
        std::string key = st.Text(0);
        if (key.starts_with("alert/")) t->alerts_[key.substr(6)] = st.Text(1);
        if (key.starts_with("cap/")) t->caps_[key.substr(4)] = st.Text(1);
      }
    }
  } catch (const std::exception& e) {
    return MakeError("db", fmt::format("tier state in {}: {}", db_path, e.what()));
  }
  auto ro = store::Store::Open(db_path, {.read_only = true});
  if (!ro) return ro.error();
  t->sender_db_ = std::move(*ro);
  log::Info("tier", "tier {} as node '{}' of tambon {}{}{}", ToString(o.mode), o.node, network.tambon,
            o.mode == Mode::kEdge ? ", village " + o.village : std::string(),
            t->Sends() ? fmt::format(", journal epoch {} up to the tier above", t->epoch_) : std::string());
  return t;
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
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

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

// ------------------------------------------------------------------------------------------------ sending side

void Tier::Append(std::string_view kind, const json& body) {
  if (!append_) append_ = std::make_unique<store::Stmt>(writer_.db(), "INSERT INTO tier_outbox (kind, body) VALUES (?, ?)");
  append_->Bind(1, kind).Bind(2, body.dump(-1, ' ', false, json::error_handler_t::replace)).Run();
  pending_->appended = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(writer_.db()));
}

void Tier::Pump() {
  if (!mqtt_) return;
  const std::string topic = std::string(kOutPrefix) + TierTopic(network_.tambon, options_.node, "journal");
  for (int round = 0; round < 100; ++round) {
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
    {
      std::lock_guard lock(mu_);
      range = sender_.Next(SteadyClock::now());
    }
    if (!range) return;
    std::string entries;
    std::uint64_t last = 0;
    std::size_t count = 0;
    try {
      store::Stmt s(sender_db_->db(), "SELECT seq, kind, body FROM tier_outbox WHERE seq BETWEEN ? AND ? ORDER BY seq");
      s.Bind(1, static_cast<std::int64_t>(range->first)).Bind(2, static_cast<std::int64_t>(range->second));
      while (s.Step()) {
        auto seq = static_cast<std::uint64_t>(s.Int(0));
        if (seq != (last == 0 ? range->first : last + 1)) break;  // pruned or not visible yet: stop at the hole
        std::string body = s.Text(2);
        std::string entry = fmt::format("{{\"seq\":{},\"kind\":\"{}\"{}{}", seq, s.Text(1), body.size() > 2 ? "," : "",
                                        body.size() > 2 ? body.substr(1) : std::string("}"));
        if (count > 0 && entries.size() + entry.size() > kMaxMessageBytes) break;
        if (!entries.empty()) entries += ',';
        entries += entry;
        last = seq;
        ++count;
      }
    } catch (const std::exception& e) {
      if (log::ShouldLog("tier_read")) log::Error("tier", "cannot read the journal: {}", e.what());
    }
    if (last < range->second) {
      std::lock_guard lock(mu_);
      sender_.Rewind(last);
    }
    if (count == 0) return;
    std::string msg = fmt::format(
        "{{\"node\":{},\"tier\":\"{}\",\"tambon\":{},\"village\":{},\"epoch\":{},\"entries\":[{}]}}",
        json(options_.node).dump(), ToString(options_.mode), json(network_.tambon).dump(),
        json(options_.village).dump(), json(epoch_).dump(), entries);
    mqtt_->Publish(topic, msg, false);
    metrics_.Count("kaoko_tier_journal_entries_total", "sent", count);
    if (last < range->second) return;
  }
}

void Tier::Heartbeat(TimePoint now) {
  if (!mqtt_) return;
  json hb{{"node", options_.node}, {"tier", ToString(options_.mode)}, {"tambon", network_.tambon},
          {"ts", wire::FormatTime(now)}, {"interval_s", options_.heartbeat_seconds}};
  if (options_.mode == Mode::kEdge) hb["village"] = options_.village;
  {
    std::lock_guard lock(mu_);
    if (Sends()) {
      hb["appended"] = sender_.appended();
      hb["acked"] = sender_.acked();
      hb["backlog"] = sender_.backlog();
      hb["link"] = !sender_.link() ? "unknown" : *sender_.link() ? "up" : "down";
    }
  }
  if (arbiter_) hb["mode"] = arbiter_->following() ? "following" : "acting_alone";
  mqtt_->Publish(std::string(kOutPrefix) + TierTopic(network_.tambon, options_.node, "heartbeat"), hb.dump(), false);
}

void Tier::OnJournalAck(const std::string& payload, TimePoint) {
  auto ack = ParseJournalAck(payload);
  if (!ack) {
    if (log::ShouldLog("tier_bad_ack")) log::Warn("tier", "ignored a malformed journal ack: {}", ack.error().reason);
    return;
  }
  // Any answer shows the tier above is there and the bridge up. Mosquitto does not give a late subscriber the
  // bridge's retained link state while check_retain_source is on (measured), so after a start of this kaoko, or a
  // reconnect that missed the bridge's "1", this is how the link is known.
  bool first_contact = false;
  {
    std::lock_guard lock(mu_);
    last_answer_ = Now();
    if (sender_.link() != true) {
      sender_.OnLinkUp(SteadyClock::now());
      first_contact = true;
    }
  }
  if (first_contact) log::Info("tier", "the tier above answers: sending the journal from seq {}", sender_.acked() + 1);
  if (!ack->epoch.empty() && ack->epoch != epoch_) {
    UpdateMode("the tier above answers");
    return;  // an ack for a journal this database no longer has
  }
  bool progress = false;
  {
    std::lock_guard lock(mu_);
    progress = sender_.OnAck(ack->acked, ack->gap, SteadyClock::now());
  }
  if (ack->gap) metrics_.Count("kaoko_tier_journal_acks_total", "gap");
  if (progress) {
    // Prune what the tier above has committed; remember how far it got, for a restart.
    store::Stmt del(writer_.db(), "DELETE FROM tier_outbox WHERE seq <= ?");
    del.Bind(1, static_cast<std::int64_t>(ack->acked)).Run();
    store::Stmt up(writer_.db(), "UPDATE tier_uplink SET acked = ? WHERE id = 1");
    up.Bind(1, static_cast<std::int64_t>(ack->acked)).Run();
  }
  UpdateMode("journal acknowledged");
  wake_.notify_one();
}

void Tier::OnLink(const std::string& payload) {
  bool up = payload == "1";
  {
    std::lock_guard lock(mu_);
    if (sender_.link() == up) return;
    if (up) sender_.OnLinkUp(SteadyClock::now());
    else sender_.OnLinkDown();
  }
  metrics_.Count("kaoko_tier_link_total", up ? "up" : "down");
  if (up) log::Info("tier", "the bridge to the tier above is up: sending the journal from seq {}", sender_.acked() + 1);
  else log::Warn("tier", "the bridge to the tier above is down: journaling locally until it returns");
  UpdateMode(up ? "bridge up" : "bridge down");
  wake_.notify_one();
}

void Tier::UpdateMode(std::string_view why) {
  if (!arbiter_) return;
  std::optional<bool> link;
  std::uint64_t backlog = 0;
  bool stalled = false;
  bool silent = false;
  TimePoint now = Now();
  {
    std::lock_guard lock(mu_);
    link = sender_.link();
    backlog = sender_.backlog();
    stalled = backlog > 0 && SteadyClock::now() - sender_.last_progress() > std::chrono::milliseconds(options_.stall_ms);
    // The TAO answers every heartbeat: no answer for as long as the TAO itself would call us silent means its kaoko
    // is gone even if its broker (and so the bridge) is up.
    silent = last_answer_ &&
             now - *last_answer_ > std::chrono::seconds(static_cast<std::int64_t>(options_.heartbeat_seconds) *
                                                        options_.silent_heartbeats);
  }
  // At start, give the TAO a moment to answer the first heartbeat before choosing a source, so as not to flip twice.
  if (!arbiter_->decided() && !link && SteadyClock::now() - started_ < std::chrono::seconds(3)) return;
  bool following = arbiter_->following();
  if (following && (link == false || stalled || silent)) {
    arbiter_->SetFollowing(false, link == false ? "the bridge to the TAO is down"
                                  : stalled     ? "the TAO has not acknowledged the journal"
                                                : "the TAO has not answered the heartbeats");
  } else if (!arbiter_->decided() && (link != true || backlog > 0)) {
    arbiter_->SetFollowing(false, link == false ? "the bridge to the TAO is down"
                                  : !link       ? "no answer from the TAO yet"
                                                : "journal not yet acknowledged");
  } else if (!following && link == true && backlog == 0 && !silent) {
    arbiter_->SetFollowing(true, why);
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
    if (t->leaf == "journal") OnJournal(*t, in.payload, now);
    else if (t->leaf == "heartbeat") OnHeartbeat(*t, in.payload, now);
    return true;
  }
  if (options_.mode == Mode::kEdge) return EdgeIntercept(in, now);
  if (options_.mode == Mode::kProvince) return ProvinceIntercept(in, now);
  return false;
}

void Tier::ReadingStored(std::string_view station, const wire::ReadingMsg& reading, TimePoint) {
  if (!Sends()) return;
  const alerting::Station* s = network_.FindStation(station);
  Append("reading", json{{"station", std::string(station)}, {"village", s ? s->village : std::string()},
                         {"payload", RenderReading(reading)}});
}

void Tier::TimelineStored(const alerting::TimelineEvent& e, const alerting::Incident* inc) {
  if (!Sends()) return;
  json body{{"tambon", network_.tambon},
            {"village", inc ? inc->village : std::string()},
            {"incident", e.incident},
            {"incident_kind", inc ? alerting::ToString(inc->kind) : ""},
            {"station", inc ? inc->station : std::string()},
            {"ts", wire::FormatTime(e.ts)},
            {"event", e.kind},
            {"actor", e.actor},
            {"via", e.via},
            {"text_th", e.text_th},
            {"text_en", e.text_en},
            // An edge's engine runs while it follows the TAO too (a hot standby); only what it did while acting
            // alone reached the village.
            {"acting", !arbiter_ || !arbiter_->following()}};
  Append("event", body);
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

// ------------------------------------------------------------------------------------------------ receiving side

const alerting::Network* Tier::Tambon(std::string_view id) const {
  for (const auto& n : tambons_) {
    if (n.tambon == id) return &n;
  }
  return nullptr;
}

void Tier::OnJournal(const ParsedTierTopic& t, const std::string& payload, TimePoint now) {
  if (options_.mode == Mode::kTao ? t.tambon != network_.tambon : !Tambon(t.tambon)) {
    if (log::ShouldLog("tier_foreign_journal")) log::Warn("tier", "ignored a journal of tambon '{}' from {}", t.tambon, t.node);
    return;
  }
  json msg = Parse(payload);
  auto entries = msg.is_object() ? msg.find("entries") : msg.end();
  if (!msg.is_object() || entries == msg.end() || !entries->is_array()) {
    if (log::ShouldLog("tier_bad_journal")) log::Warn("tier", "ignored a malformed journal message from {}", t.node);
    metrics_.Count("kaoko_tier_journal_entries_total", "malformed_message");
    return;
  }
  std::string epoch = Str(msg, "epoch");
  std::vector<std::uint64_t> seqs;
  for (const auto& e : *entries) {
    auto it = e.is_object() ? e.find("seq") : e.end();
    seqs.push_back(it != e.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0);
  }
  std::uint64_t last = 0;
  {
    store::Stmt s(writer_.db(), "SELECT epoch, last_seq FROM tier_inbox WHERE node = ?");
    s.Bind(1, t.node);
    if (s.Step()) {
      if (s.Text(0) == epoch) {
        last = static_cast<std::uint64_t>(s.Int(1));
      } else {
        log::Warn("tier", "node {} started a new journal (epoch {} after {}): taking it from seq 1", t.node, epoch,
                  s.Text(0));
      }
    }
  }
  ReceivePlan plan = PlanReceive(last, seqs);
  for (std::size_t i : plan.apply) ApplyEntry(t, epoch, (*entries)[i], now);
  store::Stmt up(writer_.db(),
                 "INSERT INTO tier_inbox (node, tambon, epoch, last_seq, updated) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (node) DO UPDATE SET tambon = excluded.tambon, epoch = excluded.epoch, "
                 "last_seq = excluded.last_seq, updated = excluded.updated");
  up.Bind(1, t.node).Bind(2, t.tambon).Bind(3, epoch).Bind(4, static_cast<std::int64_t>(plan.last)).Bind(5, Ms(now)).Run();
  pending_->acks[t.node] = {TierTopic(t.tambon, t.node, "journal-ack"), RenderJournalAck(plan.last, plan.gap, epoch)};
  metrics_.Count("kaoko_tier_journal_entries_total", "applied", plan.apply.size());
  if (plan.duplicates) metrics_.Count("kaoko_tier_journal_entries_total", "duplicate", plan.duplicates);
  if (plan.gap) metrics_.Count("kaoko_tier_journal_entries_total", "gap");
  std::lock_guard lock(mu_);
  received_entries_ += plan.apply.size();
  duplicate_entries_ += plan.duplicates;
  gaps_ += plan.gap ? 1 : 0;
  Node& n = nodes_[t.node];
  if (n.tambon.empty()) n.tambon = t.tambon;
  if (n.tier.empty()) n.tier = Str(msg, "tier");
  if (n.village.empty()) n.village = Str(msg, "village");
}

void Tier::ApplyEntry(const ParsedTierTopic& t, const std::string& epoch, const json& e, TimePoint now) {
  std::string kind = Str(e, "kind");
  auto seq = e.at("seq").get<std::uint64_t>();
  if (kind == "event") return StoreEvent(t.tambon, t.node, seq, epoch, e, now);
  std::string village = Str(e, "village");
  std::string payload = Str(e, "payload");
  if (options_.mode == Mode::kProvince) {
    if (kind != "reading") return;  // reports, decisions and status are the TAO's business
    const alerting::Network* n = Tambon(t.tambon);
    const alerting::Station* st = n ? n->FindStation(Str(e, "station")) : nullptr;
    if (!st) {
      metrics_.Count("kaoko_tier_journal_entries_total", "unknown_station");
      if (log::ShouldLog("tier_unknown_station")) {
        log::Warn("tier", "journal of {}: station '{}' is not in tambon {}'s network file", t.node, Str(e, "station"), t.tambon);
      }
      return;
    }
    auto parsed = wire::ParseReading(payload, *st, now, std::chrono::hours(24));
    if (!parsed.reading) {
      metrics_.Count("kaoko_tier_journal_entries_total", "refused_reading");
      return;
    }
    const auto& r = *parsed.reading;
    store::Stmt s(writer_.db(),
                  "INSERT OR IGNORE INTO tier_readings (tambon, station, seq, ts, level_cm, rain_mm, battery_v, node) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(1, t.tambon).Bind(2, st->id).Bind(3, static_cast<std::int64_t>(r.seq)).Bind(4, Ms(r.ts)).Bind(5, r.level_cm);
    s.Bind(6, r.rain_mm).Bind(7, r.battery_v).Bind(8, t.node).Run();
    return;
  }
  // The TAO: the normal ingest path, as if the station or the person had published to this broker — validated,
  // stored once by (station, seq) or (user, id), and evaluated by this TAO's engine.
  std::string topic;
  if (kind == "reading") topic = wire::ReadingTopic(t.tambon, village, Str(e, "station"));
  else if (kind == "status") topic = wire::StatusTopic(t.tambon, village, Str(e, "station"));
  else if (kind == "report") topic = wire::ReportTopic(t.tambon, village, Str(e, "user"));
  else if (kind == "decision") topic = wire::DecisionTopic(t.tambon, village, Str(e, "user"));
  if (topic.empty() || !core_) {
    metrics_.Count("kaoko_tier_journal_entries_total", "unknown_kind");
    return;
  }
  Inbound in{std::move(topic), std::move(payload), std::chrono::steady_clock::now()};
  core_->Feed(in);
}

void Tier::StoreEvent(const std::string& tambon, const std::string& node, std::uint64_t node_seq,
                      const std::string& node_epoch, const json& e, TimePoint now) {
  // Where the event was first recorded: given when relayed, else the sender itself (the entry's own seq).
  std::string origin = Str(e, "origin");
  std::string origin_epoch = Str(e, "origin_epoch");
  std::int64_t origin_id = Int(e, "origin_id").value_or(static_cast<std::int64_t>(node_seq));
  if (origin.empty()) {
    origin = node;
    origin_epoch = node_epoch;
    origin_id = static_cast<std::int64_t>(node_seq);
  }
  auto ts = wire::ParseTime(Str(e, "ts"));
  TimePoint when = ts ? *ts : now;
  std::string village = Str(e, "village");
  std::string kind = Str(e, "event");
  std::string actor = Str(e, "actor");
  std::string text_th = Str(e, "text_th");
  std::string text_en = Str(e, "text_en");
  std::string incident_kind = Str(e, "incident_kind");
  std::string station = Str(e, "station");
  auto acting_it = e.find("acting");
  bool acting = acting_it == e.end() || !acting_it->is_boolean() || acting_it->get<bool>();
  store::Stmt s(writer_.db(),
                "INSERT OR IGNORE INTO tier_events (origin, origin_epoch, origin_id, node, node_seq, tambon, village, "
                "incident, incident_kind, station, ts, kind, actor, via, text_th, text_en, acting, received) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, origin).Bind(2, origin_epoch).Bind(3, origin_id).Bind(4, node).Bind(5, static_cast<std::int64_t>(node_seq));
  s.Bind(6, tambon).Bind(7, village);
  if (auto inc = Int(e, "incident")) s.Bind(8, *inc);
  else s.BindNull(8);
  s.Bind(9, incident_kind).Bind(10, station).Bind(11, Ms(when)).Bind(12, kind).Bind(13, actor).Bind(14, Str(e, "via"));
  s.Bind(15, text_th).Bind(16, text_en).Bind(17, std::int64_t{acting ? 1 : 0}).Bind(18, Ms(now)).Run();
  if (sqlite3_changes(writer_.db()) == 0) {
    metrics_.Count("kaoko_tier_events_total", "duplicate");
    return;
  }
  std::int64_t row = sqlite3_last_insert_rowid(writer_.db());
  metrics_.Count("kaoko_tier_events_total", "stored");
  if (options_.mode == Mode::kTao && core_ && acting) {
    // Into the log of this TAO's own incident for the same village (or the same faulty station), marked with the
    // node it came through, so that the TAO's timeline shows what the village did while it acted alone. (What the
    // edge's standby engine did while following is kept in tier_events only: it reached nobody.)
    std::optional<std::int64_t> local;
    const alerting::Engine& engine = core_->engine();
    if (incident_kind == "station" && !station.empty()) {
      if (const alerting::StationTrack* track = engine.FindStationTrack(station)) local = track->health_incident;
    } else if (incident_kind != "tier" && !village.empty()) {
      if (auto alert = engine.Alert(village)) local = alert->incident;
    }
    if (local) {
      writer_.InsertTimeline({*local, when, kind, actor, "edge:" + node, text_th, text_en});
      store::Stmt mark(writer_.db(), "UPDATE tier_events SET local_incident = ? WHERE id = ?");
      mark.Bind(1, *local).Bind(2, row).Run();
    }
  }
  if (Sends()) {
    json relay = e;
    relay.erase("seq");
    relay.erase("kind");
    relay["origin"] = origin;
    relay["origin_epoch"] = origin_epoch;
    relay["origin_id"] = origin_id;
    relay["tambon"] = tambon;
    Append("event", relay);
  }
}

void Tier::OnHeartbeat(const ParsedTierTopic& t, const std::string& payload, TimePoint now) {
  if (options_.mode == Mode::kTao ? t.tambon != network_.tambon : !Tambon(t.tambon)) return;
  json hb = Parse(payload);
  if (!hb.is_object()) return;
  int interval = static_cast<int>(std::clamp<std::int64_t>(Int(hb, "interval_s").value_or(60), 1, 86400));
  std::optional<std::int64_t> open;
  std::string village = Str(hb, "village");
  {
    std::lock_guard lock(mu_);
    Node& n = nodes_[t.node];
    n.tambon = t.tambon;
    n.tier = Str(hb, "tier");
    n.village = village;
    n.interval_s = interval;
    n.last_heard = now;
    n.last = hb;
    open = n.incident;
  }
  store::Stmt s(writer_.db(),
                "INSERT INTO tier_nodes (node, tambon, tier, village, last_heard, interval_s, info) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET tambon = excluded.tambon, "
                "tier = excluded.tier, village = excluded.village, last_heard = excluded.last_heard, "
                "interval_s = excluded.interval_s, info = excluded.info");
  s.Bind(1, t.node).Bind(2, t.tambon).Bind(3, Str(hb, "tier")).Bind(4, village).Bind(5, Ms(now));
  s.Bind(6, std::int64_t{interval}).Bind(7, payload).Run();
  // Answer with the journal's position: the node below learns that this tier is there (and how far it got).
  {
    store::Stmt q(writer_.db(), "SELECT epoch, last_seq FROM tier_inbox WHERE node = ?");
    q.Bind(1, t.node);
    std::string epoch;
    std::uint64_t last = 0;
    if (q.Step()) {
      epoch = q.Text(0);
      last = static_cast<std::uint64_t>(q.Int(1));
    }
    pending_->acks[t.node] = {TierTopic(t.tambon, t.node, "journal-ack"), RenderJournalAck(last, false, epoch)};
  }
  if (!open) return;
  // The dead-man's switch resets: the node speaks again.
  store::Stmt close(writer_.db(), "UPDATE tier_incidents SET closed = ? WHERE id = ? AND closed IS NULL");
  close.Bind(1, Ms(now)).Bind(2, *open).Run();
  if (sqlite3_changes(writer_.db()) == 0) return;  // closed by an earlier heartbeat of this batch (a late burst)
  TierEvent(t.tambon, village, *open, now, "tier_resumed",
            fmt::format("{} กลับมาส่งสัญญาณชีพแล้ว", t.node), fmt::format("{} is sending heartbeats again", t.node));
  log::Info("tier", "node {} is back (heartbeat after silence): incident T{} closed", t.node, *open);
  std::string node = t.node;
  std::int64_t id = *open;
  std::string closed_at = wire::FormatTime(now);
  pending_->after.push_back([this, node, id, closed_at] {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(node);
    if (it != nodes_.end() && it->second.incident == id) it->second.incident.reset();
    for (auto& inc : incidents_) {
      if (inc["id"] == id) inc["closed"] = closed_at;
    }
  });
}

void Tier::Watchdog(TimePoint now) {
  if (!core_) return;
  std::vector<std::pair<std::string, Node>> silent;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, n] : nodes_) {
      if (n.incident || n.opening || !n.last_heard) continue;
      if (now - *n.last_heard <= std::chrono::seconds(static_cast<std::int64_t>(n.interval_s) * options_.silent_heartbeats)) {
        continue;
      }
      n.opening = true;
      silent.emplace_back(name, n);
    }
  }
  for (const auto& [name, n] : silent) {
    core_->Run([this, name = name, n = n](TimePoint at) {
      auto silent_for = std::chrono::duration_cast<std::chrono::minutes>(at - *n.last_heard).count();
      std::string detail = fmt::format("no heartbeat from {} {} ({}) for {} min (expected every {} s)", n.tier, name,
                                       n.village.empty() ? n.tambon : n.village, silent_for, n.interval_s);
      store::Stmt s(writer_.db(), "INSERT INTO tier_incidents (node, tambon, village, opened, detail) VALUES (?, ?, ?, ?, ?)");
      s.Bind(1, name).Bind(2, n.tambon).Bind(3, n.village).Bind(4, Ms(at)).Bind(5, detail).Run();
      std::int64_t id = sqlite3_last_insert_rowid(writer_.db());
      TierEvent(n.tambon, n.village, id, at, "tier_silent",
                fmt::format("ไม่ได้รับสัญญาณชีพจาก {} นาน {} นาที: ตรวจสอบเครื่องและการเชื่อมต่อ", name, silent_for), detail);
      log::Warn("tier", "technician incident T{}: {}", id, detail);
      json row{{"id", id}, {"node", name}, {"opened", wire::FormatTime(at)}, {"closed", nullptr}, {"detail", detail}};
      pending_->after.push_back([this, name, id, row] {
        std::lock_guard lock(mu_);
        Node& node = nodes_[name];
        node.opening = false;
        node.incident = id;
        incidents_.push_back(row);
        if (incidents_.size() > 50) incidents_.erase(incidents_.begin());
      });
      metrics_.Count("kaoko_tier_incidents_total", "opened");
      return CommandResult{};
    });
  }
}

void Tier::TierEvent(const std::string& tambon, const std::string& village, std::int64_t incident, TimePoint now,
                     const std::string& kind, const std::string& text_th, const std::string& text_en) {
  // A tier incident's log entry: kept with the remote events (this node is its origin) and journaled up.
  json body{{"tambon", tambon}, {"village", village}, {"incident", incident}, {"incident_kind", "tier"},
            {"station", ""}, {"ts", wire::FormatTime(now)}, {"event", kind}, {"actor", "kaoko"},
            {"via", "kaoko"}, {"text_th", text_th}, {"text_en", text_en}, {"acting", true}};
  std::optional<std::int64_t> origin_id;
  if (Sends()) {
    Append("event", body);
    origin_id = static_cast<std::int64_t>(pending_->appended);
  }
  store::Stmt s(writer_.db(),
                "INSERT INTO tier_events (origin, origin_epoch, origin_id, node, node_seq, tambon, village, incident, "
                "incident_kind, station, ts, kind, actor, via, text_th, text_en, acting, received) "
                "VALUES (?, ?, ?, ?, 0, ?, ?, ?, 'tier', '', ?, ?, 'kaoko', 'kaoko', ?, ?, 1, ?)");
  s.Bind(1, options_.node).Bind(2, epoch_);
  if (origin_id) s.Bind(3, *origin_id);
  else s.BindNull(3);
  s.Bind(4, options_.node).Bind(5, tambon).Bind(6, village).Bind(7, incident).Bind(8, Ms(now)).Bind(9, kind);
  s.Bind(10, text_th).Bind(11, text_en).Bind(12, Ms(now)).Run();
}

// ------------------------------------------------------------------------------------------------ edge

bool Tier::EdgeIntercept(const Inbound& in, TimePoint) {
  auto t = wire::ParseTopic(in.topic);
  if (!t || t->tambon != network_.tambon) return false;
  switch (t->kind) {
    case wire::TopicKind::kStatus:
      if (t->village == options_.village) {
        Append("status", json{{"village", t->village}, {"station", t->name}, {"payload", in.payload}});
      }
      return false;
    case wire::TopicKind::kReport:
    case wire::TopicKind::kDecision: {
      bool report = t->kind == wire::TopicKind::kReport;
      // Exactly one receipt per message: this box answers what it decides (every report for its village, and
      // decisions on its own incidents); a decision on a TAO incident, or a message for another village, is the
      // TAO's to answer: forwarded, and the TAO's receipt relayed back.
      bool tao_decides = t->village != options_.village;
      if (!report && !tao_decides) {
        auto d = wire::ParseDecision(in.payload);
        tao_decides = d && d->incident < options_.edge_incident_base;
      }
      json entry{{"village", t->village}, {"user", t->name}, {"payload", in.payload}};
      if (!tao_decides) {
        if (report) Append("report", entry);  // the TAO's chain runs on it too (its receipt is not relayed)
        return false;
      }
      auto ref = wire::PeekId(in.payload).value_or("");
      store::Stmt s(writer_.db(), "INSERT OR IGNORE INTO tier_forwarded (user, id, kind, received) VALUES (?, ?, ?, ?)");
      s.Bind(1, t->name).Bind(2, ref).Bind(3, std::string_view(report ? "report" : "decision")).Bind(4, Ms(Now())).Run();
      Append(report ? "report" : "decision", entry);
      metrics_.Count("kaoko_tier_edge_total", "forwarded_for_tao");
      return true;
    }
    default:
      return false;
  }
}

void Tier::FromAbove(const std::string& topic, const std::string& payload) {
  auto t = wire::ParseTopic(topic);
  if (!t || t->tambon != network_.tambon) return;
  if (t->kind == wire::TopicKind::kReceipt) {
    // Relay the TAO's receipt only for what this box forwarded for the TAO to answer.
    json j = Parse(payload);
    std::string ref = j.is_object() ? Str(j, "ref") : std::string();
    store::Stmt s(writer_.db(), "SELECT 1 FROM tier_forwarded WHERE user = ? AND id = ?");
    s.Bind(1, t->name).Bind(2, ref);
    if (s.Step() && mqtt_) {
      mqtt_->Publish(topic, payload, false);
      metrics_.Count("kaoko_tier_edge_total", "receipt_relayed");
    } else {
      metrics_.Count("kaoko_tier_edge_total", "receipt_not_relayed");  // this box answered it already
    }
    return;
  }
  if (t->village != options_.village) return;
  if (t->kind == wire::TopicKind::kAlert || t->kind == wire::TopicKind::kSiren || t->kind == wire::TopicKind::kNotify) {
    arbiter_->FromAbove(topic, payload);
  }
}

// ------------------------------------------------------------------------------------------------ province

bool Tier::ProvinceIntercept(const Inbound& in, TimePoint now) {
  auto t = wire::ParseTopic(in.topic);
  if (!t || !Tambon(t->tambon)) return false;
  if (t->kind == wire::TopicKind::kAlert) {
    std::string key = t->tambon + "/" + t->village;
    {
      std::lock_guard lock(mu_);
      alerts_[key] = in.payload;
    }
    SaveState("alert/" + key, in.payload, now);
  } else if (t->kind == wire::TopicKind::kCap) {
    {
      std::lock_guard lock(mu_);
      caps_[t->tambon] = in.payload;
    }
    SaveState("cap/" + t->tambon, in.payload, now);
  }
  return true;  // nothing else of a tambon's is the province's business
}

void Tier::SaveState(const std::string& key, const std::string& value, TimePoint now) {
  store::Stmt s(writer_.db(),
                "INSERT INTO tier_state (key, value, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated");
  s.Bind(1, key).Bind(2, value).Bind(3, Ms(now)).Run();
}

// ------------------------------------------------------------------------------------------------ HTTP

json Tier::StatusJson() const {
  TimePoint now = Now();
  json out{{"node", options_.node}, {"tier", ToString(options_.mode)}, {"tambon", network_.tambon}};
  if (options_.mode == Mode::kEdge) out["village"] = options_.village;
  std::lock_guard lock(mu_);
  if (Sends()) {
    out["uplink"] = json{{"epoch", epoch_},
                         {"link", !sender_.link() ? "unknown" : *sender_.link() ? "up" : "down"},
                         {"appended", sender_.appended()},
                         {"acked", sender_.acked()},
                         {"backlog", sender_.backlog()},
                         {"resends", sender_.resends()}};
  }
  if (arbiter_) {
    auto v = arbiter_->Snapshot();
    out["mode"] = !arbiter_->decided() ? "undecided" : v.following ? "following" : "acting_alone";
    out["handovers"] = v.handovers;
    out["own_siren"] = v.own_siren ? Parse(*v.own_siren) : json(nullptr);
    out["tao_siren"] = v.tao_siren ? Parse(*v.tao_siren) : json(nullptr);
  }
  json nodes = json::array();
  for (const auto& [name, n] : nodes_) {
    json j{{"node", name}, {"tambon", n.tambon}, {"tier", n.tier}, {"village", n.village},
           {"interval_s", n.interval_s}, {"last_heard", n.last_heard ? json(wire::FormatTime(*n.last_heard)) : json(nullptr)},
           {"silent", n.incident.has_value()},
           {"incident", n.incident ? json(*n.incident) : json(nullptr)}};
    if (n.last_heard) j["silent_for_s"] = std::chrono::duration_cast<std::chrono::seconds>(now - *n.last_heard).count();
    if (n.last.is_object()) j["heartbeat"] = n.last;
    nodes.push_back(std::move(j));
  }
  out["nodes"] = std::move(nodes);
  out["incidents"] = incidents_;
  out["received_entries"] = received_entries_;
  out["duplicate_entries"] = duplicate_entries_;
  out["gaps"] = gaps_;
  return out;
}

std::optional<Response> Tier::Http(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == "/api/v1/tiers") {
    if (!get) return std::nullopt;
    return JsonResponse(req, http::status::ok, StatusJson());
  }
  if (options_.mode != Mode::kProvince || !get) return std::nullopt;
  auto param = [&](std::string_view name) -> std::optional<std::string> {
    std::string_view q = query;
    while (!q.empty()) {
      auto amp = q.find('&');
      auto part = q.substr(0, amp);
      auto eq = part.find('=');
      if (part.substr(0, eq) == name) return UrlDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
    return std::nullopt;
  };
  if (path == "/api/v1/villages") {
    json list = json::array();
    std::lock_guard lock(mu_);
    for (const auto& n : tambons_) {
      int order = 0;
      for (const auto& v : n.villages) {
        json a;
        if (auto it = alerts_.find(n.tambon + "/" + v.id); it != alerts_.end()) a = Parse(it->second);
        if (!a.is_object()) {
          a = json{{"village", v.id}, {"level", "normal"}, {"incident", nullptr}, {"status", "resolved"}};
        }
        a["tambon"] = n.tambon;
        a["tambon_name_th"] = n.tambon_name_th;
        a["tambon_name_en"] = n.tambon_name_en;
        a["name_th"] = v.name_th;
        a["name_en"] = v.name_en;
        a["order"] = order++;
        a["moo"] = v.moo;
        list.push_back(std::move(a));
      }
    }
    return JsonResponse(req, http::status::ok, list);
  }
  if (path == "/api/v1/cap") {
    auto tambon = param("tambon");
    if (!tambon) return JsonResponse(req, http::status::bad_request, json{{"error", "which tambon? /api/v1/cap?tambon=<id>"}});
    std::lock_guard lock(mu_);
    auto it = caps_.find(*tambon);
    if (it == caps_.end()) {
      return JsonResponse(req, http::status::not_found,
                          json{{"error", fmt::format("no CAP document from tambon '{}' yet", *tambon)}});
    }
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/cap+xml; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = it->second;
    res.prepare_payload();
    return res;
  }
  if (path == "/api/v1/province/cap") {
    json list = json::array();
    std::lock_guard lock(mu_);
    for (const auto& n : tambons_) {
      auto it = caps_.find(n.tambon);
      list.push_back(json{{"tambon", n.tambon}, {"name_th", n.tambon_name_th}, {"name_en", n.tambon_name_en},
                          {"cap", it == caps_.end() ? json(nullptr) : json(it->second)}});
    }
    return JsonResponse(req, http::status::ok, list);
  }
  return std::nullopt;
}

}  // namespace kaoko::server::tier
