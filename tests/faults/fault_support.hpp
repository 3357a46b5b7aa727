// Helpers for the fault suite (tests/faults): what every fault test needs around the real processes that
// kaoko::testsupport starts — the simulator's command line, a read-only view of kaoko's database, the exactly-once
// comparison of what the stations produced with what kaoko stored, the acks seen on the broker, /metrics, the
// service's memory, a tmpfs that can be filled, and the request/answer protocol of kaoko-sim's --outage-hook.
//
// Nothing here sleeps and hopes: every wait is testing::WaitFor on a condition with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "flood_support.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

namespace kaoko::store {
class Store;
}

namespace kaoko::faults {

using Key = std::pair<std::string, std::uint64_t>;  // (station, seq)

// KAOKO_FAULTS_LONG=1 (or any non-empty value but 0): the longer variants (see docs/faults.md).
bool LongRun();

void WriteText(const std::string& path, const std::string& text);

// A scenario's sub-catchment of the hills (huaiphan) with quick, high runoff: its rain reaches the river within the
// hour.
inline constexpr const char* kFastHills =
    "[catchments.huaiphan]\nnash_n = 2\nnash_k_hours = 0.5\nrunoff_coefficient = 0.75\n\n";
std::string TonHong();  // config/tonhong.toml of the source tree

// kaoko-sim's command line with what every fault test wants: the given network and scenario, the rehearsal clock
// (--start/--speed, --anchor-start unless `anchor` is false), no watchers or responders unless asked, a produced log,
// --exit-when-drained, --progress lines. `extra` is appended.
struct SimSpec {
  std::string network = TonHong();
  std::string scenario;
  std::string broker_url;
  std::string state_dir;
  std::string produced_log;
  std::string speed = "600";
  std::string start;
  bool anchor = true;
  std::string ack_timeout = "1";  // real seconds: resend quickly after a fault
  std::string drain_timeout = "90";
  std::vector<std::string> extra;
};
std::vector<std::string> SimArgs(const SimSpec& spec);

// An RFC 3339 time `back` before the wall clock, in whole seconds: a rehearsal origin for a simulator that runs WITHOUT
// --anchor-start. Such a simulator starts its clock at the origin when its links are up, so it trails kaoko's clock
// (never ahead of it, where kaoko would refuse its readings as future_ts) by at least back × scale.
std::string PastOrigin(std::chrono::seconds back);

// The simulated time (ms since the epoch) kaoko-server's rehearsal clock shows right now: origin + (wall − origin) ×
// scale, exactly the server's rule (server/app/src/service.cpp).
std::int64_t RehearsalNowMs(std::int64_t origin_ms, double scale);
// The wall-clock moment at which that clock shows `sim_ms`.
std::chrono::system_clock::time_point WallAt(std::int64_t sim_ms, std::int64_t origin_ms, double scale);

// kaoko's database file opened read-only (a second connection, as the HTTP API has): it sees every commit.
class Db {
 public:
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  std::int64_t Int(const std::string& sql);  // the first column of the first row (0 when no row)
  std::int64_t Readings() { return Int("SELECT COUNT(*) FROM readings"); }
  std::set<Key> StoredKeys();
  std::string IntegrityCheck();  // "ok" when PRAGMA integrity_check finds nothing
  // Rows of `readings` whose station id has no row in `stations` (they would be invisible to every query by name).
  std::int64_t Orphans() { return Int("SELECT COUNT(*) FROM readings WHERE station NOT IN (SELECT id FROM stations)"); }
  struct TimelineEntry {
    std::int64_t incident = 0;
    std::int64_t ts = 0;
    std::string kind;
    std::string text_en;
  };
  std::vector<TimelineEntry> Timeline(const std::string& kind = "");
  struct OpenIncident {
    std::int64_t id = 0;
    std::string village;
    std::string stage;
    std::optional<std::int64_t> deadline;  // the engine's stage_deadline, ms
  };
  std::vector<OpenIncident> OpenIncidents();

