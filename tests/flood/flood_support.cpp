#include "flood_support.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kaoko/contract/wire.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::flood {

std::string SimTool() { return KAOKO_SIM_TOOL; }

std::string StartTime(std::chrono::seconds ahead) {
  auto t = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + ahead;
  return wire::FormatTime(std::chrono::time_point_cast<std::chrono::milliseconds>(t));
}

std::int64_t Ms(const std::string& rfc3339) {
  auto t = wire::ParseTime(rfc3339);
  if (!t) throw std::runtime_error(fmt::format("not an RFC 3339 time: '{}'", rfc3339));
  return t->time_since_epoch().count();
}

std::string ScenarioToml(const std::string& name, const std::string& description, double hours, int seed,
                         double rain_variability, const std::string& rest) {
  return fmt::format(
      "[scenario]\nname = \"{}\"\ndescription = \"{}\"\nduration_hours = {}\nstep_seconds = 60\nseed = {}\n"
      "rain_variability = {}\n\n{}",
      name, description, hours, seed, rain_variability, rest);
}

std::string RainToml(const std::string& hills, const std::string& villages) {
  return fmt::format(
      "[[rain]]\ncatchments = [\"huaiphan\"]\npoints = [{}]\n[[rain]]\n"
      "catchments = [\"kaoko\", \"thonhong\", \"nanuea\", \"pakkhlong\"]\npoints = [{}]\n",
      hills, villages);
}

std::string BrokerOutageToml(double from_hours, double to_hours) {
  return fmt::format("[[outages]]\nwhat = \"broker\"\nfrom_hours = {}\nto_hours = {}\n", from_hours, to_hours);
}

const char* const kOutageHook = R"sh(#!/bin/sh
dir="$(dirname "$0")"
touch "$dir/outage-$1-$2.request"
i=0
while [ ! -e "$dir/outage-$1-$2.done" ]; do
  i=$((i + 1))
  if [ "$i" -gt 1200 ]; then exit 1; fi
  sleep 0.05
done
)sh";

std::string Rfc3339(std::int64_t ms) { return wire::FormatTime(wire::TimePoint(std::chrono::milliseconds(ms))); }

bool WaitForLog(testing::Process& process, const std::string& text, std::chrono::milliseconds timeout) {
  return testing::WaitFor(
      [&] {
        if (process.Log().find(text) != std::string::npos) return true;
        return false;
      },
      timeout);
}

std::map<std::string, std::vector<ReadingRow>> ReadProduced(const std::string& path) {
  std::map<std::string, std::vector<ReadingRow>> out;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the produced log", path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string station;
    ReadingRow row;
    fields >> station >> row.seq;
    std::string payload;
    std::getline(fields >> std::ws, payload);
    if (station.empty()) continue;
    if (payload == "-") {
      row.ts_ms = -1;
    } else {
      auto j = nlohmann::json::parse(payload);
      if (j.at("seq").get<std::uint64_t>() != row.seq) throw std::runtime_error("produced log: seq mismatch: " + line);
      row.ts_ms = Ms(j.at("ts").get<std::string>());
      row.level_cm = j.at("level_cm").get<double>();
    }
    out[station].push_back(row);
  }
  return out;
}

std::map<std::string, std::vector<ReadingRow>> StoredReadings(const std::string& db_path) {
  auto s = store::Store::Open(db_path, {.read_only = true});
  if (!s) throw std::runtime_error(s.error().reason);
  std::map<std::string, std::vector<ReadingRow>> out;
  (*s)->ForEachReading([&](const wire::Reading& r) {
    out[r.station].push_back(ReadingRow{r.seq, r.ts.time_since_epoch().count(), r.level_cm});
  });
  return out;
}

std::vector<std::string> RefusedReadings(const std::string& db_path) {
  auto s = store::Store::Open(db_path, {.read_only = true});
  if (!s) throw std::runtime_error(s.error().reason);
  std::vector<std::string> out;
  for (const auto& r : (*s)->RefusedReadings()) {
    out.push_back(fmt::format("{} {} {}: {}", r.station, r.seq, r.code, r.reason));
  }
  return out;
}

}  // namespace kaoko::flood
