// The store's own view of SQLite: the prepared-statement wrapper and the connection of a Store. Private to
// server/store: no other room sees a sqlite3 type (they ask the Store by name).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/store/store.hpp"

namespace kaoko::store {

// A prepared statement (RAII). Bind and column indexes follow SQLite: bind from 1, columns from 0.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, std::string_view sql);
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  ~Stmt();
  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, std::optional<double> v);
  Stmt& BindNull(int i);
  // Steps once: true while a row is ready, false when done. Throws SqliteError on an error (the caller's
  // transaction is then rolled back); the error code is in last_code().
  bool Step();
  // Runs a statement that returns no rows and resets it.
  void Run();
  void Reset();
  std::int64_t Int(int col) const;
  double Double(int col) const;
  std::optional<double> OptDouble(int col) const;
  std::string Text(int col) const;
  // The text of a column without copying it: valid until the next Step or Reset.
  std::string_view View(int col) const;
  bool IsNull(int col) const;
  int last_code() const { return last_code_; }
  bool IsPrepared() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int last_code_ = SQLITE_OK;
};

// The connection of a Store, for the store's own free functions (retention, backup).
struct Connection {
  static sqlite3* Of(Store& store) { return store.db_; }
};

// Throws SqliteError with SQLite's message for `code` on `db`, prefixed by `what`.
[[noreturn]] void ThrowSqlite(sqlite3* db, int code, std::string_view what);

inline std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace kaoko::store
