// Simulated time on the wire: RFC 3339 in UTC. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kaoko::sim {

using SimTime = std::chrono::sys_seconds;

// "2026-11-27T04:15:00Z".
std::string FormatRfc3339(SimTime t);
// Parses "YYYY-MM-DDTHH:MM[:SS]Z" (also with a space, or without the Z); nullopt when it is not one.
std::optional<SimTime> ParseRfc3339(std::string_view text);

}  // namespace kaoko::sim
