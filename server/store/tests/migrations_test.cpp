// Upgrading from every earlier schema: for each version k a file is built exactly as the release of schema k left it
// (migrations 1..k, each followed by rows of what it stores), opened with the current Store, and checked: the version
// is current and every row is still there. A new migration is covered by the loop as soon as it is appended; the test
// asks for its representative rows in kSeeds.
#include <fmt/format.h>
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>

#include "kaoko/store/line_rows.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/query.hpp"
#include "kaoko/store/retention.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {

std::int64_t Count(store::Store& s, const char* table) {
  store::testing::Query q(s, fmt::format("SELECT COUNT(*) FROM {}", table));
  q.Step();
  return q.Int(0);
}

// What a release of each schema version stored (in that version's own columns), and how the current Store must still
// find it after the upgrade. Written with the Store's API where one exists, so that a later migration that reshapes a
// table is checked by what kaoko reads, not by its columns.
struct Seed {
  int version;
  const char* sql;
  std::function<void(store::Store&)> check;
};

const std::vector<Seed>& Seeds() {
  static const std::vector<Seed> seeds{
      {1,
       R"sql(
       INSERT INTO stations (id, name) VALUES (1, 'kaoko-bridge'), (2, 'kaoko-temple');
       INSERT INTO readings (station, seq, ts, level_cm, rain_mm, battery_v) VALUES
         (1, 1041, 1795753800000, 312.5, 4.2, 3.92),
         (1, 1042, 1795754100000, 313.0, NULL, NULL),
         (2, 7, 1795753800000, 180.25, 0.0, 3.71);
       INSERT INTO refused_readings (station, seq, ts, received, code, reason, payload) VALUES
         ('kaoko-bridge', 1043, 1795754400000, 1795754400300, 'level_out_of_range',
          'level_cm 123456 is outside the possible range', '{"seq":1043,"level_cm":123456}');
       INSERT INTO reports
         (user, id, village, ts, received, concern, station, level_cm, trend, note, lat, lon, incident)
         VALUES ('somchai', 'r-0007', 'kaoko', 1795755600000, 1795755600400, 'warning', 'kaoko-bridge', 330, 'rising',
                 'น้ำขึ้นเร็ว ถึงคอสะพานแล้ว', 8.533, 99.8167, 17);
       INSERT INTO decisions (user, id, village, ts, received, incident, action, level, note, via, ok, error) VALUES
         ('headman-kaoko', 'd-0003', 'kaoko', 1795756260000, 1795756260200, 17, 'confirm', NULL, 'เห็นด้วยตา',
          'mqtt', 1, NULL),
         ('somchai', 'd-0001', 'kaoko', 1795756260000, 1795756260200, 17, 'confirm', NULL, '', 'mqtt', 0,
          'only the headman or deputy of kaoko may confirm');
       INSERT INTO station_status (station, online, ts, fw, received) VALUES
         ('kaoko-bridge', 1, 1795753800000, 'kaoko-sim/0.1', 1795753800100);
       )sql",
       [](store::Store& s) {
         auto bridge = s.Readings("kaoko-bridge", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 100);
         REQUIRE(bridge.size() == 2);
         CHECK(bridge[0].seq == 1041);
         CHECK(bridge[0].ts == T("2026-11-27T04:30:00Z"));
         CHECK(bridge[0].level_cm == 312.5);
         CHECK(bridge[0].rain_mm == 4.2);
         CHECK(bridge[0].battery_v == 3.92);
         CHECK_FALSE(bridge[1].rain_mm);
         auto temple = s.Readings("kaoko-temple", T("2026-11-27T00:00:00Z"), T("2026-11-28T00:00:00Z"), 100);
         REQUIRE(temple.size() == 1);
         CHECK(temple[0].level_cm == 180.25);  // not a whole tenth: kept exactly
         CHECK(temple[0].rain_mm == 0.0);
         CHECK(s.StationKey("kaoko-bridge") == 1);  // the keys the readings point at are kept
         CHECK(Count(s, "refused_readings") == 1);
         CHECK(s.ReportIncident("somchai", "r-0007") == 17);
         auto confirmed = s.FindDecision("headman-kaoko", "d-0003");
         REQUIRE(confirmed);
         CHECK(confirmed->ok);
         CHECK(confirmed->incident == 17);
         auto refused = s.FindDecision("somchai", "d-0001");
         REQUIRE(refused);
         CHECK_FALSE(refused->ok);
         CHECK(refused->error == "only the headman or deputy of kaoko may confirm");
         CHECK(Count(s, "station_status") == 1);
       }},
      {2,
       R"sql(
       INSERT INTO incidents (id, kind, village, stage, level, exercise, opened, updated, closed, state) VALUES
         (17, 'flood', 'kaoko', 'confirmed', 'warning', 0, 1795755605000, 1795756262000, NULL, '{"id":17}'),
         (16, 'flood', 'kaoko', 'resolved', 'watch', 1, 1795000000000, 1795003600000, 1795003600000, '{"id":16}');
       INSERT INTO timeline (incident, ts, kind, actor, via, text_th, text_en) VALUES
         (17, 1795755605000, 'trigger', 'kaoko-bridge', 'station', 'ระดับน้ำถึงเกณฑ์เตือนภัย', 'level reached warning'),
         (17, 1795756262000, 'decision', 'headman-kaoko', 'mqtt', 'ผู้ใหญ่บ้านยืนยัน', 'the headman confirmed');
       INSERT INTO station_tracks (station, state) VALUES ('kaoko-bridge', '{"station":"kaoko-bridge"}');
       INSERT INTO engine_meta (id, state) VALUES (1, '{"next_incident":18}');
       )sql",
       [](store::Store& s) {
         auto open = s.Incidents(/*open_only=*/true, 10);
         REQUIRE(open.size() == 1);
         CHECK(open[0].id == 17);
         CHECK(open[0].stage == "confirmed");
         CHECK(open[0].state == R"({"id":17})");
         auto all = s.Incidents(/*open_only=*/false, 10);
         REQUIRE(all.size() == 2);
         CHECK(all[1].exercise);
         CHECK(all[1].closed == wire::TimePoint(std::chrono::milliseconds(1795003600000)));
         auto timeline = s.Timeline(17);
         REQUIRE(timeline.size() == 2);
         CHECK(timeline[1].text_th == "ผู้ใหญ่บ้านยืนยัน");
         CHECK(s.StationTracks() == std::vector<std::string>{R"({"station":"kaoko-bridge"})"});
         CHECK(s.EngineMeta() == R"({"next_incident":18})");
       }},
      {3,
       R"sql(
       INSERT INTO users (id, password_hash, updated) VALUES ('officer-niran', '$argon2id$v=19$m=65536,t=2,p=1$abc', 1);
       INSERT INTO sessions (token_hash, user, csrf, created, expires) VALUES
         ('9f86d081884c7d65', 'officer-niran', 'csrf-1', 1795750000000, 1795836400000);
       )sql",
       [](store::Store& s) {
         CHECK(Count(s, "users") == 1);
         CHECK(Count(s, "sessions") == 1);
       }},
      {4,
       R"sql(
       INSERT INTO readings_hourly (station, hour, n, level_min_cm, level_mean_cm, level_max_cm, rain_mm, battery_min_v)
         VALUES (1, 1760000400000, 60, 101.0, 104.5, 110.0, 12.4, 3.88);
       )sql",
       [](store::Store& s) {
         auto hours = store::HourlyReadings(s, "kaoko-bridge", wire::TimePoint{}, T("2030-01-01T00:00:00Z"), 10);
         REQUIRE(hours.size() == 1);
         CHECK(hours[0].count == 60);
         CHECK(hours[0].level_mean_cm == 104.5);
         CHECK(hours[0].rain_mm == 12.4);
       }},
      {5,
       R"sql(
       INSERT INTO tier_outbox (kind, body) VALUES ('reading', '{"station":"kaoko-bridge","seq":1041}');
       INSERT INTO tier_readings (tambon, station, seq, ts, level_cm, rain_mm, battery_v, node) VALUES
         ('tonhong', 'kaoko-bridge', 1041, 1795753800000, 312.5, 4.2, 3.92, 'tonhong-tao');
       )sql",
       [](store::Store& s) {
         CHECK(Count(s, "tier_outbox") == 1);
         CHECK(Count(s, "tier_readings") == 1);
       }},
      {6,
       // A reading as schema 6 stores it (level in tenths of a cm, rain in tenths of a mm, battery in hundredths of a
       // volt) with its day in the time index: the temple's next day opens, the day before closes at seq 7.
       R"sql(
       INSERT INTO readings (station, seq, ts, lv, rn, bt) VALUES (2, 8, 1795840200000, 1815, 2, 370);
       UPDATE reading_days SET hi = 7 WHERE station = 2 AND day = 20784;
       INSERT INTO reading_days (station, day, lo, hi) VALUES (2, 20785, 8, NULL);
       )sql",
       [](store::Store& s) {
         auto next_day = s.Readings("kaoko-temple", T("2026-11-28T00:00:00Z"), T("2026-11-29T00:00:00Z"), 100);
         REQUIRE(next_day.size() == 1);
         CHECK(next_day[0].seq == 8);
         CHECK(next_day[0].level_cm == 181.5);
         CHECK(next_day[0].rain_mm == 0.2);
         CHECK(next_day[0].battery_v == 3.7);
       }},
      {7,
       // The engine's village states and remembered messages one row each (the older engine_meta still read).
       R"sql(
       INSERT INTO engine_villages (village, state) VALUES
         ('kaoko', '{"v":1,"alerts":[{"village":"kaoko","level":"warning","incident":17}],"sirens":[]}');
       INSERT INTO engine_seen (key, state) VALUES ('report/somchai/r-0007', '{"v":1,"seen":[]}');
       )sql",
       [](store::Store& s) {
         std::vector<std::string> villages, seen;
         s.ForEachEngineVillage([&](std::string_view t) { villages.emplace_back(t); });
         s.ForEachEngineSeen([&](std::string_view t) { seen.emplace_back(t); });
         REQUIRE(villages.size() == 1);
         CHECK(villages[0].find(R"("incident":17)") != std::string::npos);
         CHECK(seen.size() == 1);
       }},
      {8,
       // A reading not yet merged, in readings_recent (part 02: station key 2 % 16), the temple's first of the day
       // after (its day opens, the one before closes at seq 8): read through the view as the archive's are.
       R"sql(
       INSERT INTO readings_recent_02 (station, seq, ts, lv, rn, bt) VALUES (2, 9, 1795926600000, 1822, NULL, 369);
       UPDATE reading_days SET hi = 8 WHERE station = 2 AND day = 20785;
       INSERT INTO reading_days (station, day, lo, hi) VALUES (2, 20786, 9, NULL);
       )sql",
       [](store::Store& s) {
         auto days = s.Readings("kaoko-temple", T("2026-11-28T00:00:00Z"), T("2026-11-30T00:00:00Z"), 100);
         REQUIRE(days.size() == 2);
         CHECK(days[1].seq == 9);
         CHECK(days[1].level_cm == 182.2);
         CHECK(s.RecentReadings() == 1);
         CHECK(s.MaxSeq(2) == 9);
       }},
      {9,
       // An index, no rows of its own: a village's incidents, found by it, are those an older release stored.
       "",
       [](store::Store& s) {
         auto kaoko = s.Incidents(/*open_only=*/false, 10, "kaoko");
         REQUIRE(kaoko.size() == 2);
         CHECK(kaoko[0].id == 17);
         CHECK(kaoko[1].id == 16);
         REQUIRE(s.Incidents(/*open_only=*/true, 10, "kaoko").size() == 1);
         CHECK(s.Incidents(/*open_only=*/false, 10, "huaiphan").empty());
       }},
      {10,
       // The delivery outbox: one delivered SMS and one LINE push still queued for a retry.
       R"sql(
       INSERT INTO deliveries (id, notification, incident, person, channel, urgency, state, reason, attempts, due,
         expires, gateway_ref, queued_at, sent_at, delivered_at) VALUES
         (1, 'n-40', 17, 'boonmee', 'sms', 0, 'delivered', '', 1, 1795753800000, 1795757400000, '5f3a',
          1795753800000, 1795753803000, 1795753809000),
         (2, 'n-40', 17, 'boonmee', 'line', 0, 'queued', 'LINE answered 500', 2, 1795753860000, 1795757400000, NULL,
          1795753800000, NULL, NULL);
       )sql",
       [](store::Store& s) {
         store::Outbox box(s);
         auto sms = box.ByGatewayRef(alerting::Channel::kSms, "5f3a");
         REQUIRE(sms);
         CHECK(sms->state == alerting::DeliveryState::kDelivered);
         CHECK(sms->delivered_at == T("2026-11-27T04:30:09Z"));
         auto due = box.Due(T("2026-11-27T04:31:00Z"), 10);
         REQUIRE(due.size() == 1);
         CHECK(due[0].channel == alerting::Channel::kLine);
         CHECK(due[0].attempts == 2);
         CHECK(due[0].reason == "LINE answered 500");
       }},
      {11,
       // A confirm request's text and the reply code the headman was sent.
       R"sql(
       INSERT INTO delivery_messages (notification, incident, village, level, action, text_th, text_en, deadline)
         VALUES ('n-40', 17, 'kaoko', 'warning', 'confirm', 'ยืนยันเหตุ', 'Confirm', 1795754700000);
       INSERT INTO reply_codes (person, code, incident, action, level, created_at)
         VALUES ('boonmee', '4821', 17, 'confirm', 'warning', 1795753800000);
       )sql",
       [](store::Store& s) {
         store::Outbox box(s);
         auto m = box.Message("n-40");
         REQUIRE(m);
         CHECK(m->action == alerting::ActionNeeded::kConfirm);
         CHECK(m->deadline == T("2026-11-27T04:45:00Z"));
         auto code = box.Code("boonmee", "4821");
         REQUIRE(code);
         CHECK(code->incident == 17);
         CHECK_FALSE(code->used_at);
       }},
      {12,
       // A committee member's linked LINE account, the headman's link code not used yet, one webhook event handled.
       R"sql(
       INSERT INTO line_links (person, user_id, linked_at)
         VALUES ('prasert', 'U0123456789abcdef0123456789abcdef', 1795753800000);
       INSERT INTO line_link_codes (code, person, expires) VALUES ('482913', 'boonmee', 4102444800000);
       INSERT INTO line_webhook_events (event_id, received) VALUES ('01HZX0000000000000000000AA', 1795753800000);
       )sql",
       [](store::Store& s) {
         store::LineRows rows(s);
         CHECK(rows.PersonOf("U0123456789abcdef0123456789abcdef") == std::optional<std::string>("prasert"));
         CHECK(rows.UserOf("prasert") == std::optional<std::string>("U0123456789abcdef0123456789abcdef"));
         CHECK_FALSE(rows.FirstSeen("01HZX0000000000000000000AA", T("2026-11-27T04:31:00Z")));
       }},
  };
  return seeds;
}

