// The core with a real SQLite file and a recording publisher: what is stored, acked and receipted, batch by batch.
// (The same paths run against a real broker in tests/integration.)
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/store/query.hpp"

using namespace kaoko;

namespace {
struct Recorder : server::Publisher {
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, bool>> sent;
  std::function<void(const std::string& topic)> on_publish;  // runs at the moment of each publish
  void Publish(const std::string& t, const std::string& p, bool r) override {
    std::lock_guard lock(mu);
    sent.emplace_back(t, p, r);
    if (on_publish) on_publish(t);
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
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kaoko-core-" + std::to_string(std::random_device{}()));
  alerting::Network net = *config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  std::unique_ptr<store::Store> db;
  Recorder pub;
  server::Metrics metrics;
  std::unique_ptr<server::Core> core;
  server::CoreOptions options;
  // merge_rows: CoreOptions::merge_rows (0: the core's default).
  explicit Fixture(std::int64_t merge_rows = 0) {
    std::filesystem::create_directories(dir);
    db = std::move(*store::Store::Open((dir / "k.db").string()));
    options.clock = kaoko::Clock::Fake(*wire::ParseTime("2026-11-27T05:00:00Z"));
    options.merge_rows = merge_rows;
    core = std::make_unique<server::Core>(net, *db, pub, metrics, options);
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
  f.Feed({{kBridge, Reading(1000, 250)},
          {kBridge, Reading(1001, 251)},
          {kBridge, Reading(1002, 252)},
          {kBridge, Reading(1041, 260)},
          {kBridge, Reading(1001, 251)}});
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

TEST_CASE("core: a station is acked as soon as its reading commits, then at most once a second", "[core]") {
  Fixture f;
  const std::string ack = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack";
  const auto t0 = std::chrono::steady_clock::now();
  f.Feed({{kBridge, Reading(1, 250)}});
  f.core->AckDue(t0);  // its first ack: at once
  REQUIRE(f.pub.On(ack) == std::vector<std::string>{R"({"stored":[[1,1]]})"});
  f.Feed({{kBridge, Reading(2, 251)}});
  f.Feed({{kBridge, Reading(3, 252)}});
  f.core->AckDue(t0 + std::chrono::milliseconds(300));  // not a second since the last: waits
  f.core->AckDue(t0 + std::chrono::milliseconds(999));
  REQUIRE(f.pub.On(ack).size() == 1);
  f.Feed({{kBridge, Reading(4, 253)}});
  f.core->AckDue(t0 + std::chrono::milliseconds(1000));  // due: everything since, merged
  REQUIRE(f.pub.On(ack).back() == R"({"stored":[[2,4]]})");
  f.core->AckDue(t0 + std::chrono::milliseconds(5000));  // nothing new: nothing sent
  REQUIRE(f.pub.On(ack).size() == 2);
  f.Feed({{kBridge, Reading(5, 254)}});
  f.core->AckDue(t0 + std::chrono::milliseconds(5001));  // the last ack is long past: at once again
  REQUIRE(f.pub.On(ack).back() == R"({"stored":[[5,5]]})");
  REQUIRE(f.metrics.acks_published == 3);
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

TEST_CASE("core: the open screens get each batch's newest readings, and with no screen open none are built", "[core]") {
  Fixture f;  // levels under the bridge's watch (250): no incident, only readings for the screens
  std::vector<std::vector<server::LiveEvent>> seen;
  bool listening = false;
  f.core->SetObserver([&](std::vector<server::LiveEvent> events) { seen.push_back(std::move(events)); },
                      [&] { return listening; });
  f.Feed({{kBridge, Reading(1, 200)}});
  REQUIRE(seen.empty());                // no screen open: nothing built, nothing handed on
  REQUIRE(f.db->CountReadings() == 1);  // and the reading is stored all the same
  listening = true;
  f.Feed({{kBridge, Reading(2, 201, "2026-11-27T04:16:00Z")}, {kBridge, Reading(3, 202, "2026-11-27T04:17:00Z")}});
  REQUIRE(seen.size() == 1);
  std::vector<std::string> readings;
  for (const auto& e : seen[0]) {
    if (e.type == "reading") readings.push_back(e.json);
  }
  REQUIRE(readings.size() == 1);  // the station's newest of the batch only
  REQUIRE(readings[0].find(R"("station":"kaoko-bridge","seq":3,)") != std::string::npos);
  SECTION("a batch that changes nothing a screen shows hands nothing on") {
    f.Feed({{kBridge, Reading(3, 202, "2026-11-27T04:17:00Z")}});  // a repeat: stored before
    REQUIRE(seen.size() == 1);
  }
}

TEST_CASE("core: a station's status is shown, and an unknown station, a wrong village or a bad state is refused",
          "[core]") {
  Fixture f;
  f.Feed({{"kaoko/v1/tonhong/kaoko/station/kaoko-bridge/status", R"({"state":"offline"})"},
          {"kaoko/v1/tonhong/kaoko/station/ghost/status", R"({"state":"online"})"},
          {"kaoko/v1/tonhong/thonhong/station/kaoko-temple/status", R"({"state":"online"})"},
          {"kaoko/v1/tonhong/kaoko/station/kaoko-temple/status", R"({"state":"asleep"})"},
          {"kaoko/v1/tonhong/kaoko/station/kaoko-temple/status", "not json"}});
  REQUIRE(f.metrics.Get("kaoko_messages_rejected_total", "unknown_station") == 2);
  REQUIRE(f.metrics.Get("kaoko_messages_rejected_total", "bad_state") == 1);
  REQUIRE(f.metrics.Get("kaoko_messages_rejected_total", "bad_json") == 1);
  int seen = 0;
  for (const auto& v : f.core->Stations()) {
    if (v.station->id == "kaoko-bridge") {
      REQUIRE(v.online == std::optional<bool>(false));
      ++seen;
    }
    if (v.station->id == "kaoko-temple") {
      REQUIRE_FALSE(v.online.has_value());  // every status it sent was refused
      ++seen;
    }
  }
  REQUIRE(seen == 2);
  f.Feed({{"kaoko/v1/tonhong/kaoko/station/kaoko-bridge/status", R"({"state":"online"})"}});
  for (const auto& v : f.core->Stations()) {
    if (v.station->id == "kaoko-bridge") REQUIRE(v.online == std::optional<bool>(true));
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
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") ==
          std::vector<std::string>{R"({"stored":[[5,5]]})"});
  store::testing::Query q(*f.db, "SELECT code FROM refused_readings WHERE station = 'kaoko-bridge' AND seq = 5");
  REQUIRE(q.Step());
  REQUIRE(q.Text(0) == "level_out_of_range");
}

TEST_CASE("core: every well-addressed report gets exactly one receipt", "[core]") {
  Fixture f;
  const std::string topic = "kaoko/v1/tonhong/kaoko/report/somchai";
  const std::string receipts = "kaoko/v1/tonhong/kaoko/receipt/somchai";
  SECTION("a good report, and its repeat") {
    std::string rep =
        R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})";
    f.Feed({{topic, rep}});
    f.Feed({{topic, rep}});
    auto got = f.pub.On(receipts);
    REQUIRE(got.size() == 2);
    REQUIRE(got[0].find(R"("ok":true)") != std::string::npos);
    REQUIRE(got[0].find(R"("ref":"r-1")") != std::string::npos);
    store::testing::Query q(*f.db, "SELECT COUNT(*) FROM reports");
    q.Step();
    REQUIRE(q.Int(0) == 1);
  }
  SECTION("a bad report names its id and the reason") {
    f.Feed({{topic, R"({"id":"r-2","ts":"2026-11-27T04:20:00Z","concern":"flood"})"}});
    REQUIRE(
        f.pub.On(receipts) ==
        std::vector<std::string>{R"({"error":"concern must be watch, warning or critical","ok":false,"ref":"r-2"})"});
  }
  SECTION("a report for another village is refused") {
    f.Feed(
        {{"kaoko/v1/tonhong/nanuea/report/somchai", R"({"id":"r-3","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}});
    auto got = f.pub.On("kaoko/v1/tonhong/nanuea/receipt/somchai");
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].find("reports for village 'kaoko'") != std::string::npos);
  }
  SECTION("a report naming a station of another village is refused") {
    f.Feed({{topic,
             R"({"id":"r-4","ts":"2026-11-27T04:20:00Z","concern":"watch","station":"pakkhlong-pier","level_cm":3})"}});
    REQUIRE(f.pub.On(receipts).at(0).find("is in village 'pakkhlong'") != std::string::npos);
  }
  SECTION("a stranger gets a receipt that says so") {
    f.Feed({{"kaoko/v1/tonhong/kaoko/report/nobody", R"({"id":"r-5","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}});
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/nobody").at(0).find("not in the network file") !=
            std::string::npos);
  }
}

