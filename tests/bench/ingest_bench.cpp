// kaoko-bench: the "Speed and scale" table, every figure measured side by side in one run on this machine.
//
//   ./kaoko bench            (the full run, ~15 minutes with the 10-minute hold; records docs/benchmarks.md)
//   ./kaoko bench --quick    (~2 minutes, no hold, prints only)
//   build/tests/bench/kaoko-bench --help
//
// Everything runs on 127.0.0.1: a private Mosquitto with the project's config and ACL; simulated-station publishers
// and a subscriber that only counts, each a process of its own (modes of this executable, bench_clients.cpp); the
// real kaoko-server with a fresh SQLite file and a network of 150,000 stations; and the peer, the same job built with
// Node-RED 4 (nodered_peer.cpp, tests/bench/nodered/). Nothing here asserts a speed: it measures, and prints one
// table (measure | value | reference | ratio | goal | met?) with its method. Exit status: non-zero only when the
// harness itself failed, never for a missed goal.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <mqtt/async_client.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "bench_run.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

namespace kaoko::bench {

using namespace std::chrono_literals;
using testing::Process;
using testing::ServiceProcess;

// ================================================================ the orchestrator

namespace {

// tests/bench/gen-network.sh --stations N [--villages V] > out (villages 0: the script's own, two stations each).
// Returns the command, as the method text names it.
std::string GenerateNetwork(int stations, int villages, const std::string& out) {
  const std::string args = villages > 0 ? fmt::format("--stations {} --villages {}", stations, villages)
                                        : fmt::format("--stations {}", stations);
  const std::string cmd =
      fmt::format("bash '{}/tests/bench/gen-network.sh' {} > '{}'", testing::SourceDir(), args, out);
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  return "tests/bench/gen-network.sh " + args;
}

struct Metrics {
  std::uint64_t accepted = 0, duplicate = 0, rejected = 0, queue = 0;
  // kaoko's own alert latency histogram (a reading's arrival → the alert published): cumulative (le seconds, count).
  std::vector<std::pair<double, std::uint64_t>> alert_buckets;
  bool ok = false;
};

Metrics ReadMetrics(const ServiceProcess& kaoko) {
  Metrics m;
  auto res = kaoko.Get("/metrics");
  if (res.status != 200) return m;
  m.ok = true;
  std::istringstream in(res.body);
  auto value = [](const std::string& line) { return std::stoull(line.substr(line.rfind(' ') + 1)); };
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("kaoko_readings_accepted_total ", 0) == 0)
      m.accepted = value(line);
    else if (line.rfind("kaoko_readings_duplicate_total ", 0) == 0)
      m.duplicate = value(line);
    else if (line.rfind("kaoko_ingest_queue_depth ", 0) == 0)
      m.queue = value(line);
    else if (line.rfind("kaoko_readings_rejected_total{", 0) == 0)
      m.rejected += value(line);
    else if (line.rfind("kaoko_alert_latency_seconds_bucket{le=\"", 0) == 0) {
      const auto from = line.find('"') + 1;
      const std::string le = line.substr(from, line.find('"', from) - from);
      m.alert_buckets.emplace_back(le == "+Inf" ? INFINITY : std::stod(le), value(line));
    }
  }
  return m;
}

// The q-quantile's bucket bound (ms) of the alerts counted between two readings of kaoko's histogram.
std::string InsideQuantile(const Metrics& before, const Metrics& after, double q) {
  if (after.alert_buckets.empty() || after.alert_buckets.size() != before.alert_buckets.size()) return "?";
  const std::uint64_t total = after.alert_buckets.back().second - before.alert_buckets.back().second;
  if (total == 0) return "no alerts";
  for (std::size_t i = 0; i < after.alert_buckets.size(); ++i) {
    const std::uint64_t n = after.alert_buckets[i].second - before.alert_buckets[i].second;
    if (static_cast<double>(n) >= q * static_cast<double>(total)) {
      const double le = after.alert_buckets[i].first;
      return std::isinf(le) ? "> 5 s" : fmt::format("≤ {:g} ms", le * 1000);
    }
  }
  return "?";
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string e = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error(fmt::format("cannot open {}: {}", path, e));
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  std::int64_t Scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db_)));
    }
    std::int64_t v = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(fmt::format("{}: error {}", sql, rc));
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

double Seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string Thousands(double v) {
  auto n = static_cast<long long>(std::llround(v));
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

std::string Ms(double v) { return v < 10 ? fmt::format("{:.2f}", v) : fmt::format("{:.1f}", v); }
std::string SpreadText(const Spread& s) {
  return s.n == 0 ? "no samples" : fmt::format("{} / {} / {} ms", Ms(s.p50), Ms(s.p99), Ms(s.max));
}

// The backlog's trend: least-squares slope (readings per second) of backlog over time.
double Slope(const std::vector<std::pair<double, double>>& pts) {
  if (pts.size() < 3) return 0;
  double n = static_cast<double>(pts.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (auto [x, y] : pts) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double d = n * sxx - sx * sx;
  return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

// A paced run against kaoko: what was offered, what was stored, and whether the backlog grew.
struct PacedRun {
  bool ran = false;
  double target = 0;  // readings/s asked of the publishers
  int seconds = 0;
  std::uint64_t sent = 0;
  double published_rate = 0;  // what the publishers managed
  double stored_rate = 0;     // stored over [go, all stored]
  double cores = 0;           // kaoko's CPU seconds per second over the run
  std::uint64_t max_backlog = 0, max_queue = 0;
  double slope = 0;    // backlog trend, readings/s
  double drain_s = 0;  // from the last publish to the last reading stored
  bool grew = true;
  bool kept_pace = false;  // the publishers managed the target rate (within 1%)
  bool drained = false;    // everything stored within 60 s of the last publish
  std::uint64_t left = 0;  // not stored by then
  double aborted_s = 0;    // when the publishers were stopped early (backlog over a million), 0: not
  std::vector<std::pair<double, double>> samples;
};

struct KaokoResult {
  double start_s = 0, idle_rss = 0, warm_rss = 0, peak_rss = 0;  // warm: after one reading from each station
  double restart_rss = 0, restart_s = 0;  // idle again after a restart on the run's database (0: not measured)
  std::uint64_t warmup = 0;
  double sustained = 0, sustained_s = 0, cpu_us = 0;
  std::uint64_t sustained_n = 0;
  PacedRun rate_run, hold;
  Lat lat[3];
  std::uint64_t expected = 0, rows = 0, duplicates = 0, rejected = 0;
  bool stored_once = false, checked = false;
  std::string stopped;                // why the remaining kaoko runs were skipped (empty: all ran)
  bool from_warmup = false;           // sustained/cpu_us are from a warm-up kaoko could not finish
  std::vector<std::string> restarts;  // runs after which kaoko was started afresh (it was left behind)
  double bytes_per_reading = 0;
  std::uint64_t db_bytes = 0;
};

class Orchestrator {
 public:
  Orchestrator(const Options& o, Runner& r, const std::string& network) : o_(o), r_(r), network_(network) {}

  double ceiling = 0, ceiling_publish = 0, floor_us = 0, publish_us = 0;
  std::uint64_t ceiling_n = 0;
  Spread broker90;
  double broker90_rate = 0;
  Spread broker1k;  // the broker's own latency at 1,000/s
  KaokoResult k;

  void BrokerCeiling() {
    Progress("1/5 broker ceiling: 2 publishers → a subscriber that only counts, {} readings…", Thousands(o_.readings));
    Runner::Children c;
    c.push_back(r_.StartCounter("ceiling"));
    for (auto& p : r_.StartPublishers("ceiling", o_.readings, 0)) c.push_back(std::move(p));
    r_.WaitReady(c, {0, 1, Runner::kCounterSlot});
    Slot& sub = r_.control->slots[Runner::kCounterSlot];
    const pid_t pid = c[0]->pid();
    const double cpu0 = CpuSeconds(pid);
    const double pub0 = CpuSeconds(c[1]->pid()) + CpuSeconds(c[2]->pid());
    const std::int64_t t0 = r_.Go();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120 + o_.readings / 2000);
    while (sub.received < o_.readings && std::chrono::steady_clock::now() < deadline) {
      r_.Check(c);
      std::this_thread::sleep_for(2ms);
    }
    const double cpu1 = CpuSeconds(pid);
    ceiling_n = sub.received;
    if (ceiling_n < o_.readings) {
      throw std::runtime_error(fmt::format("the counting subscriber got {} of {} readings", ceiling_n, o_.readings));
    }
    ceiling = static_cast<double>(ceiling_n) / Seconds(sub.last_ns - t0);
    testing::WaitFor([&] { return r_.PublishersDone(); }, 30s);
    ceiling_publish = static_cast<double>(r_.Acked()) / Seconds(r_.PublishersLastNs() - t0);
    floor_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(ceiling_n);
    // What one QoS 1 publish costs a Paho client (each publisher also formats its readings, so this is an upper
    // bound): kaoko sends an ack for each reading when its stations are many (one reading per station a second).
    publish_us = (CpuSeconds(c[1]->pid()) + CpuSeconds(c[2]->pid()) - pub0) * 1e6 /
                 static_cast<double>(std::max<std::uint64_t>(r_.Acked(), 1));
    r_.Finish(c);
    Progress("   ceiling {}/s, counting subscriber {:.1f} µs CPU per message, publishers {:.1f} µs per message",
             Thousands(ceiling), floor_us, publish_us);
  }

  void Kaoko() {
    Progress("3/5 kaoko-server with {} stations…", Thousands(o_.net.stations + o_.net.probes));
    const std::string db = r_.dir + "/kaoko.db";
    std::unique_ptr<ServiceProcess> kaoko;
    std::uint64_t base = 0;  // readings kaoko's current database should hold
    // A run may take a minute more than 5 times what the broker's ceiling would need.
    auto cap = [&](std::uint64_t n) {
      return std::chrono::seconds(60 + static_cast<long>(5.0 * static_cast<double>(n) / std::max(ceiling, 100.0)));
    };
    // Starts kaoko-server on a fresh database and sends one reading from every station (the warm-up), so that the
    // measured runs see stations that have reported before. False when it could not (k.stopped says why).
    auto start = [&]() -> bool {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
      ::setenv("KAOKO_ALERT_TRACE", (r_.dir + "/alerts.trace").c_str(), 1);  // inherited by kaoko-server
      const auto t_start = std::chrono::steady_clock::now();
      kaoko = std::make_unique<ServiceProcess>(r_.broker, db, std::vector<std::string>{"--network", network_}, false);
      if (!kaoko->WaitHealthy(300s)) {
        k.start_s = 300;
        GiveUp("kaoko-server was not healthy 300 s after it started");
        return false;
      }
      const double start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      if (k.start_s == 0) {
        k.start_s = start_s;
        std::this_thread::sleep_for(2s);
        k.idle_rss = RssMiB(kaoko->pid());
        Progress("   healthy after {:.1f} s, {:.0f} MiB resident", k.start_s, k.idle_rss);
      }
      base = 0;
      const auto n = static_cast<std::uint64_t>(o_.net.stations);
      Progress("   warm-up: one reading from each of the {} stations…", Thousands(static_cast<double>(n)));
      auto c = r_.StartPublishers("warmup", n, 0);
      r_.WaitReady(c, {0, 1});
      const double cpu0 = CpuSeconds(kaoko->pid());
      const std::int64_t t0 = r_.Go();
      auto t1 = WaitStored(*kaoko, c, n, cap(n));
      r_.Finish(c);
      base = n;
      if (t1 && k.warm_rss == 0) {
        k.warm_rss = RssMiB(kaoko->pid());
        Progress("   every station has read once: {:.0f} MiB resident", k.warm_rss);
      }
      if (t1) return true;
      // Too slow to finish even this: its figures are the ones the table shows.
      const double cpu1 = CpuSeconds(kaoko->pid());
      if (k.sustained_n == 0) {
        k.sustained_n = ReadMetrics(*kaoko).accepted;
        k.sustained_s = Seconds(MonotonicNs() - t0);
        k.sustained = static_cast<double>(k.sustained_n) / k.sustained_s;
        k.cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(std::max<std::uint64_t>(k.sustained_n, 1));
        k.from_warmup = true;
      }
      GiveUp(fmt::format("in the warm-up (one reading from each station) kaoko stored {} of {} readings in {:.0f} s",
                         Thousands(static_cast<double>(ReadMetrics(*kaoko).accepted)),
                         Thousands(static_cast<double>(n)), Seconds(MonotonicNs() - t0)));
      return false;
    };
    // After a run that left kaoko behind: a fresh kaoko (the broker forgets its backlog), so the next run is fair.
    auto restart = [&](const std::string& why) -> bool {
      Progress("   {}: starting kaoko afresh for the next run", why);
      k.restarts.push_back(why);
      kaoko->Kill(SIGKILL);
      r_.ClearSession("kaoko-" + o_.net.tambon);
      return start();
    };

    if (!start()) return Stop(kaoko, db, base);

    // The TAO officer's subscription and the probe publisher (bench_run.cpp).
    AlertProbes probes(r_);

    // Sustained: as fast as the two publishers go; kaoko stores at its own pace behind the broker's queue.
    {
      Progress("   sustained ingest: {} readings, 2 publishers…", Thousands(static_cast<double>(o_.readings)));
      auto c = r_.StartPublishers("sustained", o_.readings, 0);
      r_.WaitReady(c, {0, 1});
      const double cpu0 = CpuSeconds(kaoko->pid());
      const std::int64_t t0 = r_.Go();
      auto t1 = WaitStored(*kaoko, c, base + o_.readings, cap(o_.readings));
      const std::int64_t t_end = t1 ? *t1 : MonotonicNs();
      const double cpu1 = CpuSeconds(kaoko->pid());
      k.sustained_n = std::min(ReadMetrics(*kaoko).accepted - base, o_.readings);
      k.sustained_s = Seconds(t_end - t0);
      k.sustained = static_cast<double>(k.sustained_n) / k.sustained_s;
      k.cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(std::max<std::uint64_t>(k.sustained_n, 1));
      r_.Finish(c);
      base += o_.readings;
      Progress("   kaoko stored {}/s, {:.1f} µs CPU per reading", Thousands(k.sustained), k.cpu_us);
      if (!t1 && !restart(fmt::format("the sustained run stopped after {:.0f} s with {} of {} readings stored",
                                      k.sustained_s, Thousands(static_cast<double>(k.sustained_n)),
                                      Thousands(static_cast<double>(o_.readings))))) {
        return Stop(kaoko, db, base);
      }
    }
    // Alert latency at 1,000/s, 50% and 90% of the sustained rate.
    const double rates[3] = {1000, std::floor(0.5 * k.sustained), std::floor(0.9 * k.sustained)};
    for (int i = 0; i < 3; ++i) {
      Progress("   alert latency under {}/s for {} s…", Thousands(rates[i]), o_.latency_seconds);
      const Metrics before = ReadMetrics(*kaoko);
      k.lat[i] = probes.Run(rates[i]);
      const Metrics after = ReadMetrics(*kaoko);
      k.lat[i].inside = fmt::format("{} / {}", InsideQuantile(before, after, 0.5), InsideQuantile(before, after, 0.99));
      k.lat[i].where = WhereTimeWent(k.lat[i].probes, r_.dir + "/alerts.trace");
      Progress("   where the time went (p50 / p90 ms): {}", k.lat[i].where);
      base += k.lat[i].load_sent + 2 * k.lat[i].sent;
      Progress("   p50/p99/max {} ({} probes, {} missing); inside kaoko (arrival → alert published) p50 / p99 {}",
               SpreadText(k.lat[i].s), k.lat[i].sent, k.lat[i].missing, k.lat[i].inside);
      if (!WaitStored(*kaoko, {}, base, 60s) &&
          !restart(fmt::format("kaoko had not stored the latency run at {}/s 60 s after it", Thousands(rates[i])))) {
        return Stop(kaoko, db, base);
      }
    }
    // The target: every station one reading per 10 s, paced, over the whole network.
    if (o_.rate_seconds > 0) {
      Progress("   {}/s over {} stations for {} s…", Thousands(o_.target_rate), Thousands(o_.net.stations),
               o_.rate_seconds);
      k.rate_run = Paced(*kaoko, "rate", o_.target_rate, o_.rate_seconds, 1, base);
      base += k.rate_run.sent;
      if (!k.rate_run.drained &&
          !restart(fmt::format("the {}/s run left {} readings unstored", Thousands(o_.target_rate),
                               Thousands(static_cast<double>(k.rate_run.left))))) {
        return Stop(kaoko, db, base);
      }
    }
    // The hold: 0.8 of the broker's ceiling for --hold seconds, backlog sampled every 10 s.
    if (o_.hold > 0) {
      const double rate = std::floor(0.8 * ceiling);
      Progress("   hold: {}/s (0.8 of the broker's ceiling) for {} s…", Thousands(rate), o_.hold);
      k.hold = Paced(*kaoko, "hold", rate, o_.hold, 10, base);
      base += k.hold.sent;
    }
    probes.Disconnect();

    // Nothing lost, each once: the database holds exactly what was sent to this kaoko.
    k.expected = base;
    k.checked = !k.hold.ran || k.hold.drained;
    if (k.checked) WaitStored(*kaoko, {}, k.expected, 120s);
    Stop(kaoko, db, base);
  }

  // Stops kaoko (SIGTERM: it commits what it received; SIGKILL when it is behind) and reads its database.
  void Stop(std::unique_ptr<ServiceProcess>& kaoko, const std::string& db, std::uint64_t sent) {
    k.expected = sent;
    auto m = ReadMetrics(*kaoko);
    k.duplicates = m.duplicate;
    k.rejected = m.rejected;
    k.peak_rss = RssMiB(kaoko->pid(), "VmHWM:");
    const bool behind = m.accepted < k.expected || !k.stopped.empty();
    kaoko->Kill(behind ? SIGKILL : SIGTERM);
    {
      Db d(db);
      k.rows = static_cast<std::uint64_t>(d.Scalar("SELECT count(*) FROM readings"));
      const auto bytes = d.Scalar("PRAGMA page_count") * d.Scalar("PRAGMA page_size");
      k.db_bytes = static_cast<std::uint64_t>(bytes);
      k.bytes_per_reading = static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(k.rows, 1));
    }
    k.stored_once =
        k.checked && k.stopped.empty() && k.rows == k.expected && m.accepted == k.expected && k.rejected == 0;
    Progress("   {} readings in the database, {} sent to this kaoko", Thousands(static_cast<double>(k.rows)),
             Thousands(static_cast<double>(k.expected)));
    if (!o_.keep.empty()) {  // for a diagnosis by hand (heaptrack, a restart): the database as this run left it
      // With its WAL when kaoko was killed (it was behind): the last commits are there, not yet in the file.
      std::filesystem::create_directories(o_.keep);
      for (const std::string& f : {db, db + "-wal", network_}) {
        const std::string to = o_.keep + "/" + std::filesystem::path(f).filename().string();
        std::filesystem::remove(to);  // a WAL left from an earlier --keep must not be applied to this database
        if (std::filesystem::exists(f)) std::filesystem::copy_file(f, to);
      }
      Progress("   the database and the network copied to {}", o_.keep);
    }
    // Idle again, as a TAO's PC is after a restart: on this database, where every station has read (a new database
    // has none of the stations' keys and stored states; this one has them all, and its readings). Only when kaoko
    // was not behind: the broker then holds nothing for it, and it stays idle.
    if (!behind) {
      const auto t_start = std::chrono::steady_clock::now();
      ServiceProcess again(r_.broker, db, std::vector<std::string>{"--network", network_}, false);
      if (again.WaitHealthy(300s)) {
        k.restart_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        std::this_thread::sleep_for(2s);
        k.restart_rss = RssMiB(again.pid());
        Progress("   restarted on it: healthy after {:.1f} s, {:.0f} MiB resident", k.restart_s, k.restart_rss);
      }
      again.Kill(SIGTERM);
    }
    r_.ClearSession("kaoko-" + o_.net.tambon);
  }

  // Issue 7's "start-up time with 100 million stored readings": kaoko-core-feed writes the history with SQL (as fast
  // as SQLite goes) and feeds 150,000 readings through the core, so that the stations' states are saved as in
  // operation; then kaoko-server is started on that file, with the broker, and timed until /healthz answers ok. The
  // same network on a new database is the reference. The 1,500 stations keep the file near 3 GB: what grows a start
  // is the stations and the readings not yet merged, never the stored history (docs/benchmarks.md).
  struct Startup {
    std::uint64_t stored = 0;
    int stations = 1500;
    double written_s = 0, bytes_per_reading = 0, start_s = 0, new_start_s = 0, rss = 0;
    std::string why_not;  // empty: measured
  } startup;

  // The last step: when it cannot run (too little disk, a failure), the table still prints, saying why.
  void StartupOverHistory(const std::string& dir) {
    if (o_.startup_history == 0) {
      startup.why_not = o_.quick ? "--quick (`--startup-history N` runs it)" : "--startup-history 0";
      return;
    }
    // About 30 bytes a reading, and room for the WAL and the merge.
    const double need = 40.0 * static_cast<double>(o_.startup_history);
    const double free = static_cast<double>(std::filesystem::space(dir).available);
    if (free < need) {
      startup.why_not = fmt::format("{:.1f} GB free in {}, {:.1f} GB needed", free / 1e9, dir, need / 1e9);
      Progress("5/5 start-up over stored readings skipped: {}", startup.why_not);
      return;
    }
    try {
      MeasureStartup(dir);
    } catch (const std::exception& e) {
      startup.why_not = e.what();
      Progress("5/5 start-up over stored readings failed: {}", e.what());
    }
    for (const char* name : {"/startup.db", "/startup.db-wal", "/startup.db-shm"}) {
      std::error_code ec;
      std::filesystem::remove(dir + name, ec);
    }
  }

  void MeasureStartup(const std::string& dir) {
    Progress("5/5 start-up with {} stored readings: writing them (kaoko-core-feed)…",
             Thousands(static_cast<double>(o_.startup_history)));
    const std::string net = dir + "/startup-network.toml";
    GenerateNetwork(startup.stations, startup.stations / 2, net);
    // kaoko-server's persistent session at the broker is named after the network's tambon.
    const auto loaded = config::LoadNetwork(net);
    if (!loaded) throw std::runtime_error("the start-up network does not load: " + loaded.error().reason);
    const std::string session = "kaoko-" + loaded->tambon;
    // The reference: the same network on a new database.
    {
      const std::string fresh = dir + "/startup-new.db";
      const auto t0 = std::chrono::steady_clock::now();
      ServiceProcess kaoko(r_.broker, fresh, {"--network", net}, false);
      if (!kaoko.WaitHealthy(120s)) throw std::runtime_error("kaoko-server on a new database was not healthy in 120 s");
      startup.new_start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      kaoko.Kill(SIGTERM);
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(fresh + suffix);
    }
    r_.ClearSession(session);
    const std::string db = dir + "/startup.db";
    const std::string log = dir + "/startup-feed.log";
    const auto t_feed = std::chrono::steady_clock::now();
    const std::string feed =
        fmt::format("'{}' --network '{}' --stations {} --history {} --readings 150000 --db '{}' --keep > '{}' 2>&1",
                    KAOKO_CORE_FEED_TOOL, net, startup.stations, o_.startup_history, db, log);
    if (std::system(feed.c_str()) != 0) {
      std::ifstream in(log);
      throw std::runtime_error(
          fmt::format("failed: {}\n{}", feed, std::string(std::istreambuf_iterator<char>(in), {})));
    }
    startup.written_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_feed).count();
    {
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);) {
        // "database 2832.0 MB = 28.3 bytes per stored reading (…)"
        const auto eq = line.find(" = ");
        if (line.rfind("database ", 0) == 0 && eq != std::string::npos)
          startup.bytes_per_reading = std::atof(line.c_str() + eq + 3);
        // "history: 99999000 readings (66666 per station) written in 113.5 s"
        if (line.rfind("history: ", 0) == 0) startup.stored += std::strtoull(line.c_str() + 9, nullptr, 10);
        // "readings fed 150000  stored 150000  batches of …"
        const auto at = line.find("  stored ");
        if (line.rfind("readings fed ", 0) == 0 && at != std::string::npos) {
          startup.stored += std::strtoull(line.c_str() + at + 9, nullptr, 10);
        }
      }
    }
    Progress("   {} readings stored ({:.1f} B each on disk) in {:.0f} s; starting kaoko-server on them…",
             Thousands(static_cast<double>(startup.stored)), startup.bytes_per_reading, startup.written_s);
    const auto t0 = std::chrono::steady_clock::now();
    ServiceProcess kaoko(r_.broker, db, {"--network", net}, false);
    if (!kaoko.WaitHealthy(600s)) throw std::runtime_error("kaoko-server over the history was not healthy in 600 s");
    startup.start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::this_thread::sleep_for(2s);
    startup.rss = RssMiB(kaoko.pid());
    Progress("   healthy after {:.2f} s ({:.2f} s on a new database), {:.0f} MiB resident", startup.start_s,
             startup.new_start_s, startup.rss);
    kaoko.Kill(SIGTERM);
    r_.ClearSession(session);
  }

  void BrokerLatency() {
    broker90_rate = std::floor(0.9 * k.sustained);
    Progress("4/5 broker publish → counting subscriber under 1,000/s for {} s…", o_.latency_seconds);
    broker1k = BrokerAt(1000, "broker1k");
    if (broker90_rate < 1) {
      broker90_rate = 0;
      Progress("    and at 90% of kaoko's: not run (no kaoko rate to take 90% of)");
      return;
    }
    Progress("    and under {}/s (90% of kaoko's) for {} s…", Thousands(broker90_rate), o_.latency_seconds);
    broker90 = BrokerAt(broker90_rate, "broker90");
  }

  // The broker alone (kaoko stopped): every reading from the `ts` in it (its publish) to the counting subscriber.
  Spread BrokerAt(double rate, const std::string& tag) {
    const std::string out = r_.dir + "/" + tag + ".latency";
    Runner::Children c;
    c.push_back(r_.StartCounter(tag, out));
    const auto n = static_cast<std::uint64_t>(rate * o_.latency_seconds);
    for (auto& p : r_.StartPublishers(tag, n, rate)) c.push_back(std::move(p));
    r_.WaitReady(c, {0, 1, Runner::kCounterSlot});
    r_.Go();
    WaitFor(
        [&] {
          r_.Check(c);
          return r_.PublishersDone();
        },
        std::chrono::seconds(o_.latency_seconds * 3 + 30));
    Slot& sub = r_.control->slots[Runner::kCounterSlot];
    WaitFor([&] { return sub.received >= r_.Acked(); }, 30s);
    r_.control->stop = 1;
    WaitFor([&] { return sub.done.load() == 1; }, 30s);
    r_.Finish(c);
    std::vector<double> v;
    std::ifstream in(out);
    for (double x; in >> x;) v.push_back(x);
    Spread spread = SpreadOf(v);
    Progress("   p50/p99/max {} ({} messages)", SpreadText(spread), v.size());
    return spread;
  }

 private:
  static bool WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
    return testing::WaitFor(f, timeout);
  }

  void GiveUp(const std::string& why) {
    if (!k.stopped.empty()) return;
    k.stopped = why;
    Progress("   {}: the remaining kaoko runs are skipped", why);
  }

  // Waits until kaoko counts `target` readings stored (polling /metrics every 25 ms) and returns the moment it saw
  // it; nothing when `timeout` passed first.
  std::optional<std::int64_t> WaitStored(const ServiceProcess& kaoko, const Runner::Children& c, std::uint64_t target,
                                         std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      r_.Check(c);
      if (ReadMetrics(kaoko).accepted >= target) return MonotonicNs();
      std::this_thread::sleep_for(25ms);
    }
    return std::nullopt;
  }

  // A paced run: `rate` readings/s for `seconds`, backlog (sent − committed) sampled every `sample_every` s. Stops
  // the publishers early when the backlog passes a million readings (kaoko holds its queue in memory); waits at most
  // 60 s after the last publish for the rest.
  PacedRun Paced(const ServiceProcess& kaoko, const std::string& tag, double rate, int seconds, int sample_every,
                 std::uint64_t base) {
    constexpr double kMaxBacklog = 1'000'000;
    PacedRun p;
    p.ran = true;
    p.target = rate;
    p.seconds = seconds;
    const auto n = static_cast<std::uint64_t>(rate * seconds);
    auto c = r_.StartPublishers(tag, n, rate);
    r_.WaitReady(c, {0, 1});
    const double cpu0 = CpuSeconds(kaoko.pid());
    const std::int64_t t0 = r_.Go();
    for (int i = 1;; ++i) {
      const std::int64_t due = t0 + static_cast<std::int64_t>(i) * sample_every * 1'000'000'000;
      while (MonotonicNs() < due && !r_.PublishersDone()) {
        r_.Check(c);
        std::this_thread::sleep_for(20ms);
      }
      if (r_.PublishersDone()) break;
      const std::uint64_t sent = r_.Sent();
      const auto m = ReadMetrics(kaoko);
      const double backlog = static_cast<double>(sent) - static_cast<double>(m.accepted - base);
      p.samples.emplace_back(Seconds(MonotonicNs() - t0), backlog);
      p.max_backlog = std::max(p.max_backlog, static_cast<std::uint64_t>(std::max(0.0, backlog)));
      p.max_queue = std::max(p.max_queue, m.queue);
      if (sample_every >= 10) {
        Progress("   {:>4.0f} s: backlog {} (kaoko's queue {})", p.samples.back().first, Thousands(backlog), m.queue);
      }
      if (backlog > kMaxBacklog) {
        p.aborted_s = p.samples.back().first;
        Progress("   the backlog passed {} after {:.0f} s: publishers stopped", Thousands(kMaxBacklog), p.aborted_s);
        r_.control->stop = 1;
        WaitFor([&] { return r_.PublishersDone(); }, 30s);
        break;
      }
    }
    const std::int64_t t_pub = r_.PublishersLastNs();
    p.sent = r_.Acked();
    const auto drained = WaitStored(kaoko, c, base + p.sent, 60s);
    const std::int64_t t_end = drained ? *drained : MonotonicNs();
    const double cpu1 = CpuSeconds(kaoko.pid());
    r_.Finish(c);
    const auto stored = ReadMetrics(kaoko).accepted - base;
    p.drained = drained.has_value();
    p.left = p.drained ? 0 : p.sent - std::min(p.sent, stored);
    p.published_rate = static_cast<double>(p.sent) / Seconds(t_pub - t0);
    p.stored_rate = static_cast<double>(std::min(p.sent, stored)) / Seconds(t_end - t0);
    p.cores = (cpu1 - cpu0) / Seconds(t_end - t0);
    p.drain_s = std::max(0.0, Seconds(t_end - t_pub));
    p.slope = Slope(p.samples);
    const double rise = p.slope * seconds;
    p.kept_pace = p.aborted_s == 0 && p.published_rate >= 0.99 * rate;
    // "Grew": the fitted backlog rises by more than 1% of what was sent over the run (kaoko stored less than 99% of
    // the offered rate), or it took more than 2 s after the last publish to store the rest.
    p.grew =
        !p.drained || p.aborted_s > 0 || rise > std::max(5000.0, 0.01 * static_cast<double>(p.sent)) || p.drain_s > 2.0;
    Progress(
        "   sent {}/s, stored {}/s, backlog max {} trend {:+.0f}/s, {}, kaoko {:.2f} cores",
        Thousands(p.published_rate), Thousands(p.stored_rate), Thousands(static_cast<double>(p.max_backlog)), p.slope,
        p.drained
            ? fmt::format("drained {:.2f} s after the last publish", p.drain_s)
            : fmt::format("{} still not stored 60 s after the last publish", Thousands(static_cast<double>(p.left))),
        p.cores);
    return p;
  }

  const Options& o_;
  Runner& r_;
  std::string network_;
};

