// The engine's durable state as plain structs: open incidents (with their stage, flags, deadlines and who was asked
// what and when) and each station's evaluation state. The server serialises these (as JSON, in SQLite) and gives them
// back after a restart, so that every pending deadline resumes; the engine itself never does I/O.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/alerting/tower_watch.hpp"

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
  kProblemClockReset = 1u << 4,  // ts went back against the station's rising seq (its clock lost the time)
  kProblemClockAhead = 1u << 5,  // ts ahead of kaoko's clock by more than HealthPolicy::clock_tolerance
};
// Comma-separated English names of the bits ("offline, low battery"); Thai with `thai`. `clock_ahead`: how far
// ahead the station's clock runs, named with kProblemClockAhead ("clock ahead 2 h").
std::string ProblemNames(unsigned problems, bool thai = false, Seconds clock_ahead = Seconds(0));

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
  std::string station;          // kStation: the faulty station; kFlood: the station that set the headline, if any
  std::string origin;           // what opened it: "station" | "watcher" | "upstream" | "drill" | "health"
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
  bool district_overdue = false;  // the district too let its deadline (EscalationPolicy::district_act) pass
  int corroborations = 0;         // times a second independent source agreed within the window
  unsigned problems = 0;          // kStation: StationProblem bits
  TimePoint opened{};
  TimePoint updated{};
  std::optional<TimePoint> closed;
  std::optional<TimePoint> stage_deadline;    // when the current step moves up anyway
  std::optional<TimePoint> deputy_at;         // when the deputy headman is asked too
  std::optional<TimePoint> normal_since;      // the village's stations normal since (auto-resolve)
  std::optional<TimePoint> expected_arrival;  // opened by an upstream warning: when the wave should arrive
  // Above the TAO (Engine::TellDistrict): when the TAO became overdue (its deadline, or the moment no officer could
  // be reached), when the district was told (once per incident), and the district's own deadline to answer.
  std::optional<TimePoint> tao_overdue_since;
  std::optional<TimePoint> district_notified_at;
  std::optional<TimePoint> district_deadline;
  std::string district_acked_by;  // the district person who answered "seen, on it"
  std::string upstream_village;
  std::string acked_by;
  std::string confirmed_by;
  std::string rejected_by;
  std::string declared_by;
  std::string detail_th;  // what happened, without the level and village ("น้ำถึงคอสะพาน ที่สะพานบ้านเก้ากอ")
  std::string detail_en;
  std::string headline_th;  // "<level> <village>: <detail>", rebuilt when the level changes
  std::string headline_en;
  std::vector<Ask> asks;
  std::vector<TriggerSource> sources;  // recent triggers (pruned to the corroboration window)
  std::uint64_t revision = 0;          // bumped on every change; CAP identifiers derive from it
  // The incident's CAP thread (cap.hpp): the last message issued (Engine::Advance issues the current revision once a
  // batch of inputs is done) and the one before it, each by revision (0: none) and `sent`. Stored with the incident,
  // so that a restart continues the thread instead of starting it again.
  std::uint64_t cap_revision = 0;
  TimePoint cap_sent{};
  std::uint64_t cap_previous_revision = 0;
  TimePoint cap_previous_sent{};
};

// An optional value in the space of the value alone: "none" is a value T never takes (the earliest time point, a
// NaN, the lowest int64). A StationTrack holds eight of them for each of up to 150,000 stations, which as
// std::optional took 64 bytes more each (docs/benchmarks.md, "Memory"). Reads, writes and compares as std::optional
// does (none is less than any value), and converts to and from it.
template <typename T>
struct MaybeNone;
template <typename Clock, typename Duration>
struct MaybeNone<std::chrono::time_point<Clock, Duration>> {
  static constexpr auto value() { return std::chrono::time_point<Clock, Duration>::min(); }
  static constexpr bool is(const std::chrono::time_point<Clock, Duration>& v) { return v == value(); }
};
template <>
struct MaybeNone<double> {
  static constexpr double value() { return std::numeric_limits<double>::quiet_NaN(); }
  static bool is(double v) { return std::isnan(v); }
};
template <>
struct MaybeNone<std::int64_t> {
  static constexpr std::int64_t value() { return std::numeric_limits<std::int64_t>::min(); }
  static constexpr bool is(std::int64_t v) { return v == value(); }
};

template <typename T>
class Maybe {
 public:
  using value_type = T;
  constexpr Maybe() = default;
  constexpr Maybe(std::nullopt_t) {}      // NOLINT(google-explicit-constructor)
  constexpr Maybe(const T& v) : v_(v) {}  // NOLINT(google-explicit-constructor)
  constexpr Maybe(const std::optional<T>& o) : v_(o ? *o : MaybeNone<T>::value()) {}  // NOLINT
  operator std::optional<T>() const {  // NOLINT(google-explicit-constructor)
    return has_value() ? std::optional<T>(v_) : std::nullopt;
  }
  Maybe& operator=(std::nullopt_t) {
    reset();
    return *this;
  }

