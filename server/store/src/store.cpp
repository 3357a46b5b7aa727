#include "kaoko/store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

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
    // 6: readings in fewer bytes (issue 7, docs/benchmarks.md). A value is stored as an integer in its wire resolution
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
    // 8: readings in two tables (issue 7, docs/architecture.md "Readings in two tables"). Clustered by (station, seq),
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
};

std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

constexpr std::int64_t kDayMs = 86'400'000;

// The insert into each part of readings_recent (migration 8), written once: InsertReading runs for every reading.
const std::string& RecentInsertSql(int part) {
  static const auto sql = [] {
    std::array<std::string, Store::kRecentParts> all;
    for (int p = 0; p < Store::kRecentParts; ++p) {
      all[static_cast<std::size_t>(p)] = fmt::format(
          "INSERT INTO readings_recent_{:02d} (station, seq, ts, lv, rn, bt) VALUES (?, ?, ?, ?, ?, ?)", p);
    }
    return all;
  }();
  return sql[static_cast<std::size_t>(part)];
}
constexpr std::int64_t kNoSeqLimit = std::numeric_limits<std::int64_t>::max();
// The UTC day of a ts as reading_days counts it: SQLite's integer division (towards zero), so that SQL and C++ agree.
std::int64_t DayOf(std::int64_t ts_ms) { return ts_ms / kDayMs; }

// A value in `scale`-ths when that is exact (and small enough), else the value itself: see migration 6.
void BindScaled(Stmt& s, int i, std::optional<double> v, double scale) {
  if (!v) {
    s.BindNull(i);
    return;
  }
  const double x = *v * scale;
  if (std::abs(*v) < 1e15) {
    const auto n = static_cast<std::int64_t>(std::llround(x));
    if (static_cast<double>(n) / scale == *v) {
      s.Bind(i, n);
      return;
    }
  }
  s.Bind(i, *v);
}

[[noreturn]] void Throw(sqlite3* db, int code, std::string_view what) {
  throw SqliteError(code, fmt::format("{}: {} ({})", what, sqlite3_errmsg(db), sqlite3_errstr(code)));
}

}  // namespace

int CurrentSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

std::string_view MigrationSql(int version) {
  if (version < 1 || version > CurrentSchemaVersion()) return {};
  return kMigrations[version - 1];
}

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) Throw(db, rc, fmt::format("prepare {}", sql.substr(0, 60)));
}
Stmt::Stmt(Stmt&& o) noexcept : stmt_(o.stmt_), last_code_(o.last_code_) { o.stmt_ = nullptr; }
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    last_code_ = o.last_code_;
    o.stmt_ = nullptr;
  }
  return *this;
}
Stmt::~Stmt() { sqlite3_finalize(stmt_); }
Stmt& Stmt::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, std::optional<double> v) {
  if (v) return Bind(i, *v);
  return BindNull(i);
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
bool Stmt::Step() {
  last_code_ = sqlite3_step(stmt_);
  if (last_code_ == SQLITE_ROW) return true;
  if (last_code_ == SQLITE_DONE) return false;
  int code = last_code_;
  sqlite3* db = sqlite3_db_handle(stmt_);
  sqlite3_reset(stmt_);
  Throw(db, code, "step");
}
void Stmt::Run() {
  while (Step()) {
  }
  Reset();
}
void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}
std::int64_t Stmt::Int(int c) const { return sqlite3_column_int64(stmt_, c); }
double Stmt::Double(int c) const { return sqlite3_column_double(stmt_, c); }
std::optional<double> Stmt::OptDouble(int c) const {
  if (IsNull(c)) return std::nullopt;
  return Double(c);
}
std::string Stmt::Text(int c) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}
bool Stmt::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
std::string_view Stmt::View(int c) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string_view();
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
    throw std::runtime_error(fmt::format(
        "the database has schema version {}, newer than this kaoko understands ({}): upgrade kaoko", version,
        CurrentSchemaVersion()));
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
  open_days_.clear();  // what NoteReadingDay wrote in the transaction is gone: read it again
  recent_valid_ = false;  // and so may be readings InsertReading noted as in readings_recent
  unmerged_.reset();
}

Stmt& Store::Prepared(int slot, std::string_view sql) {
  if (static_cast<int>(prepared_.size()) <= slot) prepared_.resize(static_cast<size_t>(slot) + 1);
  Stmt& s = prepared_[static_cast<size_t>(slot)];
  if (!s.IsPrepared()) s = Stmt(db_, sql);
  return s;
}

