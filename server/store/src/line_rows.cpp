// LINE's rows (line_rows.hpp): link codes, links and the webhook events already handled.
#include "kaoko/store/line_rows.hpp"

#include "stmt.hpp"

namespace kaoko::store {

std::string LineRows::NewLinkCode(std::string_view person, TimePoint expires,
                                  const std::function<std::string()>& fresh) {
  sqlite3* db = Connection::Of(store_);
  Stmt(db, "DELETE FROM line_link_codes WHERE person = ?").Bind(1, person).Run();
  for (int attempt = 0; attempt < 20; ++attempt) {
    const std::string code = fresh();
    Stmt ins(db, "INSERT INTO line_link_codes (code, person, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    ins.Bind(1, code).Bind(2, person).Bind(3, Ms(expires)).Run();
    if (sqlite3_changes(db) == 1) return code;
  }
  return {};
}

std::optional<std::string> LineRows::TakeLinkCode(std::string_view code, TimePoint now) {
  sqlite3* db = Connection::Of(store_);
  Stmt q(db, "SELECT person, expires FROM line_link_codes WHERE code = ?");
  q.Bind(1, code);
  if (!q.Step()) return std::nullopt;
  std::string person = q.Text(0);
  const bool expired = q.Int(1) <= Ms(now);
  q = Stmt();
  // An expired code is left for the next NewLinkCode of its person to replace: it never works again either way.
  if (expired) return std::nullopt;
  Stmt del(db, "DELETE FROM line_link_codes WHERE code = ?");
  del.Bind(1, code).Run();
  if (sqlite3_changes(db) != 1) return std::nullopt;
  return person;
}

LinkResult LineRows::Link(std::string_view person, std::string_view user_id, TimePoint at) {
  if (auto owner = PersonOf(user_id)) return *owner == person ? LinkResult::kAlready : LinkResult::kOtherPerson;
  Stmt up(Connection::Of(store_),
          "INSERT INTO line_links (person, user_id, linked_at) VALUES (?, ?, ?) "
          "ON CONFLICT (person) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at");
  up.Bind(1, person).Bind(2, user_id).Bind(3, Ms(at)).Run();
  return LinkResult::kLinked;
}

std::optional<std::string> LineRows::UserOf(std::string_view person) {
  Stmt q(Connection::Of(store_), "SELECT user_id FROM line_links WHERE person = ?");
  q.Bind(1, person);
  if (!q.Step()) return std::nullopt;
  return q.Text(0);
}

std::optional<std::string> LineRows::PersonOf(std::string_view user_id) {
  Stmt q(Connection::Of(store_), "SELECT person FROM line_links WHERE user_id = ?");
  q.Bind(1, user_id);
  if (!q.Step()) return std::nullopt;
  return q.Text(0);
}

bool LineRows::FirstSeen(std::string_view event_id, TimePoint at) {
  sqlite3* db = Connection::Of(store_);
  Stmt ins(db, "INSERT INTO line_webhook_events (event_id, received) VALUES (?, ?) ON CONFLICT DO NOTHING");
  ins.Bind(1, event_id).Bind(2, Ms(at)).Run();
  return sqlite3_changes(db) == 1;
}

int LineRows::ForgetEventsBefore(TimePoint before) {
  sqlite3* db = Connection::Of(store_);
  Stmt del(db, "DELETE FROM line_webhook_events WHERE received < ?");
  del.Bind(1, Ms(before)).Run();
  return sqlite3_changes(db);
}

}  // namespace kaoko::store
