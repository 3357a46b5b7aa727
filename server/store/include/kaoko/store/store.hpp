// The incident log and reading store: one SQLite file in WAL mode with a schema version and migrations.
// A Store is one connection. The service owns one writer (the core thread, which commits in batches) and one reader
// per HTTP thread; SQLite's WAL lets readers see the last commit while the writer works. A Store is not thread-safe:
// use each from one thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kaoko/contract/result.hpp"
#include "kaoko/contract/wire.hpp"

struct sqlite3;

namespace kaoko::store {

using wire::TimePoint;

class Stmt;  // the store's private statement wrapper (src/stmt.hpp)

// The schema version this build writes; Open migrates older files up to it and refuses newer ones.
int CurrentSchemaVersion();

// The SQL of migration `version` (it takes a file from version - 1 to version; 1 ≤ version ≤ CurrentSchemaVersion(),
// else empty). For tests that build a file as an earlier release left it (server/store/tests/migrations_test.cpp).
std::string_view MigrationSql(int version);

// The error SQLite raised, with its code, so that the caller can tell a full disk from a bug.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  bool disk_full() const;

 private:
  int code_;
};

// A refused reading as stored (refused_readings): what the station sent and why it was refused.
struct RefusedReadingRow {
  std::string station;
  std::int64_t seq = 0;
  std::string code;
  std::string reason;
};

enum class Insert { kStored, kDuplicate };

struct DecisionOutcome {
  bool ok = false;
  std::string error;
  std::int64_t incident = 0;
};

// An incident as stored: a few columns to query by, and the engine's whole state of it (JSON, engine_codec.hpp).
struct IncidentRow {
  std::int64_t id = 0;
  std::string kind;
  std::string village;
  std::string stage;
  std::string level;
  bool exercise = false;
  TimePoint opened{};
  TimePoint updated{};
  std::optional<TimePoint> closed;
  std::string state;
};

// One entry of an incident's log.
struct TimelineRow {
  std::int64_t incident = 0;
  TimePoint ts{};
  std::string kind;
  std::string actor;
  std::string via;
  std::string text_th;
  std::string text_en;
};

// A web session as stored (the token itself is never stored, only its hash).
struct SessionRow {
  std::string token_hash;
  std::string user;
  std::string csrf;
  TimePoint created{};
  TimePoint expires{};
};

// The schema version (PRAGMA user_version) of an existing database file, read without changing it; nullopt when there
// is none to read.
std::optional<int> SchemaVersionOf(const std::string& path);

struct OpenOptions {
  bool read_only = false;
  // FULL: a committed (and therefore acknowledged) reading survives a power cut as well as a kill -9.
  bool synchronous_full = true;
};

class Store {
 public:
  // Opens (creating and migrating if needed) the database at `path`. Returns an error with the reason (cannot open,
  // newer schema than this build, corrupt). Thread-safe to call; the returned Store is single-threaded.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, OpenOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const { return schema_version_; }

  void Begin();
  void Commit();
  void Rollback() noexcept;
  void Exec(std::string_view sql);

  // The stable integer key of a station name (created on first use, in the caller's transaction). Not cached: ask
  // once per station and keep it.
  std::int64_t StationKey(std::string_view station);
  // The key of a station name, or 0 when it has none yet (never creates one).
  std::int64_t KnownStationKey(std::string_view station);
  // Every station that has a key, in one scan (the service does this at start); the name is valid during the call.
  void ForEachStationKey(const std::function<void(std::string_view name, std::int64_t key)>& fn);

  // Writes inside the caller's transaction. Duplicates by (station, seq) / (user, id) are not stored again.
  // A reading is appended to readings_recent (in arrival order: a commit writes a few pages whatever the stations)
  // and moved into readings_archive, clustered by (station, seq), by MergeRecent; the view `readings` is both
  // (migration 8, docs/architecture.md "Readings in two tables"). Duplicates are found without an index on the recent
  // table: seqs above the station's highest are new, the rest are looked up in the recent seqs kept in memory and by
  // key in the archive.
  Insert InsertReading(std::string_view station, const wire::Reading& r);
  Insert InsertReading(std::int64_t station_key, const wire::Reading& r);
  Insert InsertRefusedReading(std::string_view station, std::uint64_t seq, std::optional<TimePoint> ts,
                              TimePoint received, const Error& why, std::string_view payload);
  Insert InsertReport(std::string_view user, std::string_view village, const wire::ReportMsg& r, TimePoint received);
  Insert InsertDecision(std::string_view user, std::string_view village, const wire::DecisionMsg& d,
                        std::string_view via, TimePoint received, bool ok, std::string_view error);
  void UpsertStatus(std::string_view station, const wire::StatusMsg& s, TimePoint received);

