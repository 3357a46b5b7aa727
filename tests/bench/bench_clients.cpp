// The two child-process modes of kaoko-bench:
//
//   kaoko-bench publish ...           a simulated-station publisher (one Paho C++ connection, QoS 1)
//   kaoko-bench count-subscriber ...  a Paho C++ subscriber that only counts (optionally: and timestamps)
//
// Each runs in a process of its own, so that publishers, the counting subscriber, kaoko-server and Node-RED never
// share a Paho library instance (Paho C runs every client of a process on one send and one receive thread) and so
// that /proc/<pid>/stat shows each one's CPU alone. They are driven through the shared control block
// (bench_support.hpp): they connect, set `ready`, wait for `go`, and report counters as they run.
#include <fmt/format.h>

#include <mqtt/async_client.h>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

#include "bench_support.hpp"

namespace kaoko::bench {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) throw std::invalid_argument("expected --option value pairs, got " + k);
    a[k.substr(2)] = argv[i + 1];
  }
  return a;
}

std::string Need(const std::map<std::string, std::string>& a, const std::string& k) {
  auto it = a.find(k);
  if (it == a.end()) throw std::invalid_argument("missing --" + k);
  return it->second;
}

std::string Opt(const std::map<std::string, std::string>& a, const std::string& k, const std::string& def) {
  auto it = a.find(k);
  return it == a.end() ? def : it->second;
}

mqtt::connect_options Options(const std::string& user, const std::string& pw, int inflight) {
  return mqtt::connect_options_builder()
      .user_name(user)
      .password(pw)
      .clean_session(true)
      .max_inflight(inflight)
      .keep_alive_interval(std::chrono::seconds(60))
      .mqtt_version(MQTTVERSION_3_1_1)
      .finalize();
}

}  // namespace

// Publishes --count readings round-robin over its share of the load stations (line i of --topics where
// i % publishers == index), QoS 1, keeping up to --window unacknowledged; --rate R paces it to R readings/s (0: as fast
// as it can). Reading k of this publisher goes to its (k % share)-th station with seq = first-seq + k / share, so that
// every (station, seq) is new. Each payload is a contract reading of ~100 bytes whose `ts` is the moment of the publish
// call with microseconds (the counting subscriber's latency mode reads it).
int PublisherMain(int argc, char** argv) {
  auto a = ParseArgs(argc, argv);
  Control* control = MapControl(Need(a, "control"), false);
  Slot& slot = control->slots[std::stoi(Need(a, "slot"))];
  try {
    const int publishers = std::stoi(Opt(a, "publishers", "1"));
    const int index = std::stoi(Opt(a, "index", "0"));
    const std::uint64_t count = std::stoull(Need(a, "count"));
    const double rate = std::stod(Opt(a, "rate", "0"));
    const std::uint64_t first_seq = std::stoull(Opt(a, "first-seq", "1"));
    const size_t window = std::stoul(Opt(a, "window", "500"));

    std::vector<std::string> topics;
    {
      std::ifstream in(Need(a, "topics"));
      int i = 0;
      for (std::string line; std::getline(in, line); ++i) {
        if (i % publishers == index && !line.empty()) topics.push_back(line);
      }
    }
    if (topics.empty()) throw std::invalid_argument("no stations for this publisher");
    const std::uint64_t share = topics.size();

    mqtt::async_client client(Need(a, "url"), Need(a, "client-id"),
                              mqtt::create_options(MQTTVERSION_3_1_1, static_cast<int>(window) * 4 + 1000), nullptr);
    client.connect(Options(Need(a, "user"), Need(a, "password"), static_cast<int>(window) * 2))->wait();
    slot.ready = 1;
    while (!control->go && !control->stop) std::this_thread::sleep_for(200us);

    std::deque<mqtt::delivery_token_ptr> inflight;
    const std::int64_t t0 = MonotonicNs();
    slot.first_ns = t0;
    std::string payload;
    for (std::uint64_t k = 0; k < count && !control->stop; ++k) {
      if (rate > 0) {
        const auto due = t0 + static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / rate);
        const auto now = MonotonicNs();
        if (now < due) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      }
      const std::uint64_t seq = first_seq + k / share;
      // A steady level (alternating by half a centimetre: never "stuck", never a "fast rise"), far below watch.
      payload = fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{:.1f},"rain_mm":0.0,"battery_v":3.91}})", seq,
                            Rfc3339Micros(RealtimeNs()), 120.0 + 0.5 * static_cast<double>(seq % 2));
      inflight.push_back(client.publish(topics[k % share], payload.data(), payload.size(), 1, false));
      slot.sent.fetch_add(1, std::memory_order_relaxed);
      while (!inflight.empty() && (inflight.size() >= window || inflight.front()->is_complete())) {
        inflight.front()->wait();
        inflight.pop_front();
        slot.acked.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (auto& t : inflight) {
      t->wait();
      slot.acked.fetch_add(1, std::memory_order_relaxed);
    }
    slot.last_ns = MonotonicNs();
    client.disconnect()->wait();
    slot.done = 1;
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "kaoko-bench publish: {}\n", e.what());
    slot.failed = 1;
    return 1;
  }
}

// Subscribes to --filter (QoS 1, clean session) and counts what arrives: the least any subscriber can do, so its CPU
// per message is Paho's floor. With --latency-out FILE it also takes, for every message, the time from the `ts` in
// its payload (the publish call, CLOCK_REALTIME) to its arrival, and writes them (ms, one per line) when stopped.
int CountSubscriberMain(int argc, char** argv) {
  auto a = ParseArgs(argc, argv);
  Control* control = MapControl(Need(a, "control"), false);
  Slot& slot = control->slots[std::stoi(Need(a, "slot"))];
  try {
    const std::string latency_out = Opt(a, "latency-out", "");
    std::vector<double> latencies;
    if (!latency_out.empty()) latencies.reserve(1 << 22);
    mqtt::async_client client(Need(a, "url"), Need(a, "client-id"), mqtt::create_options(MQTTVERSION_3_1_1, 1000),
                              nullptr);
    client.set_message_callback([&](mqtt::const_message_ptr m) {
      const std::int64_t now = MonotonicNs();
      if (slot.received.load(std::memory_order_relaxed) == 0) slot.first_ns.store(now, std::memory_order_relaxed);
      slot.last_ns.store(now, std::memory_order_relaxed);
      if (!latency_out.empty()) {
        const std::string& p = m->get_payload_ref().str();
        auto at = p.find("\"ts\":\"");
        if (at != std::string::npos) {
          std::int64_t sent = ParseRfc3339Ns(p.data() + at + 6, p.size() - at - 6);
          if (sent > 0) latencies.push_back(static_cast<double>(RealtimeNs() - sent) / 1e6);
        }
      }
      slot.received.fetch_add(1, std::memory_order_release);
    });
    client.connect(Options(Need(a, "user"), Need(a, "password"), 1000))->wait();
    client.subscribe(Need(a, "filter"), 1)->wait();
    slot.ready = 1;
    while (!control->stop) std::this_thread::sleep_for(5ms);
    client.disconnect()->wait();
    if (!latency_out.empty()) {
      std::ofstream out(latency_out);
      for (double v : latencies) out << v << '\n';
    }
    slot.done = 1;
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "kaoko-bench count-subscriber: {}\n", e.what());
    slot.failed = 1;
    return 1;
  }
}

}  // namespace kaoko::bench
