// The connection and the schema: opening a database, its migrations, transactions, the integrity check.
#include <fmt/format.h>

#include <iterator>

#include "stmt.hpp"

namespace kaoko::store {
namespace {

// Each entry moves the schema up by one version; PRAGMA user_version records where a file stands. Never edit a
// released entry: add a new one.
const char* const kMigrations[] = {
    // 1: readings, refusals, reports, decisions, station status.
    R"sql(
    CREATE TABLE stations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    -- (station, seq) identifies a reading; WITHOUT ROWID keeps one b-tree keyed by it.
    CREATE TABLE readings (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
      level_cm REAL NOT NULL, rain_mm REAL, battery_v REAL,
      PRIMARY KEY (station, seq)) WITHOUT ROWID;
    CREATE INDEX readings_by_time ON readings (station, ts);
    -- Readings that carried a seq but were refused: kept (and acked) so that nothing is silent or resent forever.
    CREATE TABLE refused_readings (
      station TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER, received INTEGER NOT NULL,
      code TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL,
      PRIMARY KEY (station, seq));
    CREATE TABLE reports (
      user TEXT NOT NULL, id TEXT NOT NULL, village TEXT NOT NULL, ts INTEGER NOT NULL, received INTEGER NOT NULL,
      concern TEXT NOT NULL, station TEXT, level_cm REAL, trend TEXT, note TEXT NOT NULL, lat REAL, lon REAL,
      incident INTEGER,
      PRIMARY KEY (user, id));
    CREATE TABLE decisions (
      user TEXT NOT NULL, id TEXT NOT NULL, village TEXT NOT NULL, ts INTEGER NOT NULL, received INTEGER NOT NULL,
      incident INTEGER NOT NULL, action TEXT NOT NULL, level TEXT, note TEXT NOT NULL, via TEXT NOT NULL,
      ok INTEGER NOT NULL, error TEXT,
      PRIMARY KEY (user, id));
    CREATE TABLE station_status (
      station TEXT PRIMARY KEY, online INTEGER NOT NULL, ts INTEGER, fw TEXT, received INTEGER NOT NULL);
    )sql",
    // 2: the alerting engine's incidents, their timeline, and its durable evaluation state.
    R"sql(
    CREATE TABLE incidents (
      id INTEGER PRIMARY KEY, kind TEXT NOT NULL, village TEXT NOT NULL, stage TEXT NOT NULL, level TEXT NOT NULL,
      exercise INTEGER NOT NULL, opened INTEGER NOT NULL, updated INTEGER NOT NULL, closed INTEGER,
      state TEXT NOT NULL);
    CREATE INDEX incidents_open ON incidents (closed, id);
    -- The incident log: every trigger, notification, receipt and decision, with who, when and through what.
    CREATE TABLE timeline (
      id INTEGER PRIMARY KEY, incident INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
      actor TEXT NOT NULL, via TEXT NOT NULL, text_th TEXT NOT NULL, text_en TEXT NOT NULL);
    CREATE INDEX timeline_by_incident ON timeline (incident, id);
    CREATE TABLE station_tracks (station TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE engine_meta (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
    )sql",
    // 3: people's web logins: argon2id password hashes (libsodium crypto_pwhash_str) and sessions, of which only the
    // hash of the cookie's token is kept.
    R"sql(
    CREATE TABLE users (id TEXT PRIMARY KEY, password_hash TEXT NOT NULL, updated INTEGER NOT NULL);
    CREATE TABLE sessions (
      token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, created INTEGER NOT NULL,
      expires INTEGER NOT NULL);
    CREATE INDEX sessions_by_user ON sessions (user);
    )sql",
    // 4: retention (retention.hpp): raw readings older than --raw-days folded into one row per station and UTC hour.
    R"sql(
    CREATE TABLE readings_hourly (
      station INTEGER NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL,
      level_min_cm REAL NOT NULL, level_mean_cm REAL NOT NULL, level_max_cm REAL NOT NULL,
      rain_mm REAL, battery_min_v REAL,
      PRIMARY KEY (station, hour)) WITHOUT ROWID;
    )sql",
    // 5: tiers (tier.hpp, docs/tiers.md). The journal a lower tier sends up (outbox, numbered without gaps, pruned
    // once acknowledged) and its position; what an upper tier has taken from each node below (inbox: the highest
    // contiguous seq), the nodes it watches and their technician incidents; incident events from below (once per
    // origin); an edge's forwarded messages; a province's readings and alert states of its tambons.
    R"sql(
    CREATE TABLE tier_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE tier_uplink (id INTEGER PRIMARY KEY CHECK (id = 1), acked INTEGER NOT NULL, epoch TEXT NOT NULL);
    CREATE TABLE tier_inbox (
      node TEXT PRIMARY KEY, tambon TEXT NOT NULL, epoch TEXT NOT NULL, last_seq INTEGER NOT NULL,
      updated INTEGER NOT NULL);
    CREATE TABLE tier_nodes (
      node TEXT PRIMARY KEY, tambon TEXT NOT NULL, tier TEXT NOT NULL, village TEXT, last_heard INTEGER NOT NULL,
      interval_s INTEGER NOT NULL, info TEXT);
    CREATE TABLE tier_incidents (
      id INTEGER PRIMARY KEY, node TEXT NOT NULL, tambon TEXT NOT NULL, village TEXT, opened INTEGER NOT NULL,
      closed INTEGER, detail TEXT NOT NULL);
    CREATE TABLE tier_events (
      id INTEGER PRIMARY KEY, origin TEXT NOT NULL, origin_epoch TEXT NOT NULL, origin_id INTEGER,
      node TEXT NOT NULL, node_seq INTEGER NOT NULL, tambon TEXT NOT NULL, village TEXT NOT NULL, incident INTEGER,
      incident_kind TEXT NOT NULL, station TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
      actor TEXT NOT NULL, via TEXT NOT NULL, text_th TEXT NOT NULL, text_en TEXT NOT NULL, acting INTEGER NOT NULL,
      received INTEGER NOT NULL, local_incident INTEGER,
      UNIQUE (origin, origin_epoch, origin_id));
    CREATE TABLE tier_forwarded (
      user TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (user, id));
    CREATE TABLE tier_readings (
      tambon TEXT NOT NULL, station TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, level_cm REAL NOT NULL,
      rain_mm REAL, battery_v REAL, node TEXT NOT NULL,
      PRIMARY KEY (tambon, station, seq)) WITHOUT ROWID;
    CREATE TABLE tier_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL);
    )sql",
    // 6: readings in fewer bytes (docs/benchmarks.md). A value is stored as an integer in its wire resolution
    // when that is exact — level_cm and rain_mm in tenths, battery_v in hundredths, 1 to 3 bytes instead of 8 —
    // otherwise as the REAL it was; generated columns read them back under the old names, so every query of
    // level_cm, rain_mm and battery_v is unchanged. (Insert through the stored columns lv, rn, bt: an INTEGER there
    // means tenths or hundredths, a REAL the value itself.) The (station, ts) index, as large as the table, is replaced
    // by reading_days: one row per station and UTC day (ts / 86400000) with the lowest and highest seq of that day's
    // readings (hi NULL: the station's newest day, still open), which bounds a time query to a range of the
    // (station, seq) key. The store keeps it as it inserts (Store::InsertReading).
    R"sql(
    CREATE TABLE readings_v6 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt,
      level_cm REAL GENERATED ALWAYS AS (CASE typeof(lv) WHEN 'integer' THEN lv / 10.0 ELSE lv END) VIRTUAL,
      rain_mm REAL GENERATED ALWAYS AS (CASE typeof(rn) WHEN 'integer' THEN rn / 10.0 ELSE rn END) VIRTUAL,
      battery_v REAL GENERATED ALWAYS AS (CASE typeof(bt) WHEN 'integer' THEN bt / 100.0 ELSE bt END) VIRTUAL,
      PRIMARY KEY (station, seq)) WITHOUT ROWID;
    INSERT INTO readings_v6 (station, seq, ts, lv, rn, bt)
      SELECT station, seq, ts,
        CASE WHEN abs(level_cm) < 1e15 AND CAST(round(level_cm * 10) AS INTEGER) / 10.0 = level_cm
             THEN CAST(round(level_cm * 10) AS INTEGER) ELSE level_cm END,
        CASE WHEN abs(rain_mm) < 1e15 AND CAST(round(rain_mm * 10) AS INTEGER) / 10.0 = rain_mm
             THEN CAST(round(rain_mm * 10) AS INTEGER) ELSE rain_mm END,
        CASE WHEN abs(battery_v) < 1e15 AND CAST(round(battery_v * 100) AS INTEGER) / 100.0 = battery_v
             THEN CAST(round(battery_v * 100) AS INTEGER) ELSE battery_v END
      FROM readings ORDER BY station, seq;
    DROP TABLE readings;
    ALTER TABLE readings_v6 RENAME TO readings;
    CREATE TABLE reading_days (
      station INTEGER NOT NULL, day INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER,
      PRIMARY KEY (station, day)) WITHOUT ROWID;
    INSERT INTO reading_days (station, day, lo, hi)
      SELECT station, ts / 86400000, MIN(seq), MAX(seq) FROM readings GROUP BY station, ts / 86400000;
    UPDATE reading_days SET hi = NULL
      WHERE day = (SELECT MAX(day) FROM reading_days d WHERE d.station = reading_days.station);
    )sql",
    // 7: the engine's village alert states, sirens and remembered messages one row each (they were all in
    // engine_meta, written again whole with every change: the cost grew with the network). Core::LoadEngine moves an
    // older engine_meta's over at the first save.
    R"sql(
    CREATE TABLE engine_villages (village TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE engine_seen (n INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, state TEXT NOT NULL);
    )sql",
    // 8: readings in two tables (docs/architecture.md "Readings in two tables"). Clustered by (station, seq),
    // every reading of a large network lands on a page of its own station: once each station has a page's worth, a
    // commit of N readings writes N pages (4 KB each) to the WAL and again at the checkpoint, and with 150,000
    // stations the writes grew with the table until ingest fell behind. New readings are now appended to a rowid
    // table (a commit writes a few pages) and moved into readings_archive, in key order and many per station at once,
    // by Store::MergeRecent. The new readings are split over 16 such tables by station key (key % 16), so that one
    // merge touches a sixteenth of the stations' pages and ingest waits a sixteenth as long for it. The view
    // readings_recent is the 16 (with level_cm, rain_mm and battery_v read back as the archive's generated columns
    // read them), and the view readings is the archive and them, so every query reads as before.
    R"sql(
    ALTER TABLE readings RENAME TO readings_archive;
    CREATE TABLE readings_recent_00 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_01 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_02 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_03 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_04 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_05 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_06 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_07 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_08 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_09 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_10 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_11 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_12 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_13 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_14 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE TABLE readings_recent_15 (
      station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt);
    CREATE VIEW readings_recent AS
      SELECT station, seq, ts, lv, rn, bt,
        CASE typeof(lv) WHEN 'integer' THEN lv / 10.0 ELSE lv END AS level_cm,
        CASE typeof(rn) WHEN 'integer' THEN rn / 10.0 ELSE rn END AS rain_mm,
        CASE typeof(bt) WHEN 'integer' THEN bt / 100.0 ELSE bt END AS battery_v
      FROM (SELECT station, seq, ts, lv, rn, bt FROM readings_recent_00
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_01
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_02
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_03
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_04
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_05
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_06
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_07
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_08
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_09
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_10
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_11
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_12
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_13
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_14
      UNION ALL SELECT station, seq, ts, lv, rn, bt FROM readings_recent_15);
    CREATE VIEW readings AS
      SELECT station, seq, ts, lv, rn, bt, level_cm, rain_mm, battery_v FROM readings_archive
      UNION ALL
      SELECT station, seq, ts, lv, rn, bt, level_cm, rain_mm, battery_v FROM readings_recent;
    )sql",
    // 9: one village's incidents, newest first, without reading the others' (a village's pages ask for their own;
    // on a network of thousands of villages the newest thousand may all be other villages').
    R"sql(
    CREATE INDEX incidents_by_village ON incidents (village, closed, id);
    )sql",
    // 10: the delivery outbox (outbox.hpp, docs/delivery.md): every fact about reaching one person on one channel.
    // Times are milliseconds since the epoch; no contact address is stored (the network file has it).
    R"sql(
    CREATE TABLE deliveries (
      id INTEGER PRIMARY KEY,
      notification TEXT NOT NULL,
      incident INTEGER NOT NULL,
      person TEXT NOT NULL,
      channel TEXT NOT NULL CHECK (channel IN ('sms', 'line', 'web')),
      urgency INTEGER NOT NULL CHECK (urgency BETWEEN 0 AND 2),
      state TEXT NOT NULL
        CHECK (state IN ('queued', 'sent', 'delivered', 'seen', 'acted', 'failed', 'expired')),
      reason TEXT NOT NULL DEFAULT '',
      attempts INTEGER NOT NULL DEFAULT 0,
      due INTEGER NOT NULL,
      expires INTEGER NOT NULL,
      gateway_ref TEXT,
      queued_at INTEGER NOT NULL,
      sent_at INTEGER, delivered_at INTEGER, seen_at INTEGER, acted_at INTEGER, ended_at INTEGER,
      UNIQUE (notification, person, channel));
    CREATE INDEX deliveries_due ON deliveries (urgency, due) WHERE state = 'queued';
    CREATE INDEX deliveries_by_incident ON deliveries (incident, person);
    CREATE INDEX deliveries_by_ref ON deliveries (channel, gateway_ref) WHERE gateway_ref IS NOT NULL;
    )sql",
    // 11: what a delivery says (one row per notification: its text, level, what it asks, its deadline; no person's
    // data), the reply codes an SMS carries (one per person, incident and step; used once), and the people found not
    // reached on any channel (each told to the chain once).
    R"sql(
    CREATE TABLE delivery_messages (
      notification TEXT PRIMARY KEY,
      incident INTEGER NOT NULL,
      village TEXT NOT NULL,
      level TEXT NOT NULL CHECK (level IN ('normal', 'watch', 'warning', 'critical')),
      action TEXT NOT NULL CHECK (action IN ('none', 'ack', 'confirm', 'declare')),
      text_th TEXT NOT NULL,
      text_en TEXT NOT NULL,
      deadline INTEGER,
      reminder INTEGER NOT NULL DEFAULT 0,
      exercise INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE reply_codes (
      person TEXT NOT NULL,
      code TEXT NOT NULL,
      incident INTEGER NOT NULL,
      action TEXT NOT NULL CHECK (action IN ('ack', 'confirm', 'declare')),
      level TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      used_at INTEGER,
      PRIMARY KEY (person, code));
    CREATE UNIQUE INDEX reply_codes_step ON reply_codes (person, incident, action);
    CREATE TABLE unreached (
      incident INTEGER NOT NULL,
      person TEXT NOT NULL,
      action TEXT NOT NULL,
      reported_at INTEGER NOT NULL,
      PRIMARY KEY (incident, person, action));
    CREATE INDEX deliveries_recent ON deliveries (queued_at);
    )sql",
    // 12: LINE (line_rows.hpp, docs/delivery-line.md): each person's linked LINE account (a user id is linked to one
    // person only), the one-time codes a person sends to the Official Account to link it, and the webhook events
    // already handled (a replay or a redelivery is not acted on twice).
    R"sql(
    CREATE TABLE line_links (
      person TEXT PRIMARY KEY,
      user_id TEXT NOT NULL UNIQUE,
      linked_at INTEGER NOT NULL);
    CREATE TABLE line_link_codes (
      code TEXT PRIMARY KEY,
      person TEXT NOT NULL UNIQUE,
      expires INTEGER NOT NULL);
    CREATE TABLE line_webhook_events (
      event_id TEXT PRIMARY KEY,
      received INTEGER NOT NULL);
    CREATE INDEX line_webhook_events_received ON line_webhook_events (received);
    )sql",
};

}  // namespace

int CurrentSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

std::string_view MigrationSql(int version) {
  if (version < 1 || version > CurrentSchemaVersion()) return {};
  return kMigrations[version - 1];
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, OpenOptions options) {
  sqlite3* db = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return MakeError("db_open", fmt::format("cannot open database {}: {}", path, why));
  }
  std::unique_ptr<Store> store(new Store(db));
  try {
    sqlite3_busy_timeout(db, 5000);
    if (!options.read_only) {
      store->Exec("PRAGMA journal_mode=WAL");
      store->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      store->Exec("PRAGMA foreign_keys=ON");
      store->Migrate();
    } else {
      Stmt v(db, "PRAGMA user_version");
      v.Step();
      store->schema_version_ = static_cast<int>(v.Int(0));
    }
  } catch (const std::exception& e) {
    return MakeError("db_open", fmt::format("database {}: {}", path, e.what()));
  }
  return store;
}

Store::Store(sqlite3* db) : db_(db) {}

Store::~Store() {
  prepared_.clear();
  sqlite3_close(db_);
}

void Store::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, fmt::format("{}: {}", text.substr(0, 60), msg));
  }
}

void Store::Migrate() {
  Stmt v(db_, "PRAGMA user_version");
  v.Step();
  int version = static_cast<int>(v.Int(0));
  v = Stmt();
  if (version > CurrentSchemaVersion()) {
    throw std::runtime_error(
        fmt::format("the database has schema version {}, newer than this kaoko understands ({}): upgrade kaoko",
                    version, CurrentSchemaVersion()));
  }
  while (version < CurrentSchemaVersion()) {
    Begin();
    try {
      Exec(kMigrations[version]);
      ++version;
      Exec(fmt::format("PRAGMA user_version={}", version));
      Commit();
    } catch (...) {
      Rollback();
      throw;
    }
  }
  schema_version_ = version;
}