TEST_CASE("core: a batch the database refuses is neither acked nor receipted", "[core]") {
  Fixture f;
  // Make the readings tables refuse writes the way a full disk does for a whole transaction.
  for (int p = 0; p < store::Store::kRecentParts; ++p) {
    f.db->Exec(
        fmt::format("CREATE TRIGGER refuse_{0:02d} BEFORE INSERT ON readings_recent_{0:02d} "
                    "BEGIN SELECT RAISE(ABORT, 'disk is full'); END",
                    p));
  }
  std::vector<server::Inbound> batch{
      {kBridge, Reading(1, 1)},
      {"kaoko/v1/tonhong/kaoko/report/somchai", R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"watch"})"}};
  REQUIRE_FALSE(f.core->ProcessBatch(batch));
  f.core->FlushAcks();
  REQUIRE(f.pub.sent.empty());
  REQUIRE(f.core->DbProblem());
  REQUIRE(f.metrics.db_errors == 1);
  for (int p = 0; p < store::Store::kRecentParts; ++p) f.db->Exec(fmt::format("DROP TRIGGER refuse_{:02d}", p));
  REQUIRE(f.core->ProcessBatch(batch));
  REQUIRE_FALSE(f.core->DbProblem());
  f.core->FlushAcks();
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack").size() == 1);
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai").size() == 1);
  // The report opened an incident: the committee is told, the village alert moves to watch.
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/alert").size() == 1);
  REQUIRE_FALSE(f.pub.On("kaoko/v1/tonhong/kaoko/notify/prasert").empty());
}

