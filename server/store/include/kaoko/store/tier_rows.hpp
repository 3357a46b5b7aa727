// The tier journal rows (docs/tiers.md, migration 5): the SQL of the tiers room, by name.
//   sending side   tier_outbox (the journal, numbered by AUTOINCREMENT) and tier_uplink (its epoch and acked seq)
//   receiving side tier_inbox (per node below: its epoch and the highest seq committed without a gap),
//                  tier_events (incident events from below, once per origin)
//   watching       tier_nodes (the nodes below and their last heartbeat), tier_incidents (technician incidents)
//   edge           tier_forwarded (reports and decisions it forwarded for the TAO to answer)
//   province       tier_readings (every tambon's readings, once), tier_state (alert states and CAP documents)
//
// A TierRows works on one Store's connection: every write lands in whatever transaction that Store has open (the
// core's batch, for the writer), so the journal is written with what it records. It keeps the statements of the
// hot paths (appending to the outbox, a journal message received, a heartbeat) prepared. Not thread-safe: use it
// from the Store's thread only, and destroy it before the Store.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/contract/wire.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::store {

// The journal's position at the sending side.
struct TierUplink {
  std::uint64_t acked = 0;
  std::string epoch;
};

// A node below, as the receiving side knows its journal.
struct TierInbox {
  std::string epoch;
  std::uint64_t last = 0;  // the highest seq committed without a gap
};

struct TierNodeRow {
  std::string node;
  std::string tambon;
  std::string tier;
  std::string village;  // empty for a TAO
  int interval_s = 60;
};

struct TierIncidentRow {
  std::int64_t id = 0;
  std::string node;
  TimePoint opened{};
  std::optional<TimePoint> closed;
  std::string detail;
};

// One incident event in tier_events: where it was first recorded (origin, its epoch and id there) and the node it
// came through (node_seq 0: this tier's own).
struct TierEventRow {
  std::string origin;
  std::string origin_epoch;
  std::optional<std::int64_t> origin_id;
  std::string node;
  std::uint64_t node_seq = 0;
  std::string tambon;
  std::string village;
  std::optional<std::int64_t> incident;
  std::string incident_kind;
  std::string station;
  TimePoint ts{};
  std::string kind;
  std::string actor;
  std::string via;
  std::string text_th;
  std::string text_en;
  bool acting = true;
  TimePoint received{};
};

class TierRows {
 public:
  explicit TierRows(Store& store);
  ~TierRows();
  TierRows(const TierRows&) = delete;
  TierRows& operator=(const TierRows&) = delete;

  // ---- sending side
  // The journal's epoch and acked seq; nullopt for a database that has never journaled.
  std::optional<TierUplink> Uplink();
  // Starts the journal of a new database under `epoch`, nothing acked.
  void CreateUplink(std::string_view epoch);
  // The highest seq ever appended (AUTOINCREMENT keeps it even when the outbox is pruned empty); 0 for none.
  std::uint64_t OutboxHigh();
  // Appends an entry; returns its seq (visible to other connections once the caller's transaction commits).
  std::uint64_t AppendOutbox(std::string_view kind, std::string_view body);
  // The entries with seq in [first, last], in seq order, until `fn` returns false. Throws on a database error.
  void ForEachOutboxEntry(
      std::uint64_t first, std::uint64_t last,
      const std::function<bool(std::uint64_t seq, std::string_view kind, std::string_view body)>& fn);
  // The tier above committed everything up to `acked`: prunes it and remembers the position for a restart.
  void Acknowledge(std::uint64_t acked);

  // ---- receiving side
  std::optional<TierInbox> Inbox(std::string_view node);
  void SaveInbox(std::string_view node, std::string_view tambon, std::string_view epoch, std::uint64_t last,
                 TimePoint updated);
  // Stores an event from below once per (origin, origin_epoch, origin_id): its row id, or nullopt for a repeat.
  std::optional<std::int64_t> InsertEvent(const TierEventRow& row);
  // Stores an event of this tier's own (a technician incident's); a repeat of its origin is an error.
  void InsertOwnEvent(const TierEventRow& row);
  // The event (by row id) was also written into the log of this tier's incident `local`.
  void MarkEventLocal(std::int64_t row, std::int64_t local);

  // ---- the nodes below and their technician incidents
  void ForEachNode(const std::function<void(const TierNodeRow&)>& fn);
  void UpsertNode(const TierNodeRow& node, TimePoint last_heard, std::string_view info);
  // The newest `limit` incidents, newest first.
  std::vector<TierIncidentRow> RecentIncidents(int limit);
  // Returns the new incident's id.
  std::int64_t OpenIncident(std::string_view node, std::string_view tambon, std::string_view village, TimePoint opened,
                            std::string_view detail);
  // Closes an open incident; false when it was closed already.
  bool CloseIncident(std::int64_t id, TimePoint closed);

  // ---- edge
  void AddForwarded(std::string_view user, std::string_view id, std::string_view kind, TimePoint received);
  bool WasForwarded(std::string_view user, std::string_view id);

  // ---- province
  // Stores a tambon's reading once per (tambon, station, seq).
  void InsertReading(std::string_view tambon, std::string_view station, std::string_view node, const wire::Reading& r);
  void SaveState(std::string_view key, std::string_view value, TimePoint updated);
  void ForEachState(const std::function<void(std::string_view key, std::string_view value)>& fn);

 private:
  enum Slot { kAppend, kInbox, kSaveInbox, kInsertEvent, kUpsertNode, kInsertReading, kSlots };
  Stmt& Cached(Slot slot, std::string_view sql);

  Store& store_;
  std::vector<Stmt> cached_;
};

}  // namespace kaoko::store
