// kaoko-bench: how fast kaoko stores readings and raises alerts, through the real broker, on this machine.
//
//   ./kaoko bench                 (or: build/tests/bench/kaoko-bench --readings 200000)
//
// Everything runs on 127.0.0.1: a private Mosquitto with the project's config and ACL, the real kaoko-server with a
// fresh SQLite file, and Paho C++ publishers and subscribers in this process. Printed as a Markdown table with the
// method, ready for docs/benchmarks.md. Nothing here asserts a speed: it measures.
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mqtt/async_client.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <thread>

#include "kaoko/server/wire.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

namespace {

using namespace std::chrono;
using kaoko::testing::Broker;
using kaoko::testing::ServiceProcess;
using kaoko::testing::TempDir;

struct Options {
  int villages = 100;           // each with a background station and a probe station
  std::uint64_t readings = 100000;
  int latency_rate = 1000;      // background readings per second during the latency phase
  int latency_seconds = 20;
};

std::string WriteNetwork(const std::string& dir, const Options& o) {
  std::string text = "[tambon]\nid = \"bench\"\nname_th = \"ตำบลทดสอบ\"\nname_en = \"Bench\"\n";
  for (int v = 0; v < o.villages; ++v) {
    text += fmt::format("[[villages]]\nid = \"v{:03}\"\nname_th = \"หมู่ {}\"\nname_en = \"Village {}\"\n"
                        "travel_to_next_minutes = {}\n",
                        v, v, v, v + 1 < o.villages ? 30 : 0);
  }
  for (int v = 0; v < o.villages; ++v) {
    for (const char* kind : {"a", "b"}) {
      text += fmt::format("[[stations]]\nid = \"s{:03}{}\"\nvillage = \"v{:03}\"\nname_th = \"สถานี\"\nname_en = \"S\"\n"
                          "watch = 200\nwarning = 300\ncritical = 400\n",
                          v, kind, v);
    }
  }
  text += "[[people]]\nid = \"bench-tao\"\nname_th = \"เจ้าหน้าที่\"\nrole = \"tao\"\n";
  std::string path = dir + "/bench.toml";
  std::ofstream(path) << text;
  return path;
}

std::string Now3339(milliseconds offset = milliseconds(0)) {
  auto now = time_point_cast<milliseconds>(system_clock::now()) + offset;
  return kaoko::wire::FormatTime(kaoko::wire::TimePoint(now.time_since_epoch()));
}

// CPU time (user + system) of a process, from /proc/<pid>/stat, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // After "pid (comm) ": state is f[0]; utime and stime are fields 14 and 15 of the whole line → f[11], f[12].
  return (std::stod(f.at(11)) + std::stod(f.at(12))) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::unique_ptr<mqtt::async_client> Connect(const std::string& url, const std::string& user, const std::string& pw,
                                            const std::string& id, bool clean = true) {
  auto c = std::make_unique<mqtt::async_client>(url, id, mqtt::create_options(MQTTVERSION_3_1_1, 2'000'000), nullptr);
  auto opts = mqtt::connect_options_builder()
                  .user_name(user)
                  .password(pw)
                  .clean_session(clean)
                  .max_inflight(1000)
                  .mqtt_version(MQTTVERSION_3_1_1)
                  .finalize();
  c->connect(opts)->wait();
  return c;
}

// Publishes `n` readings round-robin over the background stations, QoS 1, keeping up to `window` unacknowledged.
void Publish(mqtt::async_client& pub, const Options& o, std::uint64_t n, std::map<int, std::uint64_t>& seqs,
             double per_second = 0) {
  std::deque<mqtt::delivery_token_ptr> window;
  auto start = steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    int v = static_cast<int>(i % static_cast<std::uint64_t>(o.villages));
    std::uint64_t seq = ++seqs[v];
    std::string payload = fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{:.1f},"rain_mm":0.0,"battery_v":3.91}})", seq,
                                      Now3339(), 100.0 + static_cast<double>(seq % 50));
    window.push_back(pub.publish(fmt::format("kaoko/v1/bench/v{:03}/station/s{:03}a/reading", v, v), payload.data(),
                                 payload.size(), 1, false));
    if (window.size() >= 500) {
      window.front()->wait();
      window.pop_front();
    }
    if (per_second > 0) {
      auto due = start + duration_cast<steady_clock::duration>(duration<double>(static_cast<double>(i + 1) / per_second));
      std::this_thread::sleep_until(due);
    }
  }
  for (auto& t : window) t->wait();
}

