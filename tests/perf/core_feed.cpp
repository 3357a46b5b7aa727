// kaoko-core-feed: kaoko's own CPU per stored reading and bytes on disk per reading, without MQTT.
//
//   build-perf/tests/perf/kaoko-core-feed --network FILE [--readings N] [--batch B] [--stations S] [--db FILE]
//                                         [--keep] [--restart] [--history H]
//
// Feeds N readings (round-robin over the first S stations of the network file, ten minutes apart in each station's
// own time, payloads as firmware-sim writes them) straight into server::Core::ProcessBatch in batches of B, against
// a real SQLite file (WAL, synchronous=FULL, as the service runs it). This is everything the core thread does for a
// reading — parse, validate, insert, evaluate, persist the engine's state, commit — minus Paho's receive thread.
// Deterministic, so that `valgrind --tool=callgrind` instruction counts compare runs on a busy machine.
// Prints CPU (getrusage, this process) per reading, and bytes per stored reading (page_count * page_size / rows,
// after a checkpoint). --restart then opens the file again and a second Core on it (what kaoko-server does when it
// starts) and prints how long that took. --history H first writes H older readings (H / S per station, ten minutes
// apart before the fed ones, straight into the tables with SQL, as fast as SQLite goes) so that the restart is
// measured over a large database: the "start-up time with 100 million stored readings" is
//   kaoko-core-feed --network F --stations 1500 --history 100000000 --readings 150000 --restart
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/store/query.hpp"

using namespace kaoko;