// ================================================================ the report

struct Row {
  std::string measure, value, reference, ratio, goal, met;
};

std::string YesNo(bool b) { return b ? "**yes**" : "**no**"; }

std::string PacedText(const PacedRun& p) {
  std::string rest = p.aborted_s > 0 ? fmt::format("stopped at {:.0f} s, backlog over a million", p.aborted_s) : "";
  std::string end =
      p.drained ? fmt::format("rest stored {:.1f} s after the last publish", p.drain_s)
                : fmt::format("{} not stored 60 s after the last publish", Thousands(static_cast<double>(p.left)));
  return fmt::format("sent {}/s, stored {}/s; backlog max {}, trend {:+.0f}/s; {}{}{}", Thousands(p.published_rate),
                     Thousands(p.stored_rate), Thousands(static_cast<double>(p.max_backlog)), p.slope, rest,
                     rest.empty() ? "" : "; ", end);
}
std::string Ratio(double v, double ref) { return ref > 0 ? fmt::format("{:.2f}", v / ref) : "—"; }

// A paced run's verdict. When kaoko's backlog did not grow but the publishers fell short of the pace, the goal is not
// met (the load asked for was not offered), and the table says that it was the load, not kaoko.
// `rest`: every other condition of the goal holds.
std::string PaceVerdict(const PacedRun& p, bool rest) {
  const bool met = rest && !p.grew && p.kept_pace;
  if (met || !rest || p.grew || p.aborted_s > 0) return YesNo(met);
  return fmt::format(
      "**no**: the publishers sent only {} of the pace ({}/s of {}/s; they share the machine with the "
      "broker and kaoko); kaoko's backlog did not grow",
      Ratio(p.published_rate, p.target), Thousands(p.published_rate), Thousands(p.target));
}

