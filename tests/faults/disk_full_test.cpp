// Fault 3: the disk under kaoko's database fills up during a flood, and is freed again.
// The database lives on a small tmpfs of its own (mounted by the test; it needs root, as CI has, and FAILS with a clear
// message rather than skipping when it may not mount). The test fills the tmpfs to the last byte with a file while
// kaoko-sim's stations are streaming, then deletes the file:
//  - /healthz says 503 with the database's reason ("database or disk is full") while it is full;
//  - no ack and no receipt for anything that is not on disk: every acked (station, seq) is in the file at every check;
//    the stations keep what was not acked and send it again;
//  - a station that sends its FIRST reading while the disk is full is stored under its own name once there is room
//    (its row in `stations` was rolled back with the failed batch);
//  - a watcher's report sent while the disk is full gets exactly one receipt once it is stored;
//  - PRAGMA integrity_check is ok while full and after;
//  - once there is room again, ingest resumes by itself and every reading produced is stored exactly once.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "fault_support.hpp"

using namespace kaoko::testing;
using namespace kaoko::faults;
using namespace std::chrono_literals;
namespace flood = kaoko::flood;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kMinute = 60'000;

const std::string kScenario =
    flood::ScenarioToml("disk-full", "a rise while kaoko's disk fills up (tests/faults)", 3, 41, 0.1,
                        flood::RainToml("[0, 18], [0.5, 28], [3, 24]", "[0, 4], [1, 10], [3, 6]"));

// The network file without one station: the simulator runs the others, the test itself plays the missing one (so that
// its first reading ever arrives while the disk is full).
std::string WithoutStation(std::string network, const std::string& id) {
  auto at = network.find(fmt::format("[[stations]]\nid = \"{}\"", id));
  if (at == std::string::npos) throw std::runtime_error("station " + id + " not in the network file");
  auto end = network.find("\n[[", at + 1);
  auto comment = network.find("\n# ", at + 1);
  if (comment < end) end = comment;
  network.erase(at, end == std::string::npos ? std::string::npos : end + 1 - at);
  return network;
}

std::string ReadingJson(std::uint64_t seq, std::int64_t ts_ms, double level) {
  return json{{"seq", seq}, {"ts", flood::Rfc3339(ts_ms)}, {"level_cm", level}, {"battery_v", 3.9}}.dump();
}

}  // namespace

