// One-line log records to stderr: "2026-11-27T04:15:00.123Z warn ingest: <message>". Thread-safe.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace kaoko::log {

enum class Severity { kDebug, kInfo, kWarn, kError };

void Write(Severity severity, std::string_view component, std::string_view message);
void SetMinimum(Severity severity);

template <typename... Args>
void Info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  Write(Severity::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  Write(Severity::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  Write(Severity::kError, component, fmt::format(f, std::forward<Args>(args)...));
}

// True for the first few occurrences of `key` and then for every power of two, so that a storm of one bad input
// is visible without drowning the log. Thread-safe.
bool ShouldLog(std::string_view key);

}  // namespace kaoko::log