void Store::ForEachStationKey(const std::function<void(std::string_view, std::int64_t)>& fn) {
  Stmt s(db_, "SELECT id, name FROM stations");
  while (s.Step()) fn(s.View(1), s.Int(0));
}

// Not cached: the service keeps each station's key beside the station (Core's slot) and asks here once per station, so
// a cache would only repeat every station's id (12 MB at 150,000 stations) and need clearing after a rollback. The
// name is a UNIQUE column: a look-up is one B-tree search.
std::int64_t Store::KnownStationKey(std::string_view station) {
  Stmt& find = Prepared(0, "SELECT id FROM stations WHERE name = ?");
  find.Bind(1, station);
  std::int64_t id = 0;
  if (find.Step()) id = find.Int(0);
  find.Reset();
  return id;
}

std::int64_t Store::StationKey(std::string_view station) {
  if (const std::int64_t id = KnownStationKey(station)) return id;
  // Inside the caller's transaction: a rollback takes the row away again, and the next call adds it anew.
  Stmt& add = Prepared(1, "INSERT INTO stations (name) VALUES (?)");
  add.Bind(1, station).Run();
  return sqlite3_last_insert_rowid(db_);
}

Insert Store::InsertReading(std::string_view station, const wire::ReadingMsg& r) {
  return InsertReading(StationKey(station), r);
}

Insert Store::InsertReading(std::int64_t key, const wire::ReadingMsg& r) {
  EnsureRecentIndex();
  StationSeqs& seqs = Seqs(key);
  LoadMax(key, seqs);
  const auto seq = static_cast<std::int64_t>(r.seq);
  // The usual case, a station's next reading, needs no look-up: only a seq at or below its highest can be stored.
  if (seqs.has_max && seq <= seqs.max) {
    if (InRecent(seqs, seq)) return Insert::kDuplicate;
    Stmt& q = Prepared(40, "SELECT 1 FROM readings_archive WHERE station = ? AND seq = ?");
    q.Bind(1, key).Bind(2, seq);
    const bool found = q.Step();
    q.Reset();
    if (found) return Insert::kDuplicate;
  }
  const int part = RecentPart(key);
  Stmt& s = Prepared(50 + part, RecentInsertSql(part));
  s.Bind(1, key).Bind(2, seq).Bind(3, Ms(r.ts));
  BindScaled(s, 4, r.level_cm, 10);
  BindScaled(s, 5, r.rain_mm, 10);
  BindScaled(s, 6, r.battery_v, 100);
  s.Run();
  seqs.recent.push_back({seq, Ms(r.ts)});
  unmerged_.reset();
  ++recent_rows_;
  ++recent_part_rows_[part];
  if (!seqs.has_max || seq > seqs.max) seqs.max = seq;
  seqs.has_max = true;
  NoteReadingDay(key, seq, DayOf(Ms(r.ts)));
  return Insert::kStored;
}

Store::StationSeqs& Store::Seqs(std::int64_t key) {
  const auto k = static_cast<std::size_t>(key < 0 ? 0 : key);
  if (k >= seqs_.size()) seqs_.resize(k + 1);
  return seqs_[k];
}

// The recent seqs are the only index of readings_recent: after a rollback (which may have taken rows the writer had
// noted) they are read again from the table, whose size MergeRecent bounds.
void Store::EnsureRecentIndex() {
  if (recent_valid_) return;
  for (auto& s : seqs_) s = StationSeqs{};
  // One entry per station key, sized once: grown key by key, the vector's doubling left up to twice the room.
  {
    Stmt keys(db_, "SELECT MAX(id) FROM stations");
    if (keys.Step() && !keys.IsNull(0) && keys.Int(0) > 0) seqs_.reserve(static_cast<std::size_t>(keys.Int(0)) + 1);
  }
  recent_rows_ = 0;
  std::fill(std::begin(recent_part_rows_), std::end(recent_part_rows_), 0);
  Stmt s(db_, "SELECT station, seq, ts FROM readings_recent");
  while (s.Step()) {
    Seqs(s.Int(0)).recent.push_back({s.Int(1), s.Int(2)});
    ++recent_rows_;
    ++recent_part_rows_[RecentPart(s.Int(0))];
  }
  recent_valid_ = true;
}

bool Store::InRecent(const StationSeqs& s, std::int64_t seq) const {
  return std::any_of(s.recent.begin(), s.recent.end(), [seq](const RecentRow& r) { return r.seq == seq; });
}

