// The core: the one thread that owns the database writer (and, with the alerting engine, the escalation state).
// Paho's callback thread only hands messages over (Enqueue); the core drains them in batches, validates, writes one
// transaction per batch, and only after the commit publishes what depends on it — end-to-end acks to stations and
// receipts to people — so that an ack always means "on disk".
//
//   Core core(network, *store, publisher, metrics);
//   std::jthread t([&](std::stop_token st) { core.Run(st); });
//   mqtt_callback: core.Enqueue({topic, payload, received});
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "kaoko/alerting/engine.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/server/metrics.hpp"
#include "kaoko/server/store.hpp"
#include "kaoko/server/wire.hpp"

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
  std::optional<store::StoredReading> latest;
  std::optional<bool> online;
  std::optional<TimePoint> last_seen;  // when a reading last arrived (kaoko's clock)
  std::string health = "ok";           // ok | stale | offline | suspect (the engine's view)
  alerting::Level level = alerting::Level::kNormal;
  std::string problems;                // e.g. "offline, low battery"
  std::optional<TimePoint> silenced_until;
};

// What a command run on the core thread answers: a refusal, and for a decision its receipt.
struct CommandResult {
  std::optional<std::string> error;
  std::optional<alerting::Receipt> receipt;
};

// A change the open screens should show at once (the WebSocket hub forwards these): `type` is reading, alert,
// siren, notification or incident; `json` is its payload.
struct LiveEvent {
  std::string type;
  std::string json;
};

struct CoreOptions {
  std::size_t max_batch = 5000;
  std::chrono::milliseconds ack_interval{1000};  // at most about once a second per station (the contract)
  std::chrono::milliseconds retry_after_db_error{1000};
  std::function<TimePoint()> clock;  // defaults to the system clock
  alerting::EngineOptions engine;
};

class Core {
 public:
  Core(const alerting::Network& network, store::Store& writer, Publisher& publisher, Metrics& metrics,
       CoreOptions options = {});

  // Hands a received message to the core. Thread-safe; never blocks on the database.
  void Enqueue(Inbound message);

  // The core thread's body: processes batches until `stop` is requested and the queue is empty.
  void Run(std::stop_token stop);

  // One batch, synchronously (the thread body uses it; tests call it directly). Returns false when the database
  // refused the batch (nothing in it is acknowledged; readings will be resent by their stations).
  struct PendingCommand {
    std::function<CommandResult(TimePoint)> run;
    std::shared_ptr<std::promise<CommandResult>> done;
  };
  bool ProcessBatch(std::vector<Inbound>& batch, std::vector<PendingCommand>* commands = nullptr);
  // Publishes the pending end-to-end acks. Called by Run every ack_interval.
  void FlushAcks();

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
  // Set before Run starts.
  void SetObserver(std::function<void(const std::vector<LiveEvent>&)> observer);

  // Snapshots for the HTTP API; thread-safe.
  std::vector<StationView> Stations() const;
  std::vector<alerting::AlertState> Villages() const;
  std::string Cap() const;
  TimePoint Now() const;
  std::optional<std::string> DbProblem() const;  // empty when the last commit worked
  std::size_t QueueDepth() const;

 private:
  struct StationSlot {
    const alerting::Station* station;
    StationView view;
    std::vector<std::uint64_t> pending_acks;  // seqs committed since the last ack (core thread only)
  };
  struct Outgoing {
    std::string topic;
    std::string payload;
    bool retained;
  };

  struct Batch;
  void Handle(Inbound& in, TimePoint now, Batch& b);
  void HandleReading(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleStatus(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleReport(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleDecision(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void Refuse(Batch& b, const char* family, const Error& e, const Inbound& in);
  void Receipt(Batch& b, const wire::Topic& t, std::string_view ref, bool ok, std::optional<std::int64_t> incident,
               std::string_view error);
  void Apply(alerting::Effects fx);
  void SaveEngine();
  alerting::Effects DecideOnCore(const std::string& user, const std::string& village, const wire::DecisionMsg& d,
                                 const std::string& via, TimePoint now);
  void RefreshViews(TimePoint now);
  void LoadEngine();

  const alerting::Network& network_;
  store::Store& store_;
  Publisher& publisher_;
  Metrics& metrics_;
  CoreOptions options_;

  std::unordered_map<std::string, StationSlot> stations_;  // keys never change after construction

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Inbound> queue_;

  alerting::Engine engine_;  // core thread only
  // Engine effects not yet committed (kept across a failed batch so that no timeline entry or alert is lost).
  alerting::Effects pending_;
  bool engine_touched_ = false;  // the engine's counters, alerts or sirens may have changed since the last save
  std::vector<PendingCommand> commands_;  // guarded by queue_mu_
  std::function<void(const std::vector<LiveEvent>&)> observer_;

  mutable std::mutex view_mu_;  // guards the snapshots below
  std::optional<std::string> db_problem_;
  std::vector<alerting::AlertState> villages_view_;
  std::string cap_view_;
};

}  // namespace kaoko::server