TEST_CASE("core: an alert is committed and published before the rest of its batch is handled", "[core]") {
  Fixture f;
  const std::string alert = "kaoko/v1/tonhong/kaoko/alert";
  std::vector<std::int64_t> stored_when_alerted;  // readings on disk at the moment each alert left
  f.pub.on_publish = [&](const std::string& topic) {
    if (topic == alert) stored_when_alerted.push_back(f.db->CountReadings());
  };
  // Two readings over the bridge's watch (250 cm, persistence 2 readings) raise the village to watch; two more follow
  // in the same batch.
  std::vector<server::Inbound> batch{{kBridge, Reading(1, 260, "2026-11-27T04:10:00Z")},
                                     {kBridge, Reading(2, 262, "2026-11-27T04:11:00Z")},
                                     {kBridge, Reading(3, 263, "2026-11-27T04:12:00Z")},
                                     {kBridge, Reading(4, 264, "2026-11-27T04:13:00Z")}};
  SECTION("the readings after the alert are committed after it, and nothing is lost or doubled") {
    REQUIRE(f.core->ProcessBatch(batch));
    REQUIRE(stored_when_alerted == std::vector<std::int64_t>{2});
    REQUIRE(f.db->CountReadings() == 4);
    REQUIRE(f.metrics.readings_accepted == 4);
    f.core->FlushAcks();
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") ==
            std::vector<std::string>{R"({"stored":[[1,4]]})"});
  }
  SECTION("a later part the database refuses is all that is left to retry: the committed part is not handled twice") {
    f.db->Exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const std::string report = "kaoko/v1/tonhong/kaoko/report/somchai";
    batch.resize(2);
    batch.push_back({report, R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"watch"})"});
    batch.push_back({kBridge, Reading(3, 263, "2026-11-27T04:12:00Z")});
    REQUIRE_FALSE(f.core->ProcessBatch(batch));
    REQUIRE(stored_when_alerted == std::vector<std::int64_t>{2});  // the first part committed and was announced
    REQUIRE(f.metrics.db_errors == 1);
    REQUIRE(batch.size() == 2);  // the report and the reading after it
    REQUIRE(batch[0].topic == report);
    REQUIRE(f.db->CountReadings() == 2);
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai").empty());
    f.db->Exec("DROP TRIGGER refuse");
    REQUIRE(f.core->ProcessBatch(batch));
    REQUIRE(f.db->CountReadings() == 3);
    REQUIRE(f.metrics.readings_accepted == 3);
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai").size() == 1);
    REQUIRE(f.pub.On(alert).size() == 1);  // the report joined the open incident: the village stays at watch
    f.core->FlushAcks();
    REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") ==
            std::vector<std::string>{R"({"stored":[[1,3]]})"});
  }
  SECTION("a command given with the batch runs once, in its first part, and is answered once that part commits") {
    f.db->Exec(
        "CREATE TRIGGER refuse BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    batch.push_back(
        {"kaoko/v1/tonhong/kaoko/report/somchai", R"({"id":"r-2","ts":"2026-11-27T04:20:00Z","concern":"watch"})"});
    int runs = 0;
    std::int64_t stored_when_run = -1;
    std::vector<server::Core::PendingCommand> commands(1);
    commands[0].run = [&](wire::TimePoint) {
      ++runs;
      stored_when_run = f.db->CountReadings();
      return server::CommandResult{};
    };
    commands[0].done = std::make_shared<std::promise<server::CommandResult>>();
    auto answer = commands[0].done->get_future();
    // The first part (the command, readings 1 and 2, the alert) commits; the second (readings 3, 4 and the report)
    // is refused by the database: the command was part of what committed, so its answer is "done", given once.
    REQUIRE_FALSE(f.core->ProcessBatch(batch, &commands));
    REQUIRE(runs == 1);
    REQUIRE(stored_when_run == 0);
    REQUIRE(answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    REQUIRE_FALSE(answer.get().error);
    REQUIRE(stored_when_alerted == std::vector<std::int64_t>{2});
    REQUIRE(batch.size() == 3);
    REQUIRE(f.db->CountReadings() == 2);
  }
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
  o.clock = kaoko::Clock::Fake(*wire::ParseTime("2026-11-27T05:00:00Z"));
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
  // The village's state and the remembered messages are rows of their own; engine_meta keeps only the counters.
  std::vector<std::string> village_rows, seen_rows;
  f.db->ForEachEngineVillage([&](std::string_view t) { village_rows.emplace_back(t); });
  f.db->ForEachEngineSeen([&](std::string_view t) { seen_rows.emplace_back(t); });
  REQUIRE(village_rows.size() == 1);
  REQUIRE(village_rows[0].find(R"("village":"kaoko")") != std::string::npos);
  REQUIRE(seen_rows.size() == 3);  // r-1, d-1 and d-2
  REQUIRE(f.db->EngineMeta()->find(R"("village")") == std::string::npos);
  // The same report again after the restart: a duplicate, answered with its first receipt, no second incident.
  std::vector<server::Inbound> repeat{
      {"kaoko/v1/tonhong/kaoko/report/somchai",
       R"({"id":"r-1","ts":"2026-11-27T04:59:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})"}};
  REQUIRE(again.ProcessBatch(repeat));
  REQUIRE(pub2.On("kaoko/v1/tonhong/kaoko/receipt/somchai").back().find(R"("incident":1)") != std::string::npos);
  REQUIRE_FALSE(f.db->Incident(2));
}

