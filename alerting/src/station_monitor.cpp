#include "kaoko/alerting/station_monitor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kaoko::alerting {
namespace {

constexpr int kLevels = 3;  // watch, warning, critical

double ThresholdCm(const Station& s, int index) {
  switch (index) {
    case 0: return s.watch.cm;
    case 1: return s.warning.cm;
    default: return s.critical.cm;
  }
}

Level LevelOfIndex(int index) { return static_cast<Level>(index + 1); }

std::int64_t RainBucketOf(TimePoint ts) {
  auto secs = std::chrono::floor<std::chrono::seconds>(ts).time_since_epoch().count();
  // floor division so that times before the epoch (only in odd tests) still land in a sensible bucket
  auto q = secs / StationTrack::kRainBucketSeconds;
  if (secs % StationTrack::kRainBucketSeconds < 0) --q;
  return q;
}

void AddRain(StationTrack& t, TimePoint ts, double mm) {
  if (mm <= 0 || t.rain_bucket.empty()) return;
  const std::int64_t bucket = RainBucketOf(ts);
  const auto slot = static_cast<std::size_t>(((bucket % static_cast<std::int64_t>(StationTrack::kRainBuckets)) +
                                              static_cast<std::int64_t>(StationTrack::kRainBuckets)) %
                                             static_cast<std::int64_t>(StationTrack::kRainBuckets));
  if (t.rain_bucket[slot] != bucket) {
    // A newer bucket overwrites a day-old one; an older one never overwrites a newer one (it is out of the window).
    if (t.rain_bucket[slot] > bucket) return;
    t.rain_bucket[slot] = bucket;
    t.rain_mm[slot] = 0;
  }
  t.rain_mm[slot] += mm;
}

// Sums the buckets within the last hour / day of `latest`. 144 additions: cheap, and exact for late readings.
void SumRain(StationTrack& t, TimePoint latest) {
  const std::int64_t now_bucket = RainBucketOf(latest);
  double h1 = 0;
  double h24 = 0;
  for (std::size_t i = 0; i < t.rain_bucket.size(); ++i) {
    // An empty slot holds INT64_MIN: compare before subtracting, so the difference cannot overflow.
    if (t.rain_bucket[i] > now_bucket || t.rain_bucket[i] <= now_bucket - static_cast<std::int64_t>(StationTrack::kRainBuckets)) {
      continue;
    }
    const std::int64_t age = now_bucket - t.rain_bucket[i];
    h24 += t.rain_mm[i];
    if (age < 3600 / StationTrack::kRainBucketSeconds) h1 += t.rain_mm[i];
  }
  t.rain_1h_mm = h1;
  t.rain_24h_mm = h24;
}

void PushRecent(StationTrack& t, TimePoint ts, double cm) {
  if (t.recent.empty()) return;
  t.recent[t.recent_head] = RecentReading{ts, cm};
  t.recent_head = (t.recent_head + 1) % t.recent.size();
  t.recent_count = std::min(t.recent_count + 1, t.recent.size());
}

// Rate in cm/hour between the newest reading and the oldest one inside the window; nullopt when they are too close.
std::optional<double> RiseRate(const StationTrack& t, const MonitorOptions& o, TimePoint ts, double cm) {
  const std::size_t cap = t.recent.size();
  std::optional<RecentReading> oldest;
  for (std::size_t k = 0; k < t.recent_count; ++k) {
    // walk from the newest backwards; the ring holds readings in ts order (only newest readings are pushed)
    const std::size_t idx = (t.recent_head + cap - 1 - k) % cap;
    const RecentReading& r = t.recent[idx];
    if (ts - r.ts > o.fast_rise_window) break;
    oldest = r;
  }
  if (!oldest) return std::nullopt;
  const auto span = ts - oldest->ts;
  if (span < o.fast_rise_min_span || span <= TimePoint::duration::zero()) return std::nullopt;
  const double hours = std::chrono::duration<double, std::ratio<3600>>(span).count();
  return (cm - oldest->level_cm) / hours;
}

}  // namespace

StationTrack NewStationTrack(const Station& station) {
  StationTrack t;
  t.station = station.id;
  t.recent.assign(StationTrack::kRecentCapacity, RecentReading{});
  t.rain_bucket.assign(StationTrack::kRainBuckets, std::numeric_limits<std::int64_t>::min());
  t.rain_mm.assign(StationTrack::kRainBuckets, 0.0);
  return t;
}

Level RawLevel(const Station& station, double level_cm) {
  for (int i = kLevels - 1; i >= 0; --i) {
    if (level_cm >= ThresholdCm(station, i)) return LevelOfIndex(i);
  }
  return Level::kNormal;
}

const Threshold* ThresholdOf(const Station& station, Level level) {
  switch (level) {
    case Level::kWatch: return &station.watch;
    case Level::kWarning: return &station.warning;
    case Level::kCritical: return &station.critical;
    case Level::kNormal: return nullptr;
  }
  return nullptr;
}

