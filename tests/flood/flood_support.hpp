// Helpers shared by the flood integration tests: the kaoko-sim executable, start times for the rehearsal clock, the
// simulator's record of what its stations produced, and what kaoko stored (read-only, from the database file).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kaoko/testing/harness.hpp"

namespace kaoko::flood {

// The kaoko-sim executable of this build.
std::string SimTool();

// An RFC 3339 UTC time `ahead` of the wall clock, in whole seconds: the origin both kaoko-server (--time-origin) and
// kaoko-sim (--start … --anchor-start) run their rehearsal clocks from.
std::string StartTime(std::chrono::seconds ahead);

// Milliseconds since the epoch of an RFC 3339 time (fractions allowed); throws std::runtime_error when malformed.
std::int64_t Ms(const std::string& rfc3339);
std::string Rfc3339(std::int64_t ms);

// A scenario file for these tests: its [scenario] table (one-minute steps), then `rest` (rain, outages, …).
std::string ScenarioToml(const std::string& name, const std::string& description, double hours, int seed,
                         double rain_variability, const std::string& rest);
// Two [[rain]] blocks: on the hills (huaiphan) and on the villages' own catchments, each as [hours, mm/h] points
// written "[0, 12], [0.5, 30]".
std::string RainToml(const std::string& hills, const std::string& villages);
// An [[outages]] entry: the broker is down from `from_hours` to `to_hours` (simulated).
std::string BrokerOutageToml(double from_hours, double to_hours);
// kaoko-sim's --outage-hook for a test that does the outage itself: `hook begin|end broker` leaves a request file
// beside the hook and waits (up to a minute) for the test's done file (tests/flood/outage_test.cpp).
extern const char* const kOutageHook;

// Polls the process's log until it contains `text`; false after `timeout` or when the process has exited without it.
bool WaitForLog(testing::Process& process, const std::string& text, std::chrono::milliseconds timeout);

struct ReadingRow {
  std::uint64_t seq = 0;
  std::int64_t ts_ms = 0;
  double level_cm = 0;
};

// kaoko-sim --produced-log: every reading each station took, in the order taken. A reading the buffer dropped before
// it could be logged has ts_ms = -1.
std::map<std::string, std::vector<ReadingRow>> ReadProduced(const std::string& path);
// The `readings` table, per station in seq order (the database opened read-only).
std::map<std::string, std::vector<ReadingRow>> StoredReadings(const std::string& db_path);
// Rows of `refused_readings` (readings that carried a seq but were refused), as "station seq code: reason".
std::vector<std::string> RefusedReadings(const std::string& db_path);

}  // namespace kaoko::flood
