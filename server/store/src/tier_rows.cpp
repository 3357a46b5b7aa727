// The tier journal rows (tier_rows.hpp): each statement of the tiers room, on its owner's connection and so in its
// owner's transaction.
#include "kaoko/store/tier_rows.hpp"

#include "stmt.hpp"

namespace kaoko::store {
namespace {

std::int64_t Signed(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// Resets a cached query when the caller is done with its row, even when reading it throws: a statement left
// stepped would keep its read snapshot (and the WAL) from moving on.
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt& s) : s_(s) {}
  ~ResetOnExit() { s_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Stmt& s_;
};

// The columns of tier_events that an insert names; both inserts bind them alike (BindEvent).
constexpr std::string_view kEventColumns =
    " INTO tier_events (origin, origin_epoch, origin_id, node, node_seq, tambon, village, incident, incident_kind, "
    "station, ts, kind, actor, via, text_th, text_en, acting, received) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

void BindEvent(Stmt& s, const TierEventRow& e) {
  s.Bind(1, e.origin).Bind(2, e.origin_epoch);
  if (e.origin_id)
    s.Bind(3, *e.origin_id);
  else
    s.BindNull(3);
  s.Bind(4, e.node).Bind(5, Signed(e.node_seq)).Bind(6, e.tambon).Bind(7, e.village);
  if (e.incident)
    s.Bind(8, *e.incident);
  else
    s.BindNull(8);
  s.Bind(9, e.incident_kind).Bind(10, e.station).Bind(11, Ms(e.ts)).Bind(12, e.kind).Bind(13, e.actor);
  s.Bind(14, e.via).Bind(15, e.text_th).Bind(16, e.text_en).Bind(17, std::int64_t{e.acting ? 1 : 0});
  s.Bind(18, Ms(e.received));
}

}  // namespace

TierRows::TierRows(Store& store) : store_(store), cached_(kSlots) {}
TierRows::~TierRows() = default;

Stmt& TierRows::Cached(Slot slot, std::string_view sql) {
  Stmt& s = cached_[static_cast<std::size_t>(slot)];
  if (!s.IsPrepared()) s = Stmt(Connection::Of(store_), sql);
  return s;
}

// ---------------------------------------------------------------------------------------------------- sending side

std::optional<TierUplink> TierRows::Uplink() {
  Stmt s(Connection::Of(store_), "SELECT acked, epoch FROM tier_uplink WHERE id = 1");
  if (!s.Step()) return std::nullopt;
  return TierUplink{static_cast<std::uint64_t>(s.Int(0)), s.Text(1)};
}

void TierRows::CreateUplink(std::string_view epoch) {
  Stmt s(Connection::Of(store_), "INSERT INTO tier_uplink (id, acked, epoch) VALUES (1, 0, ?)");
  s.Bind(1, epoch).Run();
}

std::uint64_t TierRows::OutboxHigh() {
  Stmt s(Connection::Of(store_), "SELECT seq FROM sqlite_sequence WHERE name = 'tier_outbox'");
  return s.Step() ? static_cast<std::uint64_t>(s.Int(0)) : 0;
}

std::uint64_t TierRows::AppendOutbox(std::string_view kind, std::string_view body) {
  Cached(kAppend, "INSERT INTO tier_outbox (kind, body) VALUES (?, ?)").Bind(1, kind).Bind(2, body).Run();
  return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(Connection::Of(store_)));
}

void TierRows::ForEachOutboxEntry(std::uint64_t first, std::uint64_t last,
                                  const std::function<bool(std::uint64_t, std::string_view, std::string_view)>& fn) {
  Stmt s(Connection::Of(store_), "SELECT seq, kind, body FROM tier_outbox WHERE seq BETWEEN ? AND ? ORDER BY seq");
  s.Bind(1, Signed(first)).Bind(2, Signed(last));
  while (s.Step()) {
    if (!fn(static_cast<std::uint64_t>(s.Int(0)), s.View(1), s.View(2))) return;
  }
}

void TierRows::Acknowledge(std::uint64_t acked) {
  Stmt del(Connection::Of(store_), "DELETE FROM tier_outbox WHERE seq <= ?");
  del.Bind(1, Signed(acked)).Run();
  Stmt up(Connection::Of(store_), "UPDATE tier_uplink SET acked = ? WHERE id = 1");
  up.Bind(1, Signed(acked)).Run();
}

// ---------------------------------------------------------------------------------------------------- receiving side

std::optional<TierInbox> TierRows::Inbox(std::string_view node) {
  Stmt& s = Cached(kInbox, "SELECT epoch, last_seq FROM tier_inbox WHERE node = ?");
  ResetOnExit reset(s);
  s.Bind(1, node);
  if (!s.Step()) return std::nullopt;
  return TierInbox{s.Text(0), static_cast<std::uint64_t>(s.Int(1))};
}

void TierRows::SaveInbox(std::string_view node, std::string_view tambon, std::string_view epoch, std::uint64_t last,
                         TimePoint updated) {
  Stmt& s = Cached(kSaveInbox,
                   "INSERT INTO tier_inbox (node, tambon, epoch, last_seq, updated) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (node) DO UPDATE SET tambon = excluded.tambon, epoch = excluded.epoch, "
                   "last_seq = excluded.last_seq, updated = excluded.updated");
  s.Bind(1, node).Bind(2, tambon).Bind(3, epoch).Bind(4, Signed(last)).Bind(5, Ms(updated)).Run();
}