void Store::LoadMax(std::int64_t key, StationSeqs& s) {
  if (s.max_known) return;
  Stmt& q = Prepared(41, "SELECT MAX(seq) FROM readings_archive WHERE station = ?");
  q.Bind(1, key);
  if (q.Step() && !q.IsNull(0)) {
    s.max = q.Int(0);
    s.has_max = true;
  }
  q.Reset();
  for (const auto& r : s.recent) {
    if (!s.has_max || r.seq > s.max) s.max = r.seq;
    s.has_max = true;
  }
  s.max_known = true;
}

std::optional<std::int64_t> Store::MaxSeq(std::int64_t key) {
  EnsureRecentIndex();
  StationSeqs& s = Seqs(key);
  LoadMax(key, s);
  return s.has_max ? std::optional<std::int64_t>(s.max) : std::nullopt;
}

bool Store::HasRecentReadings(std::int64_t key, std::int64_t lo, std::int64_t hi, TimePoint since, TimePoint until) {
  EnsureRecentIndex();
  const StationSeqs& s = Seqs(key);
  return std::any_of(s.recent.begin(), s.recent.end(), [&](const RecentRow& r) {
    return r.seq >= lo && r.seq <= hi && r.ts >= Ms(since) && r.ts < Ms(until);
  });
}

std::int64_t Store::DeleteReadings(std::int64_t key, std::int64_t lo, std::int64_t hi, TimePoint since,
                                  TimePoint until) {
  Stmt& a = Prepared(42,
                     "DELETE FROM readings_archive WHERE station = ? AND seq >= ? AND seq <= ? AND ts >= ? AND ts < ?");
  a.Bind(1, key).Bind(2, lo).Bind(3, hi).Bind(4, Ms(since)).Bind(5, Ms(until)).Run();
  std::int64_t n = sqlite3_changes(db_);
  if (HasRecentReadings(key, lo, hi, since, until)) {
    // Rare (a reading that came in very late): a scan of readings_recent, and its index is read again.
    Stmt r(db_, fmt::format("DELETE FROM readings_recent_{:02d} WHERE station = ? AND seq >= ? AND seq <= ? AND "
                            "ts >= ? AND ts < ?",
                            RecentPart(key)));
    r.Bind(1, key).Bind(2, lo).Bind(3, hi).Bind(4, Ms(since)).Bind(5, Ms(until)).Run();
    n += sqlite3_changes(db_);
    recent_valid_ = false;
    unmerged_.reset();
  }
  return n;
}

std::int64_t Store::RecentReadings() {
  EnsureRecentIndex();
  return recent_rows_;
}

int Store::FullestRecentPart() {
  EnsureRecentIndex();
  return static_cast<int>(std::max_element(std::begin(recent_part_rows_), std::end(recent_part_rows_)) -
                          std::begin(recent_part_rows_));
}

std::int64_t Store::MergeRecent(int part, std::int64_t max_rows) {
  if (!sqlite3_get_autocommit(db_)) throw std::logic_error("MergeRecent inside a transaction");
  EnsureRecentIndex();
  if (part >= 0) return MergeRecentPart(part % kRecentParts, max_rows);
  std::int64_t moved = 0;
  for (int p = 0; p < kRecentParts; ++p) moved += MergeRecentPart(p, max_rows);
  return moved;
}

