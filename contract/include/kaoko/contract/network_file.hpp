// Loading the network file (TOML) that describes one tambon into the alerting library's Network model, with every
// problem reported as "<file>:<line>:<column>: <what is wrong>" so that a TAO officer can fix it.
#pragma once

#include <string>
#include <string_view>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::config {

// True for a contract identifier: 1–32 characters of a-z 0-9 '-'. Thread-safe.
bool IsIdentifier(std::string_view text);

// Reads and validates a network file. Returns the network, or an error whose reason names the file, the line and
// what is wrong (unknown keys are errors too: a typo must not silently fall back to a default). Never throws.
// Thread-safe.
Result<alerting::Network> LoadNetwork(const std::string& path);

// The same from text already in memory; `name` is used in error messages. Never throws. Thread-safe.
Result<alerting::Network> ParseNetwork(std::string_view text, const std::string& name);

}  // namespace kaoko::config