// A file as the release of schema `version` left it: migrations 1..version, each followed by its rows.
void BuildAtVersion(const std::string& path, int version) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql.substr(0, 200) << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  };
  exec("PRAGMA journal_mode=WAL");
  for (int v = 1; v <= version; ++v) {
    exec("BEGIN");
    exec(std::string(store::MigrationSql(v)));
    exec(fmt::format("PRAGMA user_version={}", v));
    for (const auto& seed : Seeds()) {
      if (seed.version == v) exec(seed.sql);
    }
    exec("COMMIT");
  }
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("migrations: every migration has representative rows to carry through upgrades", "[store][migrations]") {
  for (int v = 1; v <= store::CurrentSchemaVersion(); ++v) {
    INFO(fmt::format(
        "migration {} has no rows in Seeds() (server/store/tests/migrations_test.cpp): add a few rows of what "
        "it stores and how the current Store must read them",
        v));
    bool found = false;
    for (const auto& seed : Seeds()) found = found || seed.version == v;
    CHECK(found);
    CHECK_FALSE(store::MigrationSql(v).empty());
  }
  CHECK(store::MigrationSql(0).empty());
  CHECK(store::MigrationSql(store::CurrentSchemaVersion() + 1).empty());
}

TEST_CASE("migrations: a file from every earlier schema opens at the current version with its data",
          "[store][migrations]") {
  for (int version = 1; version <= store::CurrentSchemaVersion(); ++version) {
    DYNAMIC_SECTION("from schema version " << version) {
      ScratchDir tmp("migrations");
      const std::string path = tmp.file("kaoko.db");
      BuildAtVersion(path, version);
      for (int reopen = 0; reopen < 2; ++reopen) {  // the second open finds nothing more to do
        auto s = store::Store::Open(path);
        INFO((s.ok() ? std::string() : s.error().reason));
        REQUIRE(s.ok());
        REQUIRE((*s)->schema_version() == store::CurrentSchemaVersion());
        REQUIRE((*s)->QuickCheck().empty());
        for (const auto& seed : Seeds()) {
          if (seed.version > version) continue;
          INFO("rows of schema " << seed.version);
          seed.check(**s);
        }
        if (reopen == 0) continue;
        // And the upgraded file takes new data as a new one would.
        (*s)->Begin();
        wire::Reading later{{}, 5000, T("2026-12-27T06:00:00Z"), 300, std::nullopt, std::nullopt};
        REQUIRE((*s)->InsertReading("kaoko-bridge", later) == store::Insert::kStored);
        (*s)->Commit();
      }
    }
  }
}

TEST_CASE("migrations: a file from a newer kaoko is refused and left as it was", "[store][migrations]") {
  ScratchDir tmp("migrations");
  const std::string path = tmp.file("kaoko.db");
  BuildAtVersion(path, store::CurrentSchemaVersion());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, fmt::format("PRAGMA user_version={}", store::CurrentSchemaVersion() + 1).c_str(), nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = store::Store::Open(path);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.error().reason.find("newer than this kaoko understands") != std::string::npos);
  // Still the newer kaoko's file, every row in place.
  auto ro = store::Store::Open(path, {.read_only = true});
  REQUIRE(ro.ok());
  REQUIRE((*ro)->schema_version() == store::CurrentSchemaVersion() + 1);
  REQUIRE((*ro)->CountReadings() >= 3);
  REQUIRE((*ro)->QuickCheck().empty());
}
