// The core: the one thread that owns the database writer (and, with the alerting engine, the escalation state).
// Paho's callback thread only hands messages over (Enqueue); the core drains them in batches, validates, writes one
// transaction per batch, and only after the commit publishes what depends on it — end-to-end acks to stations and
// receipts to people — so that an ack always means "on disk".
//
//   Core core(network, *store, publisher, metrics);
//   std::jthread t([&](std::stop_token st) { core.Run(st); });
//   mqtt_callback: core.Enqueue({topic, payload, received});
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "kaoko/alerting/engine.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/common/clock.hpp"
#include "kaoko/common/metrics.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::server {

using wire::TimePoint;

// Where the core's outgoing messages go (MQTT in the service). Publish must be thread-safe and must not block for
// long: it queues.
class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual void Publish(const std::string& topic, const std::string& payload, bool retained) = 0;
};

struct Inbound {
  std::string topic;
  std::string payload;
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
};

// What the HTTP API shows of a station (a snapshot; copied out under the core's lock).
struct StationView {
  const alerting::Station* station = nullptr;
  std::optional<wire::Reading> latest;
  std::optional<bool> online;
  std::optional<TimePoint> last_seen;  // when a reading last arrived (kaoko's clock)
  std::string health = "ok";           // ok | stale | offline | suspect (the engine's view)
  alerting::Level level = alerting::Level::kNormal;
  std::string problems;     // e.g. "offline, low battery", "clock ahead 2 h"
  std::string problems_th;  // the same in Thai, for the pages
  std::optional<TimePoint> silenced_until;
};

// What a command run on the core thread answers: a refusal, and for a decision its receipt.
struct CommandResult {
  std::optional<std::string> error;
  std::optional<alerting::Receipt> receipt;
};

// A change the open screens should show at once (the WebSocket hub forwards these): `type` is reading, alert,
// siren, notification or incident; `json` is its payload. Who may see it is said beside it, so that the hub forwards
// the text without reading it: `village` (a TAO officer sees every village's), `user` (a notification: only that
// person), `incident` (an incident event: the hub sends the incident as stored, and its village).
struct LiveEvent {
  std::string type;
  std::string json;
  std::string village;
  std::string user;
  std::int64_t incident = 0;
};

class Core;

// What a tier (tier.hpp, docs/tiers.md) sees of the core: every inbound message before the core handles it, every
// stored reading and timeline event, and the end of each batch. Called on the core thread, inside the batch's
// transaction (so what the tap writes commits or rolls back with the batch); must not block.
class CoreTap {
 public:
  virtual ~CoreTap() = default;
  // Return true when the tap took the message (a tier topic); the core then does nothing with it. The tap may hand
  // contract messages to the core's normal handling with Core::Feed meanwhile.
  virtual bool Intercept(const Inbound& in, TimePoint now) = 0;
  virtual void ReadingStored(std::string_view station, const wire::Reading& reading, TimePoint now) = 0;
  // `incident` is the engine's incident the event belongs to (nullptr when unknown).
  virtual void TimelineStored(const alerting::TimelineEvent& event, const alerting::Incident* incident) = 0;
  // The batch committed and what it decided was published.
  virtual void Committed(TimePoint now) = 0;
  // The batch was rolled back: forget what it did.
  virtual void RolledBack() = 0;
};

struct CoreOptions {
  std::size_t max_batch = 5000;
  std::chrono::milliseconds ack_interval{1000};  // at most about once a second per station (the contract)
  std::chrono::milliseconds retry_after_db_error{1000};
  Clock clock;  // kaoko's time of day: the wall clock unless a rehearsal or a test says otherwise
  alerting::EngineOptions engine;
  CoreTap* tap = nullptr;  // a tier's (tier.hpp); none in a plain single-machine service
  // A file to append one line to per reading that caused an alert: where its time went (src/batcher.cpp). For
  // measurement only (./kaoko bench sets KAOKO_ALERT_TRACE); empty: none.
  std::string alert_trace;
  // How many readings readings_recent gathers before the core merges them into the archive (Store::MergeRecent,
  // docs/architecture.md "Readings in two tables"): more per station means fewer pages written per reading, and a
  // longer pause and more memory (16 bytes a reading). 0: eight per configured station, within [50,000, 1,200,000].
  std::int64_t merge_rows = 0;
  // The channels a gateway is configured for (docs/delivery.md): each notification is queued in the delivery outbox
  // for its person's consented contacts on these, in the commit that made it. Empty: nothing is queued.
  std::vector<alerting::Channel> delivery_channels;
};