TEST_CASE(
    "faults: the database's disk fills up mid-flood: 503 with the reason, no ack for what is not stored, "
    "integrity ok, ingest resumes by itself and stores everything once",
    "[faults][integration]") {
  Broker broker;
  TempDir dir;
  // 16 MiB: room for the schema, the write-ahead log and a few minutes of a flood; the filler takes the rest.
  Tmpfs fs(dir.path() + "/dbfs", 16u << 20);
  // kaoko.db is a symbolic link into the tmpfs: SQLite follows it (its -wal and -shm files go next to the real file),
  // while the service's log (<db>.log, written by ServiceProcess) stays outside, on a disk that is not full.
  const std::string db = dir.path() + "/kaoko.db";
  std::filesystem::create_symlink(fs.dir() + "/kaoko.db", db);
  const std::string scenario = dir.path() + "/disk-full.toml";
  const std::string network = dir.path() + "/sim-network.toml";
  const std::string produced = dir.path() + "/produced.log";
  WriteText(scenario, kScenario);
  std::ifstream tonhong(TonHong());
  WriteText(network, WithoutStation(std::string(std::istreambuf_iterator<char>(tonhong), {}), "pakkhlong-pier"));

  const double scale = 600;
  const std::string start = flood::StartTime(3s);
  const std::int64_t origin = flood::Ms(start);
  auto sim_now = [&] { return RehearsalNowMs(origin, scale); };
  ServiceProcess kaoko(broker, db, {"--time-scale", "600", "--time-origin", start});
  REQUIRE(std::filesystem::exists(fs.dir() + "/kaoko.db-wal"));  // SQLite followed the link
  AckRecorder acks(broker);
  const std::string receipts = "kaoko/v1/tonhong/kaoko/receipt/somchai";
  MqttClient somchai(broker.url(), "somchai", broker.Password("somchai"));
  somchai.Subscribe(receipts);
  const std::string pier_reading = "kaoko/v1/tonhong/pakkhlong/station/pakkhlong-pier/reading";
  MqttClient pier(broker.url(), "pakkhlong-pier", broker.Password("pakkhlong-pier"));
  pier.Subscribe("kaoko/v1/tonhong/pakkhlong/station/pakkhlong-pier/ack");
  SimSpec spec;
  spec.network = network;
  spec.scenario = scenario;
  spec.broker_url = broker.url();
  spec.state_dir = dir.path() + "/sim-state";
  spec.produced_log = produced;
  spec.speed = "600";
  spec.start = start;
  spec.extra = {"--password-pattern", "demo-{id}", "--no-watchers", "--no-responders"};
  Process sim(SimArgs(spec), dir.path() + "/kaoko-sim.log");
  INFO("kaoko-sim log (end):\n"
       << Tail(sim.log_path(), 30) << "\nkaoko-server log (end):\n"
       << Tail(kaoko.log_path(), 30));

  auto require_acked_stored = [&](const char* when) {
    const auto acked = acks.Acked();
    const auto missing = Missing(acked, Db(db).StoredKeys());
    INFO(when << ": " << acked.size() << " acked; acked but not stored: " << (missing.empty() ? "" : missing[0]));
    REQUIRE(missing.empty());
  };

  // ---- Streaming normally.
  REQUIRE(WaitFor([&] { return Db(db).Readings() >= 30; }, 30s));
  require_acked_stored("before the disk filled");

  // ---- The disk fills up.
  DiskFiller filler(fs.dir() + "/filler");
  const std::uint64_t filled = filler.Fill();
  REQUIRE(fs.FreeBytes() < 4096);
  const auto full_wall = std::chrono::steady_clock::now();
  const std::int64_t full_at = sim_now();
  // A watcher's report and the pier's first readings ever arrive while nothing can be written.
  somchai.Publish("kaoko/v1/tonhong/kaoko/report/somchai",
                  json{{"id", "r-full"}, {"ts", flood::Rfc3339(full_at - kMinute)}, {"concern", "watch"}}.dump());
  for (std::uint64_t s = 1; s <= 5; ++s)
    pier.Publish(pier_reading, ReadingJson(s, full_at - (6 - s) * kMinute, 100 + s));

  json health;
  REQUIRE(WaitFor(
      [&] {
        auto r = kaoko.Get("/healthz");
        if (r.status != 503) return false;
        health = json::parse(r.body);
        return true;
      },
      20s));
  INFO("/healthz: " << health.dump());
  REQUIRE(health["ok"] == false);
  REQUIRE(health["database"].get<std::string>().find("full") != std::string::npos);
  REQUIRE(health["broker"] == "ok");
  const auto detected = std::chrono::steady_clock::now() - full_wall;

  // Keep it full for half a simulated hour (3 s real) of fast-mode readings: the stations buffer them.
  const std::int64_t rows_when_full = Db(db).Readings();
  REQUIRE(WaitFor([&] { return sim_now() > full_at + 30 * kMinute; }, 30s));
  require_acked_stored("while the disk is full");
  {
    Db view(db);
    REQUIRE(view.IntegrityCheck() == "ok");
    REQUIRE(view.Readings() == rows_when_full);  // nothing could be written …
  }
  REQUIRE(somchai.Received(receipts).empty());  // … so nothing was receipted
  REQUIRE(pier.Received().empty());             // … nor acked
  REQUIRE(kaoko.Get("/healthz").status == 503);
  REQUIRE(Metric(kaoko, "kaoko_db_errors_total") >= 1);

  // ---- Room again: nobody restarts anything.
  filler.Free();
  const auto freed_wall = std::chrono::steady_clock::now();
  REQUIRE(WaitFor([&] { return kaoko.Get("/healthz").status == 200; }, 30s));
  const auto recovered = std::chrono::steady_clock::now() - freed_wall;
  // The pier resends what was not acked, as a station does, until every reading is acked.
  auto pier_acked = [&] {
    std::set<std::uint64_t> out;
    for (const auto& m : pier.Received()) {
      const json ack = json::parse(m.payload);  // (a range-for over a member of a temporary would dangle)
      for (const auto& r : ack.at("stored")) {
        for (auto s = r.at(0).get<std::uint64_t>(); s <= r.at(1).get<std::uint64_t>(); ++s) out.insert(s);
      }
    }
    return out;
  };
  auto pier_state = [&] {
    Db view(db);
    std::string m = kaoko.Get("/metrics").body;
    return fmt::format(
               "the pier: {} ack messages, connected {}; in the database: {} rows under its name, {} orphan rows, "
               "{} stations, {} refused; metrics: accepted {}, duplicate {}, db errors {}, queue {}",
               pier.Received().size(), pier.connected(),
               view.Int("SELECT COUNT(*) FROM readings r JOIN stations s ON s.id = r.station "
                        "WHERE s.name = 'pakkhlong-pier'"),
               view.Orphans(), view.Int("SELECT COUNT(*) FROM stations"),
               view.Int("SELECT COUNT(*) FROM refused_readings"), Metric(m, "kaoko_readings_accepted_total"),
               Metric(m, "kaoko_readings_duplicate_total"), Metric(m, "kaoko_db_errors_total"),
               Metric(m, "kaoko_ingest_queue_depth")) +
           [&] {
             std::string acks;
             for (const auto& a : pier.Received()) acks += " " + a.topic + " " + a.payload;
             return fmt::format("; acked {} seqs; acks:", pier_acked().size()) + acks;
           }();
  };
  const bool pier_done = WaitFor(
      [&] {
        auto got = pier_acked();
        if (got.size() == 5) return true;
        for (std::uint64_t s = 1; s <= 5; ++s) {
          if (!got.count(s)) pier.Publish(pier_reading, ReadingJson(s, full_at - (6 - s) * kMinute, 100 + s));
        }
        return WaitFor([&] { return pier_acked().size() == 5; }, 1500ms);
      },
      30s);
  if (!pier_done) FAIL(pier_state());
  // The watcher's report got exactly one receipt. A second report after it is a fence: receipts to one person are
  // published in order on one connection, so any repeat of the first would have arrived before the second's.
  somchai.Publish("kaoko/v1/tonhong/kaoko/report/somchai",
                  json{{"id", "r-after"}, {"ts", flood::Rfc3339(sim_now() - kMinute)}, {"concern", "watch"}}.dump());
  REQUIRE(WaitFor(
      [&] {
        for (const auto& m : somchai.Received(receipts)) {
          if (json::parse(m.payload)["ref"] == "r-after") return true;
        }
        return false;
      },
      20s));
  std::map<std::string, int> receipt_count;
  for (const auto& m : somchai.Received(receipts)) {
    auto j = json::parse(m.payload);
    INFO(m.payload);
    REQUIRE(j["ok"] == true);
    ++receipt_count[j["ref"].get<std::string>()];
  }
  INFO("receipts per report: " << fmt::format("{}", receipt_count));
  REQUIRE(receipt_count == std::map<std::string, int>{{"r-after", 1}, {"r-full", 1}});

  // ---- The simulator's stations drain everything they kept.
  const int rc = sim.Wait();
  const std::string log = sim.Log();
  REQUIRE(rc == 0);
  REQUIRE(log.ends_with("buffered: 0\n"));
  require_acked_stored("at the end");
  const Ledger ledger = CompareExactlyOnce(produced, db, {"pakkhlong-pier"});
  INFO(ledger.Summary());
  REQUIRE(ledger.problems.empty());
  Db view(db);
  REQUIRE(view.IntegrityCheck() == "ok");
  REQUIRE(view.Orphans() == 0);
  // The pier's readings are found under its name (the HTTP API reads them the same way).
  auto res = kaoko.Get(fmt::format("/api/v1/stations/pakkhlong-pier/readings?since={}&until={}",
                                   flood::Rfc3339(full_at - 60 * kMinute), flood::Rfc3339(sim_now())));
  REQUIRE(res.status == 200);
  REQUIRE(json::parse(res.body).size() == 5);
  REQUIRE(kaoko.Get("/healthz").status == 200);
  WARN(fmt::format(
      "disk full: filled {} KiB; 503 after {:.2f} s; healthy again {:.2f} s after the space was freed; "
      "{} db errors; {}",
      filled / 1024, std::chrono::duration<double>(detected).count(), std::chrono::duration<double>(recovered).count(),
      Metric(kaoko, "kaoko_db_errors_total"), ledger.Summary()));
}
