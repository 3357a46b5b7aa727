// The core with a real SQLite file and a recording publisher: what is stored, acked and receipted, batch by batch.
// (The same paths run against a real broker in tests/integration.)
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <mutex>
#include <random>

#include "kaoko/server/config.hpp"
#include "kaoko/server/core.hpp"

using namespace kaoko;

namespace {
struct Recorder : server::Publisher {
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, bool>> sent;
  void Publish(const std::string& t, const std::string& p, bool r) override {
    std::lock_guard lock(mu);
    sent.emplace_back(t, p, r);
  }
  std::vector<std::string> On(const std::string& topic) {
    std::vector<std::string> out;
    for (auto& [t, p, r] : sent) {
      if (t == topic) out.push_back(p);
    }
    return out;
  }
};

struct Fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("kaoko-core-" + std::to_string(std::random_device{}()));
  alerting::Network net = *config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  std::unique_ptr<store::Store> db;
  Recorder pub;
  server::Metrics metrics;
  std::unique_ptr<server::Core> core;
  Fixture() {
    std::filesystem::create_directories(dir);
    db = std::move(*store::Store::Open((dir / "k.db").string()));
    server::CoreOptions o;
    o.clock = [] { return *wire::ParseTime("2026-11-27T05:00:00Z"); };
    core = std::make_unique<server::Core>(net, *db, pub, metrics, o);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  void Feed(std::vector<std::pair<std::string, std::string>> msgs) {
    std::vector<server::Inbound> batch;
    for (auto& [t, p] : msgs) batch.push_back({t, p});
    REQUIRE(core->ProcessBatch(batch));
  }
};

const std::string kBridge = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading";
std::string Reading(int seq, double level, const char* ts = "2026-11-27T04:15:00Z") {
  return fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{}}})", seq, ts, level);
}
}  // namespace

TEST_CASE("core: readings are stored once and acked after commit, in merged ranges", "[core]") {
  Fixture f;
  f.Feed({{kBridge, Reading(1000, 250)}, {kBridge, Reading(1001, 251)}, {kBridge, Reading(1002, 252)},
          {kBridge, Reading(1041, 260)}, {kBridge, Reading(1001, 251)}});
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack").empty());  // at most once a second
  f.core->FlushAcks();
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") ==
          std::vector<std::string>{R"({"stored":[[1000,1002],[1041,1041]]})"});
  REQUIRE(f.db->CountReadings() == 4);
  REQUIRE(f.metrics.readings_accepted == 4);
  REQUIRE(f.metrics.readings_duplicate == 1);
  SECTION("a repeat after the ack is acked again and not stored twice") {
    f.Feed({{kBridge, Reading(1000, 250)}});
    f.core->FlushAcks();
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack").back() == R"({"stored":[[1000,1000]]})");
    REQUIRE(f.db->CountReadings() == 4);
  }
  SECTION("nothing new: no ack") {
    f.core->FlushAcks();
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack").size() == 1);
  }
}

TEST_CASE("core: the dashboard shows the newest reading by its own time, not by arrival", "[core]") {
  Fixture f;
  f.Feed({{kBridge, Reading(2, 260, "2026-11-27T04:20:00Z")}, {kBridge, Reading(1, 250, "2026-11-27T04:10:00Z")}});
  for (const auto& v : f.core->Stations()) {
    if (v.station->id == "kaoko-bridge") {
      REQUIRE(v.latest);
      REQUIRE(v.latest->seq == 2);
    }
  }
}

TEST_CASE("core: bad readings are refused, counted by reason, and never crash", "[core]") {
  Fixture f;
  f.Feed({{"kaoko/v1/tonhong/kaoko/station/ghost/reading", Reading(1, 1)},
          {"kaoko/v1/tonhong/thonhong/station/kaoko-bridge/reading", Reading(1, 1)},
          {"kaoko/v1/other/kaoko/station/kaoko-bridge/reading", Reading(1, 1)},
          {kBridge, "not json"},
          {kBridge, R"({"seq":5,"ts":"2026-11-27T04:15:00Z","level_cm":100000})"},
          {"garbage", "x"}});
  REQUIRE(f.metrics.Get("kaoko_readings_rejected_total", "unknown_station") == 1);
  REQUIRE(f.metrics.Get("kaoko_readings_rejected_total", "wrong_village") == 1);
  REQUIRE(f.metrics.Get("kaoko_messages_rejected_total", "unknown_tambon") == 1);
  REQUIRE(f.metrics.Get("kaoko_readings_rejected_total", "bad_json") == 1);
  REQUIRE(f.metrics.Get("kaoko_readings_rejected_total", "level_out_of_range") == 1);
  REQUIRE(f.metrics.Get("kaoko_messages_rejected_total", "bad_topic") == 1);
  REQUIRE(f.db->CountReadings() == 0);
  // The out-of-range reading carried a seq: kept in refused_readings and acked, so the station stops resending it.
  f.core->FlushAcks();
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") == std::vector<std::string>{R"({"stored":[[5,5]]})"});
  store::Stmt q(f.db->db(), "SELECT code FROM refused_readings WHERE station = 'kaoko-bridge' AND seq = 5");
  REQUIRE(q.Step());
  REQUIRE(q.Text(0) == "level_out_of_range");
}