namespace {

struct NullPublisher : server::Publisher {
  std::uint64_t sent = 0;
  void Publish(const std::string&, const std::string&, bool) override { ++sent; }
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string network_path;
  std::string db_path;
  std::uint64_t readings = 100000;
  std::size_t batch = 500;
  std::size_t stations = 0;
  bool keep = false;
  bool restart = false;
  std::uint64_t history = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--network")
      network_path = next();
    else if (a == "--db")
      db_path = next();
    else if (a == "--readings")
      readings = std::stoull(next());
    else if (a == "--batch")
      batch = std::stoul(next());
    else if (a == "--stations")
      stations = std::stoul(next());
    else if (a == "--keep")
      keep = true;
    else if (a == "--restart")
      restart = true;
    else if (a == "--history")
      history = std::stoull(next());
    else {
      fmt::print(
          "usage: kaoko-core-feed --network FILE [--readings N] [--batch B] [--stations S] [--db FILE] [--keep] "
          "[--restart] [--history H]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (network_path.empty()) {
    fmt::print(stderr, "kaoko-core-feed: --network is required\n");
    return 2;
  }
  auto net = config::LoadNetwork(network_path);
  if (!net) {
    fmt::print(stderr, "kaoko-core-feed: {}\n", net.error().reason);
    return 1;
  }
  if (stations == 0 || stations > net->stations.size()) stations = net->stations.size();
  if (db_path.empty()) {
    db_path = (std::filesystem::temp_directory_path() / fmt::format("kaoko-core-feed-{}.db", getpid())).string();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);

  // Readings ten minutes apart per station, from a fixed start; kaoko's clock follows the newest reading.
  const wire::TimePoint start = *wire::ParseTime("2026-11-27T00:00:00Z");
  const std::uint64_t rounds = (readings + stations - 1) / stations;
  const std::uint64_t per_station = history / stations;  // older readings per station, seq 1 … per_station
  const std::uint64_t seq_base = 1000 + per_station;
  const kaoko::Clock clock = kaoko::Clock::Fake(start + std::chrono::minutes(10) * static_cast<std::int64_t>(rounds) +
                                                std::chrono::minutes(1));
  std::vector<std::string> topics;
  topics.reserve(stations);
  for (std::size_t s = 0; s < stations; ++s) {
    const auto& st = net->stations[s];
    topics.push_back(fmt::format("kaoko/v1/{}/{}/station/{}/reading", net->tambon, st.village, st.id));
  }
  std::vector<std::vector<server::Inbound>> batches;
  batches.reserve(readings / batch + 1);
  for (std::uint64_t i = 0; i < readings; ++i) {
    if (i % batch == 0) {
      batches.emplace_back();
      batches.back().reserve(batch);
    }
    const std::size_t s = i % stations;
    const std::uint64_t k = i / stations;
    const wire::TimePoint ts = start + std::chrono::minutes(10) * static_cast<std::int64_t>(k) +
                               std::chrono::seconds(static_cast<std::int64_t>(s % 600));
    // A slow tide between 70 and 130 cm (under every watch threshold of gen-network.sh) with a little noise; rain
    // now and then; a battery that wanders.
    const std::uint64_t phase = (k + s) % 60;  // up 1 cm per reading for 30 readings, then down: 6 cm/h, no fast rise
    const double level = 70.0 + static_cast<double>(s % 30) + static_cast<double>(phase < 30 ? phase : 60 - phase) +
                         static_cast<double>(k % 3) * 0.1;
    const double rain = (k + s) % 9 == 0 ? 0.2 * static_cast<double>((k + s) % 5) : 0.0;
    const double battery = 3.80 + static_cast<double>((k + s) % 13) * 0.01;
    batches.back().push_back(
        server::Inbound{topics[s],
                        fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{:.1f},"rain_mm":{:.1f},"battery_v":{:.2f}}})",
                                    seq_base + k, wire::FormatTime(ts), level, rain, battery),
                        std::chrono::steady_clock::now()});
  }

  server::Metrics metrics;
  NullPublisher publisher;
  server::CoreOptions options;
  options.clock = clock;
  double cpu_setup = 0, cpu_feed = 0;
  {
    auto db = store::Store::Open(db_path);
    if (!db) {
      fmt::print(stderr, "kaoko-core-feed: {}\n", db.error().reason);
      return 1;
    }
    if (per_station > 0) {
      // The history: stations rows as the store writes them, then per station its readings in key order: the same
      // tide as the fed readings below, continued backwards (k < 0), ten minutes apart, in the compact form of
      // migration 6 (tenths, hundredths), and its reading_days. (Station s gets key s + 1: keys count from 1.)
      const auto w0 = std::chrono::steady_clock::now();
      const std::int64_t start_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count();
      const auto h = static_cast<std::int64_t>(per_station);
      store::testing::Query station(**db, "INSERT INTO stations (name) VALUES (?) RETURNING id");
      store::testing::Query fill(**db, R"sql(
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
        INSERT INTO readings_archive (station, seq, ts, lv, rn, bt)
          SELECT ?1, i, ?3 + k * 600000 + ((?1 - 1) % 600) * 1000,
                 700 + ((?1 - 1) % 30) * 10 + (CASE WHEN ph < 30 THEN ph ELSE 60 - ph END) * 10 + ((k % 3) + 3) % 3,
                 (m % 9 = 0) * 2 * (m % 5), 380 + m % 13
          FROM (SELECT i, i - ?2 - 1 AS k, (((i - ?2 - 1 + ?1 - 1) % 60) + 60) % 60 AS ph,
                       (((i - ?2 - 1 + ?1 - 1) % 585) + 585) % 585 AS m FROM n))sql");
      store::testing::Query days(**db, R"sql(
        INSERT INTO reading_days (station, day, lo, hi)
          SELECT station, ts / 86400000, MIN(seq), MAX(seq) FROM readings WHERE station = ?1 GROUP BY ts / 86400000)sql");
      store::testing::Query open_day(**db, R"sql(
        UPDATE reading_days SET hi = NULL
          WHERE station = ?1 AND day = (SELECT MAX(day) FROM reading_days WHERE station = ?1))sql");
      (*db)->Exec("PRAGMA synchronous = OFF");  // the history only; the fed readings below commit as kaoko does
      for (std::size_t s = 0; s < stations; ++s) {
        (*db)->Begin();
        station.Bind(1, net->stations[s].id);
        station.Step();
        const std::int64_t key = station.Int(0);
        station.Run();
        fill.Bind(1, key).Bind(2, h).Bind(3, start_ms).Run();
        days.Bind(1, key).Run();
        open_day.Bind(1, key).Run();
        (*db)->Commit();
      }
      (*db)->Exec("PRAGMA synchronous = FULL");
      (*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      fmt::print("history: {} readings ({} per station) written in {:.1f} s\n", per_station * stations, per_station,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    }
    const double c0 = CpuSeconds();
    server::Core core(*net, **db, publisher, metrics, options);
    const double c1 = CpuSeconds();
    for (auto& b : batches) {
      if (!core.ProcessBatch(b)) {
        fmt::print(stderr, "kaoko-core-feed: a batch failed: {}\n", core.DbProblem().value_or("?"));
        return 1;
      }
    }
    core.FlushAcks();
    const double c2 = CpuSeconds();
    cpu_setup = c1 - c0;
    cpu_feed = c2 - c1;
  }
  auto db = store::Store::Open(db_path);
  (*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  store::testing::Query pages(**db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
  pages.Step();
  const double bytes = static_cast<double>(pages.Int(0));
  const std::int64_t rows = (*db)->CountReadings();
  fmt::print("readings fed {}  stored {}  batches of {}  stations {}\n", readings, metrics.readings_accepted.load(),
             batch, stations);
  fmt::print("core set-up CPU {:.3f} s; feeding CPU {:.3f} s = {:.2f} µs per reading\n", cpu_setup, cpu_feed,
             cpu_feed * 1e6 / static_cast<double>(readings));
  fmt::print("database {:.1f} MB = {:.1f} bytes per stored reading (whole file, every table and index)\n", bytes / 1e6,
             rows ? bytes / static_cast<double>(rows) : 0.0);
  if (restart) {
    db->reset();
    const double c0 = CpuSeconds();
    const auto w0 = std::chrono::steady_clock::now();
    db = store::Store::Open(db_path);
    if (!db) {
      fmt::print(stderr, "kaoko-core-feed: {}\n", db.error().reason);
      return 1;
    }
    server::Core again(*net, **db, publisher, metrics, options);
    const double c1 = CpuSeconds();
    fmt::print("restart: opening the file and a new Core on it ({} readings stored) took {:.3f} s CPU, {:.3f} s wall\n",
               rows, c1 - c0, std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
  }
  db->reset();
  if (!keep) {
    for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(db_path + suffix);
  }
  return 0;
}
