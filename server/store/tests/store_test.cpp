#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using namespace std::chrono;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {
wire::Reading R(std::uint64_t seq, const char* ts, double level) { return {{}, seq, T(ts), level, std::nullopt, 3.9}; }
}  // namespace

TEST_CASE("store: a new file is created at the current schema version in WAL mode", "[store]") {
  ScratchDir tmp("store");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  REQUIRE((*s)->schema_version() == store::CurrentSchemaVersion());
  store::testing::Query mode(**s, "PRAGMA journal_mode");
  REQUIRE(mode.Step());
  REQUIRE(mode.Text(0) == "wal");
}

TEST_CASE("store: a file from a newer kaoko is refused, not damaged", "[store]") {
  ScratchDir tmp("store");
  { REQUIRE(store::Store::Open(tmp.db()).ok()); }
  {
    auto s = store::Store::Open(tmp.db());
    (*s)->Exec("PRAGMA user_version=999");
  }
  auto again = store::Store::Open(tmp.db());
  REQUIRE_FALSE(again.ok());
  REQUIRE(again.error().reason.find("newer") != std::string::npos);
}

TEST_CASE("store: a file that is not a database is refused with the reason", "[store]") {
  ScratchDir tmp("store");
  { std::ofstream(tmp.db()) << "this is not sqlite, just text that happens to be long enough to look like a header"; }
  auto s = store::Store::Open(tmp.db());
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.error().reason.find(tmp.db()) != std::string::npos);
}

