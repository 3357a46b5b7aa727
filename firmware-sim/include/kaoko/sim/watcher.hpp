// A watcher (ผู้เฝ้าระวัง): a villager who looks at the painted gauge by a station now and then, reads it to 5 cm,
// judges the concern from the station's thresholds, writes a short Thai note, and sends a report some minutes later.
// Now and then one misjudges (seeded). Scenario events add reports whatever the river does (false alarms).
// Pure: simulated time in, report payloads out. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kaoko/alerting/network.hpp"
#include "kaoko/sim/scenario.hpp"
#include "kaoko/sim/time.hpp"

namespace kaoko::sim {

struct WatcherConfig {
  std::string tambon;
  std::string village;
  std::string user;
  alerting::Station station;  // the gauge this watcher reads
  WatcherBehaviour behaviour;
  std::vector<WatcherEvent> events;  // this watcher's scripted reports
};

struct Report {
  SimTime at;      // when it is sent (its ts)
  std::string id;  // "r-0007"
  std::string topic;
  std::string payload;  // contract JSON
  bool scripted = false;
  bool wrong = false;  // the watcher misjudged on purpose of the seed
};

// The Thai note a watcher writes for a concern, trend and landmark, e.g. "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว". Pure.
std::string ThaiNote(alerting::Level concern, const std::string& trend, const std::string& landmark_th);

class Watcher {
 public:
  // `first_id` is the number of the next report id (kept across runs by the owner, so ids stay unique).
  Watcher(WatcherConfig config, std::uint64_t seed, std::uint64_t first_id, SimTime start);
  // Looks at the gauge when it is time, and returns the reports whose sending time has come by `now`.
  std::vector<Report> Advance(SimTime now, double true_level_cm);
  std::uint64_t NextId() const { return next_id_; }
  const WatcherConfig& Config() const { return config_; }

 private:
  Report Make(SimTime at, double level_cm, const std::string& trend, alerting::Level concern, std::string note,
              bool scripted, bool wrong);
  alerting::Level Judge(double level_cm) const;

  WatcherConfig config_;
  std::mt19937_64 rng_;
  std::uint64_t next_id_;
  SimTime start_;
  SimTime next_look_;
  std::optional<std::pair<SimTime, double>> last_look_;
  std::vector<bool> event_done_;
  std::deque<Report> outbox_;  // written, not yet sent (the watcher walks home first)
};

}  // namespace kaoko::sim