  // Reads.
  std::vector<wire::Reading> Readings(std::string_view station, TimePoint since, TimePoint until, int limit);
  // The newest reading (by its own ts) of every station that has one.
  std::vector<wire::Reading> LatestReadings();
  // One reading by its key (the station's name is left empty).
  std::optional<wire::Reading> Reading(std::int64_t station_key, std::uint64_t seq);
  // The station's readings with a seq above `seq`, in seq order (the station's name is left empty). `fn` must not
  // call the store. The unmerged readings are read in one scan at the first call and held until the next write or
  // DropUnmerged.
  void ForEachReadingAfter(std::int64_t station_key, std::uint64_t seq,
                           const std::function<void(const wire::Reading&)>& fn);
  // Lets go of the unmerged readings that Reading or ForEachReadingAfter read (after a replay).
  void DropUnmerged() { unmerged_.reset(); }

  // The time index of the readings (reading_days, migration 6): the lowest and highest seq a reading of the station
  // with ts in [since, until] can have (a superset: filter by ts as well); nullopt when it has none in that time.
  std::optional<std::pair<std::int64_t, std::int64_t>> SeqBounds(std::int64_t station_key, TimePoint since,
                                                                 TimePoint until);
  // After readings of [since, until) were deleted: forgets the days wholly inside it. Inside a write transaction.
  void ForgetReadingDays(std::int64_t station_key, TimePoint since, TimePoint until);
  // Each station whose oldest day in reading_days starts before `before`: (key, start of that day). A day's readings
  // may since have been deleted (the day then starts earlier than the station's oldest reading).
  std::vector<std::pair<std::int64_t, TimePoint>> OldestReadingDays(TimePoint before);
  std::int64_t CountReadings();
  // Every stored reading, by station name and then seq: a full scan, for checks of the whole file. `fn` must not
  // call the store.
  void ForEachReading(const std::function<void(const wire::Reading&)>& fn);
  // Every refused reading, by station name and then seq.
  std::vector<RefusedReadingRow> RefusedReadings();

  // New readings are split over kRecentParts tables by station key (readings_recent_00 … _15: key % 16).
  static constexpr int kRecentParts = 16;
  // Readings in readings_recent, not yet merged into the archive.
  std::int64_t RecentReadings();
  // The part holding the most readings.
  int FullestRecentPart();
  // Moves the readings of one part of readings_recent (`part`, or every part when -1, each in turn) into
  // readings_archive in (station, seq) order, in a transaction of its own (not inside the caller's: throws
  // std::logic_error then). With `max_rows`, only a slice of the part: its stations from where the last slice of the
  // part ended, in key order, until they hold max_rows readings (at least one station; the next slice goes on from
  // there, and after the last station from the first), so that ingest waits for a slice, not a whole part.
  // Returns how many moved. Throws on a database error (nothing of that slice moved: its readings stay where they
  // were, as readable as before).
  std::int64_t MergeRecent(int part = -1, std::int64_t max_rows = 0);
  // The station's highest stored seq (0 and false when it has none). Inside or outside a transaction.
  std::optional<std::int64_t> MaxSeq(std::int64_t station_key);
  // Deletes the station's readings with seq in [lo, hi] and ts in [since, until) from both tables; returns how many.
  // Inside the caller's transaction (retention).
  std::int64_t DeleteReadings(std::int64_t station_key, std::int64_t lo, std::int64_t hi, TimePoint since,
                              TimePoint until);
  // Whether readings_recent holds a reading of the station with seq in [lo, hi] and ts in [since, until).
  bool HasRecentReadings(std::int64_t station_key, std::int64_t lo, std::int64_t hi, TimePoint since, TimePoint until);
  // Whether a report (user, id) is already stored; if so, the incident recorded for it (0 for none).
  std::optional<std::int64_t> ReportIncident(std::string_view user, std::string_view id);

  void SetReportIncident(std::string_view user, std::string_view id, std::int64_t incident);
  std::optional<DecisionOutcome> FindDecision(std::string_view user, std::string_view id);

