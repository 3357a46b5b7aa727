#include "fault_support.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::faults {

bool LongRun() {
  const char* v = std::getenv("KAOKO_FAULTS_LONG");
  return v && *v && std::string(v) != "0";
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string TonHong() { return testing::SourceDir() + "/config/tonhong.toml"; }

std::vector<std::string> SimArgs(const SimSpec& s) {
  std::vector<std::string> a{flood::SimTool(),  "--network",     s.network,     "--scenario",
                             s.scenario,        "--broker",      s.broker_url,  "--state-dir",
                             s.state_dir,       "--speed",       s.speed,       "--start",
                             s.start,           "--ack-timeout", s.ack_timeout, "--exit-when-drained",
                             "--drain-timeout", s.drain_timeout, "--progress",  "lines"};
  if (s.anchor) a.push_back("--anchor-start");
  if (!s.produced_log.empty()) a.insert(a.end(), {"--produced-log", s.produced_log});
  a.insert(a.end(), s.extra.begin(), s.extra.end());
  return a;
}

std::string PastOrigin(std::chrono::seconds back) {
  auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - back;
  return flood::Rfc3339(std::chrono::time_point_cast<std::chrono::milliseconds>(t).time_since_epoch().count());
}

std::int64_t RehearsalNowMs(std::int64_t origin_ms, double scale) {
  auto real = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  double elapsed = static_cast<double>(real.time_since_epoch().count() - origin_ms);
  return origin_ms + static_cast<std::int64_t>(elapsed * scale);
}

std::chrono::system_clock::time_point WallAt(std::int64_t sim_ms, std::int64_t origin_ms, double scale) {
  auto wall_ms = origin_ms + static_cast<std::int64_t>(static_cast<double>(sim_ms - origin_ms) / scale) + 1;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(wall_ms));
}

// ---------------------------------------------------------------- Db

Db::Db(const std::string& path) {
  auto s = store::Store::Open(path, {.read_only = true});
  if (!s) throw std::runtime_error(s.error().reason);
  store_ = std::move(*s);
}

Db::~Db() = default;

std::int64_t Db::Int(const std::string& sql) {
  store::testing::Query q(*store_, sql);
  return q.Step() ? q.Int(0) : 0;
}

std::set<Key> Db::StoredKeys() {
  std::set<Key> out;
  store_->ForEachReading([&](const wire::Reading& r) { out.emplace(r.station, r.seq); });
  return out;
}

std::string Db::IntegrityCheck() {
  store::testing::Query q(*store_, "PRAGMA integrity_check");
  std::string out;
  while (q.Step()) out += (out.empty() ? "" : "; ") + q.Text(0);
  return out;
}

std::vector<Db::TimelineEntry> Db::Timeline(const std::string& kind) {
  std::vector<TimelineEntry> out;
  store::testing::Query q(*store_, kind.empty()
                                       ? "SELECT incident, ts, kind, text_en FROM timeline ORDER BY id"
                                       : "SELECT incident, ts, kind, text_en FROM timeline WHERE kind = ? ORDER BY id");
  if (!kind.empty()) q.Bind(1, kind);
  while (q.Step()) out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Text(3)});
  return out;
}

std::vector<Db::OpenIncident> Db::OpenIncidents() {
  std::vector<OpenIncident> out;
  store::testing::Query q(*store_,
                          "SELECT id, village, stage, json_extract(state, '$.stage_deadline') FROM incidents "
                          "WHERE closed IS NULL ORDER BY id");
  while (q.Step()) {
    OpenIncident i{q.Int(0), q.Text(1), q.Text(2), std::nullopt};
    if (!q.IsNull(3)) i.deadline = q.Int(3);
    out.push_back(std::move(i));
  }
  return out;
}

// ---------------------------------------------------------------- Ledger

std::string Ledger::Summary() const {
  std::string s = fmt::format("{} stations, {} readings produced, {} rows stored, {} problems", stations, produced,
                              stored, problem_count);
  for (const auto& p : problems) s += "\n  " + p;
  if (problem_count > problems.size()) s += fmt::format("\n  … and {} more", problem_count - problems.size());
  return s;
}