std::string CommitOf(const std::string& root) {
  // Read .git directly (no git process): HEAD → its ref → the commit.
  auto read = [](const std::string& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
  };
  std::string head = read(root + "/.git/HEAD");
  if (head.rfind("ref: ", 0) == 0) {
    std::string ref = head.substr(5);
    std::string c = read(root + "/.git/" + ref);
    if (c.empty()) {
      std::ifstream packed(root + "/.git/packed-refs");
      for (std::string line; std::getline(packed, line);) {
        if (line.size() > 41 && line.substr(41) == ref) c = line.substr(0, 40);
      }
    }
    head = c;
  }
  return head.size() >= 7 ? head.substr(0, 7) : "unknown";
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  return fmt::format("{:.2f} {:.2f} {:.2f}", a, b, c);
}

std::string Report(const Options& o, const Orchestrator& x, const PeerResult& peer, const std::string& load_before,
                   const std::string& when, double minutes) {
  const KaokoResult& k = x.k;
  const std::string na = "—";
  std::vector<Row> rows;
  const std::string stations = Thousands(o.net.stations);

  rows.push_back({"Broker ceiling: 2 publishers → a subscriber that only counts (separate processes), QoS 1",
                  fmt::format("{}/s", Thousands(x.ceiling)), "30,000/s (issue 7, measured elsewhere)",
                  Ratio(x.ceiling, 30000), "(the reference)", na});
  rows.push_back({"Paho's floor: the counting subscriber's CPU per message", fmt::format("{:.1f} µs", x.floor_us),
                  "15 µs (issue 7, measured elsewhere)", Ratio(x.floor_us, 15), "(the reference)", na});
  rows.push_back({"Paho's cost to publish: the two publishers' CPU per QoS 1 reading sent (formatting included)",
                  fmt::format("{:.1f} µs", x.publish_us), "—", na,
                  "(the reference: kaoko publishes one ack per "
                  "reading when each station reads at most once a second)",
                  na});
  const std::string skipped = "not run: " + k.stopped;
  const bool sustained_ran = k.sustained_n > 0;
  const std::string partial =
      fmt::format("{}/s ({}only {} of {} stored in {:.0f} s)", Thousands(k.sustained), k.from_warmup ? "warm-up; " : "",
                  Thousands(static_cast<double>(k.sustained_n)),
                  Thousands(static_cast<double>(k.from_warmup ? o.net.stations : o.readings)), k.sustained_s);
  rows.push_back({"kaoko sustained ingest, same load (validated, evaluated, committed, acked)",
                  !sustained_ran                                  ? skipped
                  : (k.from_warmup || k.sustained_n < o.readings) ? partial
                                                                  : fmt::format("{}/s", Thousands(k.sustained)),
                  fmt::format("broker ceiling {}/s", Thousands(x.ceiling)),
                  sustained_ran ? Ratio(k.sustained, x.ceiling) : na, "≥ 0.80",
                  sustained_ran ? YesNo(k.sustained >= 0.8 * x.ceiling) : "**no**"});
  if (k.hold.ran) {
    const auto& h = k.hold;
    rows.push_back({fmt::format("… held {} at 0.8 of the ceiling: backlog sampled every 10 s",
                                o.hold % 60 == 0 ? fmt::format("{} min", o.hold / 60) : fmt::format("{} s", o.hold)),
                    PacedText(h), fmt::format("{}/s offered", Thousands(h.target)), Ratio(h.stored_rate, h.target),
                    "no growing backlog", PaceVerdict(h, true)});
  } else {
    rows.push_back({"… held 10 min at 0.8 of the ceiling", o.hold > 0 ? skipped : "not run (--quick, or --hold 0)", na,
                    na, "no growing backlog", o.hold > 0 ? "**no**" : na});
  }
  rows.push_back({"Nothing lost: readings in kaoko's database = readings sent to it",
                  fmt::format("{} of {}; {} redelivered, {} refused{}", Thousands(static_cast<double>(k.rows)),
                              Thousands(static_cast<double>(k.expected)), Thousands(static_cast<double>(k.duplicates)),
                              Thousands(static_cast<double>(k.rejected)),
                              !k.checked           ? " (not checked: kaoko was stopped behind)"
                              : k.restarts.empty() ? ""
                                                   : fmt::format(" (the last kaoko, started afresh after: {})",
                                                                 fmt::join(k.restarts, "; "))),
                  na, na, "every reading stored, once", k.checked ? YesNo(k.stored_once) : na});
  if (!k.rate_run.ran && o.rate_seconds > 0) {
    rows.push_back({fmt::format("{}/s over {} stations (each one reading per {:.3g} s)", Thousands(o.target_rate),
                                stations, o.net.stations / o.target_rate),
                    skipped, fmt::format("{}/s", Thousands(o.target_rate)), na, "held; headroom ≥ 1.25", "**no**"});
  }
  if (k.rate_run.ran) {
    const auto& p = k.rate_run;
    const double headroom = k.sustained / o.target_rate;
    rows.push_back({fmt::format("{}/s over {} stations (each one reading per {:.3g} s), {} s", Thousands(o.target_rate),
                                stations, o.net.stations / o.target_rate, p.seconds),
                    fmt::format("{}; kaoko used {:.2f} cores", PacedText(p), p.cores),
                    fmt::format("{}/s", Thousands(o.target_rate)),
                    fmt::format("headroom {:.2f} (sustained ÷ {})", headroom, Thousands(o.target_rate)),
                    "held; headroom ≥ 1.25", PaceVerdict(p, headroom >= 1.25)});
  }
  const bool peer_ok = peer.ran;
  rows.push_back(
      {"kaoko CPU per stored reading (/proc/<pid>/stat, over the sustained run)",
       sustained_ran ? fmt::format("{:.1f} µs{}", k.cpu_us, k.from_warmup ? " (over the warm-up)" : "") : skipped,
       peer_ok ? fmt::format("Node-RED {:.1f} µs per message", peer.cpu_us) : "Node-RED: not run",
       peer_ok && sustained_ran ? Ratio(k.cpu_us, peer.cpu_us) : na, "≤ 0.50",
       !peer_ok        ? na
       : sustained_ran ? YesNo(k.cpu_us <= 0.5 * peer.cpu_us)
                       : "**no**"});
  rows.push_back({"kaoko CPU per stored reading above Paho's floor",
                  sustained_ran ? fmt::format("{:+.1f} µs", k.cpu_us - x.floor_us) : skipped,
                  fmt::format("floor {:.1f} µs", x.floor_us), sustained_ran ? Ratio(k.cpu_us, x.floor_us) : na,
                  "≤ +5 µs", sustained_ran ? YesNo(k.cpu_us - x.floor_us <= 5) : "**no**"});
  const char* names[3] = {"1,000 readings/s", "50% of sustained", "90% of sustained"};
  for (int i = 0; i < 3; ++i) {
    const Lat& l = k.lat[i];
    Row r{l.sent == 0
              ? fmt::format("Alert latency at {}: p50 / p99 / max", names[i])
              : fmt::format("Alert latency at {} ({}/s): p50 / p99 / max, {} probes{}", names[i], Thousands(l.rate),
                            l.sent, l.missing ? fmt::format(", {} NO ALERT", l.missing) : ""),
          l.sent == 0
              ? skipped
              : fmt::format("{} (inside kaoko, arrival → alert published: p50 / p99 {})", SpreadText(l.s), l.inside),
          na,
          na,
          na,
          na};
    if (i == 0) {
      r.reference =
          peer_ok ? fmt::format("Node-RED p99 to store a row {} ms", Ms(peer.store_ms.p99)) : "Node-RED: not run";
      r.ratio = peer_ok && l.sent > 0 ? Ratio(l.s.p99, peer.store_ms.p99) : na;
      r.goal = "p99 ≤ Node-RED's";
      r.met = !peer_ok ? na : l.sent == 0 ? "**no**" : YesNo(l.missing == 0 && l.s.p99 <= peer.store_ms.p99);
    } else if (i == 2) {
      r.reference =
          x.broker90.n ? fmt::format("broker's own p99 {} ms", Ms(x.broker90.p99)) : "broker's own p99: not run";
      r.ratio = l.sent > 0 && x.broker90.n ? fmt::format("{:+.1f} ms", l.s.p99 - x.broker90.p99) : na;
      r.goal = "p99 ≤ broker's + 20 ms";
      r.met = l.sent == 0 ? "**no**" : YesNo(l.missing == 0 && l.s.p99 <= x.broker90.p99 + 20);
    }
    rows.push_back(r);
    if (l.sent > 0) {
      rows.push_back({fmt::format("… where the time went at {} (p50 / p90, ms)", Thousands(l.rate)), l.where, na, na,
                      "(the profile)", na});
    }
  }
  rows.push_back({"Broker's own latency at 1,000/s: publish → counting subscriber, p50 / p99 / max",
                  x.broker1k.n ? SpreadText(x.broker1k) : "not run", na, na, "(the reference)", na});
  rows.push_back({fmt::format("Broker's own latency at 90% ({}/s): publish → counting subscriber, p50 / p99 / max",
                              Thousands(x.broker90_rate)),
                  x.broker90_rate > 0 ? SpreadText(x.broker90) : "not run: no kaoko rate to take 90% of", na, na,
                  "(the reference)", na});
  if (peer_ok) {
    rows.push_back(
        {"Node-RED 4 peer: rows stored per second, same load", fmt::format("{}/s", Thousands(peer.rows_per_s)),
         fmt::format("broker ceiling {}/s", Thousands(x.ceiling)), Ratio(peer.rows_per_s, x.ceiling),
         sustained_ran ? fmt::format("(peer; kaoko ÷ peer = {:.2f})", k.sustained / peer.rows_per_s) : "(peer)", na});
    if (peer.full_rows > 0) {
      rows.push_back(
          {"Node-RED 4 peer with `synchronous=FULL` (every row on disk before the next, as kaoko's commits)",
           fmt::format("{}/s, {:.0f} µs CPU per message", Thousands(peer.full_rows_per_s), peer.full_cpu_us),
           sustained_ran ? fmt::format("kaoko {}/s (`synchronous=FULL`)", Thousands(k.sustained)) : "kaoko: not run",
           sustained_ran ? Ratio(peer.full_rows_per_s, k.sustained) : na, "(peer)", na});
    }
    rows.push_back({"Node-RED 4 peer: CPU per message (node process, all threads)",
                    fmt::format("{:.1f} µs", peer.cpu_us), "40 µs (issue 7, measured elsewhere)",
                    Ratio(peer.cpu_us, 40), "(peer)", na});
    rows.push_back(
        {fmt::format("Node-RED 4 peer: publish → row stored at 1,000/s, p50 / p99 / max, {} probes", peer.store_ms.n),
         SpreadText(peer.store_ms), "0.25 / 1.4–2 ms p50 / p99 (issue 7, elsewhere)", Ratio(peer.store_ms.p99, 1.7),
         "(peer)", na});
  } else {
    rows.push_back({"Node-RED 4 peer", "not run: " + peer.why_not, na, na, na, na});
  }
  // The goal is in MB (10^6 bytes), VmRSS in KiB; judged on each idle figure, on a new database and restarted.
  const double idle_mb = k.idle_rss * 1.048576, restart_mb = k.restart_rss * 1.048576;
  const std::string memory_met = k.restart_rss <= 0 || (idle_mb < 100) == (restart_mb < 100)
                                     ? YesNo(idle_mb < 100 && (k.restart_rss <= 0 || restart_mb < 100))
                                     : fmt::format("{} on a new database, {} after a restart ({:.0f} MB)",
                                                   YesNo(idle_mb < 100), YesNo(restart_mb < 100), restart_mb);
  const std::string restarted =
      k.restart_rss > 0 ? fmt::format("{:.0f} MiB, healthy {:.1f} s after start", k.restart_rss, k.restart_s)
                        : std::string("not measured (kaoko was behind)");
  rows.push_back({fmt::format("kaoko-server resident memory, {} stations configured: idle / after one reading from "
                              "each / idle after a restart on the run's database / peak (loading the network file)",
                              stations),
                  fmt::format("{:.0f} / {:.0f} / {} / {:.0f} MiB (idle {:.0f} MB on a new database; healthy "
                              "{:.1f} s after the first start)",
                              k.idle_rss, k.warm_rss, restarted, k.peak_rss, idle_mb, k.start_s),
                  peer_ok ? fmt::format("Node-RED idle {:.0f} MiB (same stations loaded)", peer.idle_rss_mib)
                          : "Node-RED: not run",
                  peer_ok ? Ratio(k.idle_rss, peer.idle_rss_mib) : na, "idle < 100 MB", memory_met});
  rows.push_back({"Bytes on disk per stored reading (page_count × page_size ÷ rows)",
                  fmt::format("{:.0f} B ({} rows)", k.bytes_per_reading, Thousands(static_cast<double>(k.rows))),
                  peer_ok ? fmt::format("Node-RED {:.0f} B per row", peer.bytes_per_row) : "Node-RED: not run",
                  peer_ok ? Ratio(k.bytes_per_reading, peer.bytes_per_row) : na, na, na});
  const auto& su = x.startup;
  if (su.why_not.empty()) {
    rows.push_back({fmt::format("Start-up with {} stored readings ({} stations): kaoko-server started → `/healthz` ok",
                                Thousands(static_cast<double>(su.stored)), Thousands(su.stations)),
                    fmt::format("{:.2f} s ({:.0f} MiB resident then)", su.start_s, su.rss),
                    fmt::format("the same network on a new database {:.2f} s", su.new_start_s),
                    Ratio(su.start_s, su.new_start_s), na, na});
    rows.push_back(
        {"Bytes on disk per stored reading over that history (page_count × page_size ÷ rows, indexes included)",
         fmt::format("{:.1f} B", su.bytes_per_reading), na, na, "≤ 40 B",
         su.bytes_per_reading > 0 && su.bytes_per_reading <= 40 ? "**yes**" : "**no**"});
  } else {
    rows.push_back({fmt::format("Start-up with {} stored readings", Thousands(static_cast<double>(o.startup_history))),
                    "not measured: " + su.why_not, na, na, na, na});
  }

  struct utsname u {};
  uname(&u);
  std::string out;
  out += fmt::format(
      "Run {} ({}), {:.0f} minutes: {}, {} cores, Linux {}, HEAD {} (uncommitted changes not shown). Load average "
      "before the run: "
      "{}.\n\n",
      when, o.quick ? "`./kaoko bench --quick`" : "`./kaoko bench`", minutes, CpuModel(),
      std::thread::hardware_concurrency(), u.release, CommitOf(testing::SourceDir()), load_before);
  out += "| measure | value | reference | ratio | goal | met? |\n|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r.measure, r.value, r.reference, r.ratio, r.goal, r.met);
  }
  out += "\nMethod (all in this one run, on 127.0.0.1, on this machine):\n";
  out += fmt::format(
      "- Broker: a private Mosquitto from `broker-config/dev.conf.in` (the project's ACL, `max_queued_messages 0`, "
      "`max_inflight_messages 100`). Load: two publisher processes (Paho C++, one connection each, QoS 1, up to 500 "
      "unacknowledged), contract readings of ~100 bytes (`ts` with microseconds), round-robin over {} load stations "
      "in {} villages (network: {}), every (station, seq) new. A warm-up of one reading per station precedes kaoko's "
      "runs.\n",
      stations, Thousands(o.net.villages), o.net.generator);
  out += fmt::format(
      "- Ceiling and Paho's floor: {} readings as fast as the publishers go, to a subscriber process that only counts "
      "(Paho C++, QoS 1); rate = readings ÷ (go → its last arrival); floor = its CPU (`/proc/<pid>/stat`, user + "
      "system) ÷ readings. The publishers alone managed {}/s.\n",
      Thousands(static_cast<double>(x.ceiling_n)), Thousands(x.ceiling_publish));
  out += fmt::format(
      "- kaoko: kaoko-server with a network of {} load + {} probe stations (SQLite WAL, `synchronous=FULL`, ack "
      "after commit), started {:.0f} s before it answered `/healthz`. Sustained: the same {} readings, from go to "
      "`/metrics` counting every one committed; CPU per reading over the same interval. Then the latency runs, the "
      "paced run and the hold, in that order. Every run is bounded (the sustained run and the warm-up: a minute more "
      "than 5 times what the broker's ceiling would need; the others: 60 s after their last publish); a run that "
      "leaves kaoko behind is reported as it went, and kaoko is started afresh on a new database (the broker forgets "
      "its backlog) for the next one. \"Held\" runs are paced, stopped early if the backlog passes a million; the "
      "backlog is readings sent − readings committed; \"growing\" means its fitted trend over the run exceeds 1% of "
      "what was sent, or the rest took over 2 s to store after the last publish.\n",
      stations, Thousands(o.net.probes), k.start_s, Thousands(static_cast<double>(o.readings)));
  out += fmt::format(
      "- Alert latency: {} probes/s for {} s per rate, each a probe station of its own village getting two readings "
      "over `watch` (the persistence rule), a minute apart in their own time; from the second publish to the village's "
      "`alert` at a TAO officer's subscription, who then ends the probe's incident (all_clear) so that few are open at "
      "once. The broker's own latency: the counting subscriber times every reading "
      "from the `ts` in it (its publish) to its arrival, same rate, with kaoko stopped and its session removed.\n",
      o.probe_rate, o.latency_seconds);
  if (peer_ok) {
    out += fmt::format(
        "- Peer: {}, installed by `./kaoko bench` from `tests/bench/nodered/package.json` into the build directory; "
        "headless (no editor, no HTTP), its own user directory. `tests/bench/nodered/flows.json`: MQTT in (QoS 1, "
        "persistent session) → JSON → a function node that validates the reading as the contract says, classifies "
        "it against its station's watch/warning/critical and inserts it with a prepared better-sqlite3 statement "
        "(WAL, one transaction per message, `INSERT OR IGNORE` on (station, seq)) → the village's alert when a "
        "station's level class changes. The peer's figures are with `synchronous=NORMAL` (a commit survives a crash "
        "of Node-RED, not a power cut; in WAL mode no fsync per row); one more run of {} readings with "
        "`synchronous=FULL` (kaoko's setting: an fsync per row for this flow) gives the `synchronous=FULL` row. Same "
        "broker, "
        "same load ({} readings, the same two publishers, the same {} stations loaded from the network); rows/s = "
        "rows ÷ (go → the last row, polled every 25 ms); CPU of the node process over the same interval. Store "
        "latency: {} probe readings/s among 1,000 readings/s for {} s, from the publish to the flow's own timestamp "
        "right after the insert (CLOCK_MONOTONIC, the clock the bench reads); to the flow's \"stored\" message at a "
        "subscriber it was {}. Idle memory: VmRSS 2 s after the flow stored its first reading.\n",
        peer.versions, Thousands(static_cast<double>(peer.full_rows)), Thousands(static_cast<double>(peer.rows)),
        stations, o.probe_rate, o.latency_seconds, SpreadText(peer.arrival_ms));
  }
  out +=
      "- Memory: VmRSS 2 s after kaoko-server became healthy with the whole network configured and no reading "
      "yet; then right after the warm-up (one reading from every station); then 2 s after it became healthy again, "
      "restarted on the last run's database (every station has read; millions of readings stored), with nothing "
      "waiting for it at the broker; peak = VmHWM at the end of the last run (reached while "
      "the network file is parsed). Disk: `PRAGMA page_count × page_size` ÷ rows after every run, the service "
      "stopped: the whole file (stations, their evaluation state, incidents, indexes), so few rows make it large.\n";
  if (su.why_not.empty()) {
    out += fmt::format(
        "- Start-up: `tests/bench/gen-network.sh --stations {0} --villages {1}`; `kaoko-core-feed --stations {0} "
        "--history {2} --readings 150000 --keep` wrote the history with SQL ({4} readings, ten minutes apart per "
        "station) and fed 150,000 more through the core, so that the stations' states were saved as in operation "
        "({3:.0f} s in all); then kaoko-server was started on that file with the broker, from the start to `/healthz` "
        "answering ok (the broker connected, the database read). The reference is the same network on a new database. "
        "Disk: kaoko-core-feed's `page_count × page_size ÷ rows` after a checkpoint.\n",
        su.stations, su.stations / 2, o.startup_history, su.written_s,
        Thousands(static_cast<double>(o.startup_history)));
  }
  out +=
      "- Figures \"measured elsewhere\" are issue 7's orientation figures (another run, same kind of machine); the "
      "goals are judged against the references measured in this run.\n";
  return out;
}