TEST_CASE("core: a decision over HTTP and one over MQTT take one path: decided once, answered alike", "[core]") {
  Fixture f;
  f.Feed({{"kaoko/v1/tonhong/kaoko/report/somchai",
           R"({"id":"r-1","ts":"2026-11-27T04:59:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})"}});
  const std::string ack = R"({"id":"d-2","ts":"2026-11-27T05:00:00Z","incident":1,"action":"ack"})";
  server::CommandResult first, repeat, missing;
  {
    std::jthread core_thread([&](std::stop_token st) { f.core->Run(st); });
    first = f.core->Decide("prasert", *wire::ParseDecision(ack));
    repeat = f.core->Decide("prasert", *wire::ParseDecision(ack));
    missing = f.core->Decide(
        "prasert", *wire::ParseDecision(R"({"id":"d-3","ts":"2026-11-27T05:00:00Z","incident":99,"action":"ack"})"));
  }
  REQUIRE(first.receipt);
  CHECK(first.receipt->ok);
  CHECK(first.receipt->village == "kaoko");
  CHECK(first.receipt->incident == std::optional<std::int64_t>(1));
  // The engine's receipt of an HTTP decision also goes to the person's phone.
  REQUIRE_FALSE(f.pub.On("kaoko/v1/tonhong/kaoko/receipt/prasert").empty());
  REQUIRE(repeat.receipt);
  CHECK(repeat.receipt->ok == first.receipt->ok);
  CHECK(repeat.receipt->incident == first.receipt->incident);
  REQUIRE(missing.receipt);
  CHECK_FALSE(missing.receipt->ok);
  CHECK(missing.receipt->error == "incident 99 does not exist");
  CHECK(f.metrics.Get("kaoko_decisions_total", "accepted") == 1);
  CHECK(f.db->Incident(1)->stage == "awaiting_confirmation");
  const auto stored = f.db->Timeline(1).size();

  // The same decision over MQTT: a repeat of the one decided over HTTP, answered as it was, not decided again.
  f.Feed({{"kaoko/v1/tonhong/kaoko/decision/prasert", ack}});
  const std::string answer = f.pub.On("kaoko/v1/tonhong/kaoko/receipt/prasert").back();
  CHECK(answer.find(R"("ok":true)") != std::string::npos);
  CHECK(answer.find("d-2") != std::string::npos);
  CHECK(f.metrics.Get("kaoko_decisions_total", "duplicate") == 1);
  CHECK(f.metrics.Get("kaoko_decisions_total", "accepted") == 1);
  CHECK(f.db->Timeline(1).size() == stored);
}

TEST_CASE("core: a watch from upstream carries the upstream level and arrival, and refuses a reject while it comes",
          "[core]") {
  Fixture f;
  f.Feed({{"kaoko/v1/tonhong/kaoko/report/somchai",
           R"({"id":"r-1","ts":"2026-11-27T04:59:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})"}});
  f.Feed({{"kaoko/v1/tonhong/kaoko/decision/boonmee",
           R"({"id":"d-1","ts":"2026-11-27T05:00:00Z","incident":1,"action":"confirm"})"}});
  auto alerts = f.pub.On("kaoko/v1/tonhong/thonhong/alert");
  REQUIRE_FALSE(alerts.empty());
  const auto alert = nlohmann::json::parse(alerts.back());
  INFO(alert.dump());
  REQUIRE(alert.contains("upstream"));
  CHECK(alert["upstream"]["village"] == "kaoko");
  CHECK(alert["upstream"]["level"] == "warning");
  CHECK(alert["upstream"]["name_th"] == "บ้านเก้ากอ");
  const auto arrival = wire::ParseTime(alert["upstream"]["expected_arrival"].get<std::string>());
  REQUIRE(arrival);
  CHECK(*arrival > *wire::ParseTime("2026-11-27T05:00:00Z"));
  const std::int64_t id = alert["incident"].get<std::int64_t>();

  f.Feed({{"kaoko/v1/tonhong/thonhong/decision/kittisak",
           fmt::format(R"({{"id":"d-2","ts":"2026-11-27T05:01:00Z","incident":{},"action":"reject"}})", id)}});
  const auto refused = nlohmann::json::parse(f.pub.On("kaoko/v1/tonhong/thonhong/receipt/kittisak").back());
  INFO(refused.dump());
  CHECK(refused["ok"] == false);
  CHECK(refused["error"].get<std::string>().find("still coming") != std::string::npos);
  CHECK(f.db->Incident(id)->stage == "reported");

  // A restart keeps it: the village's state is saved with its upstream.
  f.core.reset();
  Recorder pub2;
  server::CoreOptions o;
  o.clock = kaoko::Clock::Fake(*wire::ParseTime("2026-11-27T05:02:00Z"));
  server::Core again(f.net, *f.db, pub2, f.metrics, o);
  bool found = false;
  for (const auto& v : again.Villages()) {
    if (v.village != "thonhong") continue;
    found = true;
    CHECK(v.upstream_village == "kaoko");
    CHECK(v.upstream_level == alerting::Level::kWarning);
    REQUIRE(v.expected_arrival.has_value());
    CHECK(*v.expected_arrival == *arrival);
  }
  CHECK(found);
}

TEST_CASE("core: an older database's whole engine_meta is read, and moved to rows at the first save", "[core]") {
  Fixture f;
  f.core.reset();
  // As kaoko before schema 7 left it: every village's alert state and the remembered messages in engine_meta.
  f.db->Begin();
  f.db->SaveEngineMeta(
      R"({"v":1,"next_incident":8,"next_notification":3,)"
      R"("alerts":[{"village":"kaoko","level":"warning","incident":7,"status":"awaiting_confirmation"}],)"
      R"("sirens":[{"village":"kaoko","on":true,"level":"warning","incident":7}],)"
      R"("seen":[{"key":"report/somchai/r-9","user":"somchai","village":"kaoko","ref":"r-9","ok":true,"incident":7}]})");
  f.db->Commit();
  Recorder pub2;
  server::CoreOptions o;
  o.clock = kaoko::Clock::Fake(*wire::ParseTime("2026-11-27T05:00:00Z"));
  server::Core again(f.net, *f.db, pub2, f.metrics, o);
  bool found = false;
  for (const auto& v : again.Villages()) {
    if (v.village == "kaoko") {
      found = true;
      REQUIRE(v.incident == std::optional<std::int64_t>(7));
    }
  }
  REQUIRE(found);
  // Anything the engine decides saves it: the old document is moved to rows, and engine_meta keeps the counters.
  std::vector<server::Inbound> batch{
      {"kaoko/v1/tonhong/kaoko/report/somchai",
       R"({"id":"r-10","ts":"2026-11-27T04:59:00Z","concern":"warning","station":"kaoko-bridge","level_cm":330})"}};
  REQUIRE(again.ProcessBatch(batch));
  std::vector<std::string> village_rows, seen_rows;
  f.db->ForEachEngineVillage([&](std::string_view t) { village_rows.emplace_back(t); });
  f.db->ForEachEngineSeen([&](std::string_view t) { seen_rows.emplace_back(t); });
  REQUIRE(village_rows.size() == 1);
  REQUIRE(village_rows[0].find(R"("incident":7)") != std::string::npos);
  REQUIRE(seen_rows.size() == 2);  // r-9 from the old document, then r-10
  REQUIRE(seen_rows[0].find("r-9") != std::string::npos);
  const std::string meta = *f.db->EngineMeta();
  REQUIRE(meta.find(R"("village")") == std::string::npos);
  REQUIRE(f.db->Incident(8));  // numbered on from the old document's counter
  REQUIRE(meta.find(R"("next_incident":9)") != std::string::npos);
}

namespace {
// One station's readings ten minutes apart, fed one batch each with kaoko's clock a minute behind the newest, through
// a core that may be replaced (a restart) between any two of them.
struct Timeline {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kaoko-core-rebuild-" + std::to_string(std::random_device{}()));
  alerting::Network net = *config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  std::unique_ptr<store::Store> db;
  Recorder pub;
  server::Metrics metrics;
  server::CoreOptions options;
  kaoko::Clock clock = kaoko::Clock::Fake(*wire::ParseTime("2026-11-27T00:00:00Z"));
  std::unique_ptr<server::Core> core;
  explicit Timeline(alerting::EngineOptions engine) {
    std::filesystem::create_directories(dir);
    db = std::move(*store::Store::Open((dir / "k.db").string()));
    options.clock = clock;
    options.engine = engine;
    core = std::make_unique<server::Core>(net, *db, pub, metrics, options);
  }
  ~Timeline() {
    core.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
  // Whether the readings stored so far are merged into the archive just before a restart (else they are all still
  // in the recent tables, which a start leaves alone below merge_rows): the replay reads both.
  bool merge_before_restart = false;
  void Restart() {
    if (merge_before_restart) core->MergeRecent(/*force=*/true);
    core.reset();
    core = std::make_unique<server::Core>(net, *db, pub, metrics, options);
  }
  void Feed(int k, double level, double rain) {
    const wire::TimePoint ts = *wire::ParseTime("2026-11-27T00:00:00Z") + std::chrono::minutes(10 * k);
    clock.Set(ts + std::chrono::minutes(1));
    std::vector<server::Inbound> batch{
        {kBridge, fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{},"rain_mm":{},"battery_v":3.9}})", 100 + k,
                              wire::FormatTime(ts), level, rain)}};
    REQUIRE(core->ProcessBatch(batch));
  }
  const alerting::StationTrack& Track() const { return *core->engine().FindStationTrack("kaoko-bridge"); }
};

