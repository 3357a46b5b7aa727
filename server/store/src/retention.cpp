#include "kaoko/store/retention.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "stmt.hpp"

namespace kaoko::store {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t FloorHour(std::int64_t ms) { return ms - (((ms % kHourMs) + kHourMs) % kHourMs); }
// UTC days as reading_days counts them (readings.cpp: SQLite's integer division; readings are after 1970).
std::int64_t FloorDay(std::int64_t ms) { return ms - ms % kDayMs; }

}  // namespace

TimePoint HourStart(TimePoint t) { return FromMs(FloorHour(Ms(t))); }
TimePoint DayStart(TimePoint t) { return FromMs(FloorDay(Ms(t))); }

DownsampleResult DownsampleStep(Store& store, TimePoint cutoff, std::int64_t max_rows) {
  DownsampleResult result;
  sqlite3* db = Connection::Of(store);
  const std::int64_t cut = FloorDay(Ms(cutoff));
  // The time index (reading_days, one row per station and day) says which stations have days before the cut.
  auto oldest = store.OldestReadingDays(FromMs(cut));
  if (oldest.empty()) return result;
  // The station whose history is oldest goes first, so that every station ages alike.
  auto [station, first_day] =
      *std::min_element(oldest.begin(), oldest.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  // Whole days from the oldest, about max_rows readings (at least one day), and the seqs they can hold: every query
  // below scans the (station, seq) key over that range only.
  const std::int64_t start = Ms(first_day);
  std::int64_t end = start;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  std::int64_t estimate = 0;
  bool more_days = false;
  {
    Stmt days(db, "SELECT day, lo, hi FROM reading_days WHERE station = ? AND day >= ? AND day < ? ORDER BY day");
    days.Bind(1, station).Bind(2, start / kDayMs).Bind(3, cut / kDayMs);
    while (days.Step()) {
      // An open day (hi NULL: the station's newest, every seq from lo up) before the cut: a station long silent, whose
      // highest seq is then the day's.
      std::int64_t day_hi = 0;
      if (days.IsNull(2)) {
        day_hi = store.MaxSeq(station).value_or(days.Int(1));
      } else {
        day_hi = days.Int(2);
      }
      const std::int64_t n = day_hi - days.Int(1) + 1;
      if (end > start && estimate + n > max_rows) {
        more_days = true;
        break;
      }
      lo = std::min(lo, days.Int(1));
      hi = std::max(hi, day_hi);
      estimate += n;
      end = (days.Int(0) + 1) * kDayMs;
    }
  }
  if (end > start) {
    // Fold, merging into an hour folded before (a late reading): the mean weighted by the counts.
    // From the archive alone unless readings_recent holds some of them (a reading that came very late): the view
    // would scan the whole recent table, which has no index.
    const bool recent = store.HasRecentReadings(station, lo, hi, FromMs(start), FromMs(end));
    Stmt fold(
        db, std::string(
                "INSERT INTO readings_hourly (station, hour, n, level_min_cm, level_mean_cm, level_max_cm, "
                "rain_mm, battery_min_v) "
                "SELECT station, (ts / 3600000) * 3600000 AS h, COUNT(*), MIN(level_cm), AVG(level_cm), MAX(level_cm), "
                "SUM(rain_mm), MIN(battery_v) FROM ") +
                (recent ? "readings" : "readings_archive") +
                " WHERE station = ? AND seq >= ? AND seq <= ? AND ts >= ? AND ts < ? GROUP BY h "
                "ON CONFLICT (station, hour) DO UPDATE SET "
                "n = n + excluded.n, "
                "level_mean_cm = (level_mean_cm * n + excluded.level_mean_cm * excluded.n) / (n + excluded.n), "
                "level_min_cm = MIN(level_min_cm, excluded.level_min_cm), "
                "level_max_cm = MAX(level_max_cm, excluded.level_max_cm), "
                "rain_mm = CASE WHEN rain_mm IS NULL THEN excluded.rain_mm WHEN excluded.rain_mm IS NULL THEN rain_mm "
                "ELSE rain_mm + excluded.rain_mm END, "
                "battery_min_v = CASE WHEN battery_min_v IS NULL THEN excluded.battery_min_v "
                "WHEN excluded.battery_min_v IS NULL THEN battery_min_v "
                "ELSE MIN(battery_min_v, excluded.battery_min_v) END");
    fold.Bind(1, station).Bind(2, lo).Bind(3, hi).Bind(4, start).Bind(5, end).Run();
    result.hourly_written = sqlite3_changes(db);
    result.raw_deleted = store.DeleteReadings(station, lo, hi, FromMs(start), FromMs(end));
  } else {
    end = start + kDayMs;  // reading_days said so but has no row from there: forget the day all the same
  }
  store.ForgetReadingDays(station, FromMs(start), FromMs(end));
  result.more = more_days || oldest.size() > 1;
  return result;
}

std::vector<HourlyReading> HourlyReadings(Store& store, std::string_view station, TimePoint since, TimePoint until,
                                          int limit) {
  std::vector<HourlyReading> out;
  Stmt s(Connection::Of(store),
         "SELECT h.hour, h.n, h.level_min_cm, h.level_mean_cm, h.level_max_cm, h.rain_mm, h.battery_min_v "
         "FROM readings_hourly h JOIN stations s ON s.id = h.station "
         "WHERE s.name = ? AND h.hour >= ? AND h.hour <= ? ORDER BY h.hour LIMIT ?");
  s.Bind(1, station).Bind(2, Ms(since)).Bind(3, Ms(until)).Bind(4, std::int64_t{limit});
  while (s.Step()) {
    out.push_back({std::string(station), FromMs(s.Int(0)), s.Int(1), s.Double(2), s.Double(3), s.Double(4),
                   s.OptDouble(5), s.OptDouble(6)});
  }
  return out;
}

TimePoint PointTime(const SeriesPoint& p) {
  if (const auto* raw = std::get_if<wire::Reading>(&p)) return raw->ts;
  return std::get<HourlyReading>(p).hour;
}

std::vector<SeriesPoint> ReadingSeries(Store& store, std::string_view station, TimePoint since, TimePoint until,
                                       int limit) {
  auto hourly = HourlyReadings(store, station, since, until, limit);
  auto raw = store.Readings(station, since, until, limit);
  std::vector<SeriesPoint> out;
  out.reserve(std::min<size_t>(static_cast<size_t>(std::max(limit, 0)), hourly.size() + raw.size()));
  size_t h = 0, r = 0;
  while (static_cast<int>(out.size()) < limit && (h < hourly.size() || r < raw.size())) {
    if (r == raw.size() || (h < hourly.size() && hourly[h].hour <= raw[r].ts)) {
      out.emplace_back(std::move(hourly[h++]));
    } else {
      out.emplace_back(std::move(raw[r++]));
    }
  }
  return out;
}

std::int64_t CountHourlyReadings(Store& store) {
  Stmt exists(Connection::Of(store),
              "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'readings_hourly'");
  exists.Step();
  if (exists.Int(0) == 0) return 0;
  Stmt s(Connection::Of(store), "SELECT COUNT(*) FROM readings_hourly");
  s.Step();
  return s.Int(0);
}

}  // namespace kaoko::store