std::uint64_t Accepted(const ServiceProcess& kaoko) {
  auto text = kaoko.Get("/metrics").body;
  auto pos = text.find("\nkaoko_readings_accepted_total ");
  return pos == std::string::npos ? 0 : std::stoull(text.substr(pos + 31));
}

std::string Git(const std::string& args) {
  std::string out;
  if (FILE* p = popen(("git -C " + kaoko::testing::SourceDir() + " " + args + " 2>/dev/null").c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--readings") o.readings = std::stoull(next());
    else if (a == "--villages") o.villages = std::stoi(next());
    else if (a == "--latency-rate") o.latency_rate = std::stoi(next());
    else if (a == "--latency-seconds") o.latency_seconds = std::stoi(next());
    else {
      fmt::print("usage: kaoko-bench [--readings N] [--villages N] [--latency-rate R] [--latency-seconds S]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  TempDir dir;
  std::string network = WriteNetwork(dir.path(), o);
  fmt::print(stderr, "kaoko-bench: starting a private broker ({} stations)…\n", o.villages * 2);
  Broker broker(kaoko::testing::BrokerOptions{network, false});
  const std::string pw = broker.Password("kaoko");

  // 1. The broker's ceiling for one publisher: a subscriber that only counts.
  double ceiling = 0;
  {
    std::atomic<std::uint64_t> got{0};
    auto sub = Connect(broker.url(), "kaoko", pw, "bench-counter");
    sub->set_message_callback([&](mqtt::const_message_ptr) { ++got; });
    sub->start_consuming();
    sub->subscribe("kaoko/v1/bench/+/station/+/reading", 1)->wait();
    auto pub = Connect(broker.url(), "kaoko", pw, "bench-pub-0");
    std::map<int, std::uint64_t> seqs;
    fmt::print(stderr, "kaoko-bench: broker ceiling, {} readings…\n", o.readings);
    auto t0 = steady_clock::now();
    Publish(*pub, o, o.readings, seqs);
    while (got < o.readings && steady_clock::now() - t0 < minutes(5)) std::this_thread::sleep_for(milliseconds(2));
    ceiling = static_cast<double>(got) / duration<double>(steady_clock::now() - t0).count();
    sub->disconnect()->wait();
    pub->disconnect()->wait();
  }

  // 2. kaoko: validated, evaluated, committed and acked.
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db", {"--network", network});
  double rate = 0, cpu_us = 0, elapsed = 0;
  std::map<int, std::uint64_t> seqs;
  {
    auto pub = Connect(broker.url(), "kaoko", pw, "bench-pub-1");
    fmt::print(stderr, "kaoko-bench: kaoko ingest, {} readings…\n", o.readings);
    double cpu0 = CpuSeconds(kaoko.pid());
    auto t0 = steady_clock::now();
    Publish(*pub, o, o.readings, seqs);
    while (Accepted(kaoko) < o.readings && steady_clock::now() - t0 < minutes(10)) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    elapsed = duration<double>(steady_clock::now() - t0).count();
    double cpu1 = CpuSeconds(kaoko.pid());
    rate = static_cast<double>(Accepted(kaoko)) / elapsed;
    cpu_us = (cpu1 - cpu0) * 1e6 / static_cast<double>(o.readings);
    pub->disconnect()->wait();
  }

  // 3. Alert latency with a background load: probe stations cross watch (two readings, the persistence rule) one
  //    village at a time; latency = publish of the second reading → the village's alert at a TAO subscriber.
  std::vector<double> latencies_ms;
  {
    std::mutex mu;
    std::map<std::string, steady_clock::time_point> arrived;
    auto sub = Connect(broker.url(), "bench-tao", broker.Password("bench-tao"), "bench-tao-sub");
    sub->set_message_callback([&](mqtt::const_message_ptr m) {
      auto j = nlohmann::json::parse(m->get_payload_str(), nullptr, false);
      if (j.is_discarded() || j.value("level", "") != "watch") return;
      std::lock_guard lock(mu);
      arrived.emplace(j.value("village", ""), steady_clock::now());
    });
    sub->start_consuming();
    sub->subscribe("kaoko/v1/bench/+/alert", 1)->wait();
    auto bg = Connect(broker.url(), "kaoko", pw, "bench-pub-2");
    auto probe = Connect(broker.url(), "kaoko", pw, "bench-probe");
    std::uint64_t bg_count = static_cast<std::uint64_t>(o.latency_rate) * static_cast<std::uint64_t>(o.latency_seconds);
    fmt::print(stderr, "kaoko-bench: alert latency under {} readings/s for {} s…\n", o.latency_rate, o.latency_seconds);
    std::thread background([&] { Publish(*bg, o, bg_count, seqs, o.latency_rate); });
    std::map<std::string, steady_clock::time_point> sent;
    int probes = std::min(o.villages, o.latency_seconds * 4);
    for (int v = 0; v < probes; ++v) {
      std::this_thread::sleep_for(milliseconds(o.latency_seconds * 1000 / (probes + 1)));
      std::string topic = fmt::format("kaoko/v1/bench/v{:03}/station/s{:03}b/reading", v, v);
      for (int k = 1; k <= 2; ++k) {
        // Like a real station, the two readings are a minute apart in their own time (the engine evaluates a
        // station's readings in ts order; two at the same instant count once).
        std::string payload =
            fmt::format(R"({{"seq":{},"ts":"{}","level_cm":250.0}})", k, Now3339(k == 1 ? -minutes(1) : minutes(0)));
        auto tok = probe->publish(topic, payload.data(), payload.size(), 1, false);
        if (k == 2) sent[fmt::format("v{:03}", v)] = steady_clock::now();
        tok->wait();
      }
    }
    background.join();
    auto deadline = steady_clock::now() + seconds(10);
    while (steady_clock::now() < deadline) {
      std::lock_guard lock(mu);
      if (arrived.size() >= sent.size()) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::lock_guard lock(mu);
    for (const auto& [village, t] : sent) {
      auto it = arrived.find(village);
      if (it != arrived.end()) latencies_ms.push_back(duration<double, std::milli>(it->second - t).count());
    }
    fmt::print(stderr, "kaoko-bench: {} of {} probes raised their alert\n", latencies_ms.size(), sent.size());
  }

  struct utsname u {};
  uname(&u);
  fmt::print("## Ingest and alert latency — `./kaoko bench`\n\n");
  fmt::print("Run {} on {} ({} cores, {}), commit {}.\n\n", Now3339(), CpuModel(), std::thread::hardware_concurrency(),
             u.release, Git("rev-parse --short HEAD"));
  fmt::print("| measure | value |\n|---|---|\n");
  fmt::print("| broker ceiling: 1 Paho publisher → a subscriber that only counts (QoS 1) | {:.0f} readings/s |\n", ceiling);
  fmt::print("| kaoko stores (validated, evaluated, committed, acked), 1 publisher | {:.0f} readings/s ({:.2f} of the ceiling) |\n",
             rate, ceiling > 0 ? rate / ceiling : 0);
  fmt::print("| kaoko CPU per stored reading (/proc/<pid>/stat) | {:.1f} µs |\n", cpu_us);
  fmt::print("| alert latency at {} readings/s: p50 / p99 / max ({} probes) | {:.2f} / {:.2f} / {:.2f} ms |\n\n",
             o.latency_rate, latencies_ms.size(), Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
             latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end()));
  fmt::print("Method: everything on 127.0.0.1 on this machine, the broker started from broker-config/dev.conf.in with "
             "the project's ACL; a generated network of {} villages × 2 stations; {} readings of ~90 bytes, QoS 1, "
             "round-robin over the stations, from one Paho C++ publisher keeping 500 in flight. \"Stores\" ends when "
             "/metrics counts every reading as committed (SQLite WAL, synchronous=FULL, one transaction per batch); "
             "it took {:.1f} s. Latency: {} probe stations each get two readings over `watch` (persistence = 2 "
             "readings) while a second publisher sends the background load; measured from the second publish to the "
             "village's `alert` arriving at a TAO officer's subscription.\n",
             o.villages, o.readings, elapsed, latencies_ms.size());
  return 0;
}