// A river rising 4 cm per ten minutes (24 cm/h, under the 30 cm/h fast-rise rule) with 10 mm of rain each time, then
// faster. Only the readings from before `restart_at` can make the later ones a fast rise or heavy rain, so a restart
// that forgot them would raise nothing (or raise it later).
void RunRiver(Timeline& t, int restart_at) {
  for (int k = 0; k < 12; ++k) {
    if (k == restart_at) t.Restart();
    const double level = k < 8 ? 200.0 + 4 * k : 228.0 + 9 * (k - 7);
    t.Feed(k, level, k % 6 == 5 ? 0.0 : 10.0);
  }
}
}  // namespace

TEST_CASE("core: a restart rebuilds the fast-rise ring, the rain and the counters from the stored readings", "[core]") {
  for (std::uint32_t save_every : {1000u, 3u, 32u}) {
    // save_every 1000: nothing but the decisive changes is saved, so the restart replays most of the history.
    alerting::EngineOptions engine;
    engine.save_every_readings = save_every;
    engine.save_every = std::chrono::hours(24 * 365);
    Timeline straight(engine);
    RunRiver(straight, -1);
    const auto& a = straight.Track();
    REQUIRE(a.fast_rise);  // the scenario does what it says
    REQUIRE(a.rain_watch);
    for (int restart_at = 1; restart_at < 24; ++restart_at) {
      const bool merged = restart_at >= 12;  // the second round: the readings in the archive, not the recent tables
      INFO("save_every " << save_every << ", restart before reading " << restart_at % 12 << (merged ? ", merged" : ""));
      Timeline restarted(engine);
      restarted.merge_before_restart = merged;
      RunRiver(restarted, restart_at % 12);
      const auto& b = restarted.Track();
      CHECK(b.level == a.level);
      CHECK(b.threshold_level == a.threshold_level);
      CHECK(b.triggered_level == a.triggered_level);
      CHECK(b.fast_rise == a.fast_rise);
      CHECK(b.rain_watch == a.rain_watch);
      CHECK(b.rise_cm_per_hour == a.rise_cm_per_hour);
      CHECK(b.rain_1h_mm == a.rain_1h_mm);
      CHECK(b.rain_24h_mm == a.rain_24h_mm);
      CHECK(b.rain_bucket == a.rain_bucket);
      CHECK(b.rain_mm == a.rain_mm);
      REQUIRE(b.recent.size() == a.recent.size());
      for (std::size_t i = 0; i < a.recent.size(); ++i) {
        CHECK(b.recent[i].ts == a.recent[i].ts);
        CHECK(b.recent[i].level_cm == a.recent[i].level_cm);
      }
      for (int i = 0; i < 3; ++i) {
        CHECK(b.over_count[i] == a.over_count[i]);
        CHECK(b.over_since[i] == a.over_since[i]);
      }
      CHECK(b.latest_seq == a.latest_seq);
      CHECK(b.max_seq == a.max_seq);
      CHECK(b.accepted_cm == a.accepted_cm);
      CHECK(b.same_count == a.same_count);
      CHECK(b.good_run == a.good_run);
      CHECK(b.problems == a.problems);
      // The village heard the same alerts, in the same order.
      CHECK(restarted.pub.On("kaoko/v1/tonhong/kaoko/alert") == straight.pub.On("kaoko/v1/tonhong/kaoko/alert"));
    }
  }
}

