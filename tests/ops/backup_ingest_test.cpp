// Operations end to end: `kaoko-admin backup` on the live database while a station streams thousands of
// readings through the real broker to the real service; retention folding old readings while the service runs and
// the readings API answering from the hourly rows. Checked from the outside: MQTT acks, HTTP, the files.
#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kaoko/store/query.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {
const std::string kBridgeReading = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading";
const std::string kBridgeAck = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack";

std::string Reading(std::uint64_t seq) {
  // Minutes before 2026-11-27T00:00Z, in the past of any test run and within the 400 raw days of any run this year.
  auto ms = 1'795'737'600'000 - static_cast<std::int64_t>(seq) * 1000;
  auto ts = kaoko::wire::TimePoint(std::chrono::milliseconds(ms));
  return fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{},"rain_mm":0.2,"battery_v":3.9}})", seq,
                     kaoko::wire::FormatTime(ts), 120);
}

std::set<std::uint64_t> Acked(const MqttClient& station, const std::string& topic) {
  std::set<std::uint64_t> out;
  for (const auto& m : station.Received(topic)) {
    auto j = json::parse(m.payload);
    for (const auto& r : j.at("stored")) {
      for (auto s = r.at(0).get<std::uint64_t>(); s <= r.at(1).get<std::uint64_t>(); ++s) out.insert(s);
    }
  }
  return out;
}

// `count` readings of `station`, one a minute from `from`, written straight into the file before the service starts.
void History(const std::string& db, const std::string& station, kaoko::wire::TimePoint from, int count) {
  auto s = kaoko::store::Store::Open(db, {.synchronous_full = false});
  REQUIRE(s.ok());
  (*s)->Begin();
  for (int i = 0; i < count; ++i) {
    (*s)->InsertReading(
        station, {{}, static_cast<std::uint64_t>(i + 1), from + std::chrono::minutes(i), 150.0 + (i % 60), 0.2, 3.8});
  }
  (*s)->Commit();
}

std::string Slurp(const std::string& db, const char* sql) {
  kaoko::store::testing::Query s(db, sql);
  std::string out;
  while (s.Step()) out += s.Text(0);
  return out;
}
}  // namespace

TEST_CASE("ops: a backup taken during heavy ingest passes integrity_check and holds every reading acked before it",
          "[integration]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  // Some months of another station already in the file: the copy takes many steps while the service commits.
  History(db, "kaoko-temple", *kaoko::wire::ParseTime("2025-11-01T00:00:00Z"), 400'000);
  // Retention off: whatever day this runs, the history stays raw and whole.
  ServiceProcess kaoko(broker, db, {"--raw-days", "0"});
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> published{0};
  std::thread stream([&] {
    // Heavy: up to 500 publishes in flight (Paho's queue takes them; the broker acknowledges as it goes).
    mqtt::delivery_token_ptr last;
    for (std::uint64_t seq = 1; seq <= 100'000 && !stop; ++seq) {
      last = station.paho().publish(kBridgeReading, Reading(seq), 1, false);
      if (seq % 500 == 0) last->wait();
      published = seq;
    }
    if (last) last->wait();
  });
  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).size() >= 2000; }, 20s));
  // Everything acked so far is committed: the backup that starts now must hold it. The copy takes a fraction of a
  // second; on a busy machine the station may sit waiting for its broker acks the whole time, and then nothing was
  // stored during it: such a backup is taken again (up to five times), so that the one checked overlapped ingest.
  std::set<std::uint64_t> acked_before;
  std::uint64_t published_before = 0, published_after = 0;
  std::string out, log;
  int rc = -1;
  for (int attempt = 1; attempt <= 5 && published_after <= published_before; ++attempt) {
    acked_before = Acked(station, kBridgeAck);
    published_before = published;
    out = fmt::format("{}/backup-{}.db", dir.path(), attempt);
    Process admin({AdminTool(), "backup", db, out}, fmt::format("{}/backup-{}.log", dir.path(), attempt));
    rc = admin.Wait();
    published_after = published;
    log = admin.Log();
    if (rc != 0) break;
  }
  stop = true;
  stream.join();
  INFO(log);
  REQUIRE(rc == 0);
  REQUIRE(log.find("integrity_check ok") != std::string::npos);
  INFO("acked before the backup " << acked_before.size() << "; published during it "
                                  << published_after - published_before);
  REQUIRE(published_after > published_before);  // the station kept streaming (and the service storing) meanwhile

  const std::string& copy = out;
  REQUIRE(Slurp(copy, "PRAGMA integrity_check") == "ok");
  std::set<std::uint64_t> in_copy;
  {
    kaoko::store::testing::Query q(copy,
                                   "SELECT r.seq FROM readings r JOIN stations s ON s.id = r.station "
                                   "WHERE s.name = 'kaoko-bridge'");
    while (q.Step()) in_copy.insert(static_cast<std::uint64_t>(q.Int(0)));
    kaoko::store::testing::Query temple(copy,
                                        "SELECT COUNT(*) FROM readings r JOIN stations s ON s.id = r.station "
                                        "WHERE s.name = 'kaoko-temple'");
    REQUIRE(temple.Step());
    REQUIRE(temple.Int(0) == 400'000);
  }
  std::vector<std::uint64_t> missing;
  for (auto seq : acked_before) {
    if (!in_copy.count(seq)) missing.push_back(seq);
  }
  INFO("acked before the backup but not in it: " << missing.size());
  REQUIRE(missing.empty());
  // The service is unharmed: healthy, and what the station sent afterwards is still acked.
  REQUIRE(kaoko.Get("/healthz").status == 200);
  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).count(published_after) == 1; }, 15s));
}

TEST_CASE("ops: retention folds old readings into hourly rows while the service runs, and the API still answers",
          "[integration]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  // Three days of one-a-minute readings from long before the 400 raw days, and one recent day.
  History(db, "kaoko-temple", *kaoko::wire::ParseTime("2024-03-01T00:00:00Z"), 3 * 1440);
  ServiceProcess kaoko(broker, db);
  // The first step runs a few seconds after the start; 4,320 readings fit one step.
  REQUIRE(WaitFor(
      [&] {
        return kaoko.Get("/metrics").body.find("kaoko_retention_rows_total{kind=\"raw_deleted\"} 4320") !=
               std::string::npos;
      },
      20s));
  auto metrics = kaoko.Get("/metrics").body;
  REQUIRE(metrics.find("kaoko_retention_rows_total{kind=\"hourly_written\"} 72") != std::string::npos);
  REQUIRE(metrics.find("kaoko_storage_bytes{what=\"disk_free\"}") != std::string::npos);

  auto res = kaoko.Get("/api/v1/stations/kaoko-temple/readings?since=2024-03-01T00:00:00Z&until=2024-03-04T00:00:00Z");
  REQUIRE(res.status == 200);
  auto rows = json::parse(res.body);
  REQUIRE(rows.size() == 72);
  REQUIRE(rows[0]["ts"] == "2024-03-01T00:00:00Z");
  REQUIRE(rows[0]["hourly"] == true);
  REQUIRE(rows[0]["count"] == 60);
  REQUIRE(rows[0]["level_min_cm"] == 150.0);
  REQUIRE(rows[0]["level_max_cm"] == 209.0);
  REQUIRE(rows[0]["level_cm"] == 179.5);  // the hour's mean
  REQUIRE(rows[0]["rain_mm"].get<double>() == Approx(12.0));
  REQUIRE(rows[71]["ts"] == "2024-03-03T23:00:00Z");
  REQUIRE(kaoko.Log().find("folded 4320 readings older than 400 days into 72 hourly rows") != std::string::npos);
}