std::int64_t Store::MergeRecentPart(int part, std::int64_t max_rows) {
  if (recent_part_rows_[part] == 0) return 0;
  // The slice: the part's stations (key % 16 == part) from its cursor on, until they hold max_rows readings; the
  // memory index says how many each holds. Past the last station, from the first again.
  const auto step = static_cast<std::size_t>(kRecentParts);
  const auto first_of_part = static_cast<std::size_t>(part);
  std::size_t first = max_rows > 0 ? merge_cursor_[part] : first_of_part;
  if (first < first_of_part || first % step != first_of_part || first >= seqs_.size()) first = first_of_part;
  std::size_t last = first;
  std::int64_t rows = 0;
  for (int pass = 0; pass < 2 && rows == 0; ++pass) {
    if (pass == 1) first = first_of_part;
    for (std::size_t k = first; k < seqs_.size(); k += step) {
      rows += static_cast<std::int64_t>(seqs_[k].recent.size());
      last = k;
      if (max_rows > 0 && rows >= max_rows) break;
    }
  }
  if (rows == 0) return 0;
  const bool whole = first == first_of_part && last + step >= seqs_.size();
  Begin();
  try {
    // In key order, so that each station's new readings go onto its pages together: a merge writes about one page
    // per station rather than one per reading. OR IGNORE: InsertReading never lets a duplicate in; should one be
    // there all the same (a file written by hand), the archive's copy stands and the merge still goes through.
    const std::string where =
        whole ? std::string() : fmt::format(" WHERE station >= {} AND station <= {}", first, last);
    Exec(fmt::format("INSERT OR IGNORE INTO readings_archive (station, seq, ts, lv, rn, bt) "
                     "SELECT station, seq, ts, lv, rn, bt FROM readings_recent_{0:02d}{1} ORDER BY station, seq; "
                     "DELETE FROM readings_recent_{0:02d}{1}",
                     part, where));
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
  // Their memory goes too, not only their entries: after a merge most stations have no recent reading for a while,
  // and 150,000 emptied vectors kept 14 MB.
  for (std::size_t k = first; k <= last; k += step) std::vector<RecentRow>().swap(seqs_[k].recent);
  unmerged_.reset();
  recent_rows_ -= rows;
  recent_part_rows_[part] -= rows;
  merge_cursor_[part] = last + step;
  return rows;
}

// Keeps reading_days covering every stored reading (migration 6) with as few writes as possible: a station's newest
// day is open (hi NULL, every seq from lo up) and costs one write when the station's first reading of the day arrives;
// only a reading for an earlier day, or below its day's lo, writes anything else.
void Store::NoteReadingDay(std::int64_t key, std::int64_t seq, std::int64_t day) {
  OpenDay& open = open_days_[key];
  if (!open.known) {
    Stmt& q = Prepared(21, "SELECT day, lo FROM reading_days WHERE station = ? AND hi IS NULL ORDER BY day DESC LIMIT 1");
    q.Bind(1, key);
    if (q.Step()) {
      open.day = q.Int(0);
      open.lo = q.Int(1);
      open.has_day = true;
      open.max_known = false;  // the highest seq of that day is read when the day closes
    }
    q.Reset();
    open.known = true;
  }
  if (open.has_day && day == open.day) {
    if (seq < open.lo) {
      Stmt& u = Prepared(22, "UPDATE reading_days SET lo = ? WHERE station = ? AND day = ?");
      u.Bind(1, seq).Bind(2, key).Bind(3, day).Run();
      open.lo = seq;
    }
    if (open.max_known) open.max = std::max(open.max, seq);
    return;
  }
  if (!open.has_day || day > open.day) {
    if (open.has_day) {
      // Close the open day at the highest seq it holds (read from the table after a restart).
      std::int64_t hi = open.max;
      if (!open.max_known) {
        // The archive by its key, and readings_recent by the writer's own index of it (the table has none).
        Stmt& m = Prepared(23,
                           "SELECT MAX(seq) FROM readings_archive WHERE station = ? AND seq >= ? AND ts >= ? AND "
                           "ts < ?");
        m.Bind(1, key).Bind(2, open.lo).Bind(3, open.day * kDayMs).Bind(4, (open.day + 1) * kDayMs);
        hi = m.Step() && !m.IsNull(0) ? m.Int(0) : open.lo;
        m.Reset();
        for (const RecentRow& r : Seqs(key).recent) {
          const bool that_day = r.ts >= open.day * kDayMs && r.ts < (open.day + 1) * kDayMs;
          if (r.seq >= open.lo && that_day) hi = std::max(hi, r.seq);
        }
      }
      Stmt& c = Prepared(24, "UPDATE reading_days SET hi = ? WHERE station = ? AND day = ?");
      c.Bind(1, std::max(hi, open.lo)).Bind(2, key).Bind(3, open.day).Run();
    }
    Stmt& o = Prepared(25,
                       "INSERT INTO reading_days (station, day, lo, hi) VALUES (?, ?, ?, NULL) "
                       "ON CONFLICT (station, day) DO UPDATE SET lo = MIN(lo, excluded.lo), hi = NULL");
    o.Bind(1, key).Bind(2, day).Bind(3, seq).Run();
    open.day = day;
    open.lo = seq;
    open.max = seq;
    open.has_day = true;
    open.max_known = true;
    return;
  }
  // A reading for a closed day (late, or the station's clock went back): widen that day's range if needed.
  Stmt& w = Prepared(26,
                     "INSERT INTO reading_days (station, day, lo, hi) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (station, day) DO UPDATE SET lo = MIN(lo, excluded.lo), "
                     "hi = CASE WHEN hi IS NULL THEN NULL ELSE MAX(hi, excluded.hi) END "
                     "WHERE excluded.lo < lo OR (hi IS NOT NULL AND excluded.hi > hi)");
  w.Bind(1, key).Bind(2, day).Bind(3, seq).Bind(4, seq).Run();
}

std::optional<std::pair<std::int64_t, std::int64_t>> Store::SeqBounds(std::int64_t key, TimePoint since,
                                                                     TimePoint until) {
  Stmt& s = Prepared(27,
                     "SELECT MIN(lo), MAX(COALESCE(hi, ?)) FROM reading_days WHERE station = ? AND day >= ? AND "
                     "day <= ?");
  s.Bind(1, kNoSeqLimit).Bind(2, key).Bind(3, DayOf(Ms(since))).Bind(4, DayOf(Ms(until)));
  std::optional<std::pair<std::int64_t, std::int64_t>> out;
  if (s.Step() && !s.IsNull(0)) out.emplace(s.Int(0), s.Int(1));
  s.Reset();
  return out;
}

void Store::ForgetReadingDays(std::int64_t key, TimePoint since, TimePoint until) {
  // Only days wholly inside [since, until): a day partly outside may still hold readings.
  const std::int64_t first = DayOf(Ms(since) + kDayMs - 1);
  const std::int64_t last = DayOf(Ms(until)) - 1;
  if (first > last) return;
  Stmt& s = Prepared(28, "DELETE FROM reading_days WHERE station = ? AND day >= ? AND day <= ?");
  s.Bind(1, key).Bind(2, first).Bind(3, last).Run();
  open_days_.erase(key);
}

std::vector<std::pair<std::int64_t, TimePoint>> Store::OldestReadingDays(TimePoint before) {
  std::vector<std::pair<std::int64_t, TimePoint>> out;
  Stmt& s = Prepared(29, "SELECT station, MIN(day) FROM reading_days GROUP BY station HAVING MIN(day) * ? < ?");
  s.Bind(1, kDayMs).Bind(2, Ms(before));
  while (s.Step()) out.emplace_back(s.Int(0), FromMs(s.Int(1) * kDayMs));
  s.Reset();
  return out;
}

const std::vector<StoredReading>* Store::Unmerged(std::int64_t key) {
  EnsureRecentIndex();
  if (recent_rows_ == 0 || Seqs(key).recent.empty()) return nullptr;
  if (!unmerged_) {
    unmerged_ = std::make_unique<std::unordered_map<std::int64_t, std::vector<StoredReading>>>();
    Stmt s(db_, "SELECT station, seq, ts, level_cm, rain_mm, battery_v FROM readings_recent");
    while (s.Step()) {
      (*unmerged_)[s.Int(0)].push_back(StoredReading{{}, static_cast<std::uint64_t>(s.Int(1)), FromMs(s.Int(2)),
                                                     s.Double(3), s.OptDouble(4), s.OptDouble(5)});
    }
    for (auto& [k, rows] : *unmerged_) {
      std::sort(rows.begin(), rows.end(),
                [](const StoredReading& x, const StoredReading& y) { return x.seq < y.seq; });
    }
  }
  auto it = unmerged_->find(key);
  return it == unmerged_->end() ? nullptr : &it->second;
}

std::optional<StoredReading> Store::Reading(std::int64_t key, std::uint64_t seq) {
  Stmt& s = Prepared(30,
                     "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings_archive WHERE station = ? AND seq = ?");
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(seq));
  std::optional<StoredReading> out;
  if (s.Step()) {
    out = StoredReading{{}, static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2), s.OptDouble(3),
                        s.OptDouble(4)};
  }
  s.Reset();
  if (!out) {
    if (const auto* rows = Unmerged(key)) {
      auto it = std::lower_bound(rows->begin(), rows->end(), seq,
                                 [](const StoredReading& r, std::uint64_t v) { return r.seq < v; });
      if (it != rows->end() && it->seq == seq) out = *it;
    }
  }
  return out;
}

