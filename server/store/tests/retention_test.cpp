// Retention: old raw readings folded into hourly rows in bounded steps, late readings merged, and the series the
// readings API answers (hourly where folded, raw elsewhere).
#include <catch2/catch.hpp>

#include <filesystem>

#include "kaoko/store/query.hpp"
#include "kaoko/store/retention.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using namespace std::chrono;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {

std::unique_ptr<store::Store> Open(const ScratchDir& tmp) {
  auto s = store::Store::Open(tmp.db(), {.synchronous_full = false});
  REQUIRE(s.ok());
  return std::move(*s);
}

// One reading a minute of `station` from `from` for `minutes`, seq counting from `first_seq`; level = 100 + minute of
// the hour, rain 0.2 on even minutes (none on odd ones), battery 4.0 falling by 0.001 a minute.
void Minutely(store::Store& s, const std::string& station, wire::TimePoint from, int minutes, std::uint64_t first_seq) {
  s.Begin();
  for (int m = 0; m < minutes; ++m) {
    auto ts = from + std::chrono::minutes(m);
    auto minute = duration_cast<std::chrono::minutes>(ts.time_since_epoch()).count() % 60;
    std::optional<double> rain;
    if (m % 2 == 0) rain = 0.2;
    s.InsertReading(station, {{},
                              first_seq + static_cast<std::uint64_t>(m),
                              ts,
                              100.0 + static_cast<double>(minute),
                              rain,
                              4.0 - 0.001 * m});
  }
  s.Commit();
}

store::DownsampleResult Step(store::Store& s, wire::TimePoint cutoff, std::int64_t max_rows = 5000) {
  s.Begin();
  auto r = store::DownsampleStep(s, cutoff, max_rows);
  s.Commit();
  return r;
}
}  // namespace

TEST_CASE("retention: whole days before the cutoff become hourly rows and their raw readings go", "[retention]") {
  ScratchDir tmp("retention");
  auto s = Open(tmp);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), 2 * 1440, 1);  // two whole UTC days
  // Cutoff in the middle of the second day: only the first is folded; the day the cutoff falls in stays raw.
  auto r = Step(*s, T("2026-01-02T12:00:00Z"));
  CHECK(r.raw_deleted == 1440);
  CHECK(r.hourly_written == 24);
  CHECK_FALSE(r.more);
  CHECK(s->CountReadings() == 1440);
  CHECK(store::CountHourlyReadings(*s) == 24);
  CHECK(s->Readings("kaoko-bridge", T("2026-01-01T00:00:00Z"), T("2026-01-03T00:00:00Z"), 5000).size() == 1440);

  auto hours = store::HourlyReadings(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), T("2026-01-03T00:00:00Z"), 100);
  REQUIRE(hours.size() == 24);
  CHECK(hours[0].hour == T("2026-01-01T00:00:00Z"));
  CHECK(hours[23].hour == T("2026-01-01T23:00:00Z"));
  CHECK(hours[0].count == 60);
  CHECK(hours[0].level_min_cm == 100.0);
  CHECK(hours[0].level_max_cm == 159.0);
  CHECK(hours[0].level_mean_cm == Approx(129.5));
  CHECK(hours[0].rain_mm == Approx(30 * 0.2));           // the sum of the hour's rain
  CHECK(hours[1].battery_min_v == Approx(4.0 - 0.119));  // the lowest of the hour
  // Nothing more to fold until the cutoff passes the next midnight (UTC).
  auto again = Step(*s, T("2026-01-02T23:59:59Z"));
  CHECK(again.raw_deleted == 0);
  CHECK_FALSE(again.more);
  CHECK(Step(*s, T("2026-01-03T00:00:00Z")).raw_deleted == 1440);
}