TEST_CASE("store: readings are stored once per (station, seq) and read back in time order", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  s->Begin();
  REQUIRE(s->InsertReading("kaoko-bridge", R(3, "2026-11-27T04:30:00Z", 260)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("kaoko-bridge", R(1, "2026-11-27T04:10:00Z", 250)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("kaoko-bridge", R(2, "2026-11-27T04:20:00Z", 255)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("kaoko-bridge", R(2, "2026-11-27T04:20:00Z", 999)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("kaoko-temple", R(2, "2026-11-27T04:25:00Z", 100)) == store::Insert::kStored);
  s->Commit();
  auto rows = s->Readings("kaoko-bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 100);
  REQUIRE(rows.size() == 3);
  REQUIRE(rows[0].seq == 1);
  REQUIRE(rows[1].seq == 2);
  REQUIRE(rows[1].level_cm == 255);  // the first copy wins; a repeat never overwrites
  REQUIRE(rows[2].seq == 3);
  REQUIRE(*rows[0].battery_v == 3.9);
  REQUIRE_FALSE(rows[0].rain_mm);
  REQUIRE(s->Readings("kaoko-bridge", T("2026-11-27T04:15:00Z"), T("2026-11-27T04:25:00Z"), 100).size() == 1);
  REQUIRE(s->Readings("kaoko-bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 2).size() == 2);
  REQUIRE(s->CountReadings() == 4);
  auto latest = s->LatestReadings();
  REQUIRE(latest.size() == 2);
  for (const auto& r : latest) {
    if (r.station == "kaoko-bridge") REQUIRE(r.seq == 3);
  }
}

TEST_CASE("store: a rolled-back batch leaves nothing behind", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  s->Begin();
  s->InsertReading("s", R(1, "2026-11-27T04:10:00Z", 1));
  s->Rollback();
  REQUIRE(s->CountReadings() == 0);
  s->Begin();
  REQUIRE(s->InsertReading("s", R(1, "2026-11-27T04:10:00Z", 1)) == store::Insert::kStored);
  s->Commit();
  REQUIRE(s->CountReadings() == 1);
}

TEST_CASE("store: a read-only connection sees each commit", "[store]") {
  ScratchDir tmp("store");
  auto w = std::move(*store::Store::Open(tmp.db()));
  auto r = std::move(*store::Store::Open(tmp.db(), {.read_only = true}));
  REQUIRE(r->CountReadings() == 0);
  w->Begin();
  w->InsertReading("s", R(1, "2026-11-27T04:10:00Z", 1));
  REQUIRE(r->CountReadings() == 0);  // not yet committed
  w->Commit();
  REQUIRE(r->CountReadings() == 1);
  REQUIRE_THROWS(r->Exec("INSERT INTO stations (name) VALUES ('x')"));
}

TEST_CASE("store: reports and decisions are stored once per (user, id)", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  wire::ReportMsg rep;
  rep.id = "r-1";
  rep.ts = T("2026-11-27T04:10:00Z");
  rep.note = "น้ำขึ้น";
  s->Begin();
  REQUIRE(s->InsertReport("somchai", "kaoko", rep, rep.ts) == store::Insert::kStored);
  REQUIRE(s->InsertReport("somchai", "kaoko", rep, rep.ts) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReport("malee", "kaoko", rep, rep.ts) == store::Insert::kStored);
  wire::DecisionMsg d;
  d.id = "d-1";
  d.incident = 3;
  REQUIRE(s->InsertDecision("boonmee", "kaoko", d, "mqtt", rep.ts, false, "no such incident") ==
          store::Insert::kStored);
  REQUIRE(s->InsertDecision("boonmee", "kaoko", d, "mqtt", rep.ts, false, "x") == store::Insert::kDuplicate);
  s->Commit();
  REQUIRE(s->ReportIncident("somchai", "r-1") == std::optional<std::int64_t>(0));
  REQUIRE_FALSE(s->ReportIncident("somchai", "r-2"));
  REQUIRE(s->QuickCheck().empty());
}

TEST_CASE("store: a station first seen in a rolled-back batch gets a key that exists once it is stored", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  s->Begin();
  s->InsertReading("old", R(1, "2026-11-27T04:00:00Z", 1));
  s->Commit();
  // The batch that meets "new" first fails (a full disk) and is rolled back, with the station's row in `stations`.
  s->Begin();
  s->InsertReading("new", R(1, "2026-11-27T04:10:00Z", 2));
  s->Rollback();
  // The station sends it again.
  s->Begin();
  REQUIRE(s->InsertReading("new", R(1, "2026-11-27T04:10:00Z", 2)) == store::Insert::kStored);
  s->Commit();
  store::testing::Query orphans(*s, "SELECT COUNT(*) FROM readings WHERE station NOT IN (SELECT id FROM stations)");
  REQUIRE(orphans.Step());
  REQUIRE(orphans.Int(0) == 0);
  auto rows = s->Readings("new", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 10);
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].level_cm == 2);
  REQUIRE(s->Readings("old", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 10).size() == 1);
  // Every station with a key, in one scan, as the service reads them at start: a key rolled back is not among them.
  s->Begin();
  REQUIRE(s->StationKey("gone") > 0);
  s->Rollback();
  std::map<std::string, std::int64_t> keys;
  s->ForEachStationKey([&](std::string_view name, std::int64_t key) { keys.emplace(name, key); });
  REQUIRE(keys ==
          std::map<std::string, std::int64_t>{{"old", s->KnownStationKey("old")}, {"new", s->KnownStationKey("new")}});
  REQUIRE(keys["old"] != keys["new"]);
  REQUIRE(s->KnownStationKey("gone") == 0);
}

TEST_CASE("store: readings move from the recent table into the archive, readable alike and stored once (migration 8)",
          "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  auto count = [&](const char* table) {
    store::testing::Query q(*s, std::string("SELECT COUNT(*) FROM ") + table);
    q.Step();
    return q.Int(0);
  };
  s->Begin();
  REQUIRE(s->InsertReading("bridge", R(1, "2026-11-27T04:10:00Z", 250)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("bridge", R(2, "2026-11-27T04:20:00Z", 255)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("temple", R(7, "2026-11-27T04:25:00Z", 100)) == store::Insert::kStored);
  s->Commit();
  REQUIRE(count("readings_recent") == 3);
  REQUIRE(count("readings_archive") == 0);
  REQUIRE(s->RecentReadings() == 3);
  const auto before = s->Readings("bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 100);
  REQUIRE(before.size() == 2);

  s->Begin();
  REQUIRE_THROWS_AS(s->MergeRecent(), std::logic_error);  // never inside the caller's transaction
  s->Rollback();
  REQUIRE(s->MergeRecent() == 3);
  REQUIRE(count("readings_recent") == 0);
  REQUIRE(count("readings_archive") == 3);
  REQUIRE(s->RecentReadings() == 0);
  REQUIRE(s->MergeRecent() == 0);
  const auto after = s->Readings("bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 100);
  REQUIRE(after.size() == 2);
  REQUIRE(after[1].seq == before[1].seq);
  REQUIRE(after[1].level_cm == 255);

  // A repeat of a reading now in the archive is still a duplicate; a seq below the highest that was never stored
  // (a gap the station fills later) is stored, and so is the next one; the highest seq counts both tables.
  s->Begin();
  REQUIRE(s->InsertReading("bridge", R(2, "2026-11-27T04:20:00Z", 999)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("temple", R(5, "2026-11-27T04:05:00Z", 90)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("temple", R(5, "2026-11-27T04:05:00Z", 91)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("bridge", R(3, "2026-11-27T04:30:00Z", 260)) == store::Insert::kStored);
  s->Commit();
  REQUIRE(s->MaxSeq(s->KnownStationKey("bridge")) == 3);
  REQUIRE(s->MaxSeq(s->KnownStationKey("temple")) == 7);
  REQUIRE_FALSE(s->MaxSeq(s->StationKey("silent")));
  REQUIRE(s->CountReadings() == 5);
  REQUIRE(s->Reading(s->KnownStationKey("temple"), 5)->level_cm == 90);
  REQUIRE(s->MergeRecent() == 2);
  REQUIRE(s->CountReadings() == 5);
}

TEST_CASE("store: after a rollback or a restart the recent readings are known again from the table", "[store]") {
  ScratchDir tmp("store");
  {
    auto s = std::move(*store::Store::Open(tmp.db()));
    s->Begin();
    REQUIRE(s->InsertReading("bridge", R(1, "2026-11-27T04:10:00Z", 250)) == store::Insert::kStored);
    REQUIRE(s->InsertReading("bridge", R(2, "2026-11-27T04:20:00Z", 255)) == store::Insert::kStored);
    s->Commit();
    s->Begin();
    REQUIRE(s->InsertReading("bridge", R(3, "2026-11-27T04:30:00Z", 260)) == store::Insert::kStored);
    s->Rollback();
    s->Begin();
    // Seq 3 was rolled back: it is stored now. Seq 2 is still a duplicate, found in the recent table's rows.
    REQUIRE(s->InsertReading("bridge", R(3, "2026-11-27T04:30:00Z", 261)) == store::Insert::kStored);
    REQUIRE(s->InsertReading("bridge", R(2, "2026-11-27T04:20:00Z", 999)) == store::Insert::kDuplicate);
    s->Commit();
    REQUIRE(s->RecentReadings() == 3);
  }
  // A restart with the readings still in readings_recent (a kill before a merge).
  auto s = std::move(*store::Store::Open(tmp.db()));
  REQUIRE(s->RecentReadings() == 3);
  s->Begin();
  REQUIRE(s->InsertReading("bridge", R(1, "2026-11-27T04:10:00Z", 999)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("bridge", R(3, "2026-11-27T04:30:00Z", 999)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("bridge", R(4, "2026-11-27T04:40:00Z", 265)) == store::Insert::kStored);
  s->Commit();
  REQUIRE(s->CountReadings() == 4);
  REQUIRE(s->Reading(s->KnownStationKey("bridge"), 3)->level_cm == 261);
}

TEST_CASE("store: a day closed after a restart counts its readings in both tables", "[store]") {
  ScratchDir tmp("store");
  {
    auto s = std::move(*store::Store::Open(tmp.db()));
    s->Begin();
    s->InsertReading("bridge", R(1, "2026-11-27T04:10:00Z", 250));
    s->Commit();
    REQUIRE(s->MergeRecent() == 1);
    s->Begin();
    s->InsertReading("bridge", R(2, "2026-11-27T20:00:00Z", 255));
    s->InsertReading("bridge", R(3, "2026-11-27T23:50:00Z", 260));
    s->Commit();
  }
  auto s = std::move(*store::Store::Open(tmp.db()));
  s->Begin();
  s->InsertReading("bridge", R(4, "2026-11-28T00:10:00Z", 265));  // the 27th closes: its highest seq is 3
  s->Commit();
  store::testing::Query day(*s, "SELECT lo, hi FROM reading_days WHERE day = ?");
  day.Bind(1, std::int64_t{T("2026-11-27T00:00:00Z").time_since_epoch().count() / 86'400'000});
  REQUIRE(day.Step());
  REQUIRE(day.Int(0) == 1);
  REQUIRE(day.Int(1) == 3);
  REQUIRE(s->Readings("bridge", T("2026-11-27T00:00:00Z"), T("2026-11-27T23:59:59Z"), 100).size() == 3);
  REQUIRE(s->Readings("bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T23:59:59Z"), 100).size() == 4);
}

namespace {
// Stations st-01 … st-40 (keys 1..40), two readings each (seq 1 and 2), unmerged.
void FortyStations(store::Store& s) {
  s.Begin();
  for (int i = 1; i <= 40; ++i) {
    const std::string name = fmt::format("st-{:02d}", i);
    REQUIRE(s.StationKey(name) == i);
    for (std::uint64_t seq = 1; seq <= 2; ++seq) s.InsertReading(name, R(seq, "2026-11-27T04:10:00Z", 100 + i));
  }
  s.Commit();
}
}  // namespace

TEST_CASE("store: a merge of one part moves only the readings of its stations (key % 16)", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  // 40 stations, keys 1..40: part p holds the stations whose key % 16 is p (parts 1..8 hold three, the rest two).
  FortyStations(*s);
  REQUIRE(s->RecentReadings() == 80);
  const int fullest = s->FullestRecentPart();
  REQUIRE(fullest >= 1);
  REQUIRE(fullest <= 8);
  REQUIRE(s->MergeRecent(fullest) == 6);
  REQUIRE(s->RecentReadings() == 74);
  store::testing::Query archived(*s, "SELECT DISTINCT station % 16 FROM readings_archive");
  REQUIRE(archived.Step());
  REQUIRE(archived.Int(0) == fullest);
  REQUIRE_FALSE(archived.Step());
  // Every reading still reads back, once, and a repeat of a merged one is still a duplicate.
  REQUIRE(s->CountReadings() == 80);
  s->Begin();
  REQUIRE(s->InsertReading(fmt::format("st-{:02d}", fullest), R(2, "2026-11-27T04:10:00Z", 0)) ==
          store::Insert::kDuplicate);
  REQUIRE(s->InsertReading(fmt::format("st-{:02d}", fullest + 1), R(2, "2026-11-27T04:10:00Z", 0)) ==
          store::Insert::kDuplicate);
  s->Commit();
  REQUIRE(s->MergeRecent() == 74);
  REQUIRE(s->RecentReadings() == 0);
  REQUIRE(s->CountReadings() == 80);
}

TEST_CASE("store: a part merges in slices of its stations, each going on where the last ended", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  // Keys 1..40; part 1 holds stations 1, 17 and 33, two readings each.
  FortyStations(*s);
  auto archived = [&] {
    std::vector<std::int64_t> out;
    store::testing::Query q(*s, "SELECT DISTINCT station FROM readings_archive ORDER BY station");
    while (q.Step()) out.push_back(q.Int(0));
    return out;
  };
  REQUIRE(s->MergeRecent(1, 2) == 2);  // station 1 holds 2: the slice ends there
  REQUIRE(archived() == std::vector<std::int64_t>{1});
  REQUIRE(s->MergeRecent(1, 3) == 4);  // 17 (2, below 3) and 33
  REQUIRE(archived() == std::vector<std::int64_t>{1, 17, 33});
  REQUIRE(s->RecentReadings() == 74);
  // New readings of station 1 and 17; the next slice starts from the first station again (33 was the last).
  s->Begin();
  REQUIRE(s->InsertReading("st-17", R(3, "2026-11-27T04:20:00Z", 1)) == store::Insert::kStored);
  REQUIRE(s->InsertReading("st-17", R(2, "2026-11-27T04:10:00Z", 1)) == store::Insert::kDuplicate);
  REQUIRE(s->InsertReading("st-01", R(3, "2026-11-27T04:20:00Z", 1)) == store::Insert::kStored);
  s->Commit();
  REQUIRE(s->MergeRecent(1, 1) == 1);  // station 1's one
  REQUIRE(s->MergeRecent(1, 1) == 1);  // station 17's one
  REQUIRE(s->MergeRecent(1, 1) == 0);  // nothing left in part 1
  REQUIRE(s->RecentReadings() == 74);
  REQUIRE(s->CountReadings() == 82);
  REQUIRE(s->Readings("st-17", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 10).size() == 3);
  // A restart finds the rest where it was.
  s.reset();
  s = std::move(*store::Store::Open(tmp.db()));
  REQUIRE(s->RecentReadings() == 74);
  REQUIRE(s->MergeRecent() == 74);
  REQUIRE(s->CountReadings() == 82);
}

TEST_CASE("store: a station's readings after a seq come in seq order from the archive and the unmerged alike",
          "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  const std::int64_t key = s->StationKey("bridge");
  auto after = [&](std::uint64_t seq) {
    std::vector<std::pair<std::uint64_t, double>> out;
    s->ForEachReadingAfter(key, seq, [&](const wire::Reading& r) { out.emplace_back(r.seq, r.level_cm); });
    return out;
  };
  using Rows = std::vector<std::pair<std::uint64_t, double>>;
  s->Begin();
  s->InsertReading(key, R(1, "2026-11-27T04:10:00Z", 250.5));
  s->InsertReading(key, R(3, "2026-11-27T04:30:00Z", 252.5));
  s->Commit();
  REQUIRE(s->MergeRecent() == 2);
  s->Begin();
  s->InsertReading(key, R(4, "2026-11-27T04:40:00Z", 253.5));
  s->InsertReading(key, R(2, "2026-11-27T04:20:00Z", 251.5));  // a gap filled late, below the archive's highest
  s->Commit();
  REQUIRE(after(0) == Rows{{1, 250.5}, {2, 251.5}, {3, 252.5}, {4, 253.5}});
  REQUIRE(after(2) == Rows{{3, 252.5}, {4, 253.5}});
  REQUIRE(after(4).empty());
  REQUIRE(s->Reading(key, 2)->level_cm == 251.5);
  REQUIRE(s->Reading(key, 3)->level_cm == 252.5);
  REQUIRE_FALSE(s->Reading(key, 9));
  // A new reading is seen at once (what was read of the unmerged ones is dropped at a write).
  s->Begin();
  s->InsertReading(key, R(5, "2026-11-27T04:50:00Z", 254.5));
  s->Commit();
  REQUIRE(after(3) == Rows{{4, 253.5}, {5, 254.5}});
  REQUIRE(s->Reading(key, 5)->level_cm == 254.5);
}

TEST_CASE("store: one village's incidents, newest first, however many the other villages have", "[store]") {
  ScratchDir tmp("store");
  auto s = std::move(*store::Store::Open(tmp.db()));
  const auto t = store::TimePoint(std::chrono::milliseconds(1'795'000'000'000));
  s->Begin();
  // Ids 1..12: a, b, b, a, b, b, …; every third one closed.
  for (std::int64_t id = 1; id <= 12; ++id) {
    store::IncidentRow row{id, "flood", id % 3 == 1 ? "a" : "b", "open", "watch", false, t, t, std::nullopt, "{}"};
    if (id % 4 == 0) row.closed = t;
    s->UpsertIncident(row);
  }
  s->Commit();
  auto ids = [](const std::vector<store::IncidentRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  // Village a has 1, 4, 7, 10 (4 closed): its newest two, open or not; then its open ones.
  REQUIRE(ids(s->Incidents(/*open_only=*/false, 2, "a")) == std::vector<std::int64_t>{10, 7});
  REQUIRE(ids(s->Incidents(/*open_only=*/true, 10, "a")) == std::vector<std::int64_t>{10, 7, 1});
  REQUIRE(ids(s->Incidents(/*open_only=*/true, 3, "b")) == std::vector<std::int64_t>{11, 9, 6});
  REQUIRE(s->Incidents(/*open_only=*/false, 10, "nobody").empty());
  // Without a village: every village's, as before.
  REQUIRE(ids(s->Incidents(/*open_only=*/false, 3)) == std::vector<std::int64_t>{12, 11, 10});
  REQUIRE(ids(s->Incidents(/*open_only=*/true, 3)) == std::vector<std::int64_t>{11, 10, 9});
  // The look-up goes by the index, not through every incident.
  store::testing::Query plan(*s,
                             "EXPLAIN QUERY PLAN SELECT id FROM incidents WHERE village = 'a' AND closed IS NULL "
                             "ORDER BY id DESC LIMIT 5");
  std::string how;
  while (plan.Step()) how += std::string(plan.Text(3)) + "\n";
  INFO(how);
  REQUIRE(how.find("incidents_by_village") != std::string::npos);
}