Ledger CompareExactlyOnce(const std::string& produced_log, const std::string& db_path,
                          const std::set<std::string>& others) {
  Ledger l;
  auto note = [&](std::string p) {
    ++l.problem_count;
    if (l.problems.size() < 15) l.problems.push_back(std::move(p));
  };
  const auto made = flood::ReadProduced(produced_log);
  const auto stored = flood::StoredReadings(db_path);  // by name: rows of an unknown station id are not seen here
  l.stations = made.size();
  std::size_t others_rows = 0;
  for (const auto& [station, rows] : stored) (others.count(station) ? others_rows : l.stored) += rows.size();
  for (const auto& [station, rows] : made) {
    l.produced += rows.size();
    std::map<std::uint64_t, std::vector<const flood::ReadingRow*>> got;
    if (auto it = stored.find(station); it != stored.end()) {
      for (const auto& r : it->second) got[r.seq].push_back(&r);
    }
    for (const auto& p : rows) {
      if (p.ts_ms < 0) {
        note(fmt::format("{} {}: dropped from the station's full buffer before it could be sent", station, p.seq));
        continue;
      }
      auto it = got.find(p.seq);
      if (it == got.end()) {
        note(fmt::format("{} {}: produced at {} but not stored", station, p.seq, flood::Rfc3339(p.ts_ms)));
        continue;
      }
      if (it->second.size() != 1) note(fmt::format("{} {}: stored {} times", station, p.seq, it->second.size()));
      const auto& s = *it->second.front();
      if (s.ts_ms != p.ts_ms || s.level_cm != p.level_cm) {
        note(fmt::format("{} {}: stored as ts {} level {}, produced as ts {} level {}", station, p.seq,
                         flood::Rfc3339(s.ts_ms), s.level_cm, flood::Rfc3339(p.ts_ms), p.level_cm));
      }
      got.erase(it);
    }
    for (const auto& [seq, rs] : got) note(fmt::format("{} {}: stored but never produced", station, seq));
  }
  for (const auto& [station, rows] : stored) {
    if (!made.count(station) && !others.count(station))
      note(fmt::format("{}: {} rows stored for a station that produced nothing", station, rows.size()));
  }
  Db db(db_path);
  if (auto orphans = db.Orphans(); orphans > 0) {
    note(fmt::format("{} rows in readings belong to a station id missing from `stations`", orphans));
  }
  if (auto all = static_cast<std::size_t>(db.Readings()); all != l.stored + others_rows) {
    note(fmt::format("readings has {} rows, {} of them reachable by station name", all, l.stored + others_rows));
  }
  return l;
}

// ---------------------------------------------------------------- acks

AckRecorder::AckRecorder(const testing::Broker& broker, const std::string& tambon) {
  client_ = std::make_unique<testing::MqttClient>(broker.url(), "kaoko", broker.Password("kaoko"));
  client_->Subscribe(fmt::format("kaoko/v1/{}/+/station/+/ack", tambon));
}

std::set<Key> AckRecorder::Acked() const {
  std::set<Key> out;
  for (const auto& m : client_->Received()) {
    // kaoko/v1/{tambon}/{village}/station/{station}/ack
    auto end = m.topic.rfind('/');
    auto begin = m.topic.rfind('/', end - 1);
    std::string station = m.topic.substr(begin + 1, end - begin - 1);
    auto j = nlohmann::json::parse(m.payload);
    for (const auto& r : j.at("stored")) {
      for (auto s = r.at(0).get<std::uint64_t>(); s <= r.at(1).get<std::uint64_t>(); ++s) out.emplace(station, s);
    }
  }
  return out;
}

std::vector<std::string> Missing(const std::set<Key>& acked, const std::set<Key>& stored, std::size_t limit) {
  std::vector<std::string> out;
  for (const auto& k : acked) {
    if (!stored.count(k)) {
      out.push_back(fmt::format("{} {}", k.first, k.second));
      if (out.size() >= limit) break;
    }
  }
  return out;
}

// ---------------------------------------------------------------- metrics, memory, logs

double Metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

double Metric(const testing::ServiceProcess& service, const std::string& series) {
  return Metric(service.Get("/metrics").body, series);
}

std::set<std::string> ConnectedClients(const testing::Broker& broker) {
  std::ifstream in(broker.log_path());
  std::set<std::string> ids;
  // "… New client connected from 127.0.0.1:59022 as kaoko-sim-huaiphan-weir (p2, c1, k20, u'huaiphan-weir')."
  // "… Client kaoko-sim-x disconnected." / "… Client x closed its connection." / "… Socket error on client x, …"
  auto between = [](const std::string& line, const std::string& before, const std::string& after) -> std::string {
    auto a = line.find(before);
    if (a == std::string::npos) return {};
    a += before.size();
    auto b = line.find(after, a);
    return b == std::string::npos ? std::string() : line.substr(a, b - a);
  };
  for (std::string line; std::getline(in, line);) {
    if (line.find(" running") != std::string::npos && line.find("mosquitto version") != std::string::npos) {
      ids.clear();  // a (re)start: nobody is connected yet
    } else if (auto id = between(line, "New client connected from ", " ("); !id.empty()) {
      ids.insert(id.substr(id.find(" as ") + 4));
    } else if (auto gone = between(line, ": Client ", " disconnected"); !gone.empty()) {
      ids.erase(gone);
    } else if (auto closed = between(line, ": Client ", " closed its connection"); !closed.empty()) {
      ids.erase(closed);
    } else if (auto err = between(line, "Socket error on client ", ", disconnecting"); !err.empty()) {
      ids.erase(err);
    }
  }
  return ids;
}

