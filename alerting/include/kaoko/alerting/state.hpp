// The engine's durable state as plain structs: open incidents (with their stage, flags, deadlines and who was asked
// what and when) and each station's evaluation state. The server serialises these (as JSON, in SQLite) and gives them
// back after a restart, so that every pending deadline resumes; the engine itself never does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"

namespace kaoko::alerting {

enum class IncidentKind { kFlood, kStation };
// "flood" | "station"
const char* ToString(IncidentKind kind);

// Station faults, as bits of StationTrack::problems and Incident::problems.
enum StationProblem : unsigned {
  kProblemOffline = 1u << 0,     // Last Will, or no reading for HealthPolicy::offline_after
  kProblemStuck = 1u << 1,       // the same value for HealthPolicy::stuck_readings readings while others move
  kProblemSpike = 1u << 2,       // a jump larger than HealthPolicy::spike_cm_per_reading
  kProblemLowBattery = 1u << 3,  // battery_v under HealthPolicy::low_battery_v
};
// Comma-separated English names of the bits ("offline, low battery"); Thai with `thai`.
std::string ProblemNames(unsigned problems, bool thai = false);

// One person asked to act on an incident. Reminded every reminder_interval while `open`.
struct Ask {
  std::string user;
  ActionNeeded action = ActionNeeded::kNone;
  TimePoint asked{};          // first notification
  TimePoint next_reminder{};  // when the next reminder is due
  int reminders = 0;          // reminders sent so far
  bool open = true;           // false once the person acted or the incident moved past their step
};

// A trigger that joined an incident, kept for corroboration within EscalationPolicy::corroboration_window.
struct TriggerSource {
  std::string kind;  // "station" | "watcher" | "upstream" | "drill"
  std::string id;    // station id, user id, or the upstream village
  TimePoint ts{};
  Level level = Level::kWatch;
};

struct Incident {
  std::int64_t id = 0;
  IncidentKind kind = IncidentKind::kFlood;
  std::string village;
  std::string station;  // kStation: the faulty station; kFlood: the station that set the headline, if any
  std::string origin;   // what opened it: "station" | "watcher" | "upstream" | "drill" | "health"
  Level level = Level::kWatch;  // the highest level seen, or the TAO's declared level after a declaration
  std::optional<Level> declared_level;
  Stage stage = Stage::kReported;
  bool exercise = false;          // a drill: CAP status Exercise, no real siren
  bool unconfirmed = false;       // a step's deadline passed before its person acted
  bool rejection_noted = false;   // the headman rejected it while stations still showed water: passed to the TAO
  bool station_critical = false;  // a station reached critical: TAO and village told at once
  bool upstream_warned = false;   // this incident already opened watches downstream
  bool siren_on = false;          // this incident switched the village siren on (for a drill: would have)
  bool tao_overdue = false;       // the TAO's declare deadline passed without a declaration
  int corroborations = 0;         // times a second independent source agreed within the window
  unsigned problems = 0;          // kStation: StationProblem bits
  TimePoint opened{};
  TimePoint updated{};
  std::optional<TimePoint> closed;
  std::optional<TimePoint> stage_deadline;  // when the current step moves up anyway
  std::optional<TimePoint> deputy_at;       // when the deputy headman is asked too
  std::optional<TimePoint> normal_since;    // the village's stations normal since (auto-resolve)
  std::optional<TimePoint> expected_arrival;  // opened by an upstream warning: when the wave should arrive
  std::string upstream_village;
  std::string acked_by;
  std::string confirmed_by;
  std::string rejected_by;
  std::string declared_by;
  std::string detail_th;    // what happened, without the level and village ("น้ำถึงคอสะพาน ที่สะพานบ้านเก้ากอ")
  std::string detail_en;
  std::string headline_th;  // "<level> <village>: <detail>", rebuilt when the level changes
  std::string headline_en;
  std::vector<Ask> asks;
  std::vector<TriggerSource> sources;  // recent triggers (pruned to the corroboration window)
  std::uint64_t revision = 0;          // bumped on every change; CAP identifiers derive from it
};

struct RecentReading {
  TimePoint ts{};
  double level_cm = 0;
};

// Evaluation state of one station: level with persistence and hysteresis, fast rise, rain, health.
struct StationTrack {
  static constexpr std::size_t kRecentCapacity = 32;  // ring for the fast-rise rate
  static constexpr std::size_t kRainBuckets = 144;    // ten-minute buckets: 24 hours of rain
  static constexpr std::int64_t kRainBucketSeconds = 600;

  std::string station;
  Level threshold_level = Level::kNormal;  // from the thresholds, with persistence and hysteresis
  bool fast_rise = false;                   // rising faster than fast_rise_cm_per_hour
  bool rain_watch = false;                  // rain over RainPolicy 1 h / 24 h
  Level level = Level::kNormal;             // effective: threshold_level (+1 on fast rise), >= watch on heavy rain
  Level triggered_level = Level::kNormal;   // highest level already passed to an incident since it last fell
  int over_count[3] = {0, 0, 0};            // consecutive readings >= watch / warning / critical
  TimePoint over_since[3] = {};             // ts of the first of those readings
  std::optional<TimePoint> latest_ts;       // newest reading ts evaluated
  std::uint64_t latest_seq = 0;
  std::uint64_t max_seq = 0;                // highest seq evaluated (a restart replays the stored readings above it)
  std::optional<double> latest_level_cm;    // newest reading (even if suspect)
  std::optional<double> accepted_cm;        // newest reading that was not suspect
  std::optional<double> battery_v;
  std::optional<TimePoint> last_heard;      // engine time of the last reading or status online
  std::optional<TimePoint> watching_since;  // engine time this station was first checked for silence
  // Accepted readings of the last fast_rise_window, oldest first, at most kRecentCapacity. Read as a ring of
  // recent.size() slots: recent_count of them ending just before recent_head (the engine keeps head 0 and count =
  // size; an older layout with a head is converted by NormalizeWindows).
  std::vector<RecentReading> recent;
  std::size_t recent_head = 0;
  std::size_t recent_count = 0;
  std::vector<std::int64_t> rain_bucket;    // ten-minute buckets (ts / 10 min) of the last 24 h that had rain, sorted
  std::vector<double> rain_mm;              // rain in that bucket
  double rain_1h_mm = 0;
  double rain_24h_mm = 0;
  double rise_cm_per_hour = 0;
  int same_count = 0;       // readings in a row with exactly the same value
  bool moving = false;      // the last accepted reading differed from the one before
  int suspect_run = 0;      // suspect readings in a row that agree with each other
  double suspect_cm = 0;
  int good_run = 0;         // accepted readings in a row since the last suspect one
  unsigned problems = 0;    // StationProblem bits
  std::optional<TimePoint> silenced_until;  // under maintenance: raises nothing, faults suppressed
  std::optional<std::int64_t> health_incident;
};

// A report or decision already handled, with the receipt it got (for idempotency).
struct SeenMessage {
  std::string key;  // "r|user|id" or "d|user|id"
  Receipt receipt;
};

// The whole durable state. Closed incidents are not included: the server has stored them when they closed.
struct EngineState {
  std::int64_t next_incident = 1;
  std::int64_t next_notification = 1;
  std::vector<Incident> incidents;     // open incidents
  std::vector<StationTrack> stations;  // one per network station
  std::vector<AlertState> alerts;      // the last alert state published per village
  std::vector<Siren> sirens;           // the last siren state published per village
  std::vector<SeenMessage> seen;       // oldest first, bounded by EngineOptions::seen_capacity
};

}  // namespace kaoko::alerting
