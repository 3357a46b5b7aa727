// Per-station evaluation of one reading: the level with persistence and hysteresis, a fast rise, rain, and the
// station's health (stuck, spike, low battery). Pure: it updates a StationTrack and says what changed; the engine
// decides what that means for incidents. O(1) per reading: the fast-rise ring holds at most 8 readings and only
// those of the last fast_rise_window, the rain only the buckets of the last 24 hours that had rain (a dry, idle
// station holds no buffer at all).
#pragma once

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/alerting/state.hpp"

namespace kaoko::alerting {

// Tunables of the evaluation that the network file does not carry.
struct MonitorOptions {
  // The fast-rise rate compares the newest reading with the oldest one in this window...
  Seconds fast_rise_window{std::chrono::hours(1)};
  // ...but only when the two are at least this far apart, so that two readings a minute apart with sensor noise
  // do not look like a flash flood.
  Seconds fast_rise_min_span{std::chrono::minutes(10)};
  // A spike flag clears after this many plausible readings in a row.
  int spike_clear_readings = 3;
  // This many suspect readings in a row that agree with each other become the new baseline (the gauge was moved,
  // or the river really jumped); they are then evaluated normally.
  int spike_rebaseline_readings = 3;
  // Low battery clears only above low_battery_v + this, so that a battery at the limit does not flap.
  double battery_hysteresis_v = 0.1;
  // A clock problem clears after this many readings in a row whose time is right.
  int clock_clear_readings = 3;
};

struct MonitorResult {
  bool evaluated = false;     // the reading was the newest and plausible, and went through the level evaluation
  bool out_of_order = false;  // older than (or as old as) the newest reading: stored, but never rolls the level back
  bool suspect = false;       // an impossible jump: not evaluated, never raises a level
  bool at_arrival = false;    // the station's clock cannot be trusted: evaluated as measured at `now`
  Level level_before = Level::kNormal;
  Level level_after = Level::kNormal;
  unsigned problems_before = 0;
  unsigned problems_after = 0;
};

// Prepares an empty track for `station` (its windows are empty until readings fill them). Thread-safe (pure).
StationTrack NewStationTrack(const Station& station);

// Brings a track's windows to the layout ApplyReading keeps: the ring oldest first from slot 0 (recent_head 0,
// recent_count = size, at most kRecentCapacity), the rain as (bucket, mm) sorted by bucket without empty slots. A
// track saved by an earlier kaoko (a fixed ring of 32 with a head, 144 rain slots) comes back with the same rain sums
// and its ring thinned to kRecentCapacity where it was densest, its oldest reading (the rate's base) kept. Does
// nothing to a track already in that layout. Thread-safe for distinct tracks.
void NormalizeWindows(StationTrack& track);

// Evaluates one reading into `track`. `others_moving` says whether any other station's last reading moved (the
// stuck rule needs it). `now` is the engine time the reading arrived. Returns what changed. Thread-safe for
// distinct tracks.
//
// Rules and their edges:
//  - A level is entered when the reading is >= its threshold (equal enters) for persistence_readings readings in a
//    row OR for persistence_time between the first and the latest of those readings (by reading ts).
//  - A level is left when a reading is < threshold - hysteresis_cm (equal to threshold - hysteresis stays).
//  - Fast rise: (newest - oldest reading in fast_rise_window) per hour > fast_rise_cm_per_hour (strictly), when
//    the two are at least fast_rise_min_span apart; lifts the level by one (capped at critical). The oldest is the
//    oldest kept: readings are kept for this at least fast_rise_window / 7 apart (8.6 minutes of an hour), so it is
//    at most that much younger than the window, however often the station reads.
//  - Rain: the sum over the last hour >= watch_mm_1h or over 24 h >= watch_mm_24h raises the level to watch.
//  - A reading not newer than the newest seen adds its rain but changes nothing else.
//  - The station's clock: a reading newer by seq, dated more than health.clock_tolerance before `now`, and either
//    before 2020 (a clock that lost its time) or that far behind the newest reading (or the clock already reset),
//    sets kProblemClockReset; a reading dated more than clock_tolerance ahead of `now` sets kProblemClockAhead.
//    While either is set the reading is evaluated as measured at `now` (the caller keeps its own ts for the record;
//    a repeat by seq is not evaluated). clock_clear_readings readings in a row with a right time clear them.
MonitorResult ApplyReading(const Station& station, const HealthPolicy& health, const RainPolicy& rain,
                           const MonitorOptions& options, StationTrack& track, const Reading& reading, TimePoint now,
                           bool others_moving);

// Level reached by a value against a station's thresholds, without persistence (>= enters). Thread-safe.
Level RawLevel(const Station& station, double level_cm);
// The threshold of a level (watch, warning, critical); nullptr for normal.
const Threshold* ThresholdOf(const Station& station, Level level);

}  // namespace kaoko::alerting