void Store::Begin() { Exec("BEGIN IMMEDIATE"); }
void Store::Commit() { Exec("COMMIT"); }
void Store::Rollback() noexcept {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  open_days_.clear();     // what NoteReadingDay wrote in the transaction is gone: read it again
  recent_valid_ = false;  // and so may be readings InsertReading noted as in readings_recent
  unmerged_.reset();
}

Stmt& Store::Prepared(int slot, std::string_view sql) {
  if (static_cast<int>(prepared_.size()) <= slot) prepared_.resize(static_cast<size_t>(slot) + 1);
  Stmt& s = prepared_[static_cast<size_t>(slot)];
  if (!s.IsPrepared()) s = Stmt(db_, sql);
  return s;
}

std::string Store::QuickCheck() {
  Stmt s(db_, "PRAGMA quick_check");
  std::string out;
  while (s.Step()) {
    auto line = s.Text(0);
    if (line != "ok") out += line + "\n";
  }
  return out;
}

std::int64_t Store::CountStations() {
  Stmt probe(db_, "SELECT COUNT(*) FROM stations");
  probe.Step();
  return probe.Int(0);
}

std::optional<int> SchemaVersionOf(const std::string& path) {
  sqlite3* db = nullptr;
  std::optional<int> version;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      version = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return version;
}

}  // namespace kaoko::store
