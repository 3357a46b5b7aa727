// What the Tier's sources share (tier.hpp says which source holds which role): the Tier's private structs and the
// small JSON readers every role uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kaoko/tiers/tier.hpp"

namespace kaoko::server::tier {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

inline constexpr std::size_t kIncidentsShown = 50;  // the recent tier incidents kept for the API

// A node below that this tier watches (its heartbeats, its journal).
struct Tier::Node {
  std::string tambon;
  std::string tier;
  std::string village;
  std::optional<TimePoint> last_heard;  // this tier's clock
  int interval_s = 60;
  std::optional<std::int64_t> incident;  // open "silent" incident
  bool opening = false;
  json last;  // the last heartbeat
};

// What the core thread's batch did that is carried out once it commits (or dropped when it rolls back).
struct Tier::Pending {
  std::uint64_t appended = 0;
  std::map<std::string, std::pair<std::string, std::string>> acks;  // node → (topic, payload)
  std::vector<std::function<void()>> after;                         // in-memory changes once committed
};

// Parses without throwing: a discarded value for anything malformed.
inline json Parse(std::string_view text) { return json::parse(text.begin(), text.end(), nullptr, false); }

// A string member, or "" when it is missing or not a string.
inline std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::optional<std::int64_t> Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

// The bridge's state as the heartbeat and /api/v1/tiers show it: "unknown" until heard, "up", "down".
inline const char* LinkName(std::optional<bool> link) { return !link ? "unknown" : *link ? "up" : "down"; }

}  // namespace kaoko::server::tier