void Record(const std::string& path, const std::string& text) {
  std::ifstream in(path);
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string start = "<!-- bench:start -->", end = "<!-- bench:end -->";
  auto a = doc.find(start), b = doc.find(end);
  if (a == std::string::npos || b == std::string::npos || b < a) {
    throw std::runtime_error(path + " has no <!-- bench:start --> … <!-- bench:end --> markers");
  }
  doc = doc.substr(0, a + start.size()) + "\n" + text + doc.substr(b);
  std::ofstream(path, std::ios::binary) << doc;
}

const char* kUsage = R"(kaoko-bench — issue 7's speed and scale table, side by side in one run (docs/benchmarks.md)

Usage: kaoko-bench [options]          (normally through ./kaoko bench)
  --quick               ~2 minutes: fewer readings, shorter phases, no hold
  --stations N          load stations (tests/bench/gen-network.sh)        [150000]
  --readings N          readings for the ceiling and kaoko's sustained run [300000; quick 60000]
  --peer-readings N     readings for the Node-RED peer's throughput run    [150000; quick 40000]
  --latency-seconds S   each latency phase                                 [20; quick 8]
  --probe-rate R        latency probes per second                          [20]
  --target-rate R       the paced run's rate                               [15000]
  --rate-seconds S      the paced run's length                             [60; quick 15]
  --hold S              seconds held at 0.8 of the broker's ceiling        [600; quick 0]
  --peer-dir DIR        the Node-RED install (DIR/node_modules/node-red)   [none: the peer is not run]
  --peer-full-readings N  readings for the peer run with synchronous=FULL [3000; quick 1000; 0: none]
  --no-peer             do not run the Node-RED peer
  --network FILE        kaoko's network file instead of generating one (station ids s000000…, villages v00000…)
  --keep DIR            copy the last run's database and the network into DIR (to profile a restart by hand)
  --startup-history N   readings stored before the start-up is timed      [100000000; quick 0: not run]
  --record FILE         also write the table into FILE between <!-- bench:start --> and <!-- bench:end -->