void Store::ForEachReadingAfter(std::int64_t key, std::uint64_t seq,
                                const std::function<void(const StoredReading&)>& fn) {
  if (seq >= static_cast<std::uint64_t>(kNoSeqLimit)) return;
  // The archive by its key, and the unmerged readings from memory, in one seq order.
  const auto* rows = Unmerged(key);
  std::size_t next = 0;
  if (rows) {
    next = static_cast<std::size_t>(std::upper_bound(rows->begin(), rows->end(), seq,
                                                     [](std::uint64_t v, const StoredReading& r) { return v < r.seq; }) -
                                    rows->begin());
  }
  // Prepared once: a start replays every station, and preparing this 150,000 times took about 2 s of it. `fn` must
  // not call the store (it would find this statement in use).
  Stmt& s = Prepared(43,
                     "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings_archive WHERE station = ? AND seq > ? "
                     "ORDER BY seq");
  struct ResetAfter {
    Stmt& s;
    ~ResetAfter() { s.Reset(); }
  } reset_after{s};
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(seq));
  while (s.Step()) {
    StoredReading r{{}, static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2), s.OptDouble(3),
                    s.OptDouble(4)};
    while (rows && next < rows->size() && (*rows)[next].seq < r.seq) fn((*rows)[next++]);
    fn(r);
  }
  while (rows && next < rows->size()) fn((*rows)[next++]);
}

