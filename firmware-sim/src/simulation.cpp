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

std::optional<double> ToNumber(const std::string& s) {
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::string Usage() {
  return R"(kaoko-sim — a river that floods, stations that behave like real firmware, watchers who report
(แบบจำลองสถานีวัดระดับน้ำและผู้เฝ้าระวัง สำหรับทดสอบ kaoko)

usage: kaoko-sim --network FILE --scenario FILE [options]

  --network FILE          the tambon's network file (config/tonhong.toml)
  --scenario FILE         a scenario (firmware-sim/scenarios/*.toml)
  --broker URI            MQTT broker, only 127.0.0.1 (default tcp://127.0.0.1:1883)
  --credentials FILE      credentials.toml written by kaoko-admin ([accounts] id = "password")
  --password-pattern P    every account's password is P with {id} replaced (e.g. 'demo-{id}')
  --user U --password P   one account for every connection (scale runs with the service account)
  --state-dir DIR         station buffers, seq numbers and watcher report ids (default ./kaoko-sim-state)
  --speed X               simulated seconds per real second (default 60; 3600 = an hour a second; 0 = flat out)
  --start TIME            simulated start, RFC 3339 UTC (default: now, rounded down to the minute)
  --duration HOURS        override the scenario's duration
  --seed N                override the scenario's seed
  --no-watchers           no watchers' reports
  --no-responders         nobody answers kaoko's notifications (committee, headmen, deputies, TAO officers)
  --anchor-start          with --start T: run on kaoko-server's rehearsal clock (--time-origin T --time-scale SPEED),
                          simulated = T + (wall now - T) x SPEED: wait for T if ahead, catch up if it has passed
  --produced-log FILE     write every reading the stations take as "<station> <seq> <payload>" lines
  --scale N               N synthetic stations s-000000… (copies of the network's stations) for load tests
  --connections K         with --scale: K shared MQTT connections instead of one per station
  --exit-when-drained     after the scenario, wait until every reading is acked; exit 3 if some are not
  --drain-timeout S       how long to wait for that (default 120 s)
  --outage-hook CMD       run `CMD begin broker` / `CMD end broker` at the scenario's outage window edges
  --local-acker           ack readings ourselves (no kaoko service running; for trying the simulator alone)
  --villages A,B          only the stations, watchers and responders of these villages (the whole river is still
                          modelled): what a village's edge box serves (docs/tiers.md)
  --connect-wait S        wait up to S real seconds for the connections before the clock starts (default 15)
  --buffer N              readings each station can buffer on disk (default 20000; the oldest go first)
  --ack-timeout S         resend unacked readings after S real seconds without ack progress (default 30)
  --no-offline-at-exit    do not publish the retained offline status when the simulation ends
  --progress live|lines   progress display (default: live on a terminal, lines otherwise)
  --dry-run               run the model only, no broker
  --csv FILE              with --dry-run: levels per station over time
  --csv-step MINUTES      CSV row interval (default 10)
  --plot FILE.png         with --dry-run: draw the levels with gnuplot (Debian: gnuplot-nox)
  --help                  this text

Exit codes: 0 ok · 1 bad input · 2 no broker connection · 3 readings still unacked after --exit-when-drained.
)";
}

Result<SimOptions> ParseCommandLine(int argc, const char* const* argv) {
  SimOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& into) -> bool {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    std::string v;
    auto need = [&]() -> Result<std::string> {
      if (!value(v)) return MakeError("usage", fmt::format("{} needs a value", a));
      return v;
    };
    auto number = [&]() -> Result<double> {
      auto s = need();
      if (!s) return s.error();
      auto n = ToNumber(*s);
      if (!n || *n < 0) return MakeError("usage", fmt::format("{} needs a non-negative number, not '{}'", a, *s));
      return *n;
    };
#define KAOKO_STR(field)              \
  {                                   \
    auto s = need();                  \
    if (!s) return s.error();         \
    o.field = *s;                     \
  }
#define KAOKO_NUM(expr)               \
  {                                   \
    auto n = number();                \
    if (!n) return n.error();         \
    double x = *n;                    \
    expr;                             \
  }
    if (a == "--help" || a == "-h") o.help = true;
    else if (a == "--network") KAOKO_STR(network_path)
    else if (a == "--scenario") KAOKO_STR(scenario_path)
    else if (a == "--broker") KAOKO_STR(broker)
    else if (a == "--credentials") KAOKO_STR(credentials_path)
    else if (a == "--password-pattern") KAOKO_STR(password_pattern)
    else if (a == "--user") KAOKO_STR(user)
    else if (a == "--password") KAOKO_STR(password)
    else if (a == "--state-dir") KAOKO_STR(state_dir)
    else if (a == "--csv") KAOKO_STR(csv_path)
    else if (a == "--plot") KAOKO_STR(plot_path)
    else if (a == "--outage-hook") KAOKO_STR(outage_hook)
    else if (a == "--produced-log") KAOKO_STR(produced_log)
    else if (a == "--speed") KAOKO_NUM(o.speed = x)
    else if (a == "--duration") KAOKO_NUM(o.duration = Seconds(static_cast<long long>(x * 3600 + 0.5)))
    else if (a == "--seed") KAOKO_NUM(o.seed = static_cast<std::uint64_t>(x))
    else if (a == "--scale") KAOKO_NUM(o.scale = static_cast<std::size_t>(x))
    else if (a == "--connections") KAOKO_NUM(o.connections = static_cast<std::size_t>(x))
    else if (a == "--drain-timeout") KAOKO_NUM(o.drain_timeout = Seconds(static_cast<long long>(x)))
    else if (a == "--connect-wait") KAOKO_NUM(o.connect_wait = Seconds(static_cast<long long>(x)))
    else if (a == "--buffer") KAOKO_NUM(o.buffer_capacity = static_cast<std::size_t>(std::max(1.0, x)))
    else if (a == "--ack-timeout") KAOKO_NUM(o.ack_timeout_s = std::max(0.1, x))
    else if (a == "--csv-step") KAOKO_NUM(o.csv_step = Seconds(static_cast<long long>(std::max(1.0, x * 60))))
    else if (a == "--villages") {
      auto s = need();
      if (!s) return s.error();
      std::string list = *s;
      std::size_t at = 0;
      while (at <= list.size()) {
        auto comma = list.find(',', at);
        std::string v = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        if (!v.empty()) o.villages.push_back(v);
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    }
    else if (a == "--no-watchers") o.watchers = false;
    else if (a == "--no-responders") o.responders = false;
    else if (a == "--anchor-start") o.anchor_start = true;
    else if (a == "--dry-run") o.dry_run = true;
    else if (a == "--exit-when-drained") o.exit_when_drained = true;
    else if (a == "--local-acker") o.local_acker = true;
    else if (a == "--no-offline-at-exit") o.offline_at_exit = false;
    else if (a == "--start") {
      auto s = need();
      if (!s) return s.error();
      auto t = ParseRfc3339(*s);
      if (!t) return MakeError("usage", fmt::format("--start needs an RFC 3339 UTC time, not '{}'", *s));
      o.start = *t;
    } else if (a == "--progress") {
      auto s = need();
      if (!s) return s.error();
      if (*s == "live") o.progress = 1;
      else if (*s == "lines") o.progress = 0;
      else return MakeError("usage", "--progress is live or lines");
    } else {
      return MakeError("usage", fmt::format("unknown option '{}' (see --help)", a));
    }
#undef KAOKO_STR
#undef KAOKO_NUM
  }
  if (o.help) return o;
  if (o.network_path.empty()) return MakeError("usage", "--network is required (see --help)");
  if (o.scenario_path.empty()) return MakeError("usage", "--scenario is required (see --help)");
  if (!o.dry_run && o.broker.find("127.0.0.1") == std::string::npos && o.broker.find("localhost") == std::string::npos) {
    return MakeError("usage", "--broker must be on 127.0.0.1 (the simulator never talks to other hosts)");
  }
  if ((!o.csv_path.empty() || !o.plot_path.empty()) && !o.dry_run) {
    return MakeError("usage", "--csv and --plot go with --dry-run");
  }
  if (o.connections > 0 && o.scale == 0) return MakeError("usage", "--connections goes with --scale");
  if (!o.villages.empty() && o.scale > 0) return MakeError("usage", "--villages does not go with --scale");
  if (o.anchor_start && (!o.start || o.speed <= 0)) {
    return MakeError("usage", "--anchor-start needs --start and a --speed above 0");
  }
  return o;
}

namespace {

struct Device {
  std::unique_ptr<StationFirmware> fw;
  std::size_t model_station = 0;  // which modelled station's river it sees
  std::size_t link = 0;
  std::uint64_t logged_seq = 0;   // --produced-log: readings up to this seq are written
};

struct ResponderDevice {
  std::unique_ptr<Responder> responder;
  std::size_t link = 0;
  std::deque<DecisionOut> queue;  // waiting for the phone's connection
  std::string id_file;
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
    if (int rc = Validate(); rc != 0) return rc;
    start_ = o_.start.value_or(std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now()));

    if (o_.dry_run) return DryRun();
    return Live();
  }

 private:
  int Fail(const std::string& why, int code = 1) {
    err_ << "kaoko-sim: " << why << '\n';
    return code;
  }

  int Validate() {
    for (const auto& v : o_.villages) {
      if (!network_.FindVillage(v)) return Fail(fmt::format("--villages: there is no village '{}' in {}", v, o_.network_path));
    }
    for (const auto& f : scenario_.faults) {
      if (!network_.FindStation(f.station)) return Fail(fmt::format("{}: fault for unknown station '{}'", o_.scenario_path, f.station));
    }
    for (const auto& e : scenario_.watchers.events) {
      const auto* p = network_.FindPerson(e.user);
      if (!p || p->role != alerting::Role::kWatcher) {
        return Fail(fmt::format("{}: watcher event for '{}', who is not a watcher in the network", o_.scenario_path, e.user));
      }
    }
    for (const auto& id : scenario_.responders.silent) {
      const auto* p = network_.FindPerson(id);
      if (!p || p->role == alerting::Role::kWatcher) {
        return Fail(fmt::format("{}: [responders] silent names '{}', who is not a committee member, headman, deputy "
                                "or TAO officer in the network", o_.scenario_path, id));
      }
    }
    if (const auto& id = scenario_.responders.tao_on_duty; !id.empty()) {
      const auto* p = network_.FindPerson(id);
      if (!p || p->role != alerting::Role::kTao) {
        return Fail(fmt::format("{}: [responders] tao_on_duty '{}' is not a TAO officer in the network", o_.scenario_path, id));
      }
    }
    try {
      RiverModel check(network_, scenario_);
    } catch (const std::exception& e) {
      return Fail(fmt::format("{}: {}", o_.scenario_path, e.what()));
    }
    return 0;
  }

  int DryRun() {
    std::string csv = LevelsCsv(network_, scenario_, start_, o_.csv_step);
    std::string csv_path = o_.csv_path;
    if (csv_path.empty() && !o_.plot_path.empty()) csv_path = o_.plot_path + ".csv";
    if (!csv_path.empty()) {
      std::ofstream f(csv_path);
      if (!(f << csv)) return Fail(fmt::format("{}: cannot write", csv_path));
    } else {
      out_ << csv;
    }
    if (!o_.plot_path.empty()) {
      std::string gp = o_.plot_path + ".gp";
      std::ofstream(gp) << GnuplotScript(network_, scenario_, csv_path, o_.plot_path);
      std::string cmd = fmt::format("gnuplot '{}'", gp);
      if (std::system(cmd.c_str()) != 0) {
        return Fail(fmt::format("gnuplot failed (is it installed? Debian: apt-get install gnuplot-nox); script: {}", gp));
      }
      std::filesystem::remove(gp);
      if (o_.csv_path.empty()) std::filesystem::remove(csv_path);
      out_ << "kaoko-sim: wrote " << o_.plot_path << '\n';
    }
    // Peaks per station, as a quick check of a scenario.
    RiverModel river(network_, scenario_);
    std::vector<double> peak(river.StationCount(), 0);
    std::vector<Seconds> when(river.StationCount());
    while (river.Elapsed() < scenario_.duration) {
      river.Step();
      for (std::size_t i = 0; i < peak.size(); ++i) {
        if (river.StationLevelCm(i) > peak[i]) {
          peak[i] = river.StationLevelCm(i);
          when[i] = river.Elapsed();
        }
      }
    }
    std::ostream& summary = (csv_path.empty() && o_.plot_path.empty()) ? err_ : out_;
    for (std::size_t i = 0; i < peak.size(); ++i) {
      const auto& s = network_.stations[i];
      const char* level = peak[i] >= s.critical.cm ? "critical" : peak[i] >= s.warning.cm ? "warning"
                          : peak[i] >= s.watch.cm ? "watch" : "normal";
      summary << fmt::format("  {:<16} peak {:6.1f} cm at +{:5.2f} h  ({})\n", s.id, peak[i],
                             static_cast<double>(when[i].count()) / 3600.0, level);
    }
    return 0;
  }

  // --villages: whether this run drives the devices of `village`.
  bool Serves(const std::string& village) const {
    return o_.villages.empty() || std::find(o_.villages.begin(), o_.villages.end(), village) != o_.villages.end();
  }

  std::optional<std::pair<std::string, std::string>> Account(const std::string& id) {
    return credentials_.For(id);
  }

  int SetUpDevices() {
    if (!o_.user.empty()) credentials_ = Credentials::Single(o_.user, o_.password);
    else if (!o_.password_pattern.empty()) credentials_ = Credentials::FromPattern(o_.password_pattern);
    else if (!o_.credentials_path.empty()) {
      auto c = Credentials::Load(o_.credentials_path);
      if (!c) return Fail(c.error().reason);
      credentials_ = std::move(*c);
    }
    std::string stations_dir = (std::filesystem::path(o_.state_dir) / "stations").string();
    std::size_t model_n = network_.stations.size();
    std::size_t n = o_.scale > 0 ? o_.scale : model_n;
    bool shared = o_.connections > 0;
    for (std::size_t i = 0; i < n; ++i) {
      const alerting::Station& tpl = network_.stations[i % model_n];
      if (o_.scale == 0 && !Serves(tpl.village)) continue;
      std::string id = o_.scale > 0 ? fmt::format("s-{:06}", i) : tpl.id;
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
      std::uint64_t seed = scenario_.seed ^ Fnv(id);
      c.initial_charge = 0.6 + 0.3 * static_cast<double>(seed % 1000) / 1000.0;
      auto store = ReadingStore::Open(stations_dir, id, o_.buffer_capacity);
      if (!store) return Fail(store.error().reason);
      Device d;
      d.logged_seq = store->LastSeq();
      d.fw = std::make_unique<StationFirmware>(std::move(c), std::move(*store), seed, start_);
      d.model_station = i % model_n;
      if (!shared) {
        auto account = Account(id);
        if (!account) return Fail(fmt::format("no broker account for station '{}' in {}", id, o_.credentials_path));
        LinkOptions lo;
        lo.uri = o_.broker;
        lo.client_id = "kaoko-sim-" + id;
        lo.user = account->first;
        lo.password = account->second;
        lo.will = std::pair{d.fw->StatusTopic(), d.fw->OfflinePayload()};
        lo.subscriptions = {d.fw->AckTopic()};
        lo.max_buffered = static_cast<int>(std::min<std::size_t>(o_.buffer_capacity + 100, 60000));
        lo.inflight_cap = 1000;
        d.link = links_.size();
        links_.push_back(std::make_unique<MqttLink>(d.link, std::move(lo), events_));
        station_links_.push_back(d.link);
      }
      ack_topics_[d.fw->AckTopic()] = devices_.size();
      devices_.push_back(std::move(d));
    }
    if (shared) {
      std::size_t k = std::min(o_.connections, n);
      auto account = Account(o_.user.empty() ? "kaoko" : o_.user);
      if (!account) return Fail("shared connections need --user/--password (e.g. the service account)");
      for (std::size_t j = 0; j < k; ++j) {
        LinkOptions lo;
        lo.uri = o_.broker;
        lo.client_id = fmt::format("kaoko-sim-shared-{}", j);
        lo.user = account->first;
        lo.password = account->second;
        for (std::size_t i = j; i < n; i += k) lo.subscriptions.push_back(devices_[i].fw->AckTopic());
        lo.max_buffered = 60000;
        lo.inflight_cap = 20000;
        std::size_t idx = links_.size();
        for (std::size_t i = j; i < n; i += k) devices_[i].link = idx;
        links_.push_back(std::make_unique<MqttLink>(idx, std::move(lo), events_));
        station_links_.push_back(idx);
      }
    }
    if (o_.watchers && scenario_.watchers.enabled) {
      for (const auto& p : network_.people) {
        if (p.role != alerting::Role::kWatcher || !Serves(p.village)) continue;
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
        std::uint64_t first_id = 1;
        if (std::ifstream f(w.id_file); f) f >> first_id;
        w.watcher = std::make_unique<Watcher>(std::move(wc), scenario_.seed ^ Fnv(p.id), first_id, start_);
        w.model_station = si;
        auto account = Account(p.id);
        if (!account) return Fail(fmt::format("no broker account for watcher '{}' in {}", p.id, o_.credentials_path));
        LinkOptions lo;
        lo.uri = o_.broker;
        lo.client_id = "kaoko-sim-" + p.id;
        lo.user = account->first;
        lo.password = account->second;
        lo.subscriptions = {ReceiptTopic(network_.tambon, p.village, p.id)};
        w.link = links_.size();
        links_.push_back(std::make_unique<MqttLink>(w.link, std::move(lo), events_));
        watchers_.push_back(std::move(w));
      }
    }
    if (o_.responders && scenario_.responders.enabled) {
      if (int rc = SetUpResponders(); rc != 0) return rc;
    }
    if (o_.local_acker) {
      LinkOptions lo;
      lo.uri = o_.broker;
      lo.client_id = "kaoko-sim-acker";
      auto account = Account(o_.user.empty() ? "kaoko" : o_.user);
      if (account) {
        lo.user = account->first;
        lo.password = account->second;
      }
      lo.subscriptions = {"kaoko/v1/+/+/station/+/reading"};
      lo.max_buffered = 60000;
      acker_link_ = links_.size();
      links_.push_back(std::make_unique<MqttLink>(*acker_link_, std::move(lo), events_));
    }
    return 0;
  }

  // The people of the escalation chain: every committee member, headman, deputy and TAO officer, each with their own
  // connection and account. One TAO officer is on duty (answers); the others only read.
  int SetUpResponders() {
    const ResponderBehaviour& b = scenario_.responders;
    std::string on_duty = b.tao_on_duty;
    for (const auto& p : network_.people) {
      if (!on_duty.empty()) break;
      if (p.role == alerting::Role::kTao && std::find(b.silent.begin(), b.silent.end(), p.id) == b.silent.end()) {
        on_duty = p.id;
      }
    }
    for (const auto& p : network_.people) {
      if (p.role == alerting::Role::kWatcher) continue;
      if (p.role != alerting::Role::kTao && !network_.FindVillage(p.village)) continue;
      if (!o_.villages.empty() && (p.role == alerting::Role::kTao || !Serves(p.village))) continue;
      ResponderConfig rc = ResponderConfigFor(p, network_.tambon, b);
      rc.off_duty = p.role == alerting::Role::kTao && p.id != on_duty;
      ResponderDevice r;
      r.id_file = (std::filesystem::path(o_.state_dir) / "responders" / (p.id + ".next-id")).string();
      std::uint64_t first_id = 1;
      if (std::ifstream f(r.id_file); f) f >> first_id;
      r.responder = std::make_unique<Responder>(std::move(rc), scenario_.seed ^ Fnv("responder:" + p.id), first_id);
      auto account = Account(p.id);
      if (!account) return Fail(fmt::format("no broker account for '{}' in {}", p.id, o_.credentials_path));
      LinkOptions lo;
      lo.uri = o_.broker;
      lo.client_id = "kaoko-sim-" + p.id;
      lo.user = account->first;
      lo.password = account->second;
      lo.subscriptions = r.responder->Subscriptions();
      r.link = links_.size();
      links_.push_back(std::make_unique<MqttLink>(r.link, std::move(lo), events_));
      responder_by_link_[r.link] = responders_.size();
      responders_.push_back(std::move(r));
    }
    return 0;
  }

  // What a person finds when they go and look, at `village` or upstream of it: the river at or above a station's
  // watch threshold, or rising faster than its fast-rise rate over the last hour (kaoko's own rules, on the true river).
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
          break;
        case LinkEvent::Kind::kLost:
          ++losses_;
          for (Device& d : devices_) {
            if (d.link == e.link) d.fw->OnConnectionLost();
          }
          break;
        case LinkEvent::Kind::kMessage:
          if (auto r = responder_by_link_.find(e.link); r != responder_by_link_.end()) {
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
              err_ << fmt::format("\nkaoko-sim: ignored a malformed ack on {}: {}\n", e.topic, e.payload.substr(0, 120));
            }
          } else if (e.topic.find("/receipt/") != std::string::npos) {
            ++receipts_;
            if (e.payload.find("\"ok\":false") != std::string::npos || e.payload.find("\"ok\": false") != std::string::npos) {
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
      if (!d.fw->Powered() && link.WantsConnection()) link.Disconnect(200ms);
      else if (d.fw->Powered() && !link.WantsConnection()) link.Connect();
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
        FormatRfc3339(Now()), static_cast<double>(sim_elapsed_.count()) / 3600.0, t.readings, t.sent, t.resent,
        t.acked, t.buffered, reports_sent_, decisions_sent_, LinksUp(), links_.size());
    if (live) out_ << '\r' << line << "\x1b[K" << std::flush;
    else out_ << line << std::endl;
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
    out_ << fmt::format("kaoko-sim: {} stations, {} watchers, {} responders, {} connections ({} up after {:.1f} s), "
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
    if (rc == 3) err_ << fmt::format("kaoko-sim: {} readings still unacked after {} s\n", Buffered(), o_.drain_timeout.count());
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
        "  stations {}: readings {}, sent {}, resent {}, acked {}, buffered {}, dropped {}, bad acks {}, ack timeouts {}\n"
        "  watchers {}: reports sent {} ({} misjudged on purpose), receipts {} ({} refused)\n"
        "  links {}: connects {}, losses {}, publish errors {}, first connect {:.1f} s; {:.0f} readings/s sent\n",
        scenario_.name, scenario_.seed, static_cast<double>(sim_elapsed_.count()) / 3600.0, secs, devices_.size(),
        t.readings, t.sent, t.resent, t.acked, t.buffered, t.dropped, t.bad_acks, t.timeouts, watchers_.size(),
        reports_sent_, reports_wrong_, receipts_, receipts_refused_, links_.size(), connects, losses_, errors,
        std::chrono::duration<double>(connect_time_).count(), secs > 0 ? static_cast<double>(t.sent + t.resent) / secs : 0);
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
      for (const auto& [action, n] : decisions_by_action_) by_action += fmt::format("{}{} {}", by_action.empty() ? "" : ", ", action, n);
      out_ << fmt::format(
          "  responders {} ({} silent): notifications {} ({} asking), decisions sent {} ({}), not needed any more {}, "
          "asks let pass {}, receipts {} ({} refused)\n",
          responders_.size(), silent, rs.notifications, rs.asked, decisions_sent_, by_action.empty() ? "none" : by_action,
          rs.skipped, rs.ignored_silent, rs.receipts, rs.refused);
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