std::size_t ConnectedClients(const testing::Broker& broker, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& id : ConnectedClients(broker)) n += id.rfind(prefix, 0) == 0;
  return n;
}

long RssKiB(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string LogLine(const std::string& log, const std::string& prefix) {
  auto at = log.rfind(prefix);
  if (at == std::string::npos) return {};
  auto end = log.find('\n', at);
  return log.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

long long NumberAfter(const std::string& line, const std::string& label) {
  auto at = line.find(label);
  if (at == std::string::npos) return -1;
  try {
    return std::stoll(line.substr(at + label.size()));
  } catch (...) {
    return -1;
  }
}

// ---------------------------------------------------------------- tmpfs and a full disk

Tmpfs::Tmpfs(std::string dir, std::size_t bytes) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  std::string options = fmt::format("size={},mode=0755", bytes);
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    int e = errno;
    throw std::runtime_error(fmt::format(
        "the disk-full test needs a small tmpfs: mount -t tmpfs -o {} tmpfs {} failed: {} (euid {}). It runs as root "
        "in CI (CAP_SYS_ADMIN); run it as root, or in a container started with --privileged / --cap-add SYS_ADMIN",
        options, dir_, std::strerror(e), ::geteuid()));
  }
}

Tmpfs::~Tmpfs() {
  if (std::getenv("KAOKO_KEEP_TEST_DIRS")) {  // keep a copy of what was on it, for the post-mortem
    std::error_code ec;
    std::filesystem::copy(dir_, dir_ + ".kept", std::filesystem::copy_options::recursive, ec);
    std::cerr << "kept a copy of the tmpfs " << dir_ << " in " << dir_ << ".kept\n";
  }
  if (::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);  // busy: detach, freed when last closed
}

std::uint64_t Tmpfs::FreeBytes() const {
  struct statvfs s {};
  if (::statvfs(dir_.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

DiskFiller::~DiskFiller() { Free(); }

std::uint64_t DiskFiller::Fill() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", path_, std::strerror(errno)));
  filled_ = true;
  std::vector<char> block(1 << 16, 'x');
  std::uint64_t total = 0;
  for (std::size_t chunk = block.size(); chunk > 0; chunk /= 2) {
    while (true) {
      ssize_t n = ::write(fd, block.data(), chunk);
      if (n > 0) {
        total += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != ENOSPC) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(fmt::format("filling {}: {}", path_, std::strerror(e)));
      }
      break;  // ENOSPC: try a smaller chunk
    }
  }
  ::close(fd);
  return total;
}

void DiskFiller::Free() {
  if (!filled_) return;
  ::unlink(path_.c_str());
  filled_ = false;
}

// ---------------------------------------------------------------- the outage hook

namespace {
constexpr const char* kHookScript = R"sh(#!/bin/sh
# kaoko-sim --outage-hook: ask the fault test (a request file) and wait for its answer (a done file).
dir="$(dirname "$0")"
n=$(cat "$dir/hook.count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/hook.count"
touch "$dir/hook-$n-$1-$2.request"
i=0
while [ ! -e "$dir/hook-$n-$1-$2.done" ]; do
  i=$((i + 1))
  if [ "$i" -gt 3000 ]; then echo "outage hook: no answer to $n $1 $2" >&2; exit 1; fi
  sleep 0.02
done
)sh";
}  // namespace

OutageHook::OutageHook(std::string dir) : dir_(std::move(dir)), script_(dir_ + "/outage-hook.sh") {
  std::filesystem::create_directories(dir_);
  WriteText(script_, kHookScript);
  std::filesystem::permissions(script_, std::filesystem::perms::owner_all);
}

std::optional<OutageHook::Request> OutageHook::Next() {
  const int n = answered_ + 1;
  for (const char* edge : {"begin", "end"}) {
    std::string file = fmt::format("{}/hook-{}-{}-broker.request", dir_, n, edge);
    if (std::filesystem::exists(file)) return Request{n, edge, "broker", file};
  }
  return std::nullopt;
}

void OutageHook::Answer(const Request& r) {
  WriteText(fmt::format("{}/hook-{}-{}-{}.done", dir_, r.n, r.edge, r.what), "");
  answered_ = r.n;
}

std::string OutageBlocks(int count, double first_h, double period_h, double down_h) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    double from = first_h + period_h * i;
    out +=
        fmt::format("\n[[outages]]\nwhat = \"broker\"\nfrom_hours = {:.4f}\nto_hours = {:.4f}\n", from, from + down_h);
  }
  return out;
}

}  // namespace kaoko::faults