std::optional<std::int64_t> TierRows::InsertEvent(const TierEventRow& row) {
  Stmt& s = Cached(kInsertEvent, std::string("INSERT OR IGNORE") + std::string(kEventColumns));
  BindEvent(s, row);
  s.Run();
  if (sqlite3_changes(Connection::Of(store_)) == 0) return std::nullopt;
  return sqlite3_last_insert_rowid(Connection::Of(store_));
}

void TierRows::InsertOwnEvent(const TierEventRow& row) {
  Stmt s(Connection::Of(store_), std::string("INSERT") + std::string(kEventColumns));
  BindEvent(s, row);
  s.Run();
}

void TierRows::MarkEventLocal(std::int64_t row, std::int64_t local) {
  Stmt s(Connection::Of(store_), "UPDATE tier_events SET local_incident = ? WHERE id = ?");
  s.Bind(1, local).Bind(2, row).Run();
}

// ---------------------------------------------------------------------------------------------------- watching

void TierRows::ForEachNode(const std::function<void(const TierNodeRow&)>& fn) {
  Stmt s(Connection::Of(store_), "SELECT node, tambon, tier, COALESCE(village, ''), interval_s FROM tier_nodes");
  while (s.Step()) fn(TierNodeRow{s.Text(0), s.Text(1), s.Text(2), s.Text(3), static_cast<int>(s.Int(4))});
}

void TierRows::UpsertNode(const TierNodeRow& n, TimePoint last_heard, std::string_view info) {
  Stmt& s = Cached(kUpsertNode,
                   "INSERT INTO tier_nodes (node, tambon, tier, village, last_heard, interval_s, info) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET tambon = excluded.tambon, "
                   "tier = excluded.tier, village = excluded.village, last_heard = excluded.last_heard, "
                   "interval_s = excluded.interval_s, info = excluded.info");
  s.Bind(1, n.node).Bind(2, n.tambon).Bind(3, n.tier).Bind(4, n.village).Bind(5, Ms(last_heard));
  s.Bind(6, std::int64_t{n.interval_s}).Bind(7, info).Run();
}

std::vector<TierIncidentRow> TierRows::RecentIncidents(int limit) {
  Stmt s(Connection::Of(store_),
         "SELECT id, node, opened, closed, detail FROM tier_incidents ORDER BY id DESC LIMIT ?");
  s.Bind(1, std::int64_t{limit});
  std::vector<TierIncidentRow> out;
  while (s.Step()) {
    std::optional<TimePoint> closed;
    if (!s.IsNull(3)) closed = FromMs(s.Int(3));
    out.push_back(TierIncidentRow{s.Int(0), s.Text(1), FromMs(s.Int(2)), closed, s.Text(4)});
  }
  return out;
}

std::int64_t TierRows::OpenIncident(std::string_view node, std::string_view tambon, std::string_view village,
                                    TimePoint opened, std::string_view detail) {
  Stmt s(Connection::Of(store_),
         "INSERT INTO tier_incidents (node, tambon, village, opened, detail) VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, node).Bind(2, tambon).Bind(3, village).Bind(4, Ms(opened)).Bind(5, detail).Run();
  return sqlite3_last_insert_rowid(Connection::Of(store_));
}

bool TierRows::CloseIncident(std::int64_t id, TimePoint closed) {
  Stmt s(Connection::Of(store_), "UPDATE tier_incidents SET closed = ? WHERE id = ? AND closed IS NULL");
  s.Bind(1, Ms(closed)).Bind(2, id).Run();
  return sqlite3_changes(Connection::Of(store_)) != 0;
}

// ---------------------------------------------------------------------------------------------------- edge

void TierRows::AddForwarded(std::string_view user, std::string_view id, std::string_view kind, TimePoint received) {
  Stmt s(Connection::Of(store_), "INSERT OR IGNORE INTO tier_forwarded (user, id, kind, received) VALUES (?, ?, ?, ?)");
  s.Bind(1, user).Bind(2, id).Bind(3, kind).Bind(4, Ms(received)).Run();
}

bool TierRows::WasForwarded(std::string_view user, std::string_view id) {
  Stmt s(Connection::Of(store_), "SELECT 1 FROM tier_forwarded WHERE user = ? AND id = ?");
  s.Bind(1, user).Bind(2, id);
  return s.Step();
}

// ---------------------------------------------------------------------------------------------------- province

void TierRows::InsertReading(std::string_view tambon, std::string_view station, std::string_view node,
                             const wire::Reading& r) {
  Stmt& s = Cached(kInsertReading,
                   "INSERT OR IGNORE INTO tier_readings (tambon, station, seq, ts, level_cm, rain_mm, battery_v, node) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, tambon).Bind(2, station).Bind(3, Signed(r.seq)).Bind(4, Ms(r.ts)).Bind(5, r.level_cm);
  s.Bind(6, r.rain_mm).Bind(7, r.battery_v).Bind(8, node).Run();
}

void TierRows::SaveState(std::string_view key, std::string_view value, TimePoint updated) {
  Stmt s(Connection::Of(store_),
         "INSERT INTO tier_state (key, value, updated) VALUES (?, ?, ?) "
         "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated");
  s.Bind(1, key).Bind(2, value).Bind(3, Ms(updated)).Run();
}

void TierRows::ForEachState(const std::function<void(std::string_view, std::string_view)>& fn) {
  Stmt s(Connection::Of(store_), "SELECT key, value FROM tier_state");
  while (s.Step()) fn(s.View(0), s.View(1));
}

}  // namespace kaoko::store
