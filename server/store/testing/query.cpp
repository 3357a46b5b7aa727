// Queries by their SQL text for tests (query.hpp), over the store's private statement wrapper.
#include "kaoko/store/query.hpp"

#include <fmt/format.h>

#include "../src/stmt.hpp"

namespace kaoko::store::testing {
namespace {

sqlite3* OpenFile(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw SqliteError(rc, fmt::format("cannot open {}: {}", path, why));
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

}  // namespace

struct Query::Impl {
  sqlite3* own = nullptr;  // the connection of a Query on a file
  Stmt stmt;
  ~Impl() {
    stmt = Stmt();
    sqlite3_close(own);
  }
};

Query::Query(Store& store, std::string_view sql) : impl_(std::make_unique<Impl>()) {
  impl_->stmt = Stmt(Connection::Of(store), sql);
}

Query::Query(const std::string& path, std::string_view sql, bool write) : impl_(std::make_unique<Impl>()) {
  impl_->own = OpenFile(path, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
  impl_->stmt = Stmt(impl_->own, sql);
}

Query::Query(Query&&) noexcept = default;
Query& Query::operator=(Query&&) noexcept = default;
Query::~Query() = default;

Query& Query::Bind(int i, std::int64_t v) {
  impl_->stmt.Bind(i, v);
  return *this;
}
Query& Query::Bind(int i, std::string_view v) {
  impl_->stmt.Bind(i, v);
  return *this;
}
bool Query::Step() { return impl_->stmt.Step(); }
void Query::Run() { impl_->stmt.Run(); }
std::int64_t Query::Int(int col) const { return impl_->stmt.Int(col); }
double Query::Double(int col) const { return impl_->stmt.Double(col); }
std::string Query::Text(int col) const { return impl_->stmt.Text(col); }
bool Query::IsNull(int col) const { return impl_->stmt.IsNull(col); }

void ExecFile(const std::string& path, std::string_view sql, bool create) {
  sqlite3* db = OpenFile(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  std::string msg = rc == SQLITE_OK ? std::string() : (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw SqliteError(rc, fmt::format("{}: {}", text.substr(0, 60), msg));
}

}  // namespace kaoko::store::testing
