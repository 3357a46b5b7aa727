// Issue 6 acceptance (docs/tiers.md): three tiers as separate processes on loopback, each with its own Mosquitto —
// a village edge box bridged to its TAO, the TAO bridged to a province — and kaoko-sim driving the village's stations
// on the edge's broker in rehearsal time. A flood at the village is seen at the TAO and the province; the TAO's broker
// is stopped for a simulated hour during the rise (the edge's bridge is cut), and the village's siren still sounds on
// critical, from the edge box alone; a watcher's report made while cut off gets exactly one receipt. After the link
// returns, every reading the stations produced and every incident event the edge logged is in the TAO's and the
// province's logs exactly once, in order, the siren never flapped, and each tier above opened (and closed) a
// technician incident for the silence of the tier below.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../flood/flood_support.hpp"
#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using namespace kaoko::flood;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Three simulated hours: a cloudburst over the hills and the village from +0.35 h; the bridge at Ban Kao Ko crosses
// watch just before the cut (+1 h), climbs through warning to critical while the TAO's broker is down (+1 h to +2 h),
// and stays high after the link returns.
constexpr const char* kScenario = R"toml(
[scenario]
name = "tiers-cut"
description = "a rise at Ban Kao Ko with the edge box cut off from its TAO for one simulated hour"
duration_hours = 3
step_seconds = 60
seed = 23
rain_variability = 0.1

# Steep catchments: the bridge crosses watch at about +0.95 h, warning (critical with the fast rise) at about +1.35 h,
# the temple pier critical at about +1.6 h, and both stay under their sensors' reach (critical + 2 m).
[catchments.huaiphan]
nash_n = 2
nash_k_hours = 0.4
runoff_coefficient = 0.8
[catchments.kaoko]
nash_n = 2
nash_k_hours = 0.4
runoff_coefficient = 0.8

[[rain]]
catchments = ["huaiphan", "kaoko"]
points = [[0, 3], [0.35, 3], [0.5, 35], [1.4, 28], [1.8, 3], [3, 0]]
[[rain]]
catchments = ["thonhong", "nanuea", "pakkhlong"]
points = [[0, 4], [3, 4]]

[[outages]]
what = "broker"
from_hours = 1.0
to_hours = 2.0
)toml";

constexpr int kSpeed = 360;  // simulated seconds per real second: the cut hour lasts 10 s

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  REQUIRE(f.good());
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [k, v] : values) {
    for (auto at = text.find(k); at != std::string::npos; at = text.find(k, at + v.size()))
      text.replace(at, k.size(), v);
  }
  return text;
}

// A bridge account for the tier below at `broker` (kaoko-admin add-account --role bridge), and the broker told to
// reread its password file and ACL; returns once the account is accepted.
void AddBridge(Broker& broker, const std::string& node, const std::string& village) {
  std::vector<std::string> argv{AdminTool(), "add-account", "--dir",  broker.accounts_dir(), "--user",
                                node,        "--role",      "bridge", "--password",          "demo-" + node};
  if (!village.empty()) argv.insert(argv.end(), {"--village", village});
  Process admin(argv, broker.dir() + "/add-bridge.log");
  REQUIRE(admin.Wait() == 0);
  broker.Reload();
  const std::string topic = fmt::format("kaoko/v1/tonhong/tier/{}/heartbeat", node);
  REQUIRE(WaitFor([&] { return MosquittoPub(broker.port(), node, "demo-" + node, topic, "x", 0) == 0; }, 10s));
}

