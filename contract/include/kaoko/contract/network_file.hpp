// Loading the network file (TOML) that describes one tambon into the alerting library's Network model, with every
// problem reported as "<file>:<line>:<column>: <what is wrong>" so that a TAO officer can fix it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::config {

// True for a contract identifier: 1–32 characters of a-z 0-9 '-'. Thread-safe.
bool IsIdentifier(std::string_view text);

// Why `id` cannot be a station, person or device id, or nullopt when it can. Those ids are broker user names at the
// TAO's broker (kaoko-admin writes one account each), where the service ('kaoko') and the bridges from the edge boxes
// ('edge-<village>') have theirs, and node names in the tier topics ('province'); two accounts of one name make a
// password file that kaoko-admin and Mosquitto refuse (docs/tiers.md). Thread-safe.
std::optional<std::string> ReservedId(std::string_view id);

// Reads and validates a network file. Returns the network, or an error whose reason names the file, the line and
// what is wrong (unknown keys are errors too: a typo must not silently fall back to a default). Never throws.
// Thread-safe.
Result<alerting::Network> LoadNetwork(const std::string& path);

// The same from text already in memory; `name` is used in error messages. Never throws. Thread-safe.
Result<alerting::Network> ParseNetwork(std::string_view text, const std::string& name);

}  // namespace kaoko::config
