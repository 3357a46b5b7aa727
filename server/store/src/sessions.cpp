// Web users and sessions: the rows behind logging in (the hashing itself is passwords.hpp's).
#include "stmt.hpp"

namespace kaoko::store {

std::optional<std::string> Store::PasswordHash(std::string_view user) {
  Stmt q(db_, "SELECT password_hash FROM users WHERE id = ?");
  q.Bind(1, user);
  if (q.Step()) return q.Text(0);
  return std::nullopt;
}

void Store::SetPasswordHash(std::string_view user, std::string_view hash, TimePoint now) {
  Begin();
  try {
    Stmt up(db_,
            "INSERT INTO users (id, password_hash, updated) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, updated = excluded.updated");
    up.Bind(1, user).Bind(2, hash).Bind(3, Ms(now)).Run();
    Stmt del(db_, "DELETE FROM sessions WHERE user = ?");
    del.Bind(1, user).Run();
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
}

void Store::AddSession(const SessionRow& session, TimePoint now) {
  Begin();
  try {
    Stmt purge(db_, "DELETE FROM sessions WHERE expires <= ?");
    purge.Bind(1, Ms(now)).Run();
    Stmt ins(db_, "INSERT INTO sessions (token_hash, user, csrf, created, expires) VALUES (?, ?, ?, ?, ?)");
    ins.Bind(1, session.token_hash)
        .Bind(2, session.user)
        .Bind(3, session.csrf)
        .Bind(4, Ms(session.created))
        .Bind(5, Ms(session.expires))
        .Run();
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
}

std::optional<SessionRow> Store::Session(std::string_view token_hash) {
  Stmt q(db_, "SELECT user, csrf, created, expires FROM sessions WHERE token_hash = ?");
  q.Bind(1, token_hash);
  if (!q.Step()) return std::nullopt;
  return SessionRow{std::string(token_hash), q.Text(0), q.Text(1), FromMs(q.Int(2)), FromMs(q.Int(3))};
}

void Store::DeleteSession(std::string_view token_hash) {
  Stmt del(db_, "DELETE FROM sessions WHERE token_hash = ?");
  del.Bind(1, token_hash).Run();
}

}  // namespace kaoko::store
