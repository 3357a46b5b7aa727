// The prepared-statement wrapper (stmt.hpp) and SqliteError.
#include "stmt.hpp"

#include <fmt/format.h>

namespace kaoko::store {

void ThrowSqlite(sqlite3* db, int code, std::string_view what) {
  throw SqliteError(code, fmt::format("{}: {} ({})", what, sqlite3_errmsg(db), sqlite3_errstr(code)));
}

bool SqliteError::disk_full() const { return (code_ & 0xff) == SQLITE_FULL; }

Stmt::Stmt(sqlite3* db, std::string_view sql) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) ThrowSqlite(db, rc, fmt::format("prepare {}", sql.substr(0, 60)));
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
  ThrowSqlite(db, code, "step");
}
void Stmt::Run() {
  while (Step()) {}
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

}  // namespace kaoko::store
