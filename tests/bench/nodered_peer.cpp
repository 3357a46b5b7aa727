// The peer: the same job built the way a TAO's IT volunteer would, with Node-RED 4 (tests/bench/nodered/), measured
// in the same run, against the same broker, with the same load and the same stations as kaoko.
#include <fmt/format.h>
#include <sqlite3.h>

#include <mqtt/async_client.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench_run.hpp"
#include "kaoko/testing/harness.hpp"

namespace kaoko::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string PackageVersion(const std::string& modules, const std::string& name) {
  auto j = nlohmann::json::parse(ReadFile(modules + "/" + name + "/package.json"), nullptr, false);
  return j.is_object() ? j.value("version", "?") : "?";
}

std::string NodeVersion() {
  std::string out;
  if (FILE* p = popen("node --version 2>/dev/null", "r")) {
    char buf[128];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.empty() ? "?" : out;
}

// A read-only look at the peer's database while Node-RED writes it (WAL: readers do not block the writer).
class PeerDb {
 public:
  explicit PeerDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("cannot open the peer's database {}", path));
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~PeerDb() { sqlite3_close(db_); }
  PeerDb(const PeerDb&) = delete;
  PeerDb& operator=(const PeerDb&) = delete;
  std::int64_t Scalar(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db_)));
    }
    std::int64_t v = 0;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