  bool has_value() const { return !MaybeNone<T>::is(v_); }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return v_; }
  T& operator*() { return v_; }
  const T* operator->() const { return &v_; }
  const T& value() const {
    if (!has_value()) throw std::bad_optional_access();
    return v_;
  }
  T value_or(const T& other) const { return has_value() ? v_ : other; }
  void reset() { v_ = MaybeNone<T>::value(); }

  friend bool operator==(const Maybe& a, const Maybe& b) {
    return a.has_value() == b.has_value() && (!a.has_value() || a.v_ == b.v_);
  }
  friend bool operator==(const Maybe& a, const T& b) { return a.has_value() && a.v_ == b; }
  friend bool operator==(const Maybe& a, std::nullopt_t) { return !a.has_value(); }
  friend auto operator<=>(const Maybe& a, const T& b) -> std::compare_three_way_result_t<T> {
    if (!a.has_value()) return std::strong_ordering::less;
    return a.v_ <=> b;
  }
  friend auto operator<=>(const Maybe& a, const Maybe& b) -> std::compare_three_way_result_t<T> {
    if (!a.has_value() || !b.has_value()) return a.has_value() <=> b.has_value();
    return a.v_ <=> b.v_;
  }

 private:
  T v_ = MaybeNone<T>::value();
};

struct RecentReading {
  TimePoint ts{};
  double level_cm = 0;
};

// Evaluation state of one station: level with persistence and hysteresis, fast rise, rain, health.
struct StationTrack {
  static constexpr std::size_t kRecentCapacity = 8;  // the fast-rise rate's bases: one per 1/7 of its window
  static constexpr std::size_t kRainBuckets = 144;   // ten-minute buckets: 24 hours of rain
  static constexpr std::int64_t kRainBucketSeconds = 600;

  // (Whose track it is follows from where it is: the engine keeps one per network station, in the same order; a
  // saved one travels as a SavedTrack.)
  Level threshold_level = Level::kNormal;  // from the thresholds, with persistence and hysteresis
  Level level = Level::kNormal;            // effective: threshold_level (+1 on fast rise), >= watch on heavy rain
  Level triggered_level = Level::kNormal;  // highest level already passed to an incident since it last fell
  bool fast_rise = false;                  // rising faster than fast_rise_cm_per_hour
  bool rain_watch = false;                 // rain over RainPolicy 1 h / 24 h
  bool moving = false;                     // the last accepted reading differed from the one before
  int over_count[3] = {0, 0, 0};           // consecutive readings >= watch / warning / critical
  TimePoint over_since[3] = {};            // ts of the first of those readings
  Maybe<TimePoint> latest_ts;              // newest reading ts evaluated
  std::uint64_t latest_seq = 0;
  std::uint64_t max_seq = 0;      // highest seq evaluated (a restart replays the stored readings above it)
  Maybe<double> latest_level_cm;  // newest reading (even if suspect)
  Maybe<double> accepted_cm;      // newest reading that was not suspect
  Maybe<double> battery_v;
  Maybe<TimePoint> last_heard;      // engine time of the last reading or status online
  Maybe<TimePoint> watching_since;  // engine time this station was first checked for silence
  // Accepted readings of the last fast_rise_window, oldest first, at most kRecentCapacity, at least
  // fast_rise_window / (kRecentCapacity - 1) apart (the bases of the fast-rise rate). Read as a ring of
  // recent.size() slots: recent_count of them ending just before recent_head (the engine keeps head 0 and count =
  // size; an older layout with a head is converted by NormalizeWindows).
  std::vector<RecentReading> recent;
  std::uint32_t recent_head = 0;
  std::uint32_t recent_count = 0;
  std::vector<std::int64_t> rain_bucket;  // ten-minute buckets (ts / 10 min) of the last 24 h that had rain, sorted
  std::vector<double> rain_mm;            // rain in that bucket
  double rain_1h_mm = 0;
  double rain_24h_mm = 0;
  double rise_cm_per_hour = 0;
  double suspect_cm = 0;
  int same_count = 0;               // readings in a row with exactly the same value
  int suspect_run = 0;              // suspect readings in a row that agree with each other
  int good_run = 0;                 // accepted readings in a row since the last suspect one
  unsigned problems = 0;            // StationProblem bits
  Maybe<TimePoint> silenced_until;  // under maintenance: raises nothing, faults suppressed
  Maybe<std::int64_t> health_incident;
  // The station's clock (kProblemClockReset / kProblemClockAhead): how far ahead it ran at the last reading
  // (seconds), and the readings in a row since whose time was right (a few clear the problem).
  std::int64_t clock_ahead_s = 0;
  int clock_good_run = 0;
  // Late readings (older than HealthPolicy::late_after when evaluated) arriving in a run since the last on-time one:
  // how many, and the span they were measured in. The run ends with one line for the TAO (Engine::EndBacklog).
  std::uint32_t backlog_count = 0;
  Maybe<TimePoint> backlog_first;
  Maybe<TimePoint> backlog_last;
};

// A station's evaluation state with the station it belongs to, as saved and restored.
struct SavedTrack {
  std::string station;
  StationTrack track;
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
  std::vector<Incident> incidents;   // open incidents
  std::vector<SavedTrack> stations;  // one per network station
  std::vector<AlertState> alerts;    // the last alert state published per village
  std::vector<Siren> sirens;         // the last siren state published per village
  std::vector<SeenMessage> seen;     // oldest first, bounded by EngineOptions::seen_capacity
  // The villages' towers and sirens (tower_watch.hpp): the next announcement's number and the answers awaited.
  std::int64_t next_announcement = 1;
  std::vector<TowerExpectation> towers;
};

}  // namespace kaoko::alerting
