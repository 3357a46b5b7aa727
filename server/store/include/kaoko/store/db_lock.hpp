// Who holds a kaoko database: the rule that keeps a restore from replacing a file the service is writing.
//
// The rule: kaoko-server holds an exclusive flock(2) on "<db>.lock" for as long as it runs, and kaoko-admin restore
// takes the same lock for as long as it works. The lock file is never renamed or deleted, so the two always meet on
// the same inode; the kernel drops the lock when its holder exits, however it exits (kill -9 included).
// Belt and braces for programs that do not know the rule (an older kaoko, the sqlite3 shell): OtherProcessHasOpen
// asks SQLite's own WAL locks whether any other process has the file open.
//
//   auto lock = kaoko::store::DatabaseLock::Acquire("/var/lib/kaoko/kaoko.db");
//   if (!lock) { /* lock.error().reason: "… is in use by another kaoko-server (pid 1234) …" */ }
#pragma once

#include <string>

#include "kaoko/contract/result.hpp"

namespace kaoko::store {

class DatabaseLock {
 public:
  // Takes the exclusive lock on "<db_path>.lock" (created, mode 0644, if missing) without waiting, and writes this
  // process's pid and `holder` ("kaoko-server", "kaoko-admin restore") into it for whoever finds it taken. Returns an
  // error naming the holder when another process has it, or when the file cannot be created. Thread-safe.
  static Result<DatabaseLock> Acquire(const std::string& db_path, const std::string& holder);

  DatabaseLock(DatabaseLock&& other) noexcept;
  DatabaseLock& operator=(DatabaseLock&& other) noexcept;
  ~DatabaseLock();  // releases the lock (the file stays)
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DatabaseLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// True when a process other than this one has the SQLite database at `db_path` open in WAL mode (every connection
// holds a shared lock on the dead-man-switch byte of "<db>-shm", byte 128: https://sqlite.org/walformat.html).
// False when there is no -shm file or nobody holds it. Never throws; thread-safe.
bool OtherProcessHasOpen(const std::string& db_path);

}  // namespace kaoko::store