TEST_CASE("core: a batch rolled back after the engine saw it is decided once when it comes again", "[core]") {
  Fixture f;
  // The disk fills up at the end of the batch: readings and the report are written, the engine has decided on them,
  // and the timeline is what fails (COMMIT failing with SQLITE_FULL does the same).
  f.db->Exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON timeline BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  const std::string report = "kaoko/v1/tonhong/kaoko/report/somchai";
  std::vector<server::Inbound> batch{{kBridge, Reading(1, 260)},  // the bridge's first reading ever: a new station key
                                     {report, R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","concern":"warning"})"}};
  // Retried while the disk stays full (the station sends its reading again, the report waits in the queue).
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto again = batch;
    REQUIRE_FALSE(f.core->ProcessBatch(again));
  }
  f.core->FlushAcks();
  REQUIRE(f.pub.sent.empty());
  REQUIRE(f.metrics.db_errors == 3);
  f.db->Exec("DROP TRIGGER refuse");
  REQUIRE(f.core->ProcessBatch(batch));
  f.core->FlushAcks();
  // One receipt, for the incident the report opened — the first, as if nothing had failed.
  auto receipts = f.pub.On("kaoko/v1/tonhong/kaoko/receipt/somchai");
  REQUIRE(receipts.size() == 1);
  REQUIRE(receipts[0].find(R"("incident":1)") != std::string::npos);
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/alert").size() == 1);
  auto timeline = f.db->Timeline(1);
  REQUIRE(std::count_if(timeline.begin(), timeline.end(), [](const auto& e) { return e.kind == "receipt"; }) == 1);
  REQUIRE(std::count_if(timeline.begin(), timeline.end(), [](const auto& e) { return e.kind == "trigger"; }) == 1);
  // The reading is stored under its station (whose row the rolled-back batches had created and lost) and acked.
  REQUIRE(f.pub.On("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack") ==
          std::vector<std::string>{R"({"stored":[[1,1]]})"});
  REQUIRE(f.db->Readings("kaoko-bridge", *wire::ParseTime("2026-11-27T00:00:00Z"),
                         *wire::ParseTime("2026-11-28T00:00:00Z"), 10)
              .size() == 1);
  store::testing::Query orphans(*f.db, "SELECT COUNT(*) FROM readings WHERE station NOT IN (SELECT id FROM stations)");
  REQUIRE(orphans.Step());
  REQUIRE(orphans.Int(0) == 0);
  REQUIRE(f.metrics.readings_accepted == 1);
}

