#include "kaoko/common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "kaoko/common/clock.hpp"
#include "kaoko/contract/wire.hpp"

namespace kaoko::log {
namespace {
std::atomic<int> g_minimum{static_cast<int>(Severity::kInfo)};
std::mutex g_mu;
const char* Name(Severity s) {
  switch (s) {
    case Severity::kDebug:
      return "debug";
    case Severity::kInfo:
      return "info";
    case Severity::kWarn:
      return "warn";
    case Severity::kError:
      return "error";
  }
  return "info";
}
}  // namespace

void SetMinimum(Severity severity) { g_minimum = static_cast<int>(severity); }

void Write(Severity severity, std::string_view component, std::string_view message) {
  if (static_cast<int>(severity) < g_minimum) return;
  // The log is stamped with the wall clock, also in a rehearsal: an operator reads it against real time.
  std::string line =
      fmt::format("{} {} {}: {}\n", wire::FormatTime(Clock::Wall().Now()), Name(severity), component, message);
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

bool ShouldLog(std::string_view key) {
  static std::mutex mu;
  static std::map<std::string, std::uint64_t, std::less<>> seen;
  std::lock_guard lock(mu);
  auto it = seen.find(key);
  if (it == seen.end()) it = seen.emplace(std::string(key), 0).first;
  std::uint64_t n = ++it->second;
  return n <= 5 || (n & (n - 1)) == 0;
}

}  // namespace kaoko::log
