// The orchestrator's side of the benchmarks (kaoko-bench and kaoko-delivery-bench): the Runner that starts the
// publisher and counting-subscriber processes and watches them through the control block, and the alert latency
// probes (a TAO officer's subscription that times each probe's alert and ends its incident).
#include <fmt/format.h>
#include <unistd.h>

#include <mqtt/async_client.h>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench_run.hpp"

namespace kaoko::bench {

using namespace std::chrono_literals;
using testing::Process;

// ================================================================ Runner

namespace {
std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}
}  // namespace

Runner::Runner(const Options& options, std::string d, testing::Broker& b)
    : o(options),
      dir(std::move(d)),
      broker(b),
      password(b.Password("kaoko")),
      control_path_(dir + "/control"),
      self_(SelfExe()) {
  control = MapControl(control_path_, true);
}

Runner::Children Runner::StartPublishers(const std::string& tag, std::uint64_t total, double rate) {
  Children out;
  const int stations = o.net.stations;  // as loaded
  std::uint64_t most = 0;
  for (int k = 0; k < 2; ++k) {
    const std::uint64_t count = total / 2 + (static_cast<std::uint64_t>(k) < total % 2 ? 1 : 0);
    most = std::max(most, count);
    std::vector<std::string> argv{self_,          "publish",
                                  "--url",        broker.url(),
                                  "--user",       "kaoko",
                                  "--password",   password,
                                  "--client-id",  fmt::format("bench-{}-pub{}", tag, k),
                                  "--control",    control_path_,
                                  "--slot",       std::to_string(k),
                                  "--topics",     o.net.topics_file,
                                  "--publishers", "2",
                                  "--index",      std::to_string(k),
                                  "--count",      std::to_string(count),
                                  "--rate",       fmt::format("{}", rate / 2),
                                  "--first-seq",  std::to_string(next_seq),
                                  "--window",     "500"};
    out.push_back(std::make_unique<Process>(argv, fmt::format("{}/{}-pub{}.log", dir, tag, k)));
  }
  const auto share = static_cast<std::uint64_t>(std::max(stations / 2, 1));  // the smaller publisher's station count
  next_seq += (most + share - 1) / share + 1;
  return out;
}

std::unique_ptr<Process> Runner::StartCounter(const std::string& tag, const std::string& latency_out) {
  std::vector<std::string> argv{self_,         "count-subscriber",
                                "--url",       broker.url(),
                                "--user",      "kaoko",
                                "--password",  password,
                                "--client-id", fmt::format("bench-{}-counter", tag),
                                "--control",   control_path_,
                                "--slot",      std::to_string(kCounterSlot),
                                "--filter",    fmt::format("kaoko/v1/{}/+/station/+/reading", o.net.tambon)};
  if (!latency_out.empty()) {
    argv.push_back("--latency-out");
    argv.push_back(latency_out);
  }
  return std::make_unique<Process>(argv, fmt::format("{}/{}-counter.log", dir, tag));
}

namespace {
std::atomic<int> g_interrupted{0};
extern "C" void OnSignal(int sig) { g_interrupted = sig; }
}  // namespace

void StopOnSignals() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

void Runner::Check(const Children& children) {
  if (g_interrupted) throw std::runtime_error(fmt::format("interrupted by signal {}", g_interrupted.load()));
  for (size_t i = 0; i < std::size(control->slots); ++i) {
    if (control->slots[i].failed) {
      std::string logs;
      for (const auto& c : children) logs += c->Log();
      throw std::runtime_error(fmt::format("a bench client (slot {}) failed:\n{}", i, logs));
    }
  }
}

void Runner::WaitReady(const Children& children, const std::vector<int>& slots) {
  auto all = [&] {
    return std::all_of(slots.begin(), slots.end(), [&](int s) { return control->slots[s].ready.load() == 1; });
  };
  bool ok = testing::WaitFor(
      [&] {
        Check(children);
        return all();
      },
      60s);
  if (!ok) {
    std::string logs;
    for (const auto& c : children) logs += c->Log();
    throw std::runtime_error("bench clients did not connect within 60 s:\n" + logs);
  }
}

std::int64_t Runner::Go() {
  const std::int64_t t = MonotonicNs();
  control->go = 1;
  return t;
}

std::uint64_t Runner::Sent() const { return control->slots[0].sent + control->slots[1].sent; }
std::uint64_t Runner::Acked() const { return control->slots[0].acked + control->slots[1].acked; }
bool Runner::PublishersDone() const { return control->slots[0].done && control->slots[1].done; }
std::int64_t Runner::PublishersLastNs() const {
  return std::max(control->slots[0].last_ns.load(), control->slots[1].last_ns.load());
}