TEST_CASE(
    "core: recent readings move into the archive past merge_rows, a restart replays them unmerged, and a repeat "
    "stays a duplicate",
    "[core]") {
  Fixture f(/*merge_rows=*/4);
  f.Feed({{kBridge, Reading(1, 250, "2026-11-27T04:10:00Z")},
          {kBridge, Reading(2, 251, "2026-11-27T04:20:00Z")},
          {kBridge, Reading(3, 252, "2026-11-27T04:30:00Z")}});
  f.core->MergeRecent();
  REQUIRE(f.db->RecentReadings() == 3);  // below merge_rows: left alone
  f.Feed({{kBridge, Reading(4, 253, "2026-11-27T04:40:00Z")}, {kBridge, Reading(2, 251, "2026-11-27T04:20:00Z")}});
  f.core->MergeRecent();
  REQUIRE(f.db->RecentReadings() == 0);
  REQUIRE(f.db->CountReadings() == 4);
  REQUIRE(f.metrics.Render().find("kaoko_readings_merged_total{what=\"readings\"} 4") != std::string::npos);
  f.Feed({{kBridge, Reading(3, 252, "2026-11-27T04:30:00Z")}, {kBridge, Reading(5, 254, "2026-11-27T04:50:00Z")}});
  REQUIRE(f.metrics.readings_duplicate == 2);
  REQUIRE(f.db->RecentReadings() == 1);
  // A restart (kill -9 before a merge: the reading is only in readings_recent) leaves it there, below merge_rows, as
  // in operation; the engine replays it all the same, and the dashboard shows it as the station's newest.
  f.core.reset();
  f.core = std::make_unique<server::Core>(f.net, *f.db, f.pub, f.metrics, f.options);
  REQUIRE(f.db->RecentReadings() == 1);
  REQUIRE(f.db->CountReadings() == 5);
  const auto* track = f.core->engine().FindStationTrack("kaoko-bridge");
  REQUIRE(track);
  REQUIRE(track->max_seq == 5);
  for (const auto& v : f.core->Stations()) {
    if (v.station->id == "kaoko-bridge") {
      REQUIRE(v.latest);
      REQUIRE(v.latest->seq == 5);
    }
  }
  f.Feed({{kBridge, Reading(5, 254, "2026-11-27T04:50:00Z")}});
  REQUIRE(f.metrics.readings_duplicate == 3);
  REQUIRE(f.db->CountReadings() == 5);
  // Past merge_rows the next merge takes them as usual.
  f.Feed({{kBridge, Reading(6, 255, "2026-11-27T04:52:00Z")},
          {kBridge, Reading(7, 256, "2026-11-27T04:54:00Z")},
          {kBridge, Reading(8, 257, "2026-11-27T04:56:00Z")}});
  f.core->MergeRecent();
  REQUIRE(f.db->RecentReadings() == 0);
  REQUIRE(f.db->CountReadings() == 8);
}

TEST_CASE("core: a merge the database refuses leaves the readings readable and ingest going, and waits to try again",
          "[core]") {
  Fixture f(/*merge_rows=*/2);
  f.Feed({{kBridge, Reading(1, 250, "2026-11-27T04:10:00Z")}, {kBridge, Reading(2, 251, "2026-11-27T04:20:00Z")}});
  // The archive refuses what a full disk would.
  f.db->Exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON readings_archive "
      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  auto failed = [&] {
    const std::string m = f.metrics.Render();
    const std::string key = "kaoko_readings_merged_total{what=\"failed\"} ";
    const auto at = m.find(key);
    return at == std::string::npos ? 0 : std::stoi(m.substr(at + key.size()));
  };
  f.core->MergeRecent();  // never throws
  REQUIRE(failed() == 1);
  REQUIRE(f.db->RecentReadings() == 2);
  REQUIRE(f.db->CountReadings() == 2);
  REQUIRE(f.db->Readings("kaoko-bridge", *wire::ParseTime("2026-11-27T00:00:00Z"),
                         *wire::ParseTime("2026-11-28T00:00:00Z"), 10)
              .size() == 2);
  // Ingest goes on, duplicates are still found, and the next batch does not try again at once (ten seconds).
  f.Feed({{kBridge, Reading(3, 252, "2026-11-27T04:30:00Z")}, {kBridge, Reading(2, 251, "2026-11-27T04:20:00Z")}});
  REQUIRE(f.metrics.readings_accepted == 3);
  REQUIRE(f.metrics.readings_duplicate == 1);
  f.core->MergeRecent();
  REQUIRE(failed() == 1);
  f.db->Exec("DROP TRIGGER refuse");
  f.core->MergeRecent(/*force=*/true);  // forced (tests, tools): not held back by the failure
  REQUIRE(f.db->RecentReadings() == 0);
  REQUIRE(f.db->CountReadings() == 3);
  REQUIRE(failed() == 1);
}

