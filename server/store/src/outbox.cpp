// The delivery outbox's rows (outbox.hpp): queueing, the due list, and each fact recorded as alerting::CanMove allows.
#include "kaoko/store/outbox.hpp"

#include <fmt/format.h>

#include "stmt.hpp"

namespace kaoko::store {
namespace {

using alerting::DeliveryState;

constexpr std::string_view kColumns =
    "SELECT id, notification, incident, person, channel, urgency, state, reason, attempts, due, expires, gateway_ref, "
    "queued_at, sent_at, delivered_at, seen_at, acted_at, ended_at FROM deliveries ";

std::optional<TimePoint> OptTime(const Stmt& q, int col) {
  if (q.IsNull(col)) return std::nullopt;
  return FromMs(q.Int(col));
}

DeliveryRow RowOf(const Stmt& q) {
  DeliveryRow r;
  r.id = q.Int(0);
  r.notification = q.Text(1);
  r.incident = q.Int(2);
  r.person = q.Text(3);
  r.channel = alerting::ParseChannel(q.View(4)).value_or(alerting::Channel::kWeb);
  r.urgency = static_cast<alerting::Urgency>(q.Int(5));
  r.state = alerting::ParseDeliveryState(q.View(6)).value_or(DeliveryState::kQueued);
  r.reason = q.Text(7);
  r.attempts = static_cast<int>(q.Int(8));
  r.due = FromMs(q.Int(9));
  r.expires = FromMs(q.Int(10));
  r.gateway_ref = q.IsNull(11) ? "" : q.Text(11);
  r.queued_at = FromMs(q.Int(12));
  r.sent_at = OptTime(q, 13);
  r.delivered_at = OptTime(q, 14);
  r.seen_at = OptTime(q, 15);
  r.acted_at = OptTime(q, 16);
  r.ended_at = OptTime(q, 17);
  return r;
}

std::vector<DeliveryRow> Rows(Stmt& q) {
  std::vector<DeliveryRow> out;
  while (q.Step()) out.push_back(RowOf(q));
  return out;
}

// The column a fact's time goes into.
const char* TimeColumn(DeliveryState s) {
  switch (s) {
    case DeliveryState::kSent:
      return "sent_at";
    case DeliveryState::kDelivered:
      return "delivered_at";
    case DeliveryState::kSeen:
      return "seen_at";
    case DeliveryState::kActed:
      return "acted_at";
    case DeliveryState::kFailed:
    case DeliveryState::kExpired:
      return "ended_at";
    case DeliveryState::kQueued:
      return "queued_at";
  }
  return "queued_at";
}

}  // namespace

std::int64_t Outbox::Queue(const DeliveryRow& row) {
  sqlite3* db = Connection::Of(store_);
  Stmt ins(db,
           "INSERT INTO deliveries (notification, incident, person, channel, urgency, state, due, expires, queued_at) "
           "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT (notification, person, channel) DO NOTHING");
  ins.Bind(1, row.notification)
      .Bind(2, row.incident)
      .Bind(3, row.person)
      .Bind(4, std::string_view(alerting::ToString(row.channel)))
      .Bind(5, static_cast<std::int64_t>(row.urgency))
      .Bind(6, Ms(row.due))
      .Bind(7, Ms(row.expires))
      .Bind(8, Ms(row.queued_at))
      .Run();
  Stmt id(db, "SELECT id FROM deliveries WHERE notification = ? AND person = ? AND channel = ?");
  id.Bind(1, row.notification).Bind(2, row.person).Bind(3, std::string_view(alerting::ToString(row.channel)));
  return id.Step() ? id.Int(0) : 0;
}

std::vector<DeliveryRow> Outbox::Due(TimePoint now, int limit) {
  Stmt q(Connection::Of(store_), std::string(kColumns) +
                                     "WHERE state = 'queued' AND due <= ?1 AND (channel != 'web' OR expires <= ?1) "
                                     "ORDER BY urgency, due, id LIMIT ?2");
  q.Bind(1, Ms(now)).Bind(2, static_cast<std::int64_t>(limit));
  return Rows(q);
}

bool Outbox::Move(std::int64_t id, DeliveryState to, TimePoint at, std::string_view reason,
                  std::string_view gateway_ref) {
  auto row = Find(id);
  if (!row || !alerting::CanMove(row->state, to)) return false;
  // Compare and set: the row must still be in the state CanMove judged. The core (a person acted) and the delivery
  // room (a gateway answered) write on connections of their own, and a fact must never overwrite a later one.
  std::string sql = fmt::format("UPDATE deliveries SET state = ?, {} = ?", TimeColumn(to));
  if (!reason.empty()) sql += ", reason = ?3";
  if (!gateway_ref.empty()) sql += ", gateway_ref = ?4";
  sql += " WHERE id = ?5 AND state = ?6";
  sqlite3* db = Connection::Of(store_);
  Stmt up(db, sql);
  up.Bind(1, std::string_view(alerting::ToString(to)))
      .Bind(2, Ms(at))
      .Bind(5, id)
      .Bind(6, std::string_view(alerting::ToString(row->state)));
  if (!reason.empty()) up.Bind(3, reason);
  if (!gateway_ref.empty()) up.Bind(4, gateway_ref);
  up.Run();
  return sqlite3_changes(db) == 1;
}

bool Outbox::NoteLate(std::int64_t id, DeliveryState fact, TimePoint at, std::string_view gateway_ref) {
  if (fact != DeliveryState::kSent && fact != DeliveryState::kDelivered && fact != DeliveryState::kSeen) return false;
  const char* column = TimeColumn(fact);
  std::string sql = fmt::format("UPDATE deliveries SET {} = ?1", column);
  if (!gateway_ref.empty()) sql += ", gateway_ref = coalesce(gateway_ref, ?2)";
  sql += fmt::format(" WHERE id = ?3 AND state = 'acted' AND {} IS NULL", column);
  sqlite3* db = Connection::Of(store_);
  Stmt up(db, sql);
  up.Bind(1, Ms(at)).Bind(3, id);
  if (!gateway_ref.empty()) up.Bind(2, gateway_ref);
  up.Run();
  return sqlite3_changes(db) == 1;
}

bool Outbox::SetGatewayRef(std::int64_t id, std::string_view gateway_ref) {
  sqlite3* db = Connection::Of(store_);
  Stmt up(db, "UPDATE deliveries SET gateway_ref = ? WHERE id = ? AND gateway_ref IS NULL");
  up.Bind(1, gateway_ref).Bind(2, id).Run();
  return sqlite3_changes(db) == 1;
}

bool Outbox::Retry(std::int64_t id, TimePoint next, std::string_view reason) {
  sqlite3* db = Connection::Of(store_);
  Stmt up(db, "UPDATE deliveries SET attempts = attempts + 1, due = ?, reason = ? WHERE id = ? AND state = 'queued'");
  up.Bind(1, Ms(next)).Bind(2, reason).Bind(3, id).Run();
  return sqlite3_changes(db) == 1;
}

std::optional<DeliveryRow> Outbox::ByGatewayRef(alerting::Channel channel, std::string_view gateway_ref) {
  if (gateway_ref.empty()) return std::nullopt;
  Stmt q(Connection::Of(store_), std::string(kColumns) + "WHERE channel = ? AND gateway_ref = ?");
  q.Bind(1, std::string_view(alerting::ToString(channel))).Bind(2, gateway_ref);
  if (!q.Step()) return std::nullopt;
  return RowOf(q);
}

std::optional<DeliveryRow> Outbox::Find(std::int64_t id) {
  Stmt q(Connection::Of(store_), std::string(kColumns) + "WHERE id = ?");
  q.Bind(1, id);
  if (!q.Step()) return std::nullopt;
  return RowOf(q);
}

std::vector<DeliveryRow> Outbox::OfIncident(std::int64_t incident) {
  Stmt q(Connection::Of(store_), std::string(kColumns) + "WHERE incident = ? ORDER BY person, id");
  q.Bind(1, incident);
  return Rows(q);
}

std::vector<std::int64_t> Outbox::CountByState() {
  std::vector<std::int64_t> out(static_cast<std::size_t>(DeliveryState::kExpired) + 1, 0);
  Stmt q(Connection::Of(store_), "SELECT state, count(*) FROM deliveries GROUP BY state");
  while (q.Step()) {
    if (auto s = alerting::ParseDeliveryState(q.View(0))) out[static_cast<std::size_t>(*s)] = q.Int(1);
  }
  return out;
}

std::int64_t Outbox::Count(alerting::Channel channel, DeliveryState state) {
  Stmt q(Connection::Of(store_), "SELECT count(*) FROM deliveries WHERE channel = ? AND state = ?");
  q.Bind(1, std::string_view(alerting::ToString(channel))).Bind(2, std::string_view(alerting::ToString(state)));
  return q.Step() ? q.Int(0) : 0;
}

void Outbox::Remember(const DeliveryMessage& m) {
  Stmt ins(Connection::Of(store_),
           "INSERT INTO delivery_messages (notification, incident, village, level, action, text_th, text_en, deadline, "
           "reminder, exercise) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notification) DO NOTHING");
  ins.Bind(1, m.notification)
      .Bind(2, m.incident)
      .Bind(3, m.village)
      .Bind(4, std::string_view(alerting::ToString(m.level)))
      .Bind(5, std::string_view(alerting::ToString(m.action)))
      .Bind(6, m.text_th)
      .Bind(7, m.text_en)
      .Bind(9, static_cast<std::int64_t>(m.reminder))
      .Bind(10, static_cast<std::int64_t>(m.exercise));
  if (m.deadline) ins.Bind(8, Ms(*m.deadline));
  ins.Run();
}

std::optional<DeliveryMessage> Outbox::Message(std::string_view notification) {
  Stmt q(Connection::Of(store_),
         "SELECT notification, incident, village, level, action, text_th, text_en, deadline, reminder, exercise "
         "FROM delivery_messages WHERE notification = ?");
  q.Bind(1, notification);
  if (!q.Step()) return std::nullopt;
  DeliveryMessage m;
  m.notification = q.Text(0);
  m.incident = q.Int(1);
  m.village = q.Text(2);
  m.level = alerting::ParseLevel(q.View(3)).value_or(alerting::Level::kNormal);
  m.action = alerting::ParseActionNeeded(q.View(4)).value_or(alerting::ActionNeeded::kNone);
  m.text_th = q.Text(5);
  m.text_en = q.Text(6);
  m.deadline = OptTime(q, 7);
  m.reminder = q.Int(8) != 0;
  m.exercise = q.Int(9) != 0;
  return m;
}

std::optional<bool> Outbox::IsFor(std::string_view notification, std::string_view person) {
  Stmt q(Connection::Of(store_),
         "SELECT count(*), coalesce(sum(person = ?2), 0) FROM deliveries WHERE notification = ?1");
  q.Bind(1, notification).Bind(2, person);
  if (!q.Step() || q.Int(0) == 0) return std::nullopt;
  return q.Int(1) > 0;
}

int Outbox::MarkSeen(std::string_view notification, std::string_view person, TimePoint at) {
  std::vector<std::int64_t> ids;
  {
    Stmt q(Connection::Of(store_), "SELECT id FROM deliveries WHERE notification = ? AND person = ? ORDER BY id");
    q.Bind(1, notification).Bind(2, person);
    while (q.Step()) ids.push_back(q.Int(0));
  }
  int changed = 0;
  for (std::int64_t id : ids) {
    changed += Move(id, DeliveryState::kSeen, at) || NoteLate(id, DeliveryState::kSeen, at);
  }
  return changed;
}

std::vector<std::string> Outbox::NotificationsOf(std::string_view person, std::int64_t incident,
                                                 alerting::ActionNeeded action) {
  Stmt q(Connection::Of(store_),
         "SELECT d.notification FROM deliveries d JOIN delivery_messages m ON m.notification = d.notification "
         "WHERE d.person = ? AND d.incident = ? AND m.action = ? GROUP BY d.notification ORDER BY min(d.id)");
  q.Bind(1, person).Bind(2, incident).Bind(3, std::string_view(alerting::ToString(action)));
  std::vector<std::string> out;
  while (q.Step()) out.push_back(q.Text(0));
  return out;
}

int Outbox::ActedBy(std::int64_t incident, std::string_view person, TimePoint at) {
  sqlite3* db = Connection::Of(store_);
  // Every state but acted may move to acted (alerting::CanMove); the statement says the same in SQL.
  Stmt up(db,
          "UPDATE deliveries SET state = 'acted', acted_at = ? WHERE incident = ? AND person = ? AND state != 'acted'");
  up.Bind(1, Ms(at)).Bind(2, incident).Bind(3, person).Run();
  return sqlite3_changes(db);
}

std::string Outbox::CodeFor(std::string_view person, std::int64_t incident, alerting::ActionNeeded action,
                            alerting::Level level, TimePoint now, const std::function<std::string()>& fresh) {
  sqlite3* db = Connection::Of(store_);
  Stmt have(db, "SELECT code FROM reply_codes WHERE person = ? AND incident = ? AND action = ?");
  have.Bind(1, person).Bind(2, incident).Bind(3, std::string_view(alerting::ToString(action)));
  if (have.Step()) return have.Text(0);
  for (int attempt = 0; attempt < 20; ++attempt) {
    const std::string code = fresh();
    Stmt ins(db,
             "INSERT INTO reply_codes (person, code, incident, action, level, created_at) VALUES (?, ?, ?, ?, ?, ?) "
             "ON CONFLICT DO NOTHING");
    ins.Bind(1, person)
        .Bind(2, code)
        .Bind(3, incident)
        .Bind(4, std::string_view(alerting::ToString(action)))
        .Bind(5, std::string_view(alerting::ToString(level)))
        .Bind(6, Ms(now))
        .Run();
    if (sqlite3_changes(db) == 1) return code;
  }
  return {};
}

std::optional<ReplyCode> Outbox::Code(std::string_view person, std::string_view code) {
  Stmt q(Connection::Of(store_),
         "SELECT person, code, incident, action, level, created_at, used_at FROM reply_codes "
         "WHERE person = ? AND code = ?");
  q.Bind(1, person).Bind(2, code);
  if (!q.Step()) return std::nullopt;
  ReplyCode c;
  c.person = q.Text(0);
  c.code = q.Text(1);
  c.incident = q.Int(2);
  c.action = alerting::ParseActionNeeded(q.View(3)).value_or(alerting::ActionNeeded::kAck);
  c.level = alerting::ParseLevel(q.View(4)).value_or(alerting::Level::kNormal);
  c.created_at = FromMs(q.Int(5));
  c.used_at = OptTime(q, 6);
  return c;
}

bool Outbox::UseCode(std::string_view person, std::string_view code, TimePoint at) {
  sqlite3* db = Connection::Of(store_);
  Stmt up(db, "UPDATE reply_codes SET used_at = ? WHERE person = ? AND code = ? AND used_at IS NULL");
  up.Bind(1, Ms(at)).Bind(2, person).Bind(3, code).Run();
  return sqlite3_changes(db) == 1;
}

std::optional<alerting::Channel> Outbox::ReachedOn(std::string_view notification, std::string_view person,
                                                   std::int64_t except) {
  Stmt q(Connection::Of(store_),
         "SELECT channel FROM deliveries WHERE notification = ? AND person = ? AND id != ? AND "
         "(state IN ('delivered', 'seen', 'acted') OR delivered_at IS NOT NULL OR seen_at IS NOT NULL) LIMIT 1");
  q.Bind(1, notification).Bind(2, person).Bind(3, except);
  if (!q.Step()) return std::nullopt;
  return alerting::ParseChannel(q.View(0));
}

int Outbox::PullForward(std::string_view notification, std::string_view person, TimePoint now) {
  sqlite3* db = Connection::Of(store_);
  Stmt up(db,
          "UPDATE deliveries SET due = ?1 WHERE notification = ?2 AND person = ?3 AND state = 'queued' AND due > ?1");
  up.Bind(1, Ms(now)).Bind(2, notification).Bind(3, person).Run();
  return sqlite3_changes(db);
}

std::vector<UnreachedPerson> Outbox::Unreached(TimePoint asked_before, TimePoint since) {
  Stmt q(Connection::Of(store_),
         "SELECT d.incident, d.person, m.action, min(d.queued_at), "
         "sum(d.state NOT IN ('failed', 'expired')) = 0 FROM deliveries d "
         "JOIN delivery_messages m ON m.notification = d.notification "
         "WHERE d.queued_at >= ?2 AND m.action != 'none' "
         "AND NOT EXISTS (SELECT 1 FROM unreached u WHERE u.incident = d.incident AND u.person = d.person "
         "AND u.action = m.action) "
         "GROUP BY d.incident, d.person, m.action "
         "HAVING (min(d.queued_at) <= ?1 OR sum(d.state NOT IN ('failed', 'expired')) = 0) AND max(d.state IN "
         "('delivered', 'seen', 'acted') OR d.delivered_at IS NOT NULL "
         "OR d.seen_at IS NOT NULL) = 0");
  q.Bind(1, Ms(asked_before)).Bind(2, Ms(since));
  std::vector<UnreachedPerson> out;
  while (q.Step()) {
    UnreachedPerson u;
    u.incident = q.Int(0);
    u.person = q.Text(1);
    u.action = alerting::ParseActionNeeded(q.View(2)).value_or(alerting::ActionNeeded::kNone);
    u.first_queued = FromMs(q.Int(3));
    u.every_channel_failed = q.Int(4) != 0;
    out.push_back(std::move(u));
  }
  return out;
}

std::vector<std::string> Outbox::UnreachedOf(std::int64_t incident, alerting::ActionNeeded action) {
  Stmt q(Connection::Of(store_), "SELECT person FROM unreached WHERE incident = ? AND action = ? ORDER BY person");
  q.Bind(1, incident).Bind(2, std::string_view(alerting::ToString(action)));
  std::vector<std::string> out;
  while (q.Step()) out.push_back(q.Text(0));
  return out;
}

void Outbox::MarkUnreached(const UnreachedPerson& u, TimePoint at) {
  Stmt ins(Connection::Of(store_),
           "INSERT INTO unreached (incident, person, action, reported_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
  ins.Bind(1, u.incident)
      .Bind(2, u.person)
      .Bind(3, std::string_view(alerting::ToString(u.action)))
      .Bind(4, Ms(at))
      .Run();
}

}  // namespace kaoko::store