class Core {
 public:
  Core(const alerting::Network& network, store::Store& writer, Publisher& publisher, Metrics& metrics,
       CoreOptions options = {});
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Hands a received message to the core. Thread-safe; never blocks on the database.
  void Enqueue(Inbound message);

  // The core thread's body: processes batches until `stop` is requested and the queue is empty.
  void Run(std::stop_token stop);

  // One batch, synchronously (the thread body uses it; tests call it directly). Returns false when the database
  // refused the batch (nothing in it is acknowledged; readings will be resent by their stations).
  // A batch is committed in segments: a message whose handling changed a village's alert ends its segment, which is
  // committed and announced before the rest of the batch is handled. When a later segment fails, `batch` is left
  // holding only what was not committed (the committed part was acknowledged and must not be handled again).
  struct PendingCommand {
    std::function<CommandResult(TimePoint)> run;
    std::shared_ptr<std::promise<CommandResult>> done;
  };
  bool ProcessBatch(std::vector<Inbound>& batch, std::vector<PendingCommand>* commands = nullptr);
  // Publishes the end-to-end acks that are due at `now` (steady clock): a station's committed seqs are acked at once
  // when its last ack is at least ack_interval old, else when it becomes so. So acks leave as readings commit, spread
  // out, never as one burst a second for every station (which held alerts behind it: docs/benchmarks.md), and each
  // station still gets at most one a second. Called by Run after every batch and when the next one falls due.
  void AckDue(std::chrono::steady_clock::time_point now);
  // Publishes every pending ack now, due or not (at shutdown; tests).
  void FlushAcks();
  // Merges a slice of readings_recent into the archive when it holds merge_rows or more (`force`: all of it, at
  // once, even within ten seconds of a failure; tests and tools). Never throws: a failure is logged and counted, and
  // the readings stay where they are, readable. Between batches only; a start or a rollback merges as in operation.
  void MergeRecent(bool force = false);

  // Runs an engine command (silence, drill) on the core thread and waits for it; the effects are stored and
  // published like any other. Returns the engine's refusal, if any. Thread-safe.
  std::optional<std::string> Command(std::function<alerting::Effects(alerting::Engine&, TimePoint)> command);
  // A decision from the HTTP API (the person already authenticated as `user`): decided on the core thread with the
  // same rules as over MQTT, stored, and answered with its receipt once committed. Thread-safe; blocks the caller.
  CommandResult Decide(const std::string& user, const wire::DecisionMsg& decision, const std::string& via = "http");
  // Runs `run` on the core thread inside the next batch's transaction and returns its result after the commit.
  // Thread-safe; blocks the caller. Do not call from the core thread.
  CommandResult Run(std::function<CommandResult(TimePoint)> run);
  // Called on the core thread after each commit with what changed; must only hand the events on (never block).
  // `listening` (thread-safe, cheap) says whether anyone would see them: when it says no, the events are not even
  // built (no screen open: a reading costs nothing for the screens). Set before Run starts.
  void SetObserver(std::function<void(std::vector<LiveEvent>)> observer, std::function<bool()> listening = {});

  // For a CoreTap inside Intercept only (core thread): handles `in` as if it had arrived, within the current batch.
  void Feed(Inbound& in);
  // The engine, for a CoreTap (core thread only).
  const alerting::Engine& engine() const;

  // Snapshots for the HTTP API; thread-safe. With a village: only its stations (its alert state).
  std::vector<StationView> Stations(std::string_view village = {}) const;
  std::vector<alerting::AlertState> Villages(std::string_view village = {}) const;
  std::string Cap() const;
  TimePoint Now() const;
  std::optional<std::string> DbProblem() const;  // empty when the last commit worked
  std::size_t QueueDepth() const;

 private:
  // The parts (server/ingest/src/): the inbound queue, dispatch by topic, the engine keeper (the engine and its
  // persistence), the acker, the effects publisher, the read model and the batcher that drives them.
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kaoko::server
