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
  Stmt q(Connection::Of(store_),
         std::string(kColumns) + "WHERE state = 'queued' AND due <= ? ORDER BY urgency, due, id LIMIT ?");
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

}  // namespace kaoko::store