PeerResult RunNodeRedPeer(Runner& r) {
  PeerResult p;
  const Options& o = r.o;
  if (o.peer_dir.empty()) {
    p.why_not = "no --peer-dir (`./kaoko bench` installs Node-RED into $BUILD/nodered)";
    return p;
  }
  const std::string modules = fs::absolute(o.peer_dir).string() + "/node_modules";
  const std::string red = modules + "/node-red/red.js";
  if (!fs::exists(red) || !fs::exists(modules + "/better-sqlite3/package.json")) {
    p.why_not = fmt::format("Node-RED or better-sqlite3 is not installed in {}", modules);
    return p;
  }
  p.versions = fmt::format("Node-RED {}, better-sqlite3 {}, Node.js {}", PackageVersion(modules, "node-red"),
                           PackageVersion(modules, "better-sqlite3"), NodeVersion());
  Progress("2/5 the peer: {} …", p.versions);

  // A fresh user directory: the committed flow and settings, the broker account, the stations.
  const std::string user_dir = r.dir + "/nodered";
  fs::create_directories(user_dir);
  const std::string src = testing::SourceDir() + "/tests/bench/nodered";
  fs::copy_file(src + "/flows.json", user_dir + "/flows.json", fs::copy_options::overwrite_existing);
  fs::copy_file(src + "/settings.js", user_dir + "/settings.js", fs::copy_options::overwrite_existing);
  std::ofstream(user_dir + "/flows_cred.json")
      << nlohmann::json{{"broker", {{"user", "kaoko"}, {"password", r.password}}}}.dump();
  fs::copy_file(o.peer_stations, user_dir + "/stations.json", fs::copy_options::overwrite_existing);
  auto start = [&](const std::string& synchronous, const std::string& db) {
    const std::string log = fmt::format("{}/node-red-{}.log", user_dir, synchronous);
    auto node = std::make_unique<testing::Process>(
        std::vector<std::string>{"node", red, "--userDir", user_dir, "--settings", user_dir + "/settings.js"}, log,
        std::map<std::string, std::string>{{"KAOKO_NODERED_MODULES", modules},
                                           {"KAOKO_PEER_MQTT_PORT", std::to_string(r.broker.port())},
                                           {"KAOKO_PEER_DB", db},
                                           {"KAOKO_PEER_STATIONS", user_dir + "/stations.json"},
                                           {"KAOKO_PEER_SYNCHRONOUS", synchronous},
                                           {"NODE_ENV", "production"}});
    if (!testing::WaitFor(
            [&] { return ReadFile(log).find("Connected to broker") != std::string::npos || !node->running(); }, 120s) ||
        !node->running()) {
      throw std::runtime_error("Node-RED did not connect to the broker:\n" + testing::Tail(log));
    }
    return node;
  };
  auto stop = [&](std::unique_ptr<testing::Process>& node) {
    node->Kill(SIGTERM);
    node->Wait();
    node.reset();
    r.ClearSession("nodered-peer");  // the flow's persistent session: the broker would queue the next runs for it
  };

  // Its "stored" messages (probe villages only): the row's commit time on CLOCK_MONOTONIC, and our arrival time.
  std::mutex mu;
  std::map<std::pair<std::string, std::uint64_t>, std::pair<std::int64_t, std::int64_t>> stored;
  auto sub = r.Connect("kaoko", r.password, "bench-peer-stored");
  sub->set_message_callback([&](mqtt::const_message_ptr m) {
    const std::int64_t now = MonotonicNs();
    auto j = nlohmann::json::parse(m->get_payload_str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    std::lock_guard lock(mu);
    stored[{j.value("station", ""), j.value("seq", std::uint64_t{0})}] = {
        std::stoll(j.value("stored_ns", std::string("0"))), now};
  });
  sub->subscribe(fmt::format("kaoko/v1/{}/+/stored", o.net.tambon), 1)->wait();
  auto probe = r.Connect("kaoko", r.password, "bench-peer-probe");
  auto publish_probe = [&](int k, std::uint64_t seq) {
    const std::string payload = fmt::format(R"({{"seq":{},"ts":"{}","level_cm":120.0,"rain_mm":0.0,"battery_v":3.91}})",
                                            seq, Rfc3339Micros(RealtimeNs()));
    const std::int64_t at = MonotonicNs();
    probe->publish(ProbeTopic(o.net, k), payload.data(), payload.size(), 1, false)->wait();
    return at;
  };
  auto has = [&](int k, std::uint64_t seq) {
    std::lock_guard lock(mu);
    return stored.count({ProbeStation(k), seq}) > 0;
  };
  // Ready when a reading goes all the way through (the subscription is in place and the flow stores).
  std::uint64_t ready_seq = 1'000'000;
  auto wait_ready = [&](testing::Process& node) {
    for (int i = 0; i < 120; ++i) {
      const std::uint64_t seq = ready_seq++;
      publish_probe(0, seq);
      if (testing::WaitFor([&] { return has(0, seq); }, 500ms)) return;
      if (!node.running()) break;
    }
    throw std::runtime_error("Node-RED did not store a reading within 60 s");
  };
  // As fast as the two publishers go: rows counted by polling max(rowid); CPU of the node process meanwhile.
  auto throughput = [&](testing::Process& node, const std::string& db, const std::string& tag, std::uint64_t n,
                        double& rows_per_s, double& cpu_us) {
    PeerDb d(db);
    const std::int64_t rows0 = d.Scalar("SELECT max(rowid) FROM readings");
    auto c = r.StartPublishers(tag, n, 0);
    r.WaitReady(c, {0, 1});
    const double cpu0 = CpuSeconds(node.pid());
    const std::int64_t t0 = r.Go();
    const auto target = rows0 + static_cast<std::int64_t>(n);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120 + n / 100);
    std::int64_t t1 = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      r.Check(c);
      if (!node.running()) throw std::runtime_error("Node-RED exited");
      if (d.Scalar("SELECT max(rowid) FROM readings") >= target) {
        t1 = MonotonicNs();
        break;
      }
      std::this_thread::sleep_for(25ms);
    }
    const double cpu1 = CpuSeconds(node.pid());
    if (t1 == 0) {
      throw std::runtime_error(
          fmt::format("Node-RED stored {} of {} rows in time", d.Scalar("SELECT max(rowid) FROM readings") - rows0, n));
    }
    rows_per_s = static_cast<double>(n) / (static_cast<double>(t1 - t0) / 1e9);
    cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(n);
    r.Finish(c);
  };

  const std::string db = user_dir + "/peer.db";
  auto node = start("NORMAL", db);
  wait_ready(*node);
  std::this_thread::sleep_for(2s);
  p.idle_rss_mib = RssMiB(node->pid());
  Progress("   Node-RED ready, {:.0f} MiB resident", p.idle_rss_mib);

  Progress("   peer throughput (synchronous=NORMAL): {} readings, 2 publishers…", p.rows = o.peer_readings);
  throughput(*node, db, "peer", o.peer_readings, p.rows_per_s, p.cpu_us);
  Progress("   Node-RED stored {:.0f} rows/s, {:.1f} µs CPU per message", p.rows_per_s, p.cpu_us);

  // Store latency at 1,000 readings/s: probe readings among the load, publish → the flow's commit timestamp.
  {
    Progress("   peer store latency under 1,000/s for {} s…", o.latency_seconds);
    auto c = r.StartPublishers("peerlat", static_cast<std::uint64_t>(1000 * o.latency_seconds), 1000);
    r.WaitReady(c, {0, 1});
    std::vector<std::pair<std::pair<std::string, std::uint64_t>, std::int64_t>> sent;
    const int probes = o.latency_seconds * o.probe_rate;
    const std::int64_t t0 = r.Go();
    for (int i = 0; i < probes; ++i) {
      const auto due = t0 + static_cast<std::int64_t>((i + 0.5) * 1e9 / o.probe_rate);
      const auto now = MonotonicNs();
      if (now < due) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      const int k = i % o.net.probes;
      const std::uint64_t seq = 2'000'000 + static_cast<std::uint64_t>(i);
      sent.push_back({{ProbeStation(k), seq}, publish_probe(k, seq)});
    }
    testing::WaitFor([&] { return r.PublishersDone(); }, std::chrono::seconds(o.latency_seconds * 3 + 30));
    testing::WaitFor(
        [&] {
          std::lock_guard lock(mu);
          for (auto& s : sent) {
            if (!stored.count(s.first)) return false;
          }
          return true;
        },
        15s);
    r.Finish(c);
    std::vector<double> commit, arrival;
    {
      std::lock_guard lock(mu);
      for (auto& [key, at] : sent) {
        auto it = stored.find(key);
        if (it == stored.end()) continue;
        commit.push_back(static_cast<double>(it->second.first - at) / 1e6);
        arrival.push_back(static_cast<double>(it->second.second - at) / 1e6);
      }
    }
    p.probes_sent = sent.size();
    p.store_ms = SpreadOf(commit);
    p.arrival_ms = SpreadOf(arrival);
    Progress("   p50/p99/max {:.2f} / {:.2f} / {:.2f} ms ({} of {} probes)", p.store_ms.p50, p.store_ms.p99,
             p.store_ms.max, p.store_ms.n, sent.size());
  }
  p.peak_rss_mib = RssMiB(node->pid(), "VmHWM:");
  stop(node);
  {
    PeerDb d(db);
    const auto rows = d.Scalar("SELECT count(*) FROM readings");
    p.bytes_per_row = static_cast<double>(d.Scalar("PRAGMA page_count") * d.Scalar("PRAGMA page_size")) /
                      static_cast<double>(std::max<std::int64_t>(rows, 1));
  }

  // The same flow with synchronous=FULL: every row on disk before the next message, as kaoko's commits are.
  if (o.peer_full_readings > 0) {
    const std::string db_full = user_dir + "/peer-full.db";
    node = start("FULL", db_full);
    wait_ready(*node);
    Progress("   peer throughput (synchronous=FULL): {} readings, 2 publishers…", p.full_rows = o.peer_full_readings);
    throughput(*node, db_full, "peerfull", o.peer_full_readings, p.full_rows_per_s, p.full_cpu_us);
    Progress("   Node-RED stored {:.0f} rows/s, {:.1f} µs CPU per message", p.full_rows_per_s, p.full_cpu_us);
    stop(node);
  }
  sub->disconnect()->wait();
  probe->disconnect()->wait();
  p.ran = true;
  return p;
}

}  // namespace kaoko::bench