void Runner::Finish(Children& children) {
  control->stop = 1;
  for (auto& c : children) {
    if (!testing::WaitFor([&] { return !c->running(); }, 30s)) c->Kill(SIGKILL);
    c->Wait();
  }
  children.clear();
  control->go = 0;
  control->stop = 0;
  for (auto& s : control->slots) {
    s.sent = 0;
    s.acked = 0;
    s.received = 0;
    s.first_ns = 0;
    s.last_ns = 0;
    s.ready = 0;
    s.done = 0;
    s.failed = 0;
  }
}

std::unique_ptr<mqtt::async_client> Runner::Connect(const std::string& user, const std::string& pw,
                                                    const std::string& client_id, bool clean) {
  auto c = std::make_unique<mqtt::async_client>(broker.url(), client_id,
                                                mqtt::create_options(MQTTVERSION_3_1_1, 100000), nullptr);
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

void Runner::ClearSession(const std::string& client_id) {
  auto c = Connect("kaoko", password, client_id, true);
  c->disconnect()->wait();
}

// ================================================================ alert latency probes

AlertProbes::AlertProbes(Runner& r) : r_(r) {
  tao_ = r_.Connect(r_.o.net.tao, r_.broker.Password(r_.o.net.tao), "bench-tao-sub");
  tao_->set_message_callback([this](mqtt::const_message_ptr m) {
    const std::int64_t now = MonotonicNs();
    if (m->is_retained()) return;
    auto j = nlohmann::json::parse(m->get_payload_str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("level", "") != "watch") return;
    const auto& inc = j["incident"];
    std::lock_guard lock(arrivals_.mu);
    arrivals_.at.emplace(j.value("village", ""),
                         std::make_pair(now, inc.is_number_integer() ? inc.get<std::int64_t>() : 0));
  });
  tao_->subscribe(fmt::format("kaoko/v1/{}/+/alert", r_.o.net.tambon), 1)->wait();
  probe_ = r_.Connect("kaoko", r_.password, "bench-probe");
}

AlertProbes::~AlertProbes() {
  try {
    Disconnect();
  } catch (const std::exception&) {  // the broker may be gone already
  }
}

void AlertProbes::Disconnect() {
  if (tao_ && tao_->is_connected()) tao_->disconnect()->wait();
  if (probe_ && probe_->is_connected()) probe_->disconnect()->wait();
}

// The TAO officer ends each probe's incident as soon as its alert has arrived (all_clear), so that only a few
// are open at once: the tambon's CAP document lists every open incident in one retained message.
void AlertProbes::CloseArrived() {
  auto& a = arrivals_;
  std::vector<std::pair<std::string, std::int64_t>> todo;
  {
    std::lock_guard lock(a.mu);
    for (const auto& [village, v] : a.at) {
      if (v.second > 0 && a.closed.insert(village).second) todo.emplace_back(village, v.second);
    }
  }
  for (const auto& [village, incident] : todo) {
    const std::string d =
        fmt::format(R"({{"id":"bench-{}","ts":"{}","incident":{},"action":"all_clear","note":"bench probe"}})", village,
                    Rfc3339Micros(RealtimeNs()), incident);
    tao_->publish(fmt::format("kaoko/v1/{}/{}/decision/{}", r_.o.net.tambon, village, r_.o.net.tao), d.data(), d.size(),
                  1, false);
  }
}

Lat AlertProbes::Run(double rate, int seconds) {
  const Options& o = r_.o;
  if (seconds <= 0) seconds = o.latency_seconds;
  auto& a = arrivals_;
  Lat l;
  l.rate = rate;
  const auto n = static_cast<std::uint64_t>(rate * seconds);
  auto c = r_.StartPublishers("latency", n, rate);
  r_.WaitReady(c, {0, 1});
  const int probes = seconds * o.probe_rate;
  if (next_probe + probes > o.net.probes) throw std::runtime_error("not enough probe villages in the network");
  std::map<std::string, std::int64_t> sent;
  const std::int64_t t0 = r_.Go();
  for (int i = 0; i < probes; ++i) {
    const int p = next_probe++;
    const auto due = t0 + static_cast<std::int64_t>((i + 0.5) * 1e9 / o.probe_rate);
    const auto now = MonotonicNs();
    if (now < due) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    r_.Check(c);
    const std::string topic = ProbeTopic(o.net, p);
    // Two readings over `watch` (the persistence rule), a minute apart in the station's own time (the engine
    // evaluates a station's readings in ts order), the second one now.
    for (int s = 1; s <= 2; ++s) {
      const std::int64_t ts = RealtimeNs() - (s == 1 ? 60'000'000'000LL : 0);
      const std::string payload = fmt::format(
          R"({{"seq":{},"ts":"{}","level_cm":250.0,"rain_mm":0.0,"battery_v":3.91}})", s, Rfc3339Micros(ts));
      const std::int64_t at = MonotonicNs();
      auto tok = probe_->publish(topic, payload.data(), payload.size(), 1, false);
      if (s == 2) sent[ProbeVillage(p)] = at;
      tok->wait();
    }
    CloseArrived();
  }
  testing::WaitFor(
      [&] {
        r_.Check(c);
        CloseArrived();
        return r_.PublishersDone();
      },
      std::chrono::seconds(seconds * 3 + 30));
  testing::WaitFor(
      [&] {
        CloseArrived();
        std::lock_guard lock(a.mu);
        return std::all_of(sent.begin(), sent.end(), [&](auto& s) { return a.at.count(s.first) > 0; });
      },
      15s);
  CloseArrived();
  l.load_sent = r_.Acked();
  r_.Finish(c);
  std::vector<double> v;
  {
    std::lock_guard lock(a.mu);
    for (const auto& [village, t] : sent) {
      auto it = a.at.find(village);
      if (it == a.at.end())
        ++l.missing;
      else {
        v.push_back(static_cast<double>(it->second.first - t) / 1e6);
        l.probes.emplace_back(t, it->second.first);
      }
    }
  }
  l.sent = sent.size();
  l.s = SpreadOf(v);
  return l;
}

std::string WhereTimeWent(const std::vector<std::pair<std::int64_t, std::int64_t>>& probes, const std::string& trace) {
  struct Line {
    std::int64_t arrived = 0, published = 0;
    double queued = 0, evaluated = 0, saved = 0, committed = 0, handed = 0;
  };
  std::vector<Line> lines;
  std::ifstream in(trace);
  for (std::string text; std::getline(in, text);) {
    std::map<std::string, double> f;
    std::istringstream words(text);
    for (std::string w; words >> w;) {
      auto eq = w.find('=');
      if (eq != std::string::npos) f[w.substr(0, eq)] = std::stod(w.substr(eq + 1));
    }
    lines.push_back({static_cast<std::int64_t>(f["arrived_ns"]), static_cast<std::int64_t>(f["published_ns"]),
                     f["queued_us"] / 1e3, (f["handle_us"] + f["advance_us"]) / 1e3, f["save_us"] / 1e3,
                     f["commit_us"] / 1e3, f["publish_us"] / 1e3});
  }
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.arrived < b.arrived; });
  std::vector<double> to_kaoko, queued, evaluated, saved, committed, handed, to_officer, to_disk;
  for (const auto& [sent, arrival] : probes) {
    auto it =
        std::lower_bound(lines.begin(), lines.end(), sent, [](const Line& l, std::int64_t t) { return l.arrived < t; });
    if (it == lines.end() || it->published > arrival) continue;  // not this probe's line
    to_kaoko.push_back(static_cast<double>(it->arrived - sent) / 1e6);
    queued.push_back(it->queued);
    evaluated.push_back(it->evaluated);
    saved.push_back(it->saved);
    committed.push_back(it->committed);
    handed.push_back(it->handed);
    to_officer.push_back(static_cast<double>(arrival - it->published) / 1e6);
    // The peer's own measure: from the publish to the reading stored (here on disk, fsync included).
    to_disk.push_back(to_kaoko.back() + it->queued + it->evaluated + it->saved + it->committed);
  }
  if (to_kaoko.empty()) return "no alert trace";
  auto q = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return fmt::format("{:.2f} / {:.2f}", v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 9 / 10)]);
  };
  std::sort(to_disk.begin(), to_disk.end());
  return fmt::format(
      "publish → kaoko {}; in kaoko: queued {}, evaluated {}, engine state written {}, committed "
      "(fsync) {}, handed to MQTT {}; kaoko → officer {} ({} of {} probes traced). Publish → the "
      "reading that raised the alert committed (the peer's measure, with an fsync), p50 / p99 / max: "
      "{:.2f} / {:.2f} / {:.2f}",
      q(to_kaoko), q(queued), q(evaluated), q(saved), q(committed), q(handed), q(to_officer), to_kaoko.size(),
      probes.size(), to_disk[to_disk.size() / 2], to_disk[std::min(to_disk.size() - 1, to_disk.size() * 99 / 100)],
      to_disk.back());
}

}  // namespace kaoko::bench