  // The alerting engine's durable state (written inside the caller's transaction).
  void UpsertIncident(const IncidentRow& row);
  void InsertTimeline(const TimelineRow& event);
  void UpsertStationTrack(std::string_view station, std::string_view state);
  void SaveEngineMeta(std::string_view state);
  std::optional<std::string> EngineMeta();
  // One village's alert state and siren, and one remembered message (the newest `keep` are kept), each an engine
  // meta document of its own (EncodeEngineMeta); read back in village order and in the order they were added.
  void UpsertEngineVillage(std::string_view village, std::string_view state);
  void AddEngineSeen(std::string_view key, std::string_view state, std::size_t keep);
  void ForEachEngineVillage(const std::function<void(std::string_view)>& fn);
  void ForEachEngineSeen(const std::function<void(std::string_view)>& fn);
  std::vector<std::string> StationTracks();
  // The same, one row at a time without keeping them (the text is valid during the call only).
  void ForEachStationTrack(const std::function<void(std::string_view)>& fn);
  // Newest first; only `village`'s when it is not empty.
  std::vector<IncidentRow> Incidents(bool open_only, int limit, std::string_view village = {});
  std::optional<IncidentRow> Incident(std::int64_t id);
  std::vector<TimelineRow> Timeline(std::int64_t incident);

  // Runs PRAGMA quick_check; empty when fine.
  std::string QuickCheck();
  // A cheap read that proves the file readable (the health probe): how many stations have a key. Throws SqliteError.
  std::int64_t CountStations();

  // Web users and sessions (schema 3 or later). Each runs on its own, outside a transaction of the caller's.
  // The stored argon2id hash of `user`'s web password (passwords.hpp), if they have one.
  std::optional<std::string> PasswordHash(std::string_view user);
  // Stores `hash` as `user`'s web password and ends their open sessions, in one transaction.
  void SetPasswordHash(std::string_view user, std::string_view hash, TimePoint now);
  // Deletes the sessions expired at `now` and adds `session`, in one transaction.
  void AddSession(const SessionRow& session, TimePoint now);
  // The session with this token hash (expired or not).
  std::optional<SessionRow> Session(std::string_view token_hash);
  void DeleteSession(std::string_view token_hash);

 private:
  friend struct Connection;  // the store's own free functions (src/stmt.hpp)
  explicit Store(sqlite3* db);
  void Migrate();
  Stmt& Prepared(int slot, std::string_view sql);
  void NoteReadingDay(std::int64_t key, std::int64_t seq, std::int64_t day);

  // What the writer knows of a station's seqs (migration 8): its highest stored seq, and the (seq, ts) of each of its
  // readings in readings_recent — all of them, whenever recent_valid_ (else read again from the table).
  struct RecentRow {
    std::int64_t seq;
    std::int64_t ts;
  };
  struct StationSeqs {
    std::int64_t max = 0;
    bool max_known = false;
    bool has_max = false;
    std::vector<RecentRow> recent;
  };
  StationSeqs& Seqs(std::int64_t key);
  void EnsureRecentIndex();
  bool InRecent(const StationSeqs& s, std::int64_t seq) const;
  void LoadMax(std::int64_t key, StationSeqs& s);
  static int RecentPart(std::int64_t key) {
    return static_cast<int>(((key % kRecentParts) + kRecentParts) % kRecentParts);
  }
  std::int64_t MergeRecentPart(int part, std::int64_t max_rows);

  // A station's newest (open) day in reading_days, as the writer last saw it.
  struct OpenDay {
    std::int64_t day = 0;
    std::int64_t lo = 0;
    std::int64_t max = 0;  // the highest seq of that day inserted since it was seen (when max_known)
    bool known = false;    // read from the table (or created) since the start or the last rollback
    bool has_day = false;
    bool max_known = false;
  };
  struct OpenDays {
    std::vector<OpenDay> by_key;  // station keys are small dense integers
    OpenDay& operator[](std::int64_t key) {
      const auto k = static_cast<std::size_t>(key < 0 ? 0 : key);
      if (k >= by_key.size()) by_key.resize(k + 1);
      return by_key[k];
    }
    void erase(std::int64_t key) {
      if (key >= 0 && static_cast<std::size_t>(key) < by_key.size()) by_key[static_cast<std::size_t>(key)] = {};
    }
    void clear() { std::fill(by_key.begin(), by_key.end(), OpenDay{}); }
  };

  sqlite3* db_;
  int schema_version_ = 0;
  std::vector<Stmt> prepared_;
  OpenDays open_days_;
  std::vector<StationSeqs> seqs_;  // by station key
  bool recent_valid_ = false;
  std::int64_t recent_rows_ = 0;
  std::int64_t recent_part_rows_[kRecentParts] = {};
  std::size_t merge_cursor_[kRecentParts] = {};  // the station key each part's next slice starts from
  // Every unmerged reading by station, in seq order, read in one scan when Reading or ForEachReadingAfter first
  // needs one (a restart or a rollback whose merge failed: the view would scan the recent tables once per
  // station); dropped at the next write.
  std::unique_ptr<std::unordered_map<std::int64_t, std::vector<wire::Reading>>> unmerged_;
  const std::vector<wire::Reading>* Unmerged(std::int64_t key);
};

}  // namespace kaoko::store
