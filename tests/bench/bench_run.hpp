// The orchestrator's side of kaoko-bench and kaoko-delivery-bench (bench_run.cpp): options, the Runner that starts the
// publisher and counting-subscriber processes (modes of the same executable) against the private broker and watches
// them through the control block, and the alert latency probes.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench_support.hpp"
#include "kaoko/testing/harness.hpp"

namespace mqtt {
class async_client;
}

namespace kaoko::bench {

struct Options {
  Network net;                              // --stations (load stations); probe villages are sized from the phases
  std::uint64_t readings = 300000;          // --readings: broker ceiling and kaoko's sustained run
  std::uint64_t peer_readings = 150000;     // --peer-readings: the Node-RED peer's throughput run
  int latency_seconds = 20;                 // --latency-seconds: each latency phase
  int probe_rate = 20;                      // --probe-rate: latency probes per second
  double target_rate = 15000;               // --target-rate: 150,000 stations × one reading per 10 s
  int rate_seconds = 60;                    // --rate-seconds: the rate-limited run at target_rate
  int hold = 600;                           // --hold: seconds at 0.8 of the broker's ceiling (0: none)
  bool peer = true;                         // --no-peer: skip Node-RED
  std::string peer_dir;                     // --peer-dir: where node_modules (node-red, better-sqlite3) is
  std::uint64_t peer_full_readings = 3000;  // --peer-full-readings: the peer again with synchronous=FULL (0: not)
  std::string record;                       // --record FILE: write the table between the bench markers of FILE
  bool quick = false;
  std::string network_file;  // --network FILE: use this network file instead of generating one
  std::string keep;          // --keep DIR: copy the last run's database and the network there (a diagnosis)
  std::uint64_t startup_history = 100'000'000;  // --startup-history: readings stored before start-up is timed (0: not)
  std::string peer_stations;  // the stations and thresholds as JSON for the peer (written by the orchestrator)
};

class Runner {
 public:
  using Children = std::vector<std::unique_ptr<testing::Process>>;
  static constexpr int kCounterSlot = 2;

  Runner(const Options& options, std::string dir, testing::Broker& broker);

  const Options& o;
  const std::string dir;
  testing::Broker& broker;
  const std::string password;  // of the service account "kaoko", which may publish every reading topic
  Control* control = nullptr;
  std::uint64_t next_seq = 1;  // seq of the next round of load readings (every station's seq keeps increasing)

  // Two publisher processes (slots 0 and 1) sharing `total` readings and `rate` (0: as fast as they can) over
  // every load station. They connect and wait for Go().
  Children StartPublishers(const std::string& tag, std::uint64_t total, double rate);
  // The counting subscriber (slot kCounterSlot) on every reading topic; with `latency_out`, it also times them.
  std::unique_ptr<testing::Process> StartCounter(const std::string& tag, const std::string& latency_out = "");
  // Waits until every child is connected (and subscribed); throws with a child's log when one fails.
  void WaitReady(const Children& children, const std::vector<int>& slots);
  std::int64_t Go();            // lets them start; the moment (MonotonicNs) it did
  std::uint64_t Sent() const;   // publish calls so far, both publishers
  std::uint64_t Acked() const;  // PUBACKs so far, both publishers
  bool PublishersDone() const;
  std::int64_t PublishersLastNs() const;
  // Sets `stop`, waits for every child to exit and clears the control block for the next phase.
  void Finish(Children& children);

  std::unique_ptr<mqtt::async_client> Connect(const std::string& user, const std::string& password,
                                              const std::string& client_id, bool clean = true);
  // Removes a persistent session from the broker (connects with its client id and a clean session), so that the
  // broker stops queueing readings for a subscriber that is gone.
  void ClearSession(const std::string& client_id);
  void Check(const Children& children);  // throws when a child failed or exited early

 private:
  std::string control_path_;
  std::string self_;
};

// Ctrl-C or a TERM makes the next Runner::Check throw, so that every child is stopped on the way out.
void StopOnSignals();

// ---------------------------------------------------------------- alert latency
// One latency phase: each probe's reading publish → its alert at the TAO officer's subscriber.
struct Lat {
  double rate = 0;
  Spread s;
  std::string inside;  // kaoko's own share: its histogram's p50 / p99 bucket over the run
  size_t sent = 0, missing = 0;
  std::uint64_t load_sent = 0;                                // background readings
  std::vector<std::pair<std::int64_t, std::int64_t>> probes;  // each probe's publish and its alert's arrival (ns)
  std::string where;  // where the time went (WhereTimeWent), from kaoko's alert trace
};

// Alerts seen by the TAO officer's subscription: village → (arrival, incident).
struct Arrivals {
  std::mutex mu;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> at;
  std::set<std::string> closed;
};

// The latency probes against a running kaoko-server: the TAO officer (o.net.tao) subscribes to every village's alert
// and a probe publisher uses the service account. Each probe village (ProbeVillage) is used once.
class AlertProbes {
 public:
  explicit AlertProbes(Runner& r);
  ~AlertProbes();
  AlertProbes(const AlertProbes&) = delete;
  AlertProbes& operator=(const AlertProbes&) = delete;

  // `rate` load readings/s from the publishers for `seconds` (0: o.latency_seconds) while o.probe_rate probes/s each
  // raise a watch alert in a probe village of their own; the officer ends each probe's incident as soon as its alert
  // arrived.
  Lat Run(double rate, int seconds = 0);
  void Disconnect();
  int next_probe = 0;  // the next unused probe village

 private:
  // The TAO officer ends each arrived probe's incident (all_clear), so that only a few are open at once: the
  // tambon's CAP document lists every open incident in one retained message.
  void CloseArrived();

  Runner& r_;
  Arrivals arrivals_;
  std::unique_ptr<mqtt::async_client> tao_, probe_;
};

// Splits each probe's alert latency with kaoko's alert trace (KAOKO_ALERT_TRACE, Core::TraceAlerts), every time on
// the machine's one monotonic clock: the probe's publish → kaoko's arrival; in kaoko, queued, evaluated, the engine's
// state written, committed (fsync), handed to the MQTT link; kaoko's publish → the officer's subscriber. p50 / p90 ms.
std::string WhereTimeWent(const std::vector<std::pair<std::int64_t, std::int64_t>>& probes, const std::string& trace);

template <typename... Args>
void Progress(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stderr, "kaoko-bench: {}\n", fmt::format(f, std::forward<Args>(args)...));
}

// The Node-RED peer (nodered_peer.cpp).
struct PeerResult {
  bool ran = false;
  std::string why_not;   // when it did not run
  std::string versions;  // "Node-RED 4.x.y, better-sqlite3 12.x.y, Node.js v20…"
  double rows_per_s = 0;
  double cpu_us = 0;  // CPU per stored row (node process, all threads)
  std::uint64_t rows = 0;
  double idle_rss_mib = 0;
  double peak_rss_mib = 0;
  double bytes_per_row = 0;
  double full_rows_per_s = 0;  // the same flow with synchronous=FULL
  double full_cpu_us = 0;
  std::uint64_t full_rows = 0;
  Spread store_ms;    // publish → row committed (the flow's own timestamp)
  Spread arrival_ms;  // publish → its "stored" message at a subscriber
  size_t probes_sent = 0;
};
PeerResult RunNodeRedPeer(Runner& r);

}  // namespace kaoko::bench