std::vector<std::string> Args(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> Column(const std::string& db, const std::string& sql) {
  std::vector<std::string> out;
  kaoko::store::testing::Query q(db, sql);
  while (q.Step()) out.push_back(q.Text(0));
  return out;
}

std::int64_t Count(const std::string& db, const std::string& sql) {
  kaoko::store::testing::Query q(db, sql);
  return q.Step() ? q.Int(0) : -1;
}

// The level of village `village` on a kaoko's /api/v1/villages ("" when not there).
std::string Level(ServiceProcess& kaoko, const std::string& tambon, const std::string& village) {
  auto res = kaoko.Get("/api/v1/villages");
  if (res.status != 200) return "";
  auto list = json::parse(res.body, nullptr, false);
  if (!list.is_array()) return "";
  for (const auto& v : list) {
    if (v.value("village", "") == village && v.value("tambon", tambon) == tambon) return v.value("level", "");
  }
  return "";
}

// A labelled counter from /metrics (0 when absent).
double Metric(ServiceProcess& kaoko, const std::string& family, const std::string& value) {
  auto res = kaoko.Get("/metrics");
  std::istringstream lines(res.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(family + "{") && line.find("=\"" + value + "\"}") != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return 0;
}

json Tiers(ServiceProcess& kaoko) {
  auto res = kaoko.Get("/api/v1/tiers");
  return res.status == 200 ? json::parse(res.body, nullptr, false) : json();
}

}  // namespace

TEST_CASE(
    "tiers: a village cut off from its TAO warns itself, and afterwards everything reaches the TAO and the province "
    "once, in order",
    "[integration][tiers]") {
  const auto test_start = std::chrono::steady_clock::now();
  const std::string network = SourceDir() + "/config/tonhong.toml";
  const std::string configs = SourceDir() + "/broker-config/";
  TempDir dir;
  const std::string scenario = dir.path() + "/tiers-cut.toml";
  const std::string hook = dir.path() + "/outage-hook.sh";
  const std::string produced = dir.path() + "/produced.log";
  Write(scenario, kScenario);
  Write(hook, kOutageHook);
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);

  // Three brokers: the province's (no bridge of its own), the TAO's (bridged up), the village box's (bridged up).
  Broker province(BrokerOptions{.extra_config = Read(configs + "province.conf.in")});
  AddBridge(province, "tonhong", "");
  Broker tao(BrokerOptions{.extra_config = Fill(Read(configs + "tao-bridge.conf.in"),
                                                {{"@TAMBON@", "tonhong"},
                                                 {"@UPPER_ADDRESS@", fmt::format("127.0.0.1:{}", province.port())},
                                                 {"@BRIDGE_PASSWORD@", "demo-tonhong"}})});
  AddBridge(tao, "edge-kaoko", "kaoko");
  Broker edge(BrokerOptions{.extra_config = Fill(Read(configs + "edge.conf.in"),
                                                 {{"@NODE@", "edge-kaoko"},
                                                  {"@TAMBON@", "tonhong"},
                                                  {"@VILLAGE@", "kaoko"},
                                                  {"@UPPER_ADDRESS@", fmt::format("127.0.0.1:{}", tao.port())},
                                                  {"@BRIDGE_PASSWORD@", "demo-edge-kaoko"}})});

  // Three kaokos on one rehearsal clock; heartbeats every 5 simulated minutes (under a second of real time).
  const std::string start = StartTime(10s);
  const std::vector<std::string> clock{"--time-scale", std::to_string(kSpeed), "--time-origin",
                                       start,          "--heartbeat",          "300"};
  const std::string province_db = dir.path() + "/province.db";
  const std::string tao_db = dir.path() + "/tao.db";
  const std::string edge_db = dir.path() + "/edge.db";
  ServiceProcess province_kaoko(province, province_db,
                                Args(clock, {"--tier", "province", "--tambon-network", network}));
  ServiceProcess tao_kaoko(tao, tao_db, Args(clock, {"--uplink"}));
  ServiceProcess edge_kaoko(edge, edge_db, Args(clock, {"--tier", "edge", "--village", "kaoko"}));
  INFO("edge kaoko log:\n"
       << Tail(edge_kaoko.log_path(), 30) << "\nTAO kaoko log:\n"
       << Tail(tao_kaoko.log_path(), 30) << "\nprovince kaoko log:\n"
       << Tail(province_kaoko.log_path(), 20));

  // Linked and listening: the edge follows the TAO, the TAO hears the edge, the province hears the TAO.
  auto heard = [](ServiceProcess& k, const std::string& node) {
    json t = Tiers(k);
    if (!t.is_object()) return false;
    for (const auto& n : t["nodes"]) {
      if (n.value("node", "") == node && !n["last_heard"].is_null()) return true;
    }
    return false;
  };
  REQUIRE(WaitFor([&] { return Tiers(edge_kaoko).value("mode", "") == "following"; }, 20s));
  REQUIRE(WaitFor([&] { return heard(tao_kaoko, "edge-kaoko"); }, 20s));
  REQUIRE(WaitFor([&] { return heard(province_kaoko, "tonhong"); }, 20s));

  // The TAO's last word on the village's siren: off (say, from an earlier all-clear), retained on its broker. The
  // edge follows the TAO, so the village's siren on the edge's broker says off too.
  const std::string siren_topic = "kaoko/v1/tonhong/kaoko/siren";
  REQUIRE(MosquittoPub(tao.port(), "kaoko", tao.Password("kaoko"), siren_topic,
                       R"({"on":false,"level":"normal","incident":null})", 1, /*retained=*/true) == 0);
  // A watcher of the village on the edge's broker: reads the village's siren and their own receipts.
  MqttClient somchai(edge.url(), "somchai", edge.Password("somchai"));
  somchai.Subscribe(siren_topic);
  somchai.Subscribe("kaoko/v1/tonhong/kaoko/receipt/somchai");
  REQUIRE(WaitFor([&] { return !somchai.Received(siren_topic).empty(); }, 10s));

  Process sim({SimTool(),
               "--network",
               network,
               "--scenario",
               scenario,
               "--broker",
               edge.url(),
               "--password-pattern",
               "demo-{id}",
               "--state-dir",
               dir.path() + "/sim-state",
               "--speed",
               std::to_string(kSpeed),
               "--start",
               start,
               "--anchor-start",
               "--villages",
               "kaoko",
               "--no-watchers",
               "--no-responders",
               "--no-offline-at-exit",
               "--exit-when-drained",
               "--drain-timeout",
               "60",
               "--outage-hook",
               hook,
               "--produced-log",
               produced,
               "--progress",
               "lines"},
              dir.path() + "/kaoko-sim.log");

  // Drive the cut; watch the siren on the edge's broker and the village's level at the TAO and the province.
  bool cut = false, restored = false, reported = false;
  std::optional<std::size_t> siren_on_during_cut;
  std::string tao_level_max = "normal", province_level_max = "normal";
  auto rank = [](const std::string& l) { return l == "critical" ? 3 : l == "warning" ? 2 : l == "watch" ? 1 : 0; };
  auto last_poll = std::chrono::steady_clock::now();
  const auto give_up = std::chrono::steady_clock::now() + 150s;
  while (sim.running()) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    if (!cut && std::filesystem::exists(dir.path() + "/outage-begin-broker.request")) {
      tao.Stop();  // the TAO's broker goes away: the edge's bridge (and the TAO's own uplink) drop
      cut = true;
      Write(dir.path() + "/outage-begin-broker.done", "");
    }
    if (cut && !restored) {
      auto sirens = somchai.Received(siren_topic);
      for (std::size_t i = 0; i < sirens.size() && !siren_on_during_cut; ++i) {
        auto s = json::parse(sirens[i].payload, nullptr, false);
        if (s.is_object() && s.value("on", false) && s.value("level", "") == "critical") siren_on_during_cut = i;
      }
      if (!reported && Tiers(edge_kaoko).value("mode", "") == "acting_alone") {
        // A report while cut off: the edge box answers it, once.
        auto sim_now = std::chrono::system_clock::now();
        auto origin = kaoko::wire::ParseTime(start).value();
        auto now = origin + std::chrono::milliseconds(static_cast<long long>(
                                std::chrono::duration<double, std::milli>(sim_now - origin).count() * kSpeed));
        somchai.Publish("kaoko/v1/tonhong/kaoko/report/somchai", json{{"id", "r-cut-1"},
                                                                      {"ts", kaoko::wire::FormatTime(now)},
                                                                      {"concern", "critical"},
                                                                      {"trend", "rising"},
                                                                      {"note", "น้ำท่วมถนนหน้าวัดแล้ว ติดต่อ อบต. ไม่ได้"}}
                                                                     .dump());
        reported = true;
      }
    }
    if (!restored && std::filesystem::exists(dir.path() + "/outage-end-broker.request")) {
      REQUIRE(cut);
      tao.Start();  // same port, same persistence: the bridges reconnect by themselves
      restored = true;
      Write(dir.path() + "/outage-end-broker.done", "");
    }
    if (std::chrono::steady_clock::now() - last_poll > 1s) {
      last_poll = std::chrono::steady_clock::now();
      if (!cut || restored) {
        auto l = Level(tao_kaoko, "tonhong", "kaoko");
        if (rank(l) > rank(tao_level_max)) tao_level_max = l;
      }
      auto l = Level(province_kaoko, "tonhong", "kaoko");
      if (rank(l) > rank(province_level_max)) province_level_max = l;
    }
    std::this_thread::sleep_for(50ms);
  }
  const int rc = sim.Wait();
  const std::string log = sim.Log();
  INFO("kaoko-sim log:\n" << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  REQUIRE(cut);
  REQUIRE(restored);
  REQUIRE(rc == 0);  // every reading acknowledged by the edge box
  REQUIRE(reported);

  // While cut off, the village's siren sounded on critical: from the edge box alone.
  REQUIRE(siren_on_during_cut.has_value());
  // The report made while cut off got exactly one receipt, from the edge box.
  REQUIRE(somchai.WaitForMessages(1, 5s));

  // After the link returns: everything reaches the TAO and the province. Wait for it, then check it exactly.
  const auto made = ReadProduced(produced);
  REQUIRE(made.size() == 2);  // the village's two stations, nobody else's
  std::size_t total = 0;
  for (const auto& [station, rows] : made) total += rows.size();
  auto tao_count = [&] {
    return Count(tao_db,
                 "SELECT COUNT(*) FROM readings r JOIN stations s ON s.id = r.station "
                 "WHERE s.name IN ('kaoko-bridge', 'kaoko-temple')");
  };
  auto province_count = [&] {
    return Count(province_db,
                 "SELECT COUNT(*) FROM tier_readings WHERE tambon = 'tonhong' AND "
                 "station IN ('kaoko-bridge', 'kaoko-temple')");
  };
  const bool arrived = WaitFor(
      [&] {
        return tao_count() == static_cast<std::int64_t>(total) && province_count() == static_cast<std::int64_t>(total);
      },
      60s);
  INFO("produced " << total << ", at the TAO " << tao_count() << ", at the province " << province_count());
  REQUIRE(arrived);
  const auto at_edge = StoredReadings(edge_db);
  const auto at_tao = StoredReadings(tao_db);
  std::map<std::string, std::vector<ReadingRow>> at_province;
  {
    kaoko::store::testing::Query q(province_db,
                                   "SELECT station, seq, ts, level_cm FROM tier_readings ORDER BY station, seq");
    while (q.Step()) at_province[q.Text(0)].push_back({static_cast<std::uint64_t>(q.Int(1)), q.Int(2), q.Double(3)});
  }
  std::size_t in_cut = 0;
  const std::int64_t cut_from = Ms(start) + 60 * 60 * 1000, cut_to = Ms(start) + 120 * 60 * 1000;
  for (const auto& [station, rows] : made) {
    INFO("station " << station);
    using Rows = std::map<std::string, std::vector<ReadingRow>>;
    for (const Rows* where : std::initializer_list<const Rows*>{&at_edge, &at_tao, &at_province}) {
      REQUIRE(where->count(station) == 1);
      const auto& got = where->at(station);
      REQUIRE(got.size() == rows.size());  // keyed by (station, seq): each once, none missing
      for (std::size_t i = 0; i < rows.size(); ++i) {
        REQUIRE(rows[i].ts_ms >= 0);
        REQUIRE(got[i].seq == rows[i].seq);
        REQUIRE(got[i].ts_ms == rows[i].ts_ms);
        REQUIRE(got[i].level_cm == rows[i].level_cm);
      }
    }
    for (const auto& r : rows) in_cut += r.ts_ms >= cut_from && r.ts_ms < cut_to;
  }
  INFO("readings " << total << ", taken while cut off " << in_cut);
  REQUIRE(in_cut >= 60);  // the cut really held an hour of readings back from the TAO

  // Every incident event the edge logged is in the TAO's and the province's logs, once, in the edge's order. The
  // edge's engine keeps going (reminders), so compare what the edge had logged at one moment with the prefix of
  // what arrived above, once it has all arrived.
  const auto edge_log =
      Column(edge_db, "SELECT kind || '|' || actor || '|' || ts || '|' || text_en FROM timeline ORDER BY id");
  REQUIRE(edge_log.size() >= 5);
  const std::string from_edge =
      "SELECT kind || '|' || actor || '|' || ts || '|' || text_en FROM tier_events WHERE origin = 'edge-kaoko' "
      "ORDER BY origin_id";
  REQUIRE(WaitFor(
      [&] {
        return Column(tao_db, from_edge).size() >= edge_log.size() &&
               Column(province_db, from_edge).size() >= edge_log.size();
      },
      30s));
  for (const auto& db : {tao_db, province_db}) {
    INFO("database " << db);
    auto got = Column(db, from_edge);
    got.resize(edge_log.size());
    CHECK(got == edge_log);
    CHECK(Count(db, "SELECT COUNT(*) - COUNT(DISTINCT origin_id) FROM tier_events WHERE origin = 'edge-kaoko'") == 0);
  }
  // The edge's siren among them, and the TAO's own incident for the village carries the edge's events too.
  CHECK(Count(edge_db, "SELECT COUNT(*) FROM timeline WHERE kind = 'siren'") >= 1);
  CHECK(Count(tao_db, "SELECT COUNT(*) FROM timeline WHERE via = 'edge:edge-kaoko'") >= 1);
  // And the TAO's own log reaches the province the same way.
  const auto tao_log = Column(tao_db,
                              "SELECT kind || '|' || ts || '|' || text_en FROM timeline "
                              "WHERE via NOT LIKE 'edge:%' ORDER BY id");
  const std::string from_tao =
      "SELECT kind || '|' || ts || '|' || text_en FROM tier_events WHERE origin = 'tonhong' "
      "AND incident_kind <> 'tier' ORDER BY origin_id";
  REQUIRE(WaitFor([&] { return Column(province_db, from_tao).size() >= tao_log.size(); }, 30s));
  {
    auto got = Column(province_db, from_tao);
    got.resize(tao_log.size());
    CHECK(got == tao_log);
  }

  // The flood was seen at the TAO and at the province: the village reached critical there too.
  REQUIRE(WaitFor(
      [&] {
        auto l = Level(tao_kaoko, "tonhong", "kaoko");
        if (rank(l) > rank(tao_level_max)) tao_level_max = l;
        auto p = Level(province_kaoko, "tonhong", "kaoko");
        if (rank(p) > rank(province_level_max)) province_level_max = p;
        return tao_level_max == "critical" && province_level_max == "critical";
      },
      20s));

  // The report: in the TAO's log once (forwarded in the journal), and still exactly one receipt on the edge's broker.
  REQUIRE(WaitFor(
      [&] { return Count(tao_db, "SELECT COUNT(*) FROM reports WHERE user = 'somchai' AND id = 'r-cut-1'") == 1; },
      20s));
  // The TAO answered it too, on its broker; that receipt came down the bridge and the edge box kept it back.
  REQUIRE(WaitFor([&] { return Metric(edge_kaoko, "kaoko_tier_edge_total", "receipt_not_relayed") >= 1; }, 20s));
  CHECK(Metric(edge_kaoko, "kaoko_tier_edge_total", "receipt_relayed") == 0);
  CHECK(somchai.Received("kaoko/v1/tonhong/kaoko/receipt/somchai").size() == 1);

  // The edge follows the TAO again, and the siren never flapped: once on, on to the end — the TAO's stale "off",
  // brought down again when the bridge reconnected, was not passed on while the TAO caught up.
  REQUIRE(WaitFor([&] { return Tiers(edge_kaoko).value("mode", "") == "following"; }, 20s));
  {
    auto sirens = somchai.Received(siren_topic);
    bool on = false;
    for (const auto& m : sirens) {
      auto s = json::parse(m.payload, nullptr, false);
      REQUIRE(s.is_object());
      if (s.value("on", false))
        on = true;
      else
        CHECK_FALSE(on);  // an "off" after the siren went on would be two sirens arguing
    }
    CHECK(on);
  }

  // The dead-man's switch: the TAO noticed the silent edge box, the province the silent TAO; both closed again.
  CHECK(Count(tao_db, "SELECT COUNT(*) FROM tier_incidents WHERE node = 'edge-kaoko'") >= 1);
  CHECK(Count(province_db, "SELECT COUNT(*) FROM tier_incidents WHERE node = 'tonhong'") >= 1);
  CHECK(WaitFor(
      [&] {
        return Count(tao_db, "SELECT COUNT(*) FROM tier_incidents WHERE closed IS NULL") == 0 &&
               Count(province_db, "SELECT COUNT(*) FROM tier_incidents WHERE closed IS NULL") == 0;
      },
      20s));
  for (const auto& [db, node] : {std::pair{tao_db, "tonhong"}, std::pair{province_db, "province"}}) {
    INFO("database " << db);
    // Each incident opened once and closed once in its own log, however many late heartbeats arrived together.
    CHECK(Count(db, fmt::format("SELECT COUNT(*) FROM tier_events WHERE origin = '{}' AND kind = 'tier_silent'",
                                node)) == Count(db, "SELECT COUNT(*) FROM tier_incidents"));
    CHECK(Count(db, fmt::format("SELECT COUNT(*) FROM tier_events WHERE origin = '{}' AND kind = 'tier_resumed'",
                                node)) == Count(db, "SELECT COUNT(*) FROM tier_incidents WHERE closed IS NOT NULL"));
  }
  // The province also has the TAO's incident for its edge box, relayed in the TAO's journal.
  CHECK(Count(province_db, "SELECT COUNT(*) FROM tier_events WHERE origin = 'tonhong' AND kind = 'tier_silent'") ==
        Count(tao_db, "SELECT COUNT(*) FROM tier_incidents"));

  // The province's own pages: every tambon's CAP document.
  CHECK(province_kaoko.Get("/api/v1/cap?tambon=tonhong").body.find("<alert") != std::string::npos);
  CHECK(province_kaoko.Get("/province").status == 200);
  WARN("tiers acceptance wall time: "
       << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - test_start).count()
       << " s");
}
