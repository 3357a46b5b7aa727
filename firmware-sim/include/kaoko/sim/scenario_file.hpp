// Reading scenario files (TOML, firmware-sim/scenarios/*.toml). Every problem is reported as
// "<file>:<line>:<column>: <what is wrong>", like the network loader; unknown keys are errors.
#pragma once

#include <string>
#include <string_view>

#include "kaoko/contract/result.hpp"
#include "kaoko/sim/scenario.hpp"

namespace kaoko::sim {

// Reads and validates a scenario file. Never throws. Thread-safe.
Result<Scenario> LoadScenario(const std::string& path);
// The same from text in memory; `name` is used in error messages. Never throws. Thread-safe.
Result<Scenario> ParseScenario(std::string_view text, const std::string& name);

}  // namespace kaoko::sim