TEST_CASE("retention: a step folds whole days of about max_rows, oldest station first, until nothing is left",
          "[retention]") {
  ScratchDir tmp("retention");
  auto s = Open(tmp);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), 3 * 1440, 1);
  Minutely(*s, "kaoko-temple", T("2025-12-30T00:00:00Z"), 2 * 1440, 1);  // older: goes first
  const auto cutoff = T("2026-02-01T00:00:00Z");
  auto first = Step(*s, cutoff, 2000);  // one day: a second would pass 2,000
  CHECK(first.raw_deleted == 1440);
  CHECK(first.hourly_written == 24);
  CHECK(first.more);
  CHECK(store::HourlyReadings(*s, "kaoko-temple", T("2025-12-30T00:00:00Z"), cutoff, 100).size() == 24);
  CHECK(store::HourlyReadings(*s, "kaoko-bridge", T("2025-12-30T00:00:00Z"), cutoff, 100).empty());
  int steps = 1;
  std::int64_t deleted = first.raw_deleted;
  for (auto r = first; r.more; ++steps) {
    r = Step(*s, cutoff, 2000);
    deleted += r.raw_deleted;
    REQUIRE(steps < 100);
  }
  CHECK(steps == 5);
  CHECK(deleted == 5 * 1440);
  CHECK(s->CountReadings() == 0);
  CHECK(store::CountHourlyReadings(*s) == 5 * 24);
  CHECK_FALSE(Step(*s, cutoff).more);
  SECTION("small days go several to a step; a day with more readings than max_rows is folded whole") {
    Minutely(*s, "kaoko-bridge", T("2026-01-10T00:00:00Z"), 1440, 10'000);
    auto r = Step(*s, cutoff, 10);
    CHECK(r.raw_deleted == 1440);
    CHECK(r.hourly_written == 24);
    Minutely(*s, "kaoko-temple", T("2026-01-11T00:00:00Z"), 3 * 1440, 10'000);
    auto all = Step(*s, cutoff, 5000);
    CHECK(all.raw_deleted == 3 * 1440);
  }
}

TEST_CASE("retention: a reading that arrives after its day was folded is merged into its hour", "[retention]") {
  ScratchDir tmp("retention");
  auto s = Open(tmp);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), 60, 1);  // levels 100..159, mean 129.5
  Step(*s, T("2026-01-02T00:00:00Z"));
  s->Begin();
  s->InsertReading("kaoko-bridge", {{}, 61, T("2026-01-01T00:30:30Z"), 400.0, 1.0, 3.5});  // late, a new high
  s->InsertReading("kaoko-bridge", {{}, 62, T("2026-01-01T00:31:30Z"), 50.0, std::nullopt, std::nullopt});  // a new low
  s->Commit();
  auto r = Step(*s, T("2026-01-02T00:00:00Z"));
  CHECK(r.raw_deleted == 2);
  CHECK(r.hourly_written == 1);
  auto hours = store::HourlyReadings(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), T("2026-01-02T00:00:00Z"), 10);
  REQUIRE(hours.size() == 1);
  CHECK(hours[0].count == 62);
  CHECK(hours[0].level_max_cm == 400.0);
  CHECK(hours[0].level_min_cm == 50.0);
  CHECK(hours[0].level_mean_cm == Approx((129.5 * 60 + 400 + 50) / 62));
  CHECK(hours[0].rain_mm == Approx(30 * 0.2 + 1.0));
  CHECK(hours[0].battery_min_v == Approx(3.5));
  // And the station goes on as before.
  s->Begin();
  s->InsertReading("kaoko-bridge", {{}, 63, T("2026-01-05T00:00:00Z"), 120.0, std::nullopt, std::nullopt});
  s->Commit();
  CHECK(s->Readings("kaoko-bridge", T("2026-01-04T00:00:00Z"), T("2026-01-06T00:00:00Z"), 10).size() == 1);
}

TEST_CASE("retention: the readings series is hourly where folded and raw elsewhere, in time order", "[retention]") {
  ScratchDir tmp("retention");
  auto s = Open(tmp);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), 1440 + 4 * 60, 1);  // a day and four hours
  Step(*s, T("2026-01-02T02:00:00Z"));                                        // the first day folded
  auto all = store::ReadingSeries(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), T("2026-01-02T23:00:00Z"), 1000);
  REQUIRE(all.size() == 24 + 240);
  CHECK(std::holds_alternative<store::HourlyReading>(all[0]));
  CHECK(std::holds_alternative<store::HourlyReading>(all[23]));
  CHECK(std::holds_alternative<wire::Reading>(all[24]));
  CHECK(store::PointTime(all[24]) == T("2026-01-02T00:00:00Z"));
  for (size_t i = 1; i < all.size(); ++i) REQUIRE(store::PointTime(all[i - 1]) <= store::PointTime(all[i]));
  SECTION("the limit counts both kinds, and paging on from the last point repeats nothing") {
    auto page = store::ReadingSeries(*s, "kaoko-bridge", T("2026-01-01T22:00:00Z"), T("2026-01-02T23:00:00Z"), 5);
    REQUIRE(page.size() == 5);
    CHECK(std::holds_alternative<store::HourlyReading>(page[1]));
    CHECK(std::holds_alternative<wire::Reading>(page[2]));
    auto next = store::ReadingSeries(*s, "kaoko-bridge", store::PointTime(page.back()) + milliseconds(1),
                                     T("2026-01-02T23:00:00Z"), 5);
    REQUIRE(next.size() == 5);
    CHECK(store::PointTime(next.front()) > store::PointTime(page.back()));
  }
  SECTION("an hourly row stands at the start of its hour") {
    auto from_half_past =
        store::ReadingSeries(*s, "kaoko-bridge", T("2026-01-01T00:30:00Z"), T("2026-01-01T01:30:00Z"), 100);
    REQUIRE(from_half_past.size() == 1);
    CHECK(store::PointTime(from_half_past[0]) == T("2026-01-01T01:00:00Z"));
  }
}

TEST_CASE("retention: a day with readings in both the archive and the recent table is folded once (migration 8)",
          "[retention]") {
  ScratchDir tmp("retention");
  auto s = Open(tmp);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T00:00:00Z"), 720, 1);
  REQUIRE(s->MergeRecent() == 720);
  Minutely(*s, "kaoko-bridge", T("2026-01-01T12:00:00Z"), 720, 721);    // the rest of the day, not merged yet
  Minutely(*s, "kaoko-bridge", T("2026-01-02T00:00:00Z"), 1440, 1441);  // the next day, not merged yet
  auto r = Step(*s, T("2026-01-02T12:00:00Z"));
  CHECK(r.raw_deleted == 1440);
  CHECK(r.hourly_written == 24);
  CHECK(s->CountReadings() == 1440);
  CHECK(s->RecentReadings() == 1440);
  store::testing::Query n(*s, "SELECT SUM(n), COUNT(*) FROM readings_hourly");
  REQUIRE(n.Step());
  CHECK(n.Int(0) == 1440);
  CHECK(n.Int(1) == 24);
  // What is left merges as usual and is read back whole.
  CHECK(s->MergeRecent() == 1440);
  CHECK(s->Readings("kaoko-bridge", T("2026-01-01T00:00:00Z"), T("2026-01-03T00:00:00Z"), 5000).size() == 1440);
}
