// Retention: raw readings older than the configured number of days (kaoko-server --raw-days, docs/operations.md)
// become one row per station and hour in `readings_hourly` — lowest, mean and highest level, how many readings, the
// rain that fell, the lowest battery — and the raw rows are deleted. Years of history then cost a few megabytes.
//
// The work is done in small steps (DownsampleStep) that the service runs on the core thread inside an ordinary
// batch, a few thousand rows at a time, so ingest never waits long. Whole UTC days are folded (07:00 to 07:00 in
// Thailand), each once it lies entirely before the cutoff; the time index reading_days (store.hpp, migration 6) finds
// them and bounds every query to their seqs. A raw reading that arrives later for a day already folded is merged into
// its hour by the next step.
//
// ReadingSeries is what /api/v1/stations/{id}/readings answers: hourly rows where the raw readings were folded, raw
// readings elsewhere, in time order.
//
// Every function here uses one Store connection and is as thread-safe as that connection (not at all): call them on
// the thread that owns the Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kaoko/store/store.hpp"

namespace kaoko::store {

// One station's hour of folded readings. `hour` is the start of the hour (UTC); the row stands for [hour, hour + 1 h).
struct HourlyReading {
  std::string station;
  TimePoint hour{};
  std::int64_t count = 0;
  double level_min_cm = 0;
  double level_mean_cm = 0;
  double level_max_cm = 0;
  std::optional<double> rain_mm;        // the sum over the hour; none when no reading of the hour carried rain_mm
  std::optional<double> battery_min_v;  // the lowest of the hour; none when no reading carried battery_v
};

struct DownsampleResult {
  std::int64_t raw_deleted = 0;     // raw readings folded into hourly rows and deleted
  std::int64_t hourly_written = 0;  // hourly rows inserted or merged into
  bool more = false;                // raw readings older than the cutoff remain: call again soon
};

// Start of the hour / the UTC day that contains `t` (hours are whole in UTC and in Thailand's UTC+7 alike).
// Thread-safe.
TimePoint HourStart(TimePoint t);
TimePoint DayStart(TimePoint t);

// One bounded step: folds the raw readings of one station with ts before DayStart(cutoff), oldest days first, whole
// days of about `max_rows` readings in all (a day holding more is folded alone), and forgets those days in
// reading_days. Writes inside the caller's transaction (the core's batch); throws SqliteError, and the caller's
// transaction must then roll back.
DownsampleResult DownsampleStep(Store& store, TimePoint cutoff, std::int64_t max_rows = 5000);

// The hourly rows of `station` whose hour starts in [since, until], in time order, at most `limit`. Read-only.
std::vector<HourlyReading> HourlyReadings(Store& store, std::string_view station, TimePoint since, TimePoint until,
                                          int limit);

// A point of a station's series: a raw reading, or an hour that retention folded.
using SeriesPoint = std::variant<wire::Reading, HourlyReading>;
TimePoint PointTime(const SeriesPoint& p);  // a raw reading's ts, an hourly row's hour start

// The station's readings with ts in [since, until] and the hourly rows whose hour starts there, merged in time order
// (an hourly row before a raw reading of the same instant), at most `limit`. Read-only.
std::vector<SeriesPoint> ReadingSeries(Store& store, std::string_view station, TimePoint since, TimePoint until,
                                       int limit);

// How many hourly rows there are (0 when the file predates the table). Read-only.
std::int64_t CountHourlyReadings(Store& store);

}  // namespace kaoko::store