Modes run by the orchestrator itself: kaoko-bench publish …, kaoko-bench count-subscriber …
)";

int Run(Options o) {
  // Ctrl-C or a TERM: the next check throws, and every child process, the broker and the service are stopped on the
  // way out (their destructors), the temporary directory removed.
  StopOnSignals();
  const auto t_begin = std::chrono::steady_clock::now();
  const std::string load_before = LoadAverage();
  const std::string when = Rfc3339Micros(RealtimeNs()).substr(0, 16) + "Z";
  // Probe villages: one per latency probe, three kaoko latency phases.
  o.net.probes = 3 * o.latency_seconds * o.probe_rate + 10;

  testing::TempDir tmp;
  const std::string dir = tmp.path();
  const std::string network = dir + "/network.toml";
  if (!o.network_file.empty()) {
    std::filesystem::copy_file(o.network_file, network);
    o.net.generator = "`--network " + o.network_file + "`";
  } else if (std::filesystem::exists(testing::SourceDir() + "/tests/bench/gen-network.sh")) {
    Progress("generating a network of {} stations (tests/bench/gen-network.sh)…", Thousands(o.net.stations));
    o.net.generator = "`" + GenerateNetwork(o.net.stations, 0, network) + "`";
  } else {
    Progress("generating a network of {} stations…", Thousands(o.net.stations));
    WriteNetworkToml(o.net.stations, network);
    o.net.generator = "kaoko-bench's own (2 stations per village)";
  }
  AppendProbes(o.net.probes, network);
  {
    // Read it as kaoko does: the load stations' topics, the TAO officer, the stations for the peer.
    auto net = config::LoadNetwork(network);
    if (!net) throw std::runtime_error("the benchmark network does not load: " + net.error().reason);
    o.net.tambon = net->tambon;
    std::set<std::string> probe_stations;
    for (int k = 0; k < o.net.probes; ++k) probe_stations.insert(ProbeStation(k));
    o.net.topics_file = dir + "/topics.txt";
    std::ofstream topics(o.net.topics_file);
    std::set<std::string> villages;
    int load = 0;
    for (const auto& st : net->stations) {
      if (probe_stations.count(st.id)) continue;
      topics << fmt::format("kaoko/v1/{}/{}/station/{}/reading\n", net->tambon, st.village, st.id);
      villages.insert(st.village);
      ++load;
    }
    o.net.stations = load;
    o.net.villages = static_cast<int>(villages.size());
    for (const auto& person : net->people) {
      if (person.role == alerting::Role::kTao) {
        o.net.tao = person.id;
        break;
      }
    }
    if (o.net.tao.empty()) throw std::runtime_error("the benchmark network has no TAO officer");
    if (load < 4) throw std::runtime_error("the benchmark network has fewer than 4 load stations");
    o.peer_stations = dir + "/stations.json";
    std::ofstream json(o.peer_stations);
    json << "[\n";
    for (size_t i = 0; i < net->stations.size(); ++i) {
      const auto& st = net->stations[i];
      json << fmt::format("[\"{}\",\"{}\",{},{},{}]{}\n", st.id, st.village, st.watch.cm, st.warning.cm, st.critical.cm,
                          i + 1 < net->stations.size() ? "," : "");
    }
    json << "]\n";
    Progress("network: tambon {}, {} load stations in {} villages, {} probe villages", o.net.tambon, Thousands(load),
             Thousands(o.net.villages), o.net.probes);
  }
  WriteAccountsToml(o.net, dir + "/accounts.toml");
  Progress("starting a private broker…");
  testing::BrokerOptions broker_options;
  broker_options.network_file = dir + "/accounts.toml";
  testing::Broker broker(broker_options);
  Runner runner(o, dir, broker);
  Orchestrator x(o, runner, network);

  x.BrokerCeiling();
  PeerResult peer;
  if (o.peer) {
    peer = RunNodeRedPeer(runner);
  } else {
    peer.why_not = "--no-peer";
  }
  x.Kaoko();
  x.BrokerLatency();
  x.StartupOverHistory(dir);

  const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count() / 60;
  std::string text = Report(o, x, peer, load_before, when, minutes);
  fmt::print("{}", text);
  if (!o.record.empty()) {
    Record(o.record, text);
    Progress("wrote the table into {}", o.record);
  }
  return 0;
}

}  // namespace
}  // namespace kaoko::bench

