// The batcher: the core thread's loop. It drains the inbound queue in batches and commits each batch in segments,
// one transaction each: dispatch handles the messages, the engine keeper saves what the engine changed, and only
// after the commit do the parts announce it (effects, acks, views, live events), so that an ack means "on disk" and a
// rolled-back segment leaves no trace. Core thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stop_token>
#include <vector>

#include "acker.hpp"
#include "delivery_queue.hpp"
#include "dispatch.hpp"
#include "effects_publisher.hpp"
#include "inbound_queue.hpp"

namespace kaoko::server {

class Batcher {
 public:
  struct Parts {
    InboundQueue& queue;
    ReadModel& views;
    Acker& acker;
    EngineKeeper& keeper;
    ReadingsMerger& merger;
    EffectsPublisher& effects;
    Dispatcher& dispatch;
    DeliveryQueue& deliveries;
  };
  Batcher(const CoreOptions& options, store::Store& store, Metrics& metrics, Parts parts);

  // Processes batches until `stop` is requested and the queue is empty; then publishes every pending ack.
  void Run(std::stop_token stop);
  // One batch (Core::ProcessBatch).
  bool ProcessBatch(std::vector<Inbound>& batch, std::vector<Core::PendingCommand>* commands);

 private:
  using Clock = std::chrono::steady_clock;
  // When each step of a segment began and ended: handle, advance, save, commit, publish (the alert trace's).
  using Steps = std::array<Clock::time_point, 6>;

  // Handles batch[begin…] up to and including the first message that changes an alert, commits it and announces
  // it; *end is where it stopped. False when the database refused it (nothing of it is kept).
  bool ProcessSegment(std::vector<Inbound>& batch, std::size_t begin, std::size_t* end,
                      std::vector<Core::PendingCommand>* commands);
  // The segment's transaction: runs the commands, handles the messages, advances and saves the engine, commits.
  // Returns where it stopped. Throws what the database threw.
  std::size_t HandleAndCommit(std::vector<Inbound>& batch, std::size_t begin,
                              std::vector<Core::PendingCommand>* commands, TimePoint now, Batch& b,
                              std::vector<CommandResult>& results, Steps& steps);
  // After a refused segment: forget everything it did.
  void RollBack(Batch& b, const char* what, std::vector<Core::PendingCommand>* commands);
  // After a commit: the counters, then everything the segment decided, announced.
  void Count(const Batch& b, const std::vector<Inbound>& batch, std::size_t begin, std::size_t end);
  void Announce(const Batch& b, TimePoint now, Steps& steps);
  void TraceAlerts(const Batch& b, const Steps& steps);
  // malloc_trim when the queue is empty, at most once a minute (Run).
  void GiveBackMemory();

  const CoreOptions& options_;
  store::Store& store_;
  Metrics& metrics_;
  Parts parts_;
  Clock::time_point last_trim_ = Clock::now();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> alert_trace_{nullptr, &std::fclose};
};

}  // namespace kaoko::server
