// Queries by their SQL text, for tests and tools that check what a database holds or make a file as something else
// left it (kaoko::store_testing, linked by tests only). The service's own code asks the Store by name instead.
//
//   kaoko::store::testing::Query q(*store, "SELECT COUNT(*) FROM reports");
//   REQUIRE(q.Step());
//   REQUIRE(q.Int(0) == 1);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kaoko/store/store.hpp"

namespace kaoko::store::testing {

// One prepared statement; bind from 1, columns from 0, as SQLite counts. Throws SqliteError on an error.
class Query {
 public:
  // On the Store's connection (and so in its transaction, when one is open).
  Query(Store& store, std::string_view sql);
  // On a connection of its own to the file at `path`, read-only unless `write`, without any of Store::Open's
  // settings or migrations (the file stays as it was); closed with the Query.
  Query(const std::string& path, std::string_view sql, bool write = false);
  Query(Query&&) noexcept;
  Query& operator=(Query&&) noexcept;
  ~Query();

  Query& Bind(int i, std::int64_t v);
  Query& Bind(int i, std::string_view v);
  // True while a row is ready, false when done.
  bool Step();
  // Steps to the end and resets (the connection stays open).
  void Run();
  std::int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs `sql` (any number of statements) on the file at `path`, on a connection of its own; creates the file when
// `create`. Throws SqliteError.
void ExecFile(const std::string& path, std::string_view sql, bool create = false);

}  // namespace kaoko::store::testing
