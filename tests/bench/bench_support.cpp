#include "bench_support.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kaoko::bench {

Control* MapControl(const std::string& path, bool create) {
  int fd = ::open(path.c_str(), create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (create && ::ftruncate(fd, sizeof(Control)) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot size {}: {}", path, std::strerror(errno)));
  }
  void* p = ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw std::runtime_error(fmt::format("cannot map {}: {}", path, std::strerror(errno)));
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free);
  return static_cast<Control*>(p);  // a zero-filled file is a valid Control: every atomic starts at 0
}

std::string ProbeVillage(int k) { return fmt::format("p{:04}", k); }
std::string ProbeStation(int k) { return fmt::format("ps{:04}", k); }
std::string ProbeTopic(const Network& n, int k) {
  return fmt::format("kaoko/v1/{}/{}/station/{}/reading", n.tambon, ProbeVillage(k), ProbeStation(k));
}

void WriteNetworkToml(int stations, const std::string& path) {
  std::string out;
  out.reserve(static_cast<size_t>(stations) * 130);
  out += fmt::format(
      "# kaoko-bench network: {} stations, 2 per village.\n"
      "[tambon]\nid = \"bench\"\nname_th = \"ตำบลทดสอบ\"\nname_en = \"Bench\"\n\n",
      stations);
  const int villages = (stations + 1) / 2;
  for (int v = 0; v < villages; ++v) {
    out += fmt::format(
        "[[villages]]\nid = \"v{:05}\"\nname_th = \"หมู่ {}\"\nname_en = \"Village {}\"\n"
        "travel_to_next_minutes = 30\n",
        v, v, v);
  }
  for (int i = 0; i < stations; ++i) {
    out += fmt::format(
        "[[stations]]\nid = \"s{:06}\"\nvillage = \"v{:05}\"\nname_th = \"สถานี\"\nname_en = \"S\"\n"
        "watch = 200\nwarning = 300\ncritical = 400\n",
        i, i / 2);
  }
  out += "[[people]]\nid = \"bench-tao\"\nname_th = \"เจ้าหน้าที่\"\nrole = \"tao\"\n";
  std::ofstream(path, std::ios::binary) << out;
}

void AppendProbes(int probes, const std::string& path) {
  std::string out =
      fmt::format("\n# kaoko-bench: {} probe villages for the latency probes, after the others.\n", probes);
  for (int k = 0; k < probes; ++k) {
    out += fmt::format(
        "[[villages]]\nid = \"{}\"\nname_th = \"หมู่ทดสอบ {}\"\nname_en = \"Probe {}\"\n"
        "travel_to_next_minutes = 30\n\n",
        ProbeVillage(k), k, k);
  }
  for (int k = 0; k < probes; ++k) {
    out += fmt::format(
        "[[stations]]\nid = \"{}\"\nvillage = \"{}\"\nname_th = \"สถานีทดสอบ\"\nname_en = \"Probe\"\n"
        "watch = 200\nwarning = 300\ncritical = 400\n\n",
        ProbeStation(k), ProbeVillage(k));
  }
  std::ofstream(path, std::ios::binary | std::ios::app) << out;
}

void WriteAccountsToml(const Network& n, const std::string& path) {
  std::string out = fmt::format(
      "# kaoko-bench: the broker's accounts (kaoko and the TAO officer) for tambon {0}.\n"
      "[tambon]\nid = \"{0}\"\nname_th = \"ตำบลทดสอบ\"\nname_en = \"Bench\"\n\n"
      "[[villages]]\nid = \"{1}\"\nname_th = \"หมู่ทดสอบ 0\"\nname_en = \"Probe 0\"\ntravel_to_next_minutes = 0\n\n"
      "[[stations]]\nid = \"{2}\"\nvillage = \"{1}\"\nname_th = \"สถานีทดสอบ\"\nname_en = \"Probe\"\n"
      "watch = 200\nwarning = 300\ncritical = 400\n\n"
      "[[people]]\nid = \"{3}\"\nname_th = \"เจ้าหน้าที่\"\nrole = \"tao\"\n",
      n.tambon, ProbeVillage(0), ProbeStation(0), n.tao);
  std::ofstream(path, std::ios::binary) << out;
}

std::int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string Rfc3339Micros(std::int64_t ns) {
  // The date and time of day change once a second: formatted once per second per thread.
  thread_local std::int64_t cached_sec = -1;
  thread_local char prefix[32];
  std::int64_t sec = ns / 1'000'000'000;
  if (sec != cached_sec) {
    time_t t = static_cast<time_t>(sec);
    tm u{};
    gmtime_r(&t, &u);
    std::strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &u);
    cached_sec = sec;
  }
  return fmt::format("{}.{:06}Z", prefix, (ns % 1'000'000'000) / 1000);
}

std::int64_t ParseRfc3339Ns(const char* s, size_t n) {
  if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return -1;
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  tm u{};
  u.tm_year = num(0, 4) - 1900;
  u.tm_mon = num(5, 2) - 1;
  u.tm_mday = num(8, 2);
  u.tm_hour = num(11, 2);
  u.tm_min = num(14, 2);
  u.tm_sec = num(17, 2);
  std::int64_t frac = 0;
  size_t pos = 19;
  if (pos < n && s[pos] == '.') {
    std::int64_t scale = 100'000'000;
    for (++pos; pos < n && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos >= n || s[pos] != 'Z') return -1;
  return static_cast<std::int64_t>(timegm(&u)) * 1'000'000'000 + frac;
}

namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

double CpuSeconds(pid_t pid) {
  std::string stat = ReadAll(fmt::format("/proc/{}/stat", pid));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; rest >> field;) f.push_back(field);
  if (f.size() < 13) return -1;
  // After "pid (comm) ": state is f[0]; utime and stime are fields 14 and 15 of the whole line → f[11], f[12].
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double RssMiB(pid_t pid, const char* field) {
  std::istringstream in(ReadAll(fmt::format("/proc/{}/status", pid)));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::strlen(field))) / 1024.0;  // kB → MiB
  }
  return -1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of all values at or below it.
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

Spread SpreadOf(const std::vector<double>& v) {
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  s.p50 = Percentile(v, 0.5);
  s.p99 = Percentile(v, 0.99);
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

}  // namespace kaoko::bench
