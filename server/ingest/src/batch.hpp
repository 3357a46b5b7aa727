// What the parts of the ingest room share (private to it): a station's slot, which the read model shows, the acker
// acknowledges from and dispatch stores under; and what one batch decided, applied only once its transaction has
// committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kaoko/alerting/engine.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::server {

// A slot's "no time".
inline constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();

inline std::optional<TimePoint> OptTime(std::int64_t ms) {
  if (ms == kNone) return std::nullopt;
  return TimePoint(std::chrono::milliseconds(ms));
}

// The core's clock (CoreOptions::clock).
inline TimePoint NowOf(const CoreOptions& options) { return options.clock.Now(); }

// One per station, kept small (a network may have 150,000 of them): what Core::Stations() turns into a StationView,
// the store's key and the acks to send. Times are milliseconds since the epoch, kNone for none; rain and battery NaN
// for none. The view fields are guarded by the read model's lock (written on the core thread).
struct StationSlot {
  std::int64_t key = 0;          // the store's station key (0: none yet)
  std::uint64_t latest_seq = 0;  // the newest reading by its own ts (when latest_ts != kNone)
  std::int64_t latest_ts = kNone;
  double latest_level_cm = 0;
  double latest_rain_mm = std::numeric_limits<double>::quiet_NaN();
  double latest_battery_v = std::numeric_limits<double>::quiet_NaN();
  std::int64_t last_seen = kNone;   // when a reading last arrived (kaoko's clock)
  std::int64_t last_heard = kNone;  // the engine's, for the health
  std::int64_t silenced_until = kNone;
  std::int64_t acked_at = kNone;   // the last ack, steady-clock milliseconds (core thread only)
  unsigned problems = 0;           // the engine's fault bits
  std::int32_t clock_ahead_s = 0;  // how far ahead the station's clock runs, with kProblemClockAhead
  alerting::Level level = alerting::Level::kNormal;
  std::int8_t online = -1;   // -1 unknown, 0 offline, 1 online (the station's status message)
  bool ack_waiting = false;  // in the acker's heap (core thread only)
};

struct Outgoing {
  std::string topic;
  std::string payload;
  bool retained;
};

// Everything one batch decides, applied only once its transaction has committed: a rolled-back batch must leave no
// trace (no ack, no receipt, no counter, no change on the dashboard).
struct Batch {
  std::vector<Outgoing> publish;
  std::vector<std::pair<StationSlot*, std::uint64_t>> acks;
  std::vector<std::pair<StationSlot*, wire::Reading>> latest;
  std::vector<std::pair<StationSlot*, bool>> status;
  std::vector<std::pair<std::string, std::string>> rejected;  // (family, reason code)
  std::vector<std::string> results;                           // "reports:ok" etc.
  std::uint64_t accepted = 0;
  std::uint64_t duplicate = 0;
  // Arrival of the readings whose evaluation produced an alert change: for the alert latency histogram.
  std::vector<std::chrono::steady_clock::time_point> alert_causes;
  // Stations whose key (their row in `stations`) was created in this batch: gone again if it is rolled back.
  std::vector<StationSlot*> new_keys;
  std::size_t size = 0;  // messages in the batch
};

}  // namespace kaoko::server
