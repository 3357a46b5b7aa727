// The queue between the threads that receive (Paho's callback, the HTTP API's commands) and the core thread that
// drains it in batches. The only lock on a message's way in; held only to move messages in or out.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stop_token>
#include <vector>

#include "kaoko/ingest/core.hpp"

namespace kaoko::server {

class InboundQueue {
 public:
  explicit InboundQueue(Metrics& metrics) : metrics_(metrics) {}

  // Thread-safe; never blocks on the database.
  void Push(Inbound message);
  void PushCommand(Core::PendingCommand command);
  std::size_t Depth() const;
  bool Empty() const;
  void WakeAll() { cv_.notify_all(); }

  // Core thread: waits until a message is queued, `wake` passes or `stop` is requested, then moves up to `max`
  // messages into `batch`. Returns true when that took everything there was.
  bool Take(std::vector<Inbound>& batch, std::size_t max, std::chrono::steady_clock::time_point wake,
            const std::stop_token& stop);
  std::vector<Core::PendingCommand> TakeCommands();
  // Core thread, after the database refused `batch`: puts its messages back at the front, except readings (their
  // stations resend what was not acknowledged) and beyond 100,000 queued. Returns how many were put back.
  std::size_t Requeue(std::vector<Inbound>& batch);

 private:
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Inbound> queue_;
  std::vector<Core::PendingCommand> commands_;
};

}  // namespace kaoko::server