int main(int argc, char** argv) {
  using namespace kaoko::bench;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "publish") return PublisherMain(argc, argv);
  if (mode == "count-subscriber") return CountSubscriberMain(argc, argv);

  Options o;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") quick = true;
  }
  if (quick) {
    o.quick = true;
    o.readings = 60000;
    o.peer_readings = 40000;
    o.peer_full_readings = 1000;
    o.latency_seconds = 8;
    o.rate_seconds = 15;
    o.hold = 0;
    o.startup_history = 0;
  }
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&] {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return std::string(argv[++i]);
      };
      if (a == "--quick")
        continue;
      else if (a == "--stations")
        o.net.stations = std::stoi(next());
      else if (a == "--readings")
        o.readings = std::stoull(next());
      else if (a == "--peer-readings")
        o.peer_readings = std::stoull(next());
      else if (a == "--latency-seconds")
        o.latency_seconds = std::stoi(next());
      else if (a == "--probe-rate")
        o.probe_rate = std::stoi(next());
      else if (a == "--target-rate")
        o.target_rate = std::stod(next());
      else if (a == "--rate-seconds")
        o.rate_seconds = std::stoi(next());
      else if (a == "--hold")
        o.hold = std::stoi(next());
      else if (a == "--peer-dir")
        o.peer_dir = next();
      else if (a == "--peer-full-readings")
        o.peer_full_readings = std::stoull(next());
      else if (a == "--no-peer")
        o.peer = false;
      else if (a == "--network")
        o.network_file = next();
      else if (a == "--record")
        o.record = next();
      else if (a == "--keep")
        o.keep = next();
      else if (a == "--startup-history")
        o.startup_history = std::stoull(next());
      else if (a == "--help" || a == "-h") {
        fmt::print("{}", kUsage);
        return 0;
      } else {
        fmt::print(stderr, "kaoko-bench: unknown option '{}'\n{}", a, kUsage);
        return 2;
      }
    }
    if (o.net.stations < 4) throw std::invalid_argument("--stations must be at least 4");
  } catch (const std::exception& e) {
    fmt::print(stderr, "kaoko-bench: {}\n{}", e.what(), kUsage);
    return 2;
  }
  try {
    return Run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "kaoko-bench: harness error: {}\n", e.what());
    return 1;
  }
}
