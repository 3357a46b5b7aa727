// Shared by the parts of kaoko-bench: the shared-memory control block through which the orchestrator drives its
// publisher and counting-subscriber processes, the benchmark network's names, /proc readings, small statistics.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace kaoko::bench {

// ---------------------------------------------------------------- the control block
// A file mapped MAP_SHARED by the orchestrator and every child (publisher, counting subscriber): counters are read
// without any message or system call, so watching a child costs it nothing. Zero-filled at creation.
struct Slot {
  std::atomic<std::uint64_t> sent;      // publisher: publish calls made
  std::atomic<std::uint64_t> acked;     // publisher: PUBACKs received
  std::atomic<std::uint64_t> received;  // subscriber: messages received
  std::atomic<std::int64_t> first_ns;   // steady clock (CLOCK_MONOTONIC) of the first publish / receive
  std::atomic<std::int64_t> last_ns;    // steady clock of the last PUBACK / receive
  std::atomic<int> ready;               // connected (and subscribed): waiting for `go`
  std::atomic<int> done;                // finished (publisher: everything acked; subscriber: results written)
  std::atomic<int> failed;              // gave up (see its log)
};

struct Control {
  std::atomic<int> go;    // children start publishing when it becomes 1
  std::atomic<int> stop;  // children stop (subscriber: write results and exit; publisher: stop early)
  Slot slots[8];
};

// Maps `path` (created and zero-filled when `create`). The mapping lives until the process ends.
Control* MapControl(const std::string& path, bool create);

// ---------------------------------------------------------------- the benchmark network
// The load goes round-robin over the network's load stations, whose reading topics are listed in `topics_file` (one a
// line; the publishers read it). Probe villages "p<k>", each with one probe station "ps<k>" (watch 200, warning 300,
// critical 400 cm), are appended to the network file for the latency probes and get no load. Load readings stay at
// 120 cm, below every threshold; probes cross watch with 250 cm.
struct Network {
  std::string tambon = "bench";
  int stations = 150000;    // load stations asked for (the generated file decides the villages)
  int villages = 0;         // load villages, as loaded
  int probes = 0;           // probe villages appended
  std::string tao;          // a TAO officer of the network (the latency probes' subscriber; gives the all-clear)
  std::string topics_file;  // the load stations' reading topics
  std::string generator;    // how the network file was made
};
std::string ProbeVillage(int k);
std::string ProbeStation(int k);
std::string ProbeTopic(const Network& n, int k);
// The project's own generator layout is tests/bench/gen-network.sh; this is the fallback when it is missing: `stations`
// stations two per village ("s<i>" in "v<i/2>"), one TAO officer "bench-tao".
void WriteNetworkToml(int stations, const std::string& path);
// Appends the probe villages and stations to a network file (TOML arrays of tables may be continued anywhere).
void AppendProbes(int probes, const std::string& path);
// A small network of the same tambon for the broker's accounts (the service account kaoko and the TAO officer): the
// load is published with the service account, which may publish every reading topic, so the broker needs no 150,000
// station accounts.
void WriteAccountsToml(const Network& n, const std::string& path);

// ---------------------------------------------------------------- time
std::int64_t MonotonicNs();  // CLOCK_MONOTONIC, the same clock in every process (and Node's process.hrtime)
std::int64_t RealtimeNs();
// RFC 3339 UTC with microseconds, e.g. 2026-11-27T04:15:00.123456Z (the contract allows a fraction).
std::string Rfc3339Micros(std::int64_t realtime_ns);
// Parses what Rfc3339Micros writes (and any RFC 3339 UTC "…Z" with up to 9 fraction digits); -1 when it cannot.
std::int64_t ParseRfc3339Ns(const char* s, size_t n);

// ---------------------------------------------------------------- /proc
double CpuSeconds(pid_t pid);  // utime + stime of the whole process (all threads); -1 when gone
double RssMiB(pid_t pid, const char* field = "VmRSS:");  // or "VmHWM:" (peak)

// ---------------------------------------------------------------- statistics
double Percentile(std::vector<double> v, double p);  // nearest rank; 0 for none
struct Spread {
  double p50 = 0, p99 = 0, max = 0;
  size_t n = 0;
};
Spread SpreadOf(const std::vector<double>& v);

// Modes of the same executable, run as child processes by the orchestrator.
int PublisherMain(int argc, char** argv);
int CountSubscriberMain(int argc, char** argv);

}  // namespace kaoko::bench