 private:
  std::unique_ptr<store::Store> store_;
};

// Every produced reading stored exactly once, at its own time and level, and nothing stored that was not produced.
struct Ledger {
  std::size_t produced = 0;  // readings in the produced log
  std::size_t stored = 0;    // rows in `readings`
  std::size_t stations = 0;
  std::vector<std::string> problems;  // the first few, one line each; empty when all is well
  std::size_t problem_count = 0;
  std::string Summary() const;
};
// `others`: stations the test itself played (not in the produced log), whose rows are checked by the test.
Ledger CompareExactlyOnce(const std::string& produced_log, const std::string& db_path,
                          const std::set<std::string>& others = {});

// The seqs kaoko acknowledged, as seen by a subscriber to every station's ack topic (the service's own account reads
// everything). Acks are sent only after the commit, so every key here must already be in the database.
class AckRecorder {
 public:
  AckRecorder(const testing::Broker& broker, const std::string& tambon = "tonhong");
  std::set<Key> Acked() const;
  std::size_t Messages() const { return client_->Count(); }
  bool connected() const { return client_->connected(); }

 private:
  std::unique_ptr<testing::MqttClient> client_;
};
// Keys in `acked` that are not in `stored` (at most `limit`, as "station seq").
std::vector<std::string> Missing(const std::set<Key>& acked, const std::set<Key>& stored, std::size_t limit = 10);

// One sample of /metrics: the value of the series written exactly as `series` (name and labels), 0 when absent.
double Metric(const std::string& metrics_text, const std::string& series);
double Metric(const testing::ServiceProcess& service, const std::string& series);

// The MQTT client ids connected to the broker now, according to its log (connection_messages) since it last started:
// those that completed a CONNECT and have not disconnected since.
std::set<std::string> ConnectedClients(const testing::Broker& broker);
// How many of them start with `prefix` (kaoko-sim's links are "kaoko-sim-<station>").
std::size_t ConnectedClients(const testing::Broker& broker, const std::string& prefix);

// Resident memory of a process in KiB (/proc/<pid>/status VmRSS); 0 when unknown.
long RssKiB(pid_t pid);

// The last line of the simulator's log that contains `prefix` (e.g. its summary lines).
std::string LogLine(const std::string& log, const std::string& prefix);
// A number that follows `label` in `line` ("losses 12," → 12 for label "losses "); -1 when absent.
long long NumberAfter(const std::string& line, const std::string& label);

// A tmpfs of `bytes` mounted on `dir` (created if missing) for the life of the object; unmounted at destruction.
// Throws std::runtime_error with a clear message when mounting is not permitted: CI runs as root, so the disk-full
// test fails rather than skips.
class Tmpfs {
 public:
  Tmpfs(std::string dir, std::size_t bytes);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  const std::string& dir() const { return dir_; }
  // Bytes still free for an unprivileged writer (statvfs f_bavail).
  std::uint64_t FreeBytes() const;

 private:
  std::string dir_;
};

// Fills a filesystem with one file until write() says ENOSPC (down to single bytes); Free() deletes it.
class DiskFiller {
 public:
  explicit DiskFiller(std::string path) : path_(std::move(path)) {}
  ~DiskFiller();
  std::uint64_t Fill();  // the bytes written
  void Free();
  bool filled() const { return filled_; }

 private:
  std::string path_;
  bool filled_ = false;
};

// kaoko-sim's --outage-hook, answered by the test: the hook script (written into `dir`) numbers each call, drops a
// request file "hook-<n>-<edge>-<what>.request" and waits (up to 60 s) for "hook-<n>-….done". The simulator runs the
// hook synchronously, so the test acts at exactly the simulated moment of each window edge.
class OutageHook {
 public:
  explicit OutageHook(std::string dir);
  const std::string& path() const { return script_; }
  struct Request {
    int n = 0;
    std::string edge;  // "begin" | "end"
    std::string what;  // "broker"
    std::string file;
  };
  std::optional<Request> Next();  // the next unanswered request, in order, if it is there
  void Answer(const Request& r);  // lets the simulator go on
  int answered() const { return answered_; }

 private:
  std::string dir_;
  std::string script_;
  int answered_ = 0;
};

// [[outages]] blocks for a scenario: `count` windows of `down_h` simulated hours starting at `first_h`, `period_h`
// apart.
std::string OutageBlocks(int count, double first_h, double period_h, double down_h);

}  // namespace kaoko::faults