Insert Store::InsertRefusedReading(std::string_view station, std::uint64_t seq, std::optional<TimePoint> ts,
                                   TimePoint received, const Error& why, std::string_view payload) {
  Stmt& s = Prepared(3,
                     "INSERT OR IGNORE INTO refused_readings (station, seq, ts, received, code, reason, payload) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, station).Bind(2, static_cast<std::int64_t>(seq));
  if (ts) s.Bind(3, Ms(*ts));
  else s.BindNull(3);
  s.Bind(4, Ms(received)).Bind(5, why.code).Bind(6, why.reason).Bind(7, payload).Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

Insert Store::InsertReport(std::string_view user, std::string_view village, const wire::ReportMsg& r,
                           TimePoint received) {
  Stmt& s = Prepared(4,
                     "INSERT OR IGNORE INTO reports (user, id, village, ts, received, concern, station, level_cm, "
                     "trend, note, lat, lon) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, user).Bind(2, r.id).Bind(3, village).Bind(4, Ms(r.ts)).Bind(5, Ms(received));
  s.Bind(6, std::string_view(alerting::ToString(r.concern)));
  if (r.station) s.Bind(7, *r.station);
  else s.BindNull(7);
  s.Bind(8, r.level_cm);
  if (r.trend) s.Bind(9, std::string_view(wire::ToString(*r.trend)));
  else s.BindNull(9);
  s.Bind(10, r.note).Bind(11, r.lat).Bind(12, r.lon).Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

Insert Store::InsertDecision(std::string_view user, std::string_view village, const wire::DecisionMsg& d,
                             std::string_view via, TimePoint received, bool ok, std::string_view error) {
  Stmt& s = Prepared(5,
                     "INSERT OR IGNORE INTO decisions (user, id, village, ts, received, incident, action, level, note, "
                     "via, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, user).Bind(2, d.id).Bind(3, village).Bind(4, Ms(d.ts)).Bind(5, Ms(received)).Bind(6, d.incident);
  s.Bind(7, std::string_view(alerting::ToString(d.action)));
  if (d.level) s.Bind(8, std::string_view(alerting::ToString(*d.level)));
  else s.BindNull(8);
  s.Bind(9, d.note).Bind(10, via).Bind(11, std::int64_t{ok ? 1 : 0});
  if (ok) s.BindNull(12);
  else s.Bind(12, error);
  s.Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

void Store::UpsertStatus(std::string_view station, const wire::StatusMsg& st, TimePoint received) {
  Stmt& s = Prepared(6,
                     "INSERT INTO station_status (station, online, ts, fw, received) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (station) DO UPDATE SET online = excluded.online, ts = excluded.ts, "
                     "fw = excluded.fw, received = excluded.received");
  s.Bind(1, station).Bind(2, std::int64_t{st.online ? 1 : 0});
  if (st.ts) s.Bind(3, Ms(*st.ts));
  else s.BindNull(3);
  s.Bind(4, st.fw).Bind(5, Ms(received)).Run();
}

std::vector<StoredReading> Store::Readings(std::string_view station, TimePoint since, TimePoint until, int limit) {
  std::vector<StoredReading> out;
  const std::int64_t key = KnownStationKey(station);
  if (!key || since > until) return out;
  // reading_days bounds the seqs of readings with ts in [since, until]; the key is scanned over that range only.
  auto bounds = SeqBounds(key, since, until);
  if (!bounds) return out;
  Stmt& s = Prepared(7,
                     "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings "
                     "WHERE station = ? AND seq >= ? AND seq <= ? AND ts >= ? AND ts <= ? ORDER BY ts, seq LIMIT ?");
  s.Bind(1, key).Bind(2, bounds->first).Bind(3, bounds->second).Bind(4, Ms(since)).Bind(5, Ms(until));
  s.Bind(6, std::int64_t{limit});
  while (s.Step()) {
    out.push_back({std::string(station), static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2),
                   s.OptDouble(3), s.OptDouble(4)});
  }
  s.Reset();
  return out;
}

std::vector<StoredReading> Store::LatestReadings() {
  std::vector<StoredReading> out;
  // For each station, its newest reading by ts: within the seq range of its newest day in reading_days.
  Stmt& s = Prepared(8,
                     "SELECT s.name, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v FROM stations s "
                     "JOIN reading_days d ON d.station = s.id AND d.day = "
                     "(SELECT MAX(day) FROM reading_days WHERE station = s.id) "
                     "JOIN readings r ON r.station = s.id AND r.seq >= d.lo AND r.seq <= COALESCE(d.hi, 9223372036854775807) "
                     "AND r.ts = (SELECT MAX(ts) FROM readings WHERE station = s.id AND seq >= d.lo AND "
                     "seq <= COALESCE(d.hi, 9223372036854775807)) GROUP BY s.id");
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<std::uint64_t>(s.Int(1)), FromMs(s.Int(2)), s.Double(3), s.OptDouble(4),
                   s.OptDouble(5)});
  }
  s.Reset();
  return out;
}

std::int64_t Store::CountReadings() {
  Stmt& s = Prepared(9, "SELECT COUNT(*) FROM readings");
  s.Step();
  auto n = s.Int(0);
  s.Reset();
  return n;
}

std::optional<std::int64_t> Store::ReportIncident(std::string_view user, std::string_view id) {
  Stmt& s = Prepared(10, "SELECT COALESCE(incident, 0) FROM reports WHERE user = ? AND id = ?");
  s.Bind(1, user).Bind(2, id);
  std::optional<std::int64_t> out;
  if (s.Step()) out = s.Int(0);
  s.Reset();
  return out;
}

void Store::SetReportIncident(std::string_view user, std::string_view id, std::int64_t incident) {
  Stmt& s = Prepared(11, "UPDATE reports SET incident = ? WHERE user = ? AND id = ?");
  s.Bind(1, incident).Bind(2, user).Bind(3, id).Run();
}

std::optional<DecisionOutcome> Store::FindDecision(std::string_view user, std::string_view id) {
  Stmt& s = Prepared(12, "SELECT ok, COALESCE(error, ''), incident FROM decisions WHERE user = ? AND id = ?");
  s.Bind(1, user).Bind(2, id);
  std::optional<DecisionOutcome> out;
  if (s.Step()) out = DecisionOutcome{s.Int(0) != 0, s.Text(1), s.Int(2)};
  s.Reset();
  return out;
}

void Store::UpsertIncident(const IncidentRow& row) {
  Stmt& s = Prepared(13,
                     "INSERT INTO incidents (id, kind, village, stage, level, exercise, opened, updated, closed, state) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
                     "village = excluded.village, stage = excluded.stage, level = excluded.level, "
                     "exercise = excluded.exercise, opened = excluded.opened, updated = excluded.updated, "
                     "closed = excluded.closed, state = excluded.state");
  s.Bind(1, row.id).Bind(2, row.kind).Bind(3, row.village).Bind(4, row.stage).Bind(5, row.level);
  s.Bind(6, std::int64_t{row.exercise ? 1 : 0}).Bind(7, Ms(row.opened)).Bind(8, Ms(row.updated));
  if (row.closed) s.Bind(9, Ms(*row.closed));
  else s.BindNull(9);
  s.Bind(10, row.state).Run();
}

void Store::InsertTimeline(const TimelineRow& e) {
  Stmt& s = Prepared(14,
                     "INSERT INTO timeline (incident, ts, kind, actor, via, text_th, text_en) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, e.incident).Bind(2, Ms(e.ts)).Bind(3, e.kind).Bind(4, e.actor).Bind(5, e.via).Bind(6, e.text_th);
  s.Bind(7, e.text_en).Run();
}

void Store::UpsertStationTrack(std::string_view station, std::string_view state) {
  Stmt& s = Prepared(15,
                     "INSERT INTO station_tracks (station, state) VALUES (?, ?) "
                     "ON CONFLICT (station) DO UPDATE SET state = excluded.state");
  s.Bind(1, station).Bind(2, state).Run();
}

void Store::SaveEngineMeta(std::string_view state) {
  Stmt& s = Prepared(16,
                     "INSERT INTO engine_meta (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state");
  s.Bind(1, state).Run();
}

void Store::UpsertEngineVillage(std::string_view village, std::string_view state) {
  Stmt& s = Prepared(31,
                     "INSERT INTO engine_villages (village, state) VALUES (?, ?) "
                     "ON CONFLICT (village) DO UPDATE SET state = excluded.state");
  s.Bind(1, village).Bind(2, state).Run();
}

void Store::AddEngineSeen(std::string_view key, std::string_view state, std::size_t keep) {
  Stmt& add = Prepared(32, "INSERT OR REPLACE INTO engine_seen (key, state) VALUES (?, ?)");
  add.Bind(1, key).Bind(2, state).Run();
  // n is the rowid: the newest row has the largest. Keep the `keep` newest.
  Stmt& prune = Prepared(33, "DELETE FROM engine_seen WHERE n <= last_insert_rowid() - ?");
  prune.Bind(1, static_cast<std::int64_t>(keep)).Run();
}

void Store::ForEachEngineVillage(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM engine_villages ORDER BY village");
  while (s.Step()) fn(s.Text(0));
}

void Store::ForEachEngineSeen(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM engine_seen ORDER BY n");
  while (s.Step()) fn(s.Text(0));
}

std::optional<std::string> Store::EngineMeta() {
  Stmt s(db_, "SELECT state FROM engine_meta WHERE id = 1");
  if (s.Step()) return s.Text(0);
  return std::nullopt;
}

std::vector<std::string> Store::StationTracks() {
  std::vector<std::string> out;
  ForEachStationTrack([&](std::string_view text) { out.emplace_back(text); });
  return out;
}

void Store::ForEachStationTrack(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM station_tracks");
  while (s.Step()) fn(s.View(0));
}

namespace {
// The columns IncidentOf reads, in its order.
constexpr const char* kIncidentColumns =
    "SELECT id, kind, village, stage, level, exercise, opened, updated, closed, state FROM incidents";
IncidentRow IncidentOf(Stmt& s) {
  IncidentRow r{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5) != 0, FromMs(s.Int(6)),
                FromMs(s.Int(7)), std::nullopt, s.Text(9)};
  if (!s.IsNull(8)) r.closed = FromMs(s.Int(8));
  return r;
}
}  // namespace

std::vector<IncidentRow> Store::Incidents(bool open_only, int limit, std::string_view village) {
  // ?1 the limit, ?2 the village; each of the four prepared once.
  static const std::array<std::string, 4> kSql = [] {
    constexpr const char* where[] = {"", " WHERE closed IS NULL", " WHERE village = ?2",
                                     " WHERE village = ?2 AND closed IS NULL"};
    std::array<std::string, 4> sql;
    for (std::size_t i = 0; i < sql.size(); ++i) {
      sql[i] = fmt::format("{}{} ORDER BY id DESC LIMIT ?1", kIncidentColumns, where[i]);
    }
    return sql;
  }();
  const std::size_t which = (village.empty() ? 0 : 2) + (open_only ? 1 : 0);
  Stmt& s = Prepared(34 + static_cast<int>(which), kSql[which]);
  s.Bind(1, std::int64_t{limit});
  if (!village.empty()) s.Bind(2, village);
  std::vector<IncidentRow> out;
  while (s.Step()) out.push_back(IncidentOf(s));
  s.Reset();
  return out;
}

std::optional<IncidentRow> Store::Incident(std::int64_t id) {
  static const std::string kSql = fmt::format("{} WHERE id = ?", kIncidentColumns);
  Stmt& s = Prepared(19, kSql);
  s.Bind(1, id);
  std::optional<IncidentRow> out;
  if (s.Step()) out = IncidentOf(s);
  s.Reset();
  return out;
}

std::vector<TimelineRow> Store::Timeline(std::int64_t incident) {
  std::vector<TimelineRow> out;
  Stmt& s = Prepared(20,
                     "SELECT incident, ts, kind, actor, via, text_th, text_en FROM timeline WHERE incident = ? ORDER BY id");
  s.Bind(1, incident);
  while (s.Step()) {
    out.push_back({s.Int(0), FromMs(s.Int(1)), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)});
  }
  s.Reset();
  return out;
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

}  // namespace kaoko::store
