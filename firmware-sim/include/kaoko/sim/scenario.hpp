// A scenario: what the weather does to the river and what goes wrong with stations, watchers and the broker over a
// simulated stretch of time. Plain values; the TOML reader is in scenario_file.hpp (library kaoko::sim), so that this
// header belongs to the pure model (kaoko::simmodel). Immutable after load; safe to read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kaoko::sim {

using Seconds = std::chrono::seconds;

// Rain over some sub-catchments (empty = all), as intensity in mm/h against simulated hours. Between two points the
// intensity is interpolated linearly; before the first and after the last point it is zero. Blocks add up.
struct RainBlock {
  std::vector<std::string> catchments;            // village ids; empty = every sub-catchment
  std::vector<std::pair<double, double>> points;  // (hours since start, mm/h), hours increasing
};

enum class FaultKind {
  kOffline,       // powered off / no link from `from` to `to`: no readings, status offline
  kStuck,         // the sensor repeats the distance it measured when the fault began
  kSpike,         // now and then (probability per reading) a reading jumps by `value` cm
  kDrift,         // the level drifts by `value` cm per hour since the fault began
  kBatteryDrain,  // the solar panel is lost and the drain is `value` times normal: the battery runs down
};
const char* ToString(FaultKind kind);

struct StationFault {
  std::string station;
  FaultKind kind = FaultKind::kOffline;
  double from_hours = 0;
  double to_hours = 1e18;  // open end by default
  double value = 0;
  double probability = 0.1;  // kSpike only
};

// A report a watcher will make whatever the river does (a false alarm, a misread gauge).
struct WatcherEvent {
  double at_hours = 0;
  std::string user;
  std::string concern;             // watch | warning | critical
  std::optional<double> level_cm;  // what the watcher says the gauge shows
  std::string trend;               // rising | steady | falling; empty = none
  std::string note;                // empty = a note is written from the concern
};

struct WatcherBehaviour {
  bool enabled = true;
  double check_minutes = 120;           // how often a watcher looks at the gauge while the river is calm
  double concerned_check_minutes = 20;  // … while it stands above watch or rises fast
  double delay_min_minutes = 3;         // a report goes out this many minutes after the look (uniform min..max)
  double delay_max_minutes = 15;
  double wrong_probability = 0.05;  // chance that a report misjudges the concern by one level
  bool report_when_calm = false;    // send "steady, fine" reports too (normally a watcher reports concern only)
  std::vector<WatcherEvent> events;
};

// How the people of the escalation chain answer kaoko's notifications (responder.hpp). Delays are uniform in
// [min, max] simulated minutes after the notification arrives.
struct ResponderBehaviour {
  bool enabled = true;
  std::pair<double, double> committee_minutes{2, 8};
  std::pair<double, double> headman_minutes{5, 20};
  std::pair<double, double> deputy_minutes{5, 20};
  std::pair<double, double> tao_minutes{5, 15};
  std::vector<std::string> silent;  // people who read everything and never answer (to exercise the deadlines)
  std::string tao_on_duty;  // the one TAO officer who answers; empty = the first officer in the network not silent
  double all_clear_after_hours = 3;  // the declaring TAO officer gives the all-clear after the river is calm this
                                     // long at the village and upstream; 0 = never
};

// How the villages' broadcast towers and sirens (the network file's [[devices]]) answer kaoko's announcements
// (tower.hpp): each plays it and says so `delay_seconds` of simulated time after it arrives (at --speed 600, 5 s is
// about 8 ms), unless it is listed silent.
struct TowerBehaviour {
  bool enabled = true;
  double delay_seconds = 5;
  std::vector<std::string> silent;  // devices that hear everything and never answer (to exercise the TAO's warning)
};

// A stretch of simulated time during which something outside the simulator is meant to be down (the broker). The
// simulator prints a marker line and runs the --outage-hook at both ends; it cannot stop a broker by itself.
struct OutageWindow {
  std::string what = "broker";
  double from_hours = 0;
  double to_hours = 0;
};

// Rainfall-runoff parameters of one village's sub-catchment. Unset fields take the defaults of RiverDefaults.
struct CatchmentOverride {
  std::optional<double> area_km2;
  std::optional<double> runoff_coefficient;
  std::optional<int> nash_n;
  std::optional<double> nash_k_hours;
  std::optional<double> baseflow_m3s_per_km2;
};

// Rating curve h = h0 + a * Q^b (cm, m³/s). When absent it is calibrated from the station's thresholds (see river.hpp).
struct RatingOverride {
  double h0_cm = 0;
  double a = 0;
  double b = 0.5;
};

struct StationOverride {
  std::optional<RatingOverride> rating;
  std::optional<double> mount_cm;  // height of the ultrasonic sensor above the gauge datum
  std::optional<double> noise_cm;  // standard deviation of the sensor noise
};

struct RiverDefaults {
  double headwater_area_km2 = 180;  // the first (most upstream) village drains the hills
  double local_area_km2 = 45;       // every other village adds its own small sub-catchment
  double runoff_coefficient = 0.6;  // share of rain that becomes quick flow (wet monsoon soil)
  int nash_n = 3;                   // reservoirs in the Nash cascade of a sub-catchment
  double nash_k_hours = 1.0;        // storage constant of each of them
  double baseflow_m3s_per_km2 = 0.04;
  double bankfull_m3s_per_km2 = 1.1;     // discharge (per km² upstream) that brings a station to its warning threshold
  double base_fraction_of_watch = 0.45;  // base flow stands at this share of the watch threshold
  double rating_b = 0.55;                // exponent of the calibrated rating curves
  double lag_fraction = 0.5;             // share of a reach's travel time that is pure translation
  int reach_reservoirs = 4;              // linear reservoirs that carry the rest (attenuation)
};

struct Scenario {
  std::string name;
  std::string description;
  Seconds duration{std::chrono::hours(24)};
  Seconds step{60};  // model step; firmware reading times are resolved to it
  std::uint64_t seed = 1;
  double rain_variability = 0.25;  // hour-to-hour multiplicative noise of the rain (seeded)
  std::vector<RainBlock> rain;
  std::vector<StationFault> faults;
  WatcherBehaviour watchers;
  ResponderBehaviour responders;
  TowerBehaviour towers;
  std::vector<OutageWindow> outages;
  RiverDefaults river;
  std::map<std::string, CatchmentOverride> catchments;  // by village id
  std::map<std::string, StationOverride> stations;      // by station id

  // Rain intensity (mm/h) of the blocks at `hours` over the sub-catchment of `village`, before the seeded noise.
  double RainAt(const std::string& village, double hours) const;
};

}  // namespace kaoko::sim
