// Backups of the service's database while it runs, and restoring one (docs/operations.md); kaoko-admin's backup,
// check and restore commands (server/admin) are these.
//
//   auto b = kaoko::store::BackupDatabase("/var/lib/kaoko/kaoko.db", "/var/backups/kaoko", {.keep = 14});
//   // b->path: /var/backups/kaoko/kaoko-20261127T190000Z.db, checked with PRAGMA integrity_check
//   auto r = kaoko::store::RestoreDatabase(b->path, "/var/lib/kaoko/kaoko.db");   // the service must be stopped
//
// A backup is SQLite's online backup API (sqlite3_backup_step, a few thousand pages at a time) inside one read
// transaction on the live file: in WAL mode the service goes on committing meanwhile, and the copy is the database
// exactly as it stood when the backup began (every reading acknowledged before that moment is in it). The copy is a
// single self-contained file (journal_mode DELETE), written as <name>.partial and renamed only once it has passed
// PRAGMA integrity_check.
//
// Restore refuses a backup that is damaged, is not a kaoko database, or comes from a newer kaoko (schema version above
// this build's); refuses while kaoko-server runs on the target (it holds <db>.lock, db_lock.hpp) or any other program
// has it open; and moves the old file aside to <db>.before-restore (then .before-restore.1, …) with its WAL. The
// service migrates a restored older file when it next starts.
//
// Plain functions; they touch only the files named. Not thread-safe for the same files.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/contract/result.hpp"
#include "kaoko/contract/wire.hpp"

namespace kaoko::store {

// What a kaoko database holds, for the operator to see that a backup is the one they expect.
struct DatabaseSummary {
  int schema_version = 0;
  std::int64_t readings = 0;     // raw readings
  std::int64_t hourly_rows = 0;  // hours folded by retention
  std::int64_t incidents = 0;
  std::optional<wire::TimePoint> newest_reading;  // the newest raw reading's ts, and its station
  std::string newest_station;
  std::uint64_t bytes = 0;  // the file's size
};

// Opens `path` read-only, runs PRAGMA integrity_check and summarises it. An error when the file is missing, is not
// an SQLite database, fails the check (the first problems are quoted) or has no readings table. Never throws.
Result<DatabaseSummary> InspectDatabase(const std::string& path);

struct BackupOptions {
  int pages_per_step = 1024;           // 4 MiB of 4 KiB pages per sqlite3_backup_step
  std::chrono::milliseconds pause{2};  // between steps: the service's own writes go first
  int keep = 0;                        // when `out` is a directory: keep this many newest kaoko-*.db, 0 = all
};

struct BackupReport {
  std::string path;                 // the backup written
  DatabaseSummary summary;          // what it holds (after integrity_check)
  std::vector<std::string> pruned;  // older backups deleted by `keep`
};

// Copies the database at `db` to `out` while it is in use. `out` is a file name, or an existing directory, in which
// case the file is kaoko-<UTC time>.db there and `keep` prunes older ones (a name ending in '/' must be a directory).
// Refuses to overwrite an existing file.
// Returns what it wrote, or an error saying what failed; a failed backup leaves no file behind. Never throws.
Result<BackupReport> BackupDatabase(const std::string& db, const std::string& out, const BackupOptions& options = {});

struct RestoreReport {
  std::string aside;         // where the old file went (empty when there was none)
  DatabaseSummary restored;  // what the database now holds
};

// Replaces the database at `db` with the backup at `backup` (see the header comment for what it refuses). Run it as
// the service's user, or as root: the restored file then gets the old file's owner and mode (with no old file, the
// owner of its directory). Never throws.
Result<RestoreReport> RestoreDatabase(const std::string& backup, const std::string& db);

}  // namespace kaoko::store