TEST_CASE("core: a restart with a station gone from the network file keeps every other station's key and readings",
          "[core]") {
  Fixture f;
  const std::string temple = "kaoko/v1/tonhong/kaoko/station/kaoko-temple/reading";
  f.Feed({{kBridge, Reading(1, 250)}, {temple, Reading(1, 120)}});
  const std::int64_t bridge_key = f.db->KnownStationKey("kaoko-bridge");
  REQUIRE(bridge_key > 0);
  REQUIRE(f.db->KnownStationKey("kaoko-temple") > 0);
  // The temple is taken out of the network file; the database still has its key and its reading.
  f.core.reset();
  auto gone = std::find_if(f.net.stations.begin(), f.net.stations.end(),
                           [](const alerting::Station& s) { return s.id == "kaoko-temple"; });
  REQUIRE(gone != f.net.stations.end());
  f.net.stations.erase(gone);
  f.net.BuildIndex();
  f.core = std::make_unique<server::Core>(f.net, *f.db, f.pub, f.metrics, f.options);
  // The bridge found its key again at start: a repeat is a duplicate, a new reading goes under the same key.
  f.Feed({{kBridge, Reading(1, 250)}, {kBridge, Reading(2, 251, "2026-11-27T04:25:00Z")}});
  REQUIRE(f.metrics.readings_duplicate == 1);
  REQUIRE(f.db->KnownStationKey("kaoko-bridge") == bridge_key);
  REQUIRE(f.db->CountStations() == 2);
  REQUIRE(f.db->CountReadings() == 3);  // the temple's reading stays, under its key
  // The temple is refused now, as any station the network does not have.
  f.Feed({{temple, Reading(2, 121)}});
  REQUIRE(f.db->CountReadings() == 3);
  // The station now in the temple's place along the list reads for the first time: under a key of its own.
  f.Feed({{"kaoko/v1/tonhong/thonhong/station/thonhong-bridge/reading", Reading(1, 90)}});
  const auto day = [&](const std::string& station) {
    return f.db
        ->Readings(station, *wire::ParseTime("2026-11-27T00:00:00Z"), *wire::ParseTime("2026-11-28T00:00:00Z"), 10)
        .size();
  };
  REQUIRE(day("thonhong-bridge") == 1);
  REQUIRE(day("kaoko-bridge") == 2);
  REQUIRE(day("kaoko-temple") == 1);
  REQUIRE(f.db->KnownStationKey("thonhong-bridge") != bridge_key);
}

TEST_CASE(
    "core: a siren change is announced to the village's towers, answers are taken or refused by reason, and what "
    "is awaited survives a restart",
    "[core][towers]") {
  Fixture f;
  const std::string announce = "kaoko/v1/tonhong/kaoko/announce";
  f.Feed(
      {{"kaoko/v1/tonhong/kaoko/report/somchai", R"({"id":"r-1","ts":"2026-11-27T04:59:00Z","concern":"warning"})"}});
  REQUIRE(f.pub.On(announce).empty());  // no siren yet
  f.Feed({{"kaoko/v1/tonhong/kaoko/decision/officer-niran",
           R"({"id":"d-1","ts":"2026-11-27T05:00:00Z","incident":1,"action":"declare","level":"critical"})"}});
  // Published after the commit, retained, with the siren.
  REQUIRE(f.pub.On(announce).size() == 1);
  const auto a = wire::ParseAnnouncement(f.pub.On(announce)[0]);
  REQUIRE(a.ok());
  CHECK(a->id == "a-1");
  CHECK(a->play == alerting::Play::kEvacuate);
  for (auto& [t, p, retained] : f.pub.sent) {
    if (t == announce) CHECK(retained);
  }

  // Refused, each by its reason, without a receipt and without touching the incident.
  const auto before = f.db->Timeline(1).size();
  f.Feed({{"kaoko/v1/tonhong/kaoko/device/tower-ghost/sounded",
           R"({"announce":"a-1","ts":"2026-11-27T05:00:05Z","ok":true})"},
          {"kaoko/v1/tonhong/kaoko/device/tower-thonhong/sounded",
           R"({"announce":"a-1","ts":"2026-11-27T05:00:05Z","ok":true})"},
          {"kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded", "played"},
          {"kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded",
           R"({"announce":"a-99","ts":"2026-11-27T05:00:05Z","ok":true})"}});
  CHECK(f.metrics.Get("kaoko_messages_rejected_total", "unknown_device") == 1);
  CHECK(f.metrics.Get("kaoko_messages_rejected_total", "wrong_village") == 1);
  CHECK(f.metrics.Get("kaoko_messages_rejected_total", "bad_json") == 1);
  CHECK(f.metrics.Get("kaoko_messages_rejected_total", "unknown_announce") == 1);
  CHECK(f.db->Timeline(1).size() == before);
  for (auto& [t, p, r] : f.pub.sent) CHECK(t.find("/receipt/tower") == std::string::npos);

  // A restart: the tower's deadline (05:01:00) is still awaited, and at it the TAO is told.
  f.core.reset();
  f.options.clock.Set(*wire::ParseTime("2026-11-27T05:01:01Z"));
  Recorder pub2;
  server::Core again(f.net, *f.db, pub2, f.metrics, f.options);
  std::vector<server::Inbound> tick{{"kaoko/v1/tonhong/kaoko/station/kaoko-bridge/status", R"({"state":"online"})"}};
  REQUIRE(again.ProcessBatch(tick));
  bool silent = false;
  for (const auto& e : f.db->Timeline(1)) {
    silent = silent || (e.kind == "tower" && e.actor == "tower-kaoko" &&
                        e.text_en.find("the tower in Ban Kao Ko did not answer within 60 s") != std::string::npos);
  }
  CHECK(silent);
  REQUIRE_FALSE(pub2.On("kaoko/v1/tonhong/kaoko/notify/officer-pim").empty());
  CHECK(pub2.On("kaoko/v1/tonhong/kaoko/notify/officer-pim").back().find("did not answer within 60 s") !=
        std::string::npos);
}
