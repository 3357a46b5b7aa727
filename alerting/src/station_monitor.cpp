#include "kaoko/alerting/station_monitor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kaoko::alerting {
namespace {

constexpr int kLevels = 3;  // watch, warning, critical

double ThresholdCm(const Station& s, int index) {
  switch (index) {
    case 0:
      return s.watch.cm;
    case 1:
      return s.warning.cm;
    default:
      return s.critical.cm;
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

std::int64_t FloorMod(std::int64_t a, std::int64_t n) { return ((a % n) + n) % n; }

constexpr auto kRainWindow = static_cast<std::int64_t>(StationTrack::kRainBuckets);

// Rain is kept per ten-minute bucket, as (bucket, mm) pairs sorted by bucket, only for buckets that had rain and are
// inside the 24 hours up to the newest reading: a dry station holds nothing. (Until this version the buckets were a
// fixed ring of 144 slots, slot = bucket mod 144, a newer bucket replacing an older one in its slot; NormalizeWindows
// converts that layout. Only buckets inside the window ever counted, so the two agree on every sum.)
void AddRain(StationTrack& t, TimePoint ts, double mm) {
  if (mm <= 0) return;
  const std::int64_t bucket = RainBucketOf(ts);
  // Older than 24 hours before the newest reading: it can never count again.
  if (t.latest_ts && bucket <= RainBucketOf(*t.latest_ts) - kRainWindow) return;
  auto it = std::lower_bound(t.rain_bucket.begin(), t.rain_bucket.end(), bucket);
  const auto i = static_cast<std::size_t>(it - t.rain_bucket.begin());
  if (it != t.rain_bucket.end() && *it == bucket) {
    t.rain_mm[i] += mm;
  } else {
    t.rain_bucket.insert(it, bucket);
    t.rain_mm.insert(t.rain_mm.begin() + static_cast<std::ptrdiff_t>(i), mm);
  }
}

// Sums the buckets within the last hour / day of `latest` (and forgets older ones). The sum runs in the order of the
// old ring's slots (bucket mod 144) so that it is the same floating-point sum, bit for bit, as before the change.
void SumRain(StationTrack& t, TimePoint latest) {
  const std::int64_t now_bucket = RainBucketOf(latest);
  std::size_t first = 0;
  while (first < t.rain_bucket.size() && t.rain_bucket[first] <= now_bucket - kRainWindow) ++first;
  if (first > 0) {
    t.rain_bucket.erase(t.rain_bucket.begin(), t.rain_bucket.begin() + static_cast<std::ptrdiff_t>(first));
    t.rain_mm.erase(t.rain_mm.begin(), t.rain_mm.begin() + static_cast<std::ptrdiff_t>(first));
  }
  const std::size_t n = std::min(t.rain_bucket.size(), t.rain_mm.size());
  // Slot 0 of the old ring is the bucket that is a multiple of 144 inside the window: from there on, then the rest.
  const std::int64_t wrap = now_bucket - FloorMod(now_bucket, kRainWindow);
  std::size_t split = 0;
  while (split < n && t.rain_bucket[split] < wrap) ++split;
  double h1 = 0;
  double h24 = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (split + k) % n;
    if (t.rain_bucket[i] > now_bucket) continue;
    const std::int64_t age = now_bucket - t.rain_bucket[i];
    h24 += t.rain_mm[i];
    if (age < 3600 / StationTrack::kRainBucketSeconds) h1 += t.rain_mm[i];
  }
  t.rain_1h_mm = h1;
  t.rain_24h_mm = h24;
}

// Takes one reading out of a full ring where it is densest: the one closest to the reading before it (never the
// oldest, the rate's base). Only a ring denser than PushRecent keeps needs it: one saved by an earlier kaoko.
void ThinDensest(std::vector<RecentReading>& ring) {
  if (ring.size() < 2) return;
  std::size_t densest = 1;
  for (std::size_t k = 2; k < ring.size(); ++k) {
    if (ring[k].ts - ring[k - 1].ts < ring[densest].ts - ring[densest - 1].ts) densest = k;
  }
  ring.erase(ring.begin() + static_cast<std::ptrdiff_t>(densest));
}

// The ring of accepted readings for the fast-rise rate, oldest first: the bases a later reading's rate can be
// measured from. Only those inside fast_rise_window of the newest (an older one can never be a base again, since
// only newer readings are evaluated), and at least fast_rise_window / (kRecentCapacity - 1) apart: a reading that
// close to the last one kept is not kept (the older one is the better base), so that the ring spans the whole
// window however often the station reads, in at most kRecentCapacity readings. recent_head is 0 and recent_count is
// the size: the ring read from slot 0.
void PushRecent(StationTrack& t, const MonitorOptions& o, TimePoint ts, double cm) {
  std::size_t drop = 0;
  while (drop < t.recent.size() && ts - t.recent[drop].ts > o.fast_rise_window) ++drop;
  if (drop > 0) t.recent.erase(t.recent.begin(), t.recent.begin() + static_cast<std::ptrdiff_t>(drop));
  const auto spacing = o.fast_rise_window / static_cast<int>(StationTrack::kRecentCapacity - 1);
  if (t.recent.empty() || ts - t.recent.back().ts >= spacing) {
    // Spaced so, a ring is full only when it came denser from an earlier kaoko: thinned, it keeps its oldest base.
    while (t.recent.size() >= StationTrack::kRecentCapacity) ThinDensest(t.recent);
    t.recent.push_back(RecentReading{ts, cm});
  }
  t.recent_head = 0;
  t.recent_count = static_cast<std::uint32_t>(t.recent.size());
}

// Rate in cm/hour between the newest reading and the oldest one inside the window; nullopt when they are too close.
std::optional<double> RiseRate(const StationTrack& t, const MonitorOptions& o, TimePoint ts, double cm) {
  std::optional<RecentReading> oldest;
  for (std::size_t k = t.recent.size(); k > 0; --k) {
    // walk from the newest backwards; the ring holds readings in ts order (only newest readings are pushed)
    const RecentReading& r = t.recent[k - 1];
    if (ts - r.ts > o.fast_rise_window) break;
    oldest = r;
  }
  if (!oldest) return std::nullopt;
  const auto span = ts - oldest->ts;
  if (span < o.fast_rise_min_span || span <= TimePoint::duration::zero()) return std::nullopt;
  const double hours = std::chrono::duration<double, std::ratio<3600>>(span).count();
  return (cm - oldest->level_cm) / hours;
}

// A clock that lost its time starts again at its epoch (2000-01-01, 1970-01-01): no station of kaoko measured
// before 2020.
constexpr TimePoint kClockFloor{std::chrono::sys_days{std::chrono::year{2020} / 1 / 1}};
constexpr unsigned kClockProblems = kProblemClockReset | kProblemClockAhead;

// Judges the station's clock by one reading (see ApplyReading's rules). Returns true when the reading must be
// evaluated as `at_arrival` (filled in) instead of as sent.
bool CheckClock(const HealthPolicy& health, const MonitorOptions& o, StationTrack& t, const Reading& r, TimePoint now,
                Reading& at_arrival) {
  const auto tol = health.clock_tolerance;
  const bool next = !t.latest_ts || r.seq > t.max_seq;  // newer by the station's own count
  const bool ahead = r.ts > now + tol;
  // Back: behind kaoko's clock too (a reading dated as it arrives has a right clock, whatever came before it), and
  // before any real measurement, or behind the newest by more than the tolerance, or still so after a reset.
  const bool back =
      next && r.ts < now - tol &&
      (r.ts < kClockFloor || (t.latest_ts && r.ts < *t.latest_ts - tol) || (t.problems & kProblemClockReset));
  if (!ahead && !back) {
    if ((t.problems & kClockProblems) && ++t.clock_good_run >= o.clock_clear_readings) {
      t.problems &= ~kClockProblems;
      t.clock_ahead_s = 0;
      t.clock_good_run = 0;
    }
    return false;
  }
  t.clock_good_run = 0;
  if (ahead) {
    t.problems = (t.problems & ~kProblemClockReset) | kProblemClockAhead;
    t.clock_ahead_s = std::chrono::round<std::chrono::minutes>(r.ts - now).count() * 60;
  } else {
    t.problems = (t.problems & ~kProblemClockAhead) | kProblemClockReset;
    t.clock_ahead_s = 0;
  }
  at_arrival = r;
  if (!next) {
    at_arrival.ts = *t.latest_ts;  // a repeat by seq: stored, but not evaluated again
  } else {
    // Strictly after the newest evaluated, so that readings arriving together are each evaluated.
    at_arrival.ts = t.latest_ts && *t.latest_ts >= now ? *t.latest_ts + std::chrono::milliseconds(1) : now;
  }
  return true;
}

bool Compact(const StationTrack& t) {
  return t.recent_head == 0 && t.recent_count == t.recent.size() && t.recent.size() <= StationTrack::kRecentCapacity &&
         t.rain_bucket.size() == t.rain_mm.size() && std::is_sorted(t.rain_bucket.begin(), t.rain_bucket.end()) &&
         std::adjacent_find(t.rain_bucket.begin(), t.rain_bucket.end()) == t.rain_bucket.end() &&
         (t.rain_bucket.empty() || t.rain_bucket.front() != std::numeric_limits<std::int64_t>::min());
}

}  // namespace

StationTrack NewStationTrack(const Station& /*station*/) {
  StationTrack t;
  return t;
}

void NormalizeWindows(StationTrack& t) {
  if (Compact(t)) return;
  // The ring: recent_count slots ending just before recent_head, oldest first (a head or count that does not fit the
  // ring keeps what does).
  std::vector<RecentReading> ring;
  const std::size_t cap = t.recent.size();
  if (cap > 0) {
    const std::size_t head = t.recent_head % cap;
    const std::size_t count = std::min<std::size_t>(t.recent_count, cap);
    ring.reserve(count);
    for (std::size_t k = 0; k < count; ++k) ring.push_back(t.recent[(head + cap - count + k) % cap]);
    // A ring saved by a kaoko that kept more readings: thinned where densest (its oldest, the base, stays), in a
    // block of just the size kept.
    while (ring.size() > StationTrack::kRecentCapacity) ThinDensest(ring);
    ring.shrink_to_fit();
  }
  t.recent = std::move(ring);
  t.recent_head = 0;
  t.recent_count = t.recent.size();
  // Rain: the slots that hold a bucket, by bucket (the same bucket twice is summed).
  std::vector<std::pair<std::int64_t, double>> rain;
  const std::size_t n = std::min(t.rain_bucket.size(), t.rain_mm.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (t.rain_bucket[i] == std::numeric_limits<std::int64_t>::min()) continue;
    rain.emplace_back(t.rain_bucket[i], t.rain_mm[i]);
  }
  std::stable_sort(rain.begin(), rain.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  t.rain_bucket.clear();
  t.rain_mm.clear();
  for (const auto& [bucket, mm] : rain) {
    if (!t.rain_bucket.empty() && t.rain_bucket.back() == bucket) {
      t.rain_mm.back() += mm;
      continue;
    }
    t.rain_bucket.push_back(bucket);
    t.rain_mm.push_back(mm);
  }
}

Level RawLevel(const Station& station, double level_cm) {
  for (int i = kLevels - 1; i >= 0; --i) {
    if (level_cm >= ThresholdCm(station, i)) return LevelOfIndex(i);
  }
  return Level::kNormal;
}

const Threshold* ThresholdOf(const Station& station, Level level) {
  switch (level) {
    case Level::kWatch:
      return &station.watch;
    case Level::kWarning:
      return &station.warning;
    case Level::kCritical:
      return &station.critical;
    case Level::kNormal:
      return nullptr;
  }
  return nullptr;
}

MonitorResult ApplyReading(const Station& station, const HealthPolicy& health, const RainPolicy& rain,
                           const MonitorOptions& options, StationTrack& t, const Reading& sent, TimePoint now,
                           bool others_moving) {
  MonitorResult res;
  res.level_before = t.level;
  res.problems_before = t.problems;
  // A track restored from an older or hand-written state: bring its windows to the layout the code below expects.
  NormalizeWindows(t);
  Reading at_arrival;
  res.at_arrival = CheckClock(health, options, t, sent, now, at_arrival);
  const Reading& r = res.at_arrival ? at_arrival : sent;

  t.max_seq = std::max(t.max_seq, r.seq);
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
    t.recent.clear();  // the old level would make the new baseline look like a fast rise
    t.recent_count = 0;
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
  PushRecent(t, options, r.ts, r.level_cm);

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
