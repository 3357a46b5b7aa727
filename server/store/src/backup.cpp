// Backups and restores of a kaoko database (backup.hpp): SQLite's online backup API and integrity_check, on
// connections of their own (not a Store: a backup never migrates nor changes the file it reads).
#include "kaoko/store/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "kaoko/common/clock.hpp"
#include "kaoko/store/db_lock.hpp"
#include "stmt.hpp"

namespace kaoko::store {
namespace {

namespace fs = std::filesystem;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Result<Db> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return MakeError("db_open",
                     fmt::format("cannot open {}: {}", path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

// Runs SQL that returns no rows; the error text or empty.
std::string Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string out = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return out;
}

bool HasTable(sqlite3* db, const char* name) {
  Stmt s(db, "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?");
  s.Bind(1, std::string_view(name));
  s.Step();
  return s.Int(0) > 0;
}

std::int64_t Count(sqlite3* db, const char* table) {
  Stmt s(db, fmt::format("SELECT COUNT(*) FROM {}", table));
  s.Step();
  return s.Int(0);
}

// integrity_check and the summary, on an open connection. Throws SqliteError on a read error.
Result<DatabaseSummary> Summarize(sqlite3* db, const std::string& path) {
  {
    Stmt check(db, "PRAGMA integrity_check");
    std::vector<std::string> problems;
    while (check.Step()) {
      std::string line = check.Text(0);
      if (line != "ok" && problems.size() < 5) problems.push_back(std::move(line));
    }
    if (!problems.empty()) {
      std::string text;
      for (const auto& p : problems) text += "\n  " + p;
      return MakeError("db_damaged", fmt::format("{} fails PRAGMA integrity_check:{}", path, text));
    }
  }
  DatabaseSummary s;
  {
    Stmt v(db, "PRAGMA user_version");
    v.Step();
    s.schema_version = static_cast<int>(v.Int(0));
  }
  if (!HasTable(db, "readings") || !HasTable(db, "stations")) {
    return MakeError("not_kaoko", fmt::format("{} is an SQLite database but not kaoko's (it has no readings)", path));
  }
  s.readings = Count(db, "readings");
  if (HasTable(db, "readings_hourly")) s.hourly_rows = Count(db, "readings_hourly");
  if (HasTable(db, "incidents")) s.incidents = Count(db, "incidents");
  // The newest reading: from schema 6 within the seq range of each station's newest day (reading_days); before it,
  // one seek per station on the index readings_by_time (station, ts). From schema 8 the archive so, and the recent
  // table (no index, at most the core's merge_rows) in one scan.
  const bool two_tables = HasTable(db, "readings_archive");
  const std::string day_query = fmt::format(
      "SELECT s.name, (SELECT MAX(r.ts) FROM reading_days d JOIN {} r ON r.station = "
      "d.station AND r.seq >= d.lo AND r.seq <= COALESCE(d.hi, 9223372036854775807) "
      "WHERE d.station = s.id AND d.day = (SELECT MAX(day) FROM reading_days WHERE station = "
      "s.id)) AS newest FROM stations s WHERE newest IS NOT NULL ORDER BY newest DESC LIMIT 1",
      two_tables ? "readings_archive" : "readings");
  Stmt newest(db, HasTable(db, "reading_days")
                      ? std::string_view(day_query)
                      : "SELECT s.name, (SELECT MAX(r.ts) FROM readings r WHERE r.station = s.id) AS newest "
                        "FROM stations s WHERE newest IS NOT NULL ORDER BY newest DESC LIMIT 1");
  if (newest.Step()) {
    s.newest_station = newest.Text(0);
    s.newest_reading = wire::TimePoint(std::chrono::milliseconds(newest.Int(1)));
  }
  if (two_tables) {
    Stmt recent(db,
                "SELECT s.name, r.ts FROM readings_recent r JOIN stations s ON s.id = r.station "
                "ORDER BY r.ts DESC LIMIT 1");
    if (recent.Step() && (!s.newest_reading || recent.Int(1) > s.newest_reading->time_since_epoch().count())) {
      s.newest_station = recent.Text(0);
      s.newest_reading = wire::TimePoint(std::chrono::milliseconds(recent.Int(1)));
    }
  }
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (!ec) s.bytes = size;
  return s;
}

// fsync a file or a directory by name; the error text or empty.
std::string Sync(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return fmt::format("cannot open {} to sync it: {}", path, std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? std::string() : fmt::format("cannot sync {}: {}", path, std::strerror(err));
}

std::string ParentDir(const std::string& path) {
  auto parent = fs::absolute(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Copies the database `src` (open) into a new file `dest_path` with the online backup API, in steps, all inside one
// read transaction on `src` so that the copy is one consistent moment while other connections keep writing. The copy
// ends in journal_mode DELETE: one self-contained file. Returns the error text or empty.
std::string CopyDatabase(sqlite3* src, const std::string& dest_path, const BackupOptions& options) {
  // Hold one read transaction for the whole copy. Without it each step would take a fresh snapshot, and a commit by
  // the service between two steps would make SQLite start the copy over — for ever, under heavy ingest.
  if (auto e = Exec(src, "BEGIN"); !e.empty()) return e;
  std::string error;
  try {
    Stmt first(src, "SELECT COUNT(*) FROM sqlite_master");
    first.Step();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty()) {
    auto dest = OpenDb(dest_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    if (!dest) {
      error = dest.error().reason;
    } else {
      sqlite3_backup* b = sqlite3_backup_init(dest->get(), "main", src, "main");
      if (!b) {
        error = sqlite3_errmsg(dest->get());
      } else {
        int rc = SQLITE_OK;
        do {
          rc = sqlite3_backup_step(b, std::max(options.pages_per_step, 1));
          if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_sleep(static_cast<int>(options.pause.count()));
          }
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
        int finish = sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) {
          error = fmt::format("backup step: {}", sqlite3_errstr(rc));
        } else if (finish != SQLITE_OK) {
          error = fmt::format("backup: {}", sqlite3_errmsg(dest->get()));
        }
      }
      if (error.empty()) {
        // The copy carries the source's WAL flag in its header: make it one file that can be copied around alone.
        std::string e = Exec(dest->get(), "PRAGMA journal_mode=DELETE");
        if (!e.empty()) error = "journal_mode=DELETE: " + e;
      }
    }
  }
  Exec(src, "COMMIT");  // ends the read transaction
  return error;
}

std::string UtcStamp() {
  // The wall clock, also in a rehearsal: a backup's name says when it was really taken.
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(Clock::Wall().Now());
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// Deletes the oldest kaoko-*.db backups in `dir` beyond the `keep` newest (names sort by time). Returns those deleted.
std::vector<std::string> Prune(const std::string& dir, int keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with("kaoko-") && name.ends_with(".db") && name.size() == 25) {
      names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> pruned;
  for (size_t i = 0; keep > 0 && i + static_cast<size_t>(keep) < names.size(); ++i) {
    if (fs::remove(names[i], ec)) pruned.push_back(names[i]);
  }
  return pruned;
}

}  // namespace

Result<DatabaseSummary> InspectDatabase(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return MakeError("no_db", fmt::format("there is no database file at {}", path));
  auto db = OpenDb(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.error();
  try {
    return Summarize(db->get(), path);
  } catch (const std::exception& e) {
    return MakeError("db_unreadable", fmt::format("{}: {}", path, e.what()));
  }
}

Result<BackupReport> BackupDatabase(const std::string& db_path, const std::string& out, const BackupOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(db_path, ec)) {
    return MakeError("no_db", fmt::format("there is no database file at {}", db_path));
  }
  bool into_dir = fs::is_directory(out, ec);
  if (!into_dir && out.ends_with('/')) {
    return MakeError("no_dir", fmt::format("there is no directory {} for the backups; create it first, e.g. "
                                           "install -d -o kaoko -g kaoko -m 0750 {}",
                                           out, out));
  }
  BackupReport report;
  report.path = into_dir ? (fs::path(out) / fmt::format("kaoko-{}.db", UtcStamp())).string() : out;
  if (fs::exists(report.path, ec)) {
    return MakeError("exists", fmt::format("{} already exists; a backup never overwrites a file", report.path));
  }
  const std::string partial = report.path + ".partial";
  fs::remove(partial, ec);  // left by a backup that was interrupted
  auto cleanup = [&] {
    fs::remove(partial, ec);
    fs::remove(partial + "-journal", ec);
  };
  {
    // Read-only: a backup never changes the live file (nor migrates it).
    auto src = OpenDb(db_path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
    if (!src) return src.error();
    if (auto e = CopyDatabase(src->get(), partial, options); !e.empty()) {
      cleanup();
      return MakeError("backup", fmt::format("backup of {} to {} failed: {}", db_path, partial, e));
    }
  }
  {
    auto copy = OpenDb(partial, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
    if (!copy) {
      cleanup();
      return copy.error();
    }
    Result<DatabaseSummary> summary = MakeError("", "");
    try {
      summary = Summarize(copy->get(), partial);
    } catch (const std::exception& e) {
      summary = MakeError("db_unreadable", e.what());
    }
    if (!summary) {
      cleanup();
      return MakeError("backup_check",
                       fmt::format("the copy failed its check, nothing kept: {}", summary.error().reason));
    }
    report.summary = *summary;
  }
  if (auto e = Sync(partial, false); !e.empty()) {
    cleanup();
    return MakeError("backup", e);
  }
  fs::rename(partial, report.path, ec);
  if (ec) {
    cleanup();
    return MakeError("backup", fmt::format("cannot rename {} to {}: {}", partial, report.path, ec.message()));
  }
  (void)Sync(ParentDir(report.path), true);
  if (into_dir) report.pruned = Prune(out, options.keep);
  return report;
}

Result<RestoreReport> RestoreDatabase(const std::string& backup, const std::string& db_path) {
  // The backup first: intact, kaoko's, not from a newer kaoko.
  auto summary = InspectDatabase(backup);
  if (!summary) return MakeError(summary.error().code, fmt::format("will not restore: {}", summary.error().reason));
  if (summary->schema_version > CurrentSchemaVersion()) {
    return MakeError("newer_schema",
                     fmt::format("will not restore: {} has schema version {}, made by a newer kaoko than this one "
                                 "(which understands up to {}); install that kaoko first",
                                 backup, summary->schema_version, CurrentSchemaVersion()));
  }
  // Nobody may be using the target: the service holds <db>.lock while it runs; anything else shows in SQLite's locks.
  auto lock = DatabaseLock::Acquire(db_path, "kaoko-admin restore");
  if (!lock) {
    return MakeError(lock.error().code,
                     fmt::format("will not restore while the database is in use; stop the service first "
                                 "(systemctl stop kaoko): {}",
                                 lock.error().reason));
  }
  if (OtherProcessHasOpen(db_path)) {
    return MakeError("db_in_use", fmt::format("will not restore: another program has {} open (sqlite3? kaoko-admin "
                                              "set-password? an older kaoko-server?); close it first",
                                              db_path));
  }
  std::error_code ec;
  const std::string restoring = db_path + ".restoring";
  fs::remove(restoring, ec);
  fs::remove(restoring + "-journal", ec);
  {
    auto src = OpenDb(backup, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
    if (!src) return src.error();
    if (auto e = CopyDatabase(src->get(), restoring, BackupOptions{}); !e.empty()) {
      fs::remove(restoring, ec);
      return MakeError("restore", fmt::format("copying {} to {} failed: {}", backup, restoring, e));
    }
  }
  if (auto e = Sync(restoring, false); !e.empty()) return MakeError("restore", e);

  RestoreReport report;
  struct stat old {};
  bool had_old = ::stat(db_path.c_str(), &old) == 0;
  if (had_old) {
    // Fold the old file's WAL into it, so that it is whole on its own where it goes.
    if (auto db = OpenDb(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX)) {
      Exec(db->get(), "PRAGMA wal_checkpoint(TRUNCATE)");
      Exec(db->get(), "PRAGMA journal_mode=DELETE");
    }
    report.aside = db_path + ".before-restore";
    for (int i = 1; fs::exists(report.aside, ec); ++i) report.aside = fmt::format("{}.before-restore.{}", db_path, i);
    fs::rename(db_path, report.aside, ec);
    if (ec) {
      fs::remove(restoring, ec);
      return MakeError("restore", fmt::format("cannot move {} aside: {}", db_path, ec.message()));
    }
    // Whatever WAL is left goes with its file (a WAL next to the restored file would be replayed into it).
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      if (fs::exists(db_path + suffix, ec)) fs::rename(db_path + suffix, report.aside + suffix, ec);
    }
  }
  fs::rename(restoring, db_path, ec);
  if (ec) return MakeError("restore", fmt::format("cannot rename {} to {}: {}", restoring, db_path, ec.message()));
  // Run as root, the new file (and a lock file made just now) would be root's, and the service (user kaoko) could not
  // write them: give them the old file's owner, or the data directory's when there was no old file.
  struct stat owner = old;
  if (::geteuid() == 0 && (had_old || ::stat(ParentDir(db_path).c_str(), &owner) == 0)) {
    if (::chown(db_path.c_str(), owner.st_uid, owner.st_gid) != 0 ||
        ::chown(lock->path().c_str(), owner.st_uid, owner.st_gid) != 0) {
      return MakeError("restore", fmt::format("restored {}, but could not give it the owner of the old file ({}): "
                                              "chown it to the service's user before starting the service",
                                              db_path, std::strerror(errno)));
    }
  }
  if (had_old && ::chmod(db_path.c_str(), old.st_mode & 07777) != 0) {
    return MakeError("restore", fmt::format("restored {}, but could not give it the old file's mode: {}", db_path,
                                            std::strerror(errno)));
  }
  (void)Sync(ParentDir(db_path), true);
  report.restored = *summary;
  std::error_code size_ec;
  auto size = fs::file_size(db_path, size_ec);
  if (!size_ec) report.restored.bytes = size;
  return report;
}

}  // namespace kaoko::store
