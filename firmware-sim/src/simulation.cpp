#include "kaoko/sim/simulation.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <thread>
#include <unordered_map>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/sim/acker.hpp"
#include "kaoko/sim/credentials.hpp"
#include "kaoko/sim/firmware.hpp"
#include "kaoko/sim/mqtt_link.hpp"
#include "kaoko/sim/responder.hpp"
#include "kaoko/sim/river.hpp"
#include "kaoko/sim/scenario_file.hpp"
#include "kaoko/sim/tower.hpp"
#include "kaoko/sim/watcher.hpp"

namespace kaoko::sim {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// FNV-1a: a seed per device that does not depend on the standard library's hash.
std::uint64_t Fnv(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

struct Device {
  std::unique_ptr<StationFirmware> fw;
  std::size_t model_station = 0;  // which modelled station's river it sees
  std::size_t link = 0;
  std::uint64_t logged_seq = 0;  // --produced-log: readings up to this seq are written
};

struct ResponderDevice {
  std::unique_ptr<Responder> responder;
  std::size_t link = 0;
  std::deque<DecisionOut> queue;  // waiting for the phone's connection
  std::string id_file;
};

struct TowerDevice {
  std::unique_ptr<Tower> tower;
  std::size_t link = 0;
  std::deque<SoundedOut> queue;  // waiting for the device's connection
};

struct WatcherDevice {
  std::unique_ptr<Watcher> watcher;
  std::size_t model_station = 0;
  std::size_t link = 0;
  std::deque<Report> queue;  // waiting for the phone's connection
  std::string id_file;
};

class Runner {
 public:
  Runner(const SimOptions& o, std::ostream& out, std::ostream& err) : o_(o), out_(out), err_(err) {}

  int Main() {
    auto net = config::LoadNetwork(o_.network_path);
    if (!net) return Fail(net.error().reason);
    network_ = std::move(*net);
    auto sc = LoadScenario(o_.scenario_path);
    if (!sc) return Fail(sc.error().reason);
    scenario_ = std::move(*sc);
    if (o_.duration) scenario_.duration = *o_.duration;
    if (o_.seed) scenario_.seed = *o_.seed;
    if (auto why = CheckScenario(o_, network_, scenario_)) return Fail(*why);
    start_ = o_.start.value_or(std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now()));

    if (o_.list_people) return ListSimulatedPeople(o_, network_, scenario_, out_);
    if (o_.dry_run) return DryRun(o_, network_, scenario_, start_, out_, err_);
    return Live();
  }

 private:
  int Fail(const std::string& why, int code = 1) {
    err_ << "kaoko-sim: " << why << '\n';
    return code;
  }

  // --villages: whether this run drives the devices of `village`.
  bool Serves(const std::string& village) const {
    return o_.villages.empty() || std::find(o_.villages.begin(), o_.villages.end(), village) != o_.villages.end();
  }

  int SetUpDevices() {
    if (!o_.user.empty())
      credentials_ = Credentials::Single(o_.user, o_.password);
    else if (!o_.password_pattern.empty())
      credentials_ = Credentials::FromPattern(o_.password_pattern);
    else if (!o_.credentials_path.empty()) {
      auto c = Credentials::Load(o_.credentials_path);
      if (!c) return Fail(c.error().reason);
      credentials_ = std::move(*c);
    }
    if (int rc = SetUpStations(); rc != 0) return rc;
    if (o_.watchers && scenario_.watchers.enabled) {
      if (int rc = SetUpWatchers(); rc != 0) return rc;
    }
    if (o_.responders && scenario_.responders.enabled) {
      if (int rc = SetUpResponders(); rc != 0) return rc;
    }
    // The villages' towers and sirens answer kaoko as the people do (--no-responders silences both).
    if (o_.responders && scenario_.towers.enabled) {
      if (int rc = SetUpTowers(); rc != 0) return rc;
    }
    if (o_.local_acker) {
      LinkOptions lo = LinkFor("kaoko-sim-acker", credentials_.For(o_.user.empty() ? "kaoko" : o_.user));
      lo.subscriptions = {"kaoko/v1/+/+/station/+/reading"};
      lo.max_buffered = 60000;
      acker_link_ = AddLink(std::move(lo));
    }
    return 0;
  }

  // The broker connection `client_id` logs in with `account` (none: anonymous).
  LinkOptions LinkFor(std::string client_id, const std::optional<std::pair<std::string, std::string>>& account) const {
    LinkOptions lo;
    lo.uri = o_.broker;
    lo.client_id = std::move(client_id);
    if (account) {
      lo.user = account->first;
      lo.password = account->second;
    }
    return lo;
  }

  std::size_t AddLink(LinkOptions lo) {
    const std::size_t idx = links_.size();
    links_.push_back(std::make_unique<MqttLink>(idx, std::move(lo), events_));
    return idx;
  }

  // The firmware settings of station `id`, modelled on the network's station `tpl`.
  FirmwareConfig StationConfig(const alerting::Station& tpl, const std::string& id, std::uint64_t seed) const {
    FirmwareConfig c;
    c.tambon = network_.tambon;
    c.village = tpl.village;
    c.station = id;
    c.watch_cm = tpl.watch.cm;
    c.fast_rise_trigger_cm_per_hour = tpl.fast_rise_cm_per_hour / 2;
    c.interval = tpl.interval;
    c.fast_interval = tpl.fast_interval;
    c.mount_cm = tpl.critical.cm + 200;
    c.ack_timeout = std::chrono::milliseconds(static_cast<long long>(o_.ack_timeout_s * 1000));
    if (auto it = scenario_.stations.find(tpl.id); it != scenario_.stations.end()) {
      c.mount_cm = it->second.mount_cm.value_or(c.mount_cm);
      c.noise_cm = it->second.noise_cm.value_or(c.noise_cm);
    }
    if (o_.scale == 0) {
      for (const auto& f : scenario_.faults) {
        if (f.station == id) c.faults.push_back(f);
      }
    }
    c.initial_charge = 0.6 + 0.3 * static_cast<double>(seed % 1000) / 1000.0;
    return c;
  }

  // The stations' firmware (--scale: that many copies of the network's), each with a connection of its own or, with
  // --connections, sharing that many.
  int SetUpStations() {
    std::string stations_dir = (std::filesystem::path(o_.state_dir) / "stations").string();
    std::size_t model_n = network_.stations.size();
    std::size_t n = o_.scale > 0 ? o_.scale : model_n;
    bool shared = o_.connections > 0;
    for (std::size_t i = 0; i < n; ++i) {
      const alerting::Station& tpl = network_.stations[i % model_n];
      if (o_.scale == 0 && !Serves(tpl.village)) continue;
      std::string id = o_.scale > 0 ? fmt::format("s-{:06}", i) : tpl.id;
      std::uint64_t seed = scenario_.seed ^ Fnv(id);
      auto store = ReadingStore::Open(stations_dir, id, o_.buffer_capacity);
      if (!store) return Fail(store.error().reason);
      Device d;
      d.logged_seq = store->LastSeq();
      d.fw = std::make_unique<StationFirmware>(StationConfig(tpl, id, seed), std::move(*store), seed, start_);
      d.model_station = i % model_n;
      if (!shared) {
        auto account = credentials_.For(id);
        if (!account) return Fail(fmt::format("no broker account for station '{}' in {}", id, o_.credentials_path));
        LinkOptions lo = LinkFor("kaoko-sim-" + id, account);
        lo.will = std::pair{d.fw->StatusTopic(), d.fw->OfflinePayload()};
        lo.subscriptions = {d.fw->AckTopic()};
        lo.max_buffered = static_cast<int>(std::min<std::size_t>(o_.buffer_capacity + 100, 60000));
        lo.inflight_cap = 1000;
        d.link = AddLink(std::move(lo));
        station_links_.push_back(d.link);
      }
      ack_topics_[d.fw->AckTopic()] = devices_.size();
      devices_.push_back(std::move(d));
    }
    if (!shared) return 0;
    std::size_t k = std::min(o_.connections, n);
    auto account = credentials_.For(o_.user.empty() ? "kaoko" : o_.user);
    if (!account) return Fail("shared connections need --user/--password (e.g. the service account)");
    for (std::size_t j = 0; j < k; ++j) {
      LinkOptions lo = LinkFor(fmt::format("kaoko-sim-shared-{}", j), account);
      for (std::size_t i = j; i < n; i += k) lo.subscriptions.push_back(devices_[i].fw->AckTopic());
      lo.max_buffered = 60000;
      lo.inflight_cap = 20000;
      std::size_t idx = AddLink(std::move(lo));
      for (std::size_t i = j; i < n; i += k) devices_[i].link = idx;
      station_links_.push_back(idx);
    }
    return 0;
  }

  // The first id a phone's next report or decision takes: where the last run left it in `id_file`, else 1.
  static std::uint64_t FirstId(const std::string& id_file) {
    std::uint64_t first_id = 1;
    if (std::ifstream f(id_file); f) f >> first_id;
    return first_id;
  }

  // A watcher for every watcher of a village with a gauge, watching that village's first station.
  int SetUpWatchers() {
    std::vector<std::string> simulated;
    for (const SimulatedPerson& sp : SimulatedPeople(o_, network_, scenario_)) simulated.push_back(sp.id);
    for (const auto& p : network_.people) {
      if (p.role != alerting::Role::kWatcher || !Serves(p.village)) continue;
      if (std::find(simulated.begin(), simulated.end(), p.id) == simulated.end()) continue;  // a human (--humans)
      const alerting::Station* st = nullptr;
      std::size_t si = 0;
      for (std::size_t i = 0; i < network_.stations.size(); ++i) {
        if (network_.stations[i].village == p.village) {
          st = &network_.stations[i];
          si = i;
          break;
        }
      }
      if (!st) continue;  // a watcher without a gauge in the village
      WatcherConfig wc;
      wc.tambon = network_.tambon;
      wc.village = p.village;
      wc.user = p.id;
      wc.station = *st;
      wc.behaviour = scenario_.watchers;
      for (const auto& e : scenario_.watchers.events) {
        if (e.user == p.id) wc.events.push_back(e);
      }
      WatcherDevice w;
      w.id_file = (std::filesystem::path(o_.state_dir) / "watchers" / (p.id + ".next-id")).string();
      w.watcher = std::make_unique<Watcher>(std::move(wc), scenario_.seed ^ Fnv(p.id), FirstId(w.id_file), start_);
      w.model_station = si;
      auto account = credentials_.For(p.id);
      if (!account) return Fail(fmt::format("no broker account for watcher '{}' in {}", p.id, o_.credentials_path));
      LinkOptions lo = LinkFor("kaoko-sim-" + p.id, account);
      lo.subscriptions = {ReceiptTopic(network_.tambon, p.village, p.id)};
      w.link = AddLink(std::move(lo));
      watchers_.push_back(std::move(w));
    }
    return 0;
  }

  // The people of the escalation chain: every committee member, headman, deputy and TAO officer that is simulated
  // (SimulatedPeople), each with their own connection and account. One TAO officer is on duty (answers, except in
  // the villages left to their people); the others only read.
  int SetUpResponders() {
    const ResponderBehaviour& b = scenario_.responders;
    const std::vector<std::string> left_to_people = VillagesLeftToPeople(o_, network_);
    for (const SimulatedPerson& sp : SimulatedPeople(o_, network_, scenario_)) {
      if (sp.role == alerting::Role::kWatcher) continue;
      const alerting::Person& p = *network_.FindPerson(sp.id);
      ResponderConfig rc = ResponderConfigFor(p, network_.tambon, b);
      rc.off_duty = p.role == alerting::Role::kTao && !sp.answers;
      if (p.role == alerting::Role::kTao) rc.left_to_people = left_to_people;
      ResponderDevice r;
      r.id_file = (std::filesystem::path(o_.state_dir) / "responders" / (p.id + ".next-id")).string();
      r.responder =
          std::make_unique<Responder>(std::move(rc), scenario_.seed ^ Fnv("responder:" + p.id), FirstId(r.id_file));
      auto account = credentials_.For(p.id);
      if (!account) return Fail(fmt::format("no broker account for '{}' in {}", p.id, o_.credentials_path));
      LinkOptions lo = LinkFor("kaoko-sim-" + p.id, account);
      lo.subscriptions = r.responder->Subscriptions();
      r.link = AddLink(std::move(lo));
      responder_by_link_[r.link] = responders_.size();
      responders_.push_back(std::move(r));
    }
    return 0;
  }

  // Every tower and siren of the network file, each on its own account and connection, with its Last Will.
  int SetUpTowers() {
    const TowerBehaviour& b = scenario_.towers;
    for (const alerting::Device& d : network_.devices) {
      if (!o_.villages.empty() && !Serves(d.village)) continue;
      // The delay is simulated time; the tower counts it in real time, as it answers between the model's steps.
      const double real_seconds = o_.speed > 0 ? b.delay_seconds / o_.speed : b.delay_seconds;
      TowerConfig tc{network_.tambon, d.id, d.village,
                     std::chrono::milliseconds(static_cast<std::int64_t>(real_seconds * 1000)),
                     std::find(b.silent.begin(), b.silent.end(), d.id) != b.silent.end()};
      TowerDevice t;
      t.tower = std::make_unique<Tower>(std::move(tc));
      auto account = credentials_.For(d.id);
      if (!account) return Fail(fmt::format("no broker account for '{}' in {}", d.id, o_.credentials_path));
      LinkOptions lo = LinkFor("kaoko-sim-" + d.id, account);
      lo.subscriptions = t.tower->Subscriptions();
      lo.will = std::pair{t.tower->StatusTopic(), Tower::Offline()};
      t.link = AddLink(std::move(lo));
      tower_by_link_[t.link] = towers_.size();
      towers_.push_back(std::move(t));
    }
    return 0;
  }

  // What a person finds when they go and look, at `village` or upstream of it: the river at or above a station's
  // watch threshold, or rising faster than its fast-rise rate over the last hour (kaoko's own rules, on the true
  // river).
  bool SeesWater(const std::string& village) const {
    if (!river_) return false;
    const int at = network_.VillageIndex(village);
    for (std::size_t i = 0; i < network_.stations.size() && i < river_->StationCount(); ++i) {
      const auto& st = network_.stations[i];
      const int vi = network_.VillageIndex(st.village);
      if (vi < 0 || vi > at) continue;
      const double level = river_->StationLevelCm(i);
      if (level >= st.watch.cm) return true;
      if (i < level_history_.size() && !level_history_[i].empty()) {
        const auto& [then, was] = level_history_[i].front();
        const double hours = static_cast<double>((Now() - then).count()) / 3600.0;
        if (hours >= 10.0 / 60 && (level - was) / hours > st.fast_rise_cm_per_hour) return true;
      }
    }
    return false;
  }

  // The true level of every modelled station over the last hour (for SeesWater).
  void RecordLevels(const RiverModel& river) {
    level_history_.resize(river.StationCount());
    for (std::size_t i = 0; i < river.StationCount(); ++i) {
      auto& h = level_history_[i];
      h.emplace_back(Now(), river.StationLevelCm(i));
      while (!h.empty() && Now() - h.front().first > Seconds(3600)) h.pop_front();
    }
  }

  // --produced-log: the readings device `d` has taken since the last call.
  void LogProduced(Device& d) {
    if (!produced_.is_open()) return;
    const ReadingStore& store = d.fw->Store();
    for (std::uint64_t s = d.logged_seq + 1; s <= store.LastSeq(); ++s) {
      auto it = store.Pending().find(s);
      produced_ << d.fw->Config().station << ' ' << s << ' ' << (it == store.Pending().end() ? "-" : it->second)
                << '\n';
    }
    d.logged_seq = store.LastSeq();
  }

  void Dispatch(WallTime wall) {
    for (LinkEvent& e : events_.Drain()) {
      switch (e.kind) {
        case LinkEvent::Kind::kConnected:
          for (Device& d : devices_) {
            if (d.link == e.link) d.fw->OnConnected(Now(), wall, *links_[d.link]);
          }
          if (auto t = tower_by_link_.find(e.link); t != tower_by_link_.end()) {
            links_[e.link]->Publish(towers_[t->second].tower->StatusTopic(), Tower::Online(), 1, true);
          }
          break;
        case LinkEvent::Kind::kLost:
          ++losses_;
          for (Device& d : devices_) {
            if (d.link == e.link) d.fw->OnConnectionLost();
          }
          break;
        case LinkEvent::Kind::kMessage:
          if (auto t = tower_by_link_.find(e.link); t != tower_by_link_.end()) {
            towers_[t->second].tower->OnMessage(e.topic, e.payload, wall);
          } else if (auto r = responder_by_link_.find(e.link); r != responder_by_link_.end()) {
            ResponderDevice& rd = responders_[r->second];
            const std::uint64_t refused = rd.responder->Stats().refused;
            rd.responder->OnMessage(e.topic, e.payload, Now());
            if (rd.responder->Stats().refused > refused && refusals_logged_++ < 5) {
              err_ << fmt::format("\nkaoko-sim: kaoko refused a decision of {}: {}\n", rd.responder->Config().user,
                                  rd.responder->Stats().last_refusal);
            }
          } else if (acker_link_ && e.link == *acker_link_) {
            acker_.OnReading(e.topic, e.payload);
          } else if (auto it = ack_topics_.find(e.topic); it != ack_topics_.end()) {
            if (!devices_[it->second].fw->OnAck(e.payload, wall) && bad_acks_logged_++ < 5) {
              err_ << fmt::format("\nkaoko-sim: ignored a malformed ack on {}: {}\n", e.topic,
                                  e.payload.substr(0, 120));
            }
          } else if (e.topic.find("/receipt/") != std::string::npos) {
            ++receipts_;
            if (e.payload.find("\"ok\":false") != std::string::npos ||
                e.payload.find("\"ok\": false") != std::string::npos) {
              ++receipts_refused_;
            }
          }
          break;
      }
    }
  }

  SimTime Now() const { return start_ + sim_elapsed_; }

  void PumpAll(WallTime wall) {
    for (Device& d : devices_) d.fw->Pump(wall, *links_[d.link]);
    for (WatcherDevice& w : watchers_) {
      MqttLink& link = *links_[w.link];
      while (!w.queue.empty() && link.IsConnected()) {
        if (!link.Publish(w.queue.front().topic, w.queue.front().payload, 1, false)) break;
        ++reports_sent_;
        if (w.queue.front().wrong) ++reports_wrong_;
        w.queue.pop_front();
      }
    }
    for (ResponderDevice& r : responders_) {
      for (const DecisionOut& d : SendDue(r.queue, *links_[r.link])) {
        ++decisions_sent_;
        ++decisions_by_action_[alerting::ToString(d.action)];
      }
    }
    for (TowerDevice& t : towers_) {
      for (SoundedOut& s : t.tower->Due(wall, Now())) t.queue.push_back(std::move(s));
      MqttLink& link = *links_[t.link];
      while (!t.queue.empty() && link.IsConnected() &&
             link.Publish(t.queue.front().topic, t.queue.front().payload, 1, false)) {
        ++sounded_sent_;
        t.queue.pop_front();
      }
    }
    if (acker_link_ && wall - last_ack_ >= 1s) {
      last_ack_ = wall;
      for (auto& [topic, payload] : acker_.TakeAcks()) links_[*acker_link_]->Publish(topic, payload, 1, false);
    }
    for (auto& l : links_) {
      if (l->WantsConnection()) l->RetryIfDue(wall, 3s);
    }
  }

  // Powers links up and down with their stations (offline faults, flat batteries): per-station links only.
  void FollowPower() {
    if (o_.connections > 0) return;
    for (Device& d : devices_) {
      MqttLink& link = *links_[d.link];
      if (!d.fw->Powered() && link.WantsConnection())
        link.Disconnect(200ms);
      else if (d.fw->Powered() && !link.WantsConnection())
        link.Connect();
    }
  }

  std::size_t Buffered() const {
    std::size_t b = 0;
    for (const Device& d : devices_) b += d.fw->Buffered();
    return b;
  }

  FirmwareStats Totals() const {
    FirmwareStats t;
    for (const Device& d : devices_) {
      FirmwareStats s = d.fw->Stats();
      t.readings += s.readings;
      t.sent += s.sent;
      t.resent += s.resent;
      t.acked += s.acked;
      t.dropped += s.dropped;
      t.bad_acks += s.bad_acks;
      t.timeouts += s.timeouts;
      t.buffered += s.buffered;
    }
    return t;
  }

  std::size_t LinksUp() const {
    std::size_t n = 0;
    for (const auto& l : links_) n += l->IsConnected();
    return n;
  }

  void Progress(WallTime wall, bool force = false) {
    bool live = o_.progress == 1 || (o_.progress == -1 && isatty(1));
    auto every = live ? 250ms : 5000ms;
    if (!force && wall - last_progress_ < every) return;
    last_progress_ = wall;
    FirmwareStats t = Totals();
    std::string line = fmt::format(
        "sim {} (+{:.2f} h)  readings {}  sent {}  resent {}  acked {}  buffered {}  reports {}  decisions {}  "
        "links {}/{}",
        FormatRfc3339(Now()), static_cast<double>(sim_elapsed_.count()) / 3600.0, t.readings, t.sent, t.resent, t.acked,
        t.buffered, reports_sent_, decisions_sent_, LinksUp(), links_.size());
    if (live)
      out_ << '\r' << line << "\x1b[K" << std::flush;
    else
      out_ << line << std::endl;
  }

  void Outages(double hours_before, double hours_after, WallTime& wall0) {
    for (const auto& w : scenario_.outages) {
      for (auto [edge, at] : {std::pair{"begin", w.from_hours}, std::pair{"end", w.to_hours}}) {
        if (hours_before < at && hours_after >= at) {
          out_ << fmt::format("\nkaoko-sim: OUTAGE {} {} at sim {} (+{:.2f} h)\n", edge, w.what, FormatRfc3339(Now()),
                              hours_after)
               << std::flush;
          if (!o_.outage_hook.empty()) {
            auto t0 = Clock::now();
            std::string cmd = fmt::format("{} {} {}", o_.outage_hook, edge, w.what);
            int rc = std::system(cmd.c_str());
            if (rc != 0) err_ << fmt::format("kaoko-sim: outage hook '{}' exited {}\n", cmd, rc);
            // The hook's time does not count against the simulated clock, unless the clock is anchored to the wall
            // (--anchor-start): then it stays with kaoko-server's and catches up.
            if (!o_.anchor_start) wall0 += Clock::now() - t0;
          }
        }
      }
    }
  }

  int Live() {
    if (int rc = SetUpDevices(); rc != 0) return rc;
    auto real_start = Clock::now();
    for (auto& l : links_) l->Connect();
    // Wait for the links before starting the clock (a second Paho client can take ~2 s: STACK.md trap 3).
    while (Clock::now() - real_start < o_.connect_wait && LinksUp() < links_.size()) {
      std::this_thread::sleep_for(50ms);
      for (auto& l : links_) l->RetryIfDue(Clock::now(), 3s);
    }
    connect_time_ = Clock::now() - real_start;
    out_ << fmt::format(
        "kaoko-sim: {} stations, {} watchers, {} responders, {} connections ({} up after {:.1f} s), "
        "scenario {} ({:.1f} h at speed {})\n",
        devices_.size(), watchers_.size(), responders_.size(), links_.size(), LinksUp(),
        std::chrono::duration<double>(connect_time_).count(), scenario_.name,
        static_cast<double>(scenario_.duration.count()) / 3600.0, o_.speed);
    if (LinksUp() == 0 && !links_.empty()) {
      err_ << "kaoko-sim: no connection to " << o_.broker << " yet; stations buffer and keep trying\n";
    }
    if (!o_.produced_log.empty()) {
      produced_.open(o_.produced_log, std::ios::trunc);
      if (!produced_) return Fail(fmt::format("{}: cannot write", o_.produced_log));
    }
    RiverModel river(network_, scenario_);
    river_ = &river;
    WallTime wall0 = Clock::now();
    if (o_.anchor_start) {
      // kaoko-server's rehearsal clock: simulated = start + (wall - start) * speed. Wall time `start` is wall0.
      wall0 += std::chrono::duration_cast<Clock::duration>(start_ - std::chrono::system_clock::now());
      if (wall0 > Clock::now()) {
        out_ << fmt::format("kaoko-sim: waiting {:.1f} s for the start time {}\n",
                            std::chrono::duration<double>(wall0 - Clock::now()).count(), FormatRfc3339(start_))
             << std::flush;
      }
      for (auto now = Clock::now(); now < wall0; now = Clock::now()) {
        std::this_thread::sleep_for(std::min<Clock::duration>(wall0 - now, 20ms));
        Dispatch(Clock::now());
        PumpAll(Clock::now());
      }
    }
    auto sim_start = Clock::now();
    // Boot: every station takes its first reading at the start time.
    Dispatch(Clock::now());
    for (Device& d : devices_) {
      d.fw->Advance(Now(), Clock::now(), {river.StationLevelCm(d.model_station), 0}, *links_[d.link]);
      LogProduced(d);
    }
    while (sim_elapsed_ < scenario_.duration) {
      double before = static_cast<double>(sim_elapsed_.count()) / 3600.0;
      river.Step();
      sim_elapsed_ = river.Elapsed();
      Outages(before, static_cast<double>(sim_elapsed_.count()) / 3600.0, wall0);
      WallTime wall = Clock::now();
      Dispatch(wall);
      for (Device& d : devices_) {
        Environment env{river.StationLevelCm(d.model_station), river.StationRainMmH(d.model_station)};
        d.fw->Advance(Now(), wall, env, *links_[d.link]);
        LogProduced(d);
      }
      for (WatcherDevice& w : watchers_) {
        for (Report& r : w.watcher->Advance(Now(), river.StationLevelCm(w.model_station))) {
          w.queue.push_back(std::move(r));
        }
      }
      RecordLevels(river);
      auto sees_water = [this](const std::string& village) { return SeesWater(village); };
      for (ResponderDevice& r : responders_) {
        for (DecisionOut& d : r.responder->Advance(Now(), sees_water)) r.queue.push_back(std::move(d));
      }
      FollowPower();
      PumpAll(wall);
      Progress(wall);
      // Pace: simulated seconds / speed = real seconds. Keep serving acks while waiting.
      if (o_.speed > 0) {
        auto target = wall0 + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(sim_elapsed_.count()) / o_.speed));
        for (auto now = Clock::now(); now < target; now = Clock::now()) {
          std::this_thread::sleep_for(std::min<Clock::duration>(target - now, 20ms));
          Dispatch(Clock::now());
          PumpAll(Clock::now());
        }
      }
    }
    auto sim_wall = Clock::now() - sim_start;
    river_ = nullptr;
    if (produced_.is_open()) produced_.flush();
    int rc = 0;
    if (o_.exit_when_drained) {
      auto deadline = Clock::now() + o_.drain_timeout;
      while (Clock::now() < deadline && Buffered() > 0) {
        std::this_thread::sleep_for(20ms);
        Dispatch(Clock::now());
        PumpAll(Clock::now());
        Progress(Clock::now());
      }
      if (Buffered() > 0) rc = 3;
    } else {
      // A short grace period for the last acks, so that the summary is not all "buffered".
      auto deadline = Clock::now() + 2s;
      while (Clock::now() < deadline && Buffered() > 0) {
        std::this_thread::sleep_for(20ms);
        Dispatch(Clock::now());
        PumpAll(Clock::now());
      }
    }
    Progress(Clock::now(), true);
    out_ << '\n';
    Shutdown();
    Summary(sim_wall);
    if (rc == 3)
      err_ << fmt::format("kaoko-sim: {} readings still unacked after {} s\n", Buffered(), o_.drain_timeout.count());
    return rc;
  }

  void Shutdown() {
    for (Device& d : devices_) {
      MqttLink& link = *links_[d.link];
      if (o_.offline_at_exit && d.fw->Powered() && link.IsConnected()) {
        link.Publish(d.fw->StatusTopic(), d.fw->OfflinePayload(), 1, true);
      }
    }
    for (WatcherDevice& w : watchers_) {
      std::filesystem::create_directories(std::filesystem::path(w.id_file).parent_path());
      std::ofstream(w.id_file) << w.watcher->NextId() << '\n';
    }
    for (ResponderDevice& r : responders_) {
      std::filesystem::create_directories(std::filesystem::path(r.id_file).parent_path());
      std::ofstream(r.id_file) << r.responder->NextId() << '\n';
    }
    for (auto& l : links_) l->BeginDisconnect(1000ms);
    for (auto& l : links_) l->FinishDisconnect(1500ms);
  }

  void Summary(Clock::duration sim_wall) {
    FirmwareStats t = Totals();
    double secs = std::chrono::duration<double>(sim_wall).count();
    std::uint64_t errors = 0, connects = 0;
    for (const auto& l : links_) {
      errors += l->PublishErrors();
      connects += l->Connects();
    }
    out_ << fmt::format(
        "kaoko-sim summary: scenario {} seed {}, simulated {:.1f} h in {:.1f} s real\n"
        "  stations {}: readings {}, sent {}, resent {}, acked {}, buffered {}, dropped {}, bad acks {}, ack timeouts "
        "{}\n"
        "  watchers {}: reports sent {} ({} misjudged on purpose), receipts {} ({} refused)\n"
        "  links {}: connects {}, losses {}, publish errors {}, first connect {:.1f} s; {:.0f} readings/s sent\n",
        scenario_.name, scenario_.seed, static_cast<double>(sim_elapsed_.count()) / 3600.0, secs, devices_.size(),
        t.readings, t.sent, t.resent, t.acked, t.buffered, t.dropped, t.bad_acks, t.timeouts, watchers_.size(),
        reports_sent_, reports_wrong_, receipts_, receipts_refused_, links_.size(), connects, losses_, errors,
        std::chrono::duration<double>(connect_time_).count(),
        secs > 0 ? static_cast<double>(t.sent + t.resent) / secs : 0);
    if (!responders_.empty()) {
      ResponderStats rs;
      std::size_t silent = 0;
      for (const ResponderDevice& r : responders_) {
        const ResponderStats& s = r.responder->Stats();
        rs.notifications += s.notifications;
        rs.asked += s.asked;
        rs.skipped += s.skipped;
        rs.receipts += s.receipts;
        rs.refused += s.refused;
        rs.ignored_silent += s.ignored_silent;
        silent += r.responder->Config().silent ? 1 : 0;
      }
      std::string by_action;
      for (const auto& [action, n] : decisions_by_action_)
        by_action += fmt::format("{}{} {}", by_action.empty() ? "" : ", ", action, n);
      out_ << fmt::format(
          "  responders {} ({} silent): notifications {} ({} asking), decisions sent {} ({}), not needed any more {}, "
          "asks let pass {}, receipts {} ({} refused)\n",
          responders_.size(), silent, rs.notifications, rs.asked, decisions_sent_,
          by_action.empty() ? "none" : by_action, rs.skipped, rs.ignored_silent, rs.receipts, rs.refused);
    }
    if (!towers_.empty()) {
      TowerStats ts;
      int silent = 0;
      for (const TowerDevice& d : towers_) {
        ts.announcements += d.tower->Stats().announcements;
        ts.ignored_silent += d.tower->Stats().ignored_silent;
        silent += d.tower->Config().silent ? 1 : 0;
      }
      out_ << fmt::format("  towers {} ({} silent): announcements heard {}, sounded sent {}, left silent {}\n",
                          towers_.size(), silent, ts.announcements, sounded_sent_, ts.ignored_silent);
    }
    if (acker_link_) {
      out_ << fmt::format("  local acker: stored {}, duplicates {}, out of order {}, gaps {}\n", acker_.Stored(),
                          acker_.Duplicates(), acker_.OutOfOrder(), acker_.Gaps());
    }
    out_ << fmt::format("buffered: {}\n", t.buffered);
  }

  const SimOptions& o_;
  std::ostream& out_;
  std::ostream& err_;
  alerting::Network network_;
  Scenario scenario_;
  SimTime start_;
  Seconds sim_elapsed_{0};
  Credentials credentials_;
  EventQueue events_;
  std::vector<std::unique_ptr<MqttLink>> links_;
  std::vector<std::size_t> station_links_;
  std::vector<Device> devices_;
  std::vector<WatcherDevice> watchers_;
  std::vector<ResponderDevice> responders_;
  std::unordered_map<std::size_t, std::size_t> responder_by_link_;
  std::vector<TowerDevice> towers_;
  std::unordered_map<std::size_t, std::size_t> tower_by_link_;
  std::uint64_t sounded_sent_ = 0;
  std::map<std::string, std::uint64_t> decisions_by_action_;
  std::uint64_t decisions_sent_ = 0, refusals_logged_ = 0;
  const RiverModel* river_ = nullptr;  // during Live()
  std::vector<std::deque<std::pair<SimTime, double>>> level_history_;
  std::ofstream produced_;
  std::unordered_map<std::string, std::size_t> ack_topics_;
  std::optional<std::size_t> acker_link_;
  AckBook acker_;
  WallTime last_ack_{};
  WallTime last_progress_{};
  Clock::duration connect_time_{};
  std::uint64_t reports_sent_ = 0, reports_wrong_ = 0, receipts_ = 0, receipts_refused_ = 0, losses_ = 0;
  int bad_acks_logged_ = 0;
};

}  // namespace

int Run(const SimOptions& options, std::ostream& out, std::ostream& err) {
  if (options.help) {
    out << Usage();
    return 0;
  }
  try {
    // The runner, and with it every MQTT client, is never destroyed. Paho C++ 1.2.0 can crash tearing down a client
    // whose queue still holds publishes (SIGSEGV in async_client::remove_token, from a token's on_failure inside
    // MQTTAsync_destroy): seen as a kaoko-sim exit status of 139 once in some 40 reconnect storms (tests/faults),
    // after every reading had been acked. Everything a run must leave is done when Main returns (readings acked,
    // files written and closed, every link disconnected so that no Last Will fires); main() then ends the process
    // with std::_Exit, so no destructor runs.
    auto* runner = new Runner(options, out, err);
    return runner->Main();
  } catch (const std::exception& e) {
    err << "kaoko-sim: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace kaoko::sim