TEST_CASE("core: every well-addressed report gets exactly one receipt", "[core]") {
  Fixture f;
  const std::string topic = "kaoko/v1/tonhong/kaoko/report/somchai";
  const std::string receipts = "kaoko/v1/tonhong/kaoko/receipt/somchai";
  SECTION("a good report, and its repeat") {
    std::string rep = R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})";
    f.Feed({{topic, rep}});
    f.Feed({{topic, rep}});
    auto got = f.pub.On(receipts);
    REQUIRE(got.size() == 2);
    REQUIRE(got[0].find(R"("ok":true)") != std::string::npos);
    REQUIRE(got[0].find(R"("ref":"r-1")") != std::string::npos);
    store::Stmt q(f.db->db(), "SELECT COUNT(*) FROM reports");
    q.Step();
    REQUIRE(q.Int(0) == 1);
  }
  SECTION("a bad report names its id and the reason") {
    f.Feed({{topic, R"({"id":"r-2","ts":"2026-11-27T04:20:00Z","concern":"flood"})"}});
    REQUIRE(f.pub.On(receipts) ==
            std::vector<std::string>{R"({"error":"concern must be watch, warning or critical","ok":false,"ref":"r-2"})"});
  }
  SECTION("a report for another village is refused") {
    f.Feed({{"kaoko/v1/tonhong/nanuea/report/somchai", R"({"id":"r-3","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}});
    auto got = f.pub.On("kaoko/v1/tonhong/nanuea/receipt/somchai");
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].find("reports for village 'kaoko'") != std::string::npos);
  }
  SECTION("a report naming a station of another village is refused") {
    f.Feed({{topic, R"({"id":"r-4","ts":"2026-11-27T04:20:00Z","concern":"watch","station":"pakkhlong-pier","level_cm":3})"}});
    REQUIRE(f.pub.On(receipts).at(0).find("is in village 'pakkhlong'") != std::string::npos);
  }
  SECTION("a stranger gets a receipt that says so") {
    f.Feed({{"kaoko/v1/tonhong/kaoko/report/nobody", R"({"id":"r-5","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}});
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/nobody").at(0).find("not in the network file") != std::string::npos);
  }
}

TEST_CASE("core: a batch the database refuses is neither acked nor receipted", "[core]") {
  Fixture f;
  // Make the readings table refuse writes the way a full disk does for a whole transaction.
  f.db->Exec("CREATE TRIGGER refuse BEFORE INSERT ON readings BEGIN SELECT RAISE(ABORT, 'disk is full'); END");
  std::vector<server::Inbound> batch{{kBridge, Reading(1, 1)},
                                     {"kaoko/v1/tonhong/kaoko/report/somchai",
                                      R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}};
  REQUIRE_FALSE(f.core->ProcessBatch(batch));
  f.core->FlushAcks();
  REQUIRE(f.pub.sent.empty());
  REQUIRE(f.core->DbProblem());
  REQUIRE(f.metrics.db_errors == 1);
  f.db->Exec("DROP TRIGGER refuse");
  REQUIRE(f.core->ProcessBatch(batch));
  REQUIRE_FALSE(f.core->DbProblem());
  f.core->FlushAcks();
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack").size() == 1);
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai").size() == 1);
  // The report opened an incident: the committee is told, the village alert moves to watch.
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/alert").size() == 1);
  REQUIRE_FALSE(f.pub.On("kaoko/v1/tonhong/kaoko/notify/prasert").empty());
}

TEST_CASE("core: a report opens an incident that is logged, receipted with its id and survives a restart", "[core]") {
  Fixture f;
  f.Feed({{"kaoko/v1/tonhong/kaoko/report/somchai",
           R"({"id":"r-1","ts":"2026-11-27T04:59:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})"}});
  auto receipts = f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai");
  REQUIRE(receipts.size() == 1);
  REQUIRE(receipts[0].find(R"("incident":1)") != std::string::npos);
  auto alerts = f.pub.On("kaoko/v1/tonhong/kaoko/alert");
  REQUIRE(alerts.size() == 1);
  REQUIRE(alerts[0].find(R"("status":"reported")") != std::string::npos);
  REQUIRE(f.db->Timeline(1).size() >= 2);  // the trigger and the committee's notification at least
  REQUIRE(f.db->ReportIncident("somchai", "r-1") == std::optional<std::int64_t>(1));

  // A decision from a watcher is refused with a receipt that says why, and logged.
  f.Feed({{"kaoko/v1/tonhong/kaoko/decision/somchai",
           R"({"id":"d-1","ts":"2026-11-27T05:00:00Z","incident":1,"action":"confirm"})"}});
  auto refused = f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai").back();
  REQUIRE(refused.find(R"("ok":false)") != std::string::npos);
  REQUIRE(refused.find("d-1") != std::string::npos);
  // The committee acknowledges.
  f.Feed({{"kaoko/v1/tonhong/kaoko/decision/prasert",
           R"({"id":"d-2","ts":"2026-11-27T05:00:00Z","incident":1,"action":"ack"})"}});
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/prasert").back().find(R"("ok":true)") != std::string::npos);
  auto row = f.db->Incident(1);
  REQUIRE(row);
  REQUIRE(row->stage == "awaiting_confirmation");

  // A new core over the same database resumes the incident where it was.
  f.core.reset();
  Recorder pub2;
  server::CoreOptions o;
  o.clock = [] { return *wire::ParseTime("2026-11-27T05:00:00Z"); };
  server::Core again(f.net, *f.db, pub2, f.metrics, o);
  auto villages = again.Villages();
  bool found = false;
  for (const auto& v : villages) {
    if (v.village == "kaoko") {
      found = true;
      REQUIRE(v.incident == std::optional<std::int64_t>(1));
      REQUIRE(v.status == alerting::Stage::kAwaitingConfirmation);
    }
  }
  REQUIRE(found);
}