MonitorResult ApplyReading(const Station& station, const HealthPolicy& health, const RainPolicy& rain,
                           const MonitorOptions& options, StationTrack& t, const Reading& r, TimePoint now,
                           bool others_moving) {
  MonitorResult res;
  res.level_before = t.level;
  res.problems_before = t.problems;
  if (t.recent.size() != StationTrack::kRecentCapacity || t.rain_bucket.size() != StationTrack::kRainBuckets) {
    // A track restored from an older or hand-written state: give it its fixed buffers.
    StationTrack fresh = NewStationTrack(station);
    t.recent = std::move(fresh.recent);
    t.recent_head = 0;
    t.recent_count = 0;
    t.rain_bucket = std::move(fresh.rain_bucket);
    t.rain_mm = std::move(fresh.rain_mm);
  }

  // Any reading proves the station alive.
  t.last_heard = t.last_heard ? std::max(*t.last_heard, now) : now;
  t.problems &= ~kProblemOffline;

  if (r.battery_v) {
    t.battery_v = r.battery_v;
    if (*r.battery_v < health.low_battery_v) {
      t.problems |= kProblemLowBattery;
    } else if (*r.battery_v >= health.low_battery_v + options.battery_hysteresis_v) {
      t.problems &= ~kProblemLowBattery;
    }
  }
  if (r.rain_mm) AddRain(t, r.ts, *r.rain_mm);

  if (t.latest_ts && r.ts <= *t.latest_ts) {
    // Late or repeated: the newest reading already speaks for the present. Rain still counts (added above).
    res.out_of_order = true;
    SumRain(t, *t.latest_ts);
    const bool rain_watch = t.rain_1h_mm >= rain.watch_mm_1h || t.rain_24h_mm >= rain.watch_mm_24h;
    if (rain_watch && !t.rain_watch) {
      // Late rain can only raise watch, never lower anything.
      t.rain_watch = true;
      t.level = std::max(t.level, Level::kWatch);
    }
    res.level_after = t.level;
    res.problems_after = t.problems;
    return res;
  }
  t.latest_ts = r.ts;
  t.latest_seq = r.seq;
  t.latest_level_cm = r.level_cm;

  // Spike: compare with the last plausible reading, so that a single outlier does not make the next good reading
  // look like a jump back.
  if (t.accepted_cm && std::abs(r.level_cm - *t.accepted_cm) > health.spike_cm_per_reading) {
    if (t.suspect_run > 0 && std::abs(r.level_cm - t.suspect_cm) <= health.spike_cm_per_reading) {
      ++t.suspect_run;
    } else {
      t.suspect_run = 1;
    }
    t.suspect_cm = r.level_cm;
    t.good_run = 0;
    t.problems |= kProblemSpike;
    if (t.suspect_run < options.spike_rebaseline_readings) {
      res.suspect = true;
      SumRain(t, r.ts);
      res.level_after = t.level;
      res.problems_after = t.problems;
      return res;
    }
    // Consistent new level: accept it as the new baseline (the spike flag still needs good readings to clear).
    t.suspect_run = 0;
    t.accepted_cm.reset();
    t.recent_count = 0;  // the old level would make the new baseline look like a fast rise
  } else {
    t.suspect_run = 0;
  }

  // Stuck: exactly the same value again and again while the river elsewhere moves.
  if (t.accepted_cm && r.level_cm == *t.accepted_cm) {
    ++t.same_count;
    t.moving = false;
  } else {
    t.moving = t.accepted_cm.has_value();
    t.same_count = 1;
    t.problems &= ~kProblemStuck;
  }
  if (t.same_count >= health.stuck_readings && others_moving) t.problems |= kProblemStuck;

  t.accepted_cm = r.level_cm;
  ++t.good_run;
  if ((t.problems & kProblemSpike) && t.good_run >= options.spike_clear_readings) t.problems &= ~kProblemSpike;

  // Persistence runs per threshold.
  for (int i = 0; i < kLevels; ++i) {
    if (r.level_cm >= ThresholdCm(station, i)) {
      if (t.over_count[i] == 0) t.over_since[i] = r.ts;
      ++t.over_count[i];
    } else {
      t.over_count[i] = 0;
    }
  }
  bool raised = false;
  for (int i = kLevels - 1; i >= 0; --i) {
    const Level l = LevelOfIndex(i);
    if (l <= t.threshold_level) break;
    if (t.over_count[i] > 0 &&
        (t.over_count[i] >= station.persistence_readings || r.ts - t.over_since[i] >= station.persistence_time)) {
      t.threshold_level = l;
      raised = true;
      break;
    }
  }
  if (!raised) {
    while (t.threshold_level != Level::kNormal &&
           r.level_cm < ThresholdCm(station, static_cast<int>(t.threshold_level) - 1) - station.hysteresis_cm) {
      t.threshold_level = static_cast<Level>(static_cast<int>(t.threshold_level) - 1);
    }
  }

  const auto rate = RiseRate(t, options, r.ts, r.level_cm);
  t.rise_cm_per_hour = rate.value_or(0);
  t.fast_rise = rate && *rate > station.fast_rise_cm_per_hour;
  PushRecent(t, r.ts, r.level_cm);

  SumRain(t, r.ts);
  t.rain_watch = t.rain_1h_mm >= rain.watch_mm_1h || t.rain_24h_mm >= rain.watch_mm_24h;

  Level level = t.threshold_level;
  if (t.fast_rise && level != Level::kCritical) level = static_cast<Level>(static_cast<int>(level) + 1);
  if (t.rain_watch) level = std::max(level, Level::kWatch);
  t.level = level;

  res.evaluated = true;
  res.level_after = t.level;
  res.problems_after = t.problems;
  return res;
}

}  // namespace kaoko::alerting
