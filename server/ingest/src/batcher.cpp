#include "batcher.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "kaoko/common/log.hpp"

namespace kaoko::server {

Batcher::Batcher(const CoreOptions& options, store::Store& store, Metrics& metrics, Parts parts)
    : options_(options), store_(store), metrics_(metrics), parts_(parts) {
  if (!options_.alert_trace.empty()) {
    alert_trace_.reset(std::fopen(options_.alert_trace.c_str(), "a"));
    if (!alert_trace_)
      log::Error("core", "cannot open the alert trace {}: {}", options_.alert_trace, std::strerror(errno));
  }
}

void Batcher::GiveBackMemory() {
  // A burst (a backlog in the queue, a storm of reconnecting stations) leaves freed memory that glibc keeps in its
  // arenas: after the bench's one reading from each of 150,000 stations, 35 MB of the 175 MB resident. Given back
  // when the core has emptied the queue (no backlog waits behind it), at most once a minute; it took 0–8 ms in the
  // bench at 150,000 stations (docs/benchmarks.md, "Memory").
  const auto now = Clock::now();
  if (now - last_trim_ < std::chrono::minutes(1)) return;
  last_trim_ = now;
  malloc_trim(0);
  const auto took = Clock::now() - now;
  if (took > std::chrono::milliseconds(20)) {
    log::Info("core", "gave freed memory back to the system in {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  }
}

void Batcher::Run(std::stop_token stop) {
  std::stop_callback wake(stop, [this] { parts_.queue.WakeAll(); });
  std::vector<Inbound> batch;
  while (true) {
    batch.clear();
    // Wakes for a message, for the next ack due, and at least every ack_interval (deadlines: below).
    auto wake_at = Clock::now() + options_.ack_interval;
    if (auto ack_due = parts_.acker.NextDue()) wake_at = std::min(wake_at, *ack_due);
    const bool drained = parts_.queue.Take(batch, options_.max_batch, wake_at, stop);
    std::vector<Core::PendingCommand> commands = parts_.queue.TakeCommands();
    auto due = parts_.keeper.engine().NextDeadline();
    bool advance = (due && *due <= NowOf(options_)) || !parts_.keeper.pending().Empty();
    if ((!batch.empty() || advance || !commands.empty()) && !ProcessBatch(batch, &commands)) {
      // The disk is full or the database is failing. Readings are not acknowledged, so their stations keep them and
      // send them again; people's reports, decisions and station status have no such resend, so keep them.
      const std::size_t kept = parts_.queue.Requeue(batch);
      metrics_.Count("kaoko_readings_deferred_total", "db_error", batch.size() - kept);
      std::this_thread::sleep_for(options_.retry_after_db_error);
    }
    parts_.acker.AckDue(Clock::now());
    parts_.merger.Merge();
    if (drained) GiveBackMemory();
    if (stop.stop_requested() && parts_.queue.Empty()) break;
  }
  parts_.acker.FlushAcks();
}

bool Batcher::ProcessBatch(std::vector<Inbound>& batch, std::vector<Core::PendingCommand>* commands) {
  std::size_t begin = 0;
  do {
    std::size_t end = begin;
    if (!ProcessSegment(batch, begin, &end, begin == 0 ? commands : nullptr)) {
      // What committed before the failing segment stays committed, and was announced: only the rest is the
      // caller's to keep or drop (Run), so that nothing of the committed part is handled twice.
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(begin));
      return false;
    }
    begin = end;
  } while (begin < batch.size());
  return true;
}

bool Batcher::ProcessSegment(std::vector<Inbound>& batch, std::size_t begin, std::size_t* end,
                             std::vector<Core::PendingCommand>* commands) {
  const TimePoint now = NowOf(options_);
  Batch b;
  std::vector<CommandResult> results;
  Steps steps{};
  steps[0] = Clock::now();
  try {
    *end = HandleAndCommit(batch, begin, commands, now, b, results, steps);
  } catch (const std::exception& e) {
    RollBack(b, e.what(), commands);
    return false;
  }
  Count(b, batch, begin, *end);
  Announce(b, now, steps);
  // Answer the commands only now: what they changed is on disk and announced.
  if (commands) {
    for (std::size_t i = 0; i < commands->size(); ++i) (*commands)[i].done->set_value(std::move(results[i]));
  }
  return true;
}

std::size_t Batcher::HandleAndCommit(std::vector<Inbound>& batch, std::size_t begin,
                                     std::vector<Core::PendingCommand>* commands, TimePoint now, Batch& b,
                                     std::vector<CommandResult>& results, Steps& steps) {
  if (parts_.keeper.stale()) parts_.keeper.Reload();
  store_.Begin();
  if (commands) {
    for (auto& c : *commands) results.push_back(c.run(now));
  }
  b.size = batch.size() - begin;  // until a segment is cut short (below)
  parts_.dispatch.BeginFeeding(b, now);
  std::size_t i = begin;
  while (i < batch.size()) {
    parts_.dispatch.Handle(batch[i++], now, b);
    // An alert leaves as soon as it is on disk: the rest of the batch is handled and committed after it, not
    // before (at 90 % load a batch holds thousands of readings; docs/benchmarks.md, "Where an alert's time goes").
    if (!parts_.keeper.pending().alerts.empty()) break;
  }
  b.size = i - begin;
  parts_.dispatch.EndFeeding();
  steps[1] = Clock::now();
  // Every deadline, reminder and offline check that fell due, including those that passed while kaoko was down.
  parts_.keeper.Apply(parts_.keeper.engine().Advance(now));
  steps[2] = Clock::now();
  parts_.keeper.Save();
  // What reaches people is queued in the same commit as what made it (a crash loses none, a replay adds none).
  parts_.deliveries.Queue(parts_.keeper.pending(), now);
  steps[3] = Clock::now();
  store_.Commit();
  steps[4] = Clock::now();
  return i;
}

void Batcher::RollBack(Batch& b, const char* what, std::vector<Core::PendingCommand>* commands) {
  parts_.dispatch.EndFeeding();
  store_.Rollback();
  if (options_.tap) options_.tap->RolledBack();
  // Nothing of this batch is on disk, so nothing of it may stay in memory: not a station key it created (the row is
  // gone), nor what the engine decided from its inputs. Those come again — readings from their stations, reports,
  // decisions and status from the queue (Run) — and must then be decided once, with one receipt each (else a report
  // during a full disk got a receipt per retry, and readings fed the engine twice).
  for (StationSlot* slot : b.new_keys) slot->key = 0;
  try {
    parts_.keeper.Reload();
  } catch (const std::exception& again) {
    if (log::ShouldLog("engine_reload")) log::Error("core", "cannot read the engine's state back: {}", again.what());
  }
  ++metrics_.db_errors;
  parts_.views.SetDbProblem(what);
  if (log::ShouldLog("db_error")) log::Error("core", "a batch of {} messages was not stored: {}", b.size, what);
  if (commands) {
    for (auto& c : *commands) c.done->set_value(CommandResult{fmt::format("not stored: {}", what), std::nullopt});
  }
}

void Batcher::Count(const Batch& b, const std::vector<Inbound>& batch, std::size_t begin, std::size_t end) {
  ++metrics_.batches;
  metrics_.readings_accepted += b.accepted;
  metrics_.readings_duplicate += b.duplicate;
  for (const auto& [family, code] : b.rejected) metrics_.Count(family, code);
  for (const auto& r : b.results) {
    auto colon = r.find(':');
    metrics_.Count(r.substr(0, colon), r.substr(colon + 1));
  }
  const auto done = Clock::now();
  for (std::size_t k = begin; k < end; ++k) {
    metrics_.store_latency.Observe(std::chrono::duration<double>(done - batch[k].arrived).count());
  }
}

void Batcher::Announce(const Batch& b, TimePoint now, Steps& steps) {
  parts_.views.Committed(b, now);
  parts_.acker.Committed(b.acks);
  // The stations whose state moved: their view is redrawn below (the others have not changed).
  const std::vector<std::uint32_t> touched = parts_.keeper.Committed();
  const alerting::Effects fx = parts_.keeper.TakePending();
  // Engine effects first (alerts, sirens, notifications, receipts), in order, before anything else is done for the
  // segment (the screens' events below wait, an alert does not).
  parts_.effects.PublishEffects(fx);
  steps[5] = Clock::now();
  std::vector<LiveEvent> live;
  const bool observed = parts_.effects.Observed();
  if (observed) live = parts_.effects.LiveEvents(b, fx, now);
  parts_.effects.PublishOutgoing(b.publish);
  if (fx.cap_changed) parts_.effects.PublishCap(parts_.keeper.engine(), now);
  if (!fx.alerts.empty()) {
    if (alert_trace_) TraceAlerts(b, steps);
    for (auto arrived : b.alert_causes) {  // steps[5]: the effects were handed to MQTT
      metrics_.alert_latency.Observe(std::chrono::duration<double>(steps[5] - arrived).count());
    }
  }
  if (options_.tap) options_.tap->Committed(now);
  parts_.views.Refresh(parts_.keeper.engine(), now, &touched);
  if (observed) parts_.effects.Announce(std::move(live));
}

// One line per reading that caused an alert: when it arrived and its alert was published (steady-clock nanoseconds,
// comparable with other processes' CLOCK_MONOTONIC on the same machine), then where the time went, in microseconds.
// steps[5] is when the effects were handed to MQTT: the alert's "published".
void Batcher::TraceAlerts(const Batch& b, const Steps& t) {
  auto us = [](auto from, auto to) { return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count(); };
  auto ns = [](auto at) { return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count(); };
  for (auto arrived : b.alert_causes) {
    fmt::print(alert_trace_.get(),
               "arrived_ns={} published_ns={} batch={} queued_us={} handle_us={} advance_us={} save_us={} commit_us={} "
               "publish_us={}\n",
               ns(arrived), ns(t[5]), b.size, us(arrived, t[0]), us(t[0], t[1]), us(t[1], t[2]), us(t[2], t[3]),
               us(t[3], t[4]), us(t[4], t[5]));
  }
  std::fflush(alert_trace_.get());
}

}  // namespace kaoko::server
