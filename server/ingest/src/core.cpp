#include "kaoko/ingest/core.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <set>
#include <thread>

#include "kaoko/ingest/engine_codec.hpp"
#include "kaoko/common/log.hpp"
#include "kaoko/contract/render.hpp"

namespace kaoko::server {

// Everything one batch decides, applied only once its transaction has committed: a rolled-back batch must leave no
// trace (no ack, no receipt, no counter, no change on the dashboard).
struct Core::Batch {
  std::vector<Outgoing> publish;
  std::vector<std::pair<StationSlot*, std::uint64_t>> acks;
  std::vector<std::pair<StationSlot*, store::StoredReading>> latest;
  std::vector<std::pair<StationSlot*, bool>> status;
  std::vector<std::pair<std::string, std::string>> rejected;  // (family, reason code)
  std::vector<std::string> results;                           // "reports:ok" etc.
  std::uint64_t accepted = 0;
  std::uint64_t duplicate = 0;
  // Arrival of the readings whose evaluation produced an alert change: for the alert latency histogram.
  std::vector<std::chrono::steady_clock::time_point> alert_causes;
  // Stations whose key (their row in `stations`) was created in this batch: gone again if it is rolled back.
  std::vector<StationSlot*> new_keys;
  std::size_t size = 0;  // messages in the batch
};

namespace {
// The retained CAP document's bound on MQTT: under the brokers' max_packet_size (256 KiB, broker-config/), with room
// for the topic and the packet's header.
constexpr std::size_t kMaxCapPublishBytes = 200 * 1024;
constexpr const char* kReadingsRejected = "kaoko_readings_rejected_total";
constexpr const char* kMessagesRejected = "kaoko_messages_rejected_total";

std::optional<TimePoint> OptTime(std::int64_t ms) {
  if (ms == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
  return TimePoint(std::chrono::milliseconds(ms));
}

std::string Snippet(std::string_view payload) {
  std::string s(payload.substr(0, 120));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return payload.size() > 120 ? s + "…" : s;
}
}  // namespace

Core::Core(const alerting::Network& network, store::Store& writer, Publisher& publisher, Metrics& metrics,
           CoreOptions options)
    : network_(network),
      store_(writer),
      publisher_(publisher),
      metrics_(metrics),
      options_(std::move(options)),
      engine_(network_, options_.engine) {
  if (!options_.alert_trace.empty()) {
    alert_trace_.reset(std::fopen(options_.alert_trace.c_str(), "a"));
    if (!alert_trace_) log::Error("core", "cannot open the alert trace {}: {}", options_.alert_trace, std::strerror(errno));
  }
  if (!options_.merge_rows) {
    options_.merge_rows = std::clamp<std::int64_t>(8 * static_cast<std::int64_t>(network_.stations.size()), 50'000,
                                                   1'200'000);
  }
  slots_.resize(network_.stations.size());
  // Each station's key, kept in its slot (the store does not cache them); a station no longer in the network keeps
  // its readings under its key, unused.
  store_.ForEachStationKey([&](std::string_view name, std::int64_t key) {
    if (const int idx = network_.StationIndex(name); idx >= 0) slots_[static_cast<std::size_t>(idx)].key = key;
  });
  LoadEngine();
  RefreshViews(Now(), nullptr);
  // Loading a large network and the engine's state freed a lot (the TOML document, the stored states' text): give
  // it back to the system, so that what stays resident is what the service holds.
  malloc_trim(0);
}

void Core::GiveBackMemory() {
  // A burst (a backlog in the queue, a storm of reconnecting stations) leaves freed memory that glibc keeps in its
  // arenas: after the bench's one reading from each of 150,000 stations, 35 MB of the 175 MB resident. Given back
  // when the core has emptied the queue (no backlog waits behind it), at most once a minute; it took 0–8 ms in the
  // bench at 150,000 stations (docs/benchmarks.md, "Memory").
  const auto now = std::chrono::steady_clock::now();
  if (now - last_trim_ < std::chrono::minutes(1)) return;
  last_trim_ = now;
  malloc_trim(0);
  const auto took = std::chrono::steady_clock::now() - now;
  if (took > std::chrono::milliseconds(20)) {
    log::Info("core", "gave freed memory back to the system in {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  }
}

void Core::MergeRecent(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now < merge_retry_at_) return;
  try {
    const std::int64_t waiting = store_.RecentReadings();
    if (!waiting || (!force && waiting < options_.merge_rows)) return;
    const auto t0 = std::chrono::steady_clock::now();
    // A slice of one part (a sixteenth of the stations) at a time, about a sixty-fourth of merge_rows, so that
    // ingest waits that long and no longer (a whole part of 75,000 readings held it 0.6–1.6 s in the bench); all when
    // forced.
    const std::int64_t moved =
        force ? store_.MergeRecent() : store_.MergeRecent(store_.FullestRecentPart(),
                                                          std::max<std::int64_t>(options_.merge_rows / 64, 5'000));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_.Count("kaoko_readings_merged_total", "merges");
    metrics_.Count("kaoko_readings_merged_total", "readings", static_cast<std::uint64_t>(moved));
    if (log::ShouldLog("readings_merged")) {
      log::Info("store", "moved {} readings into the archive in {:.2f} s", moved, took);
    }
  } catch (const std::exception& e) {
    // A full disk fails every merge: not again after every batch, but in ten seconds.
    merge_retry_at_ = now + std::chrono::seconds(10);
    metrics_.Count("kaoko_readings_merged_total", "failed");
    if (log::ShouldLog("merge_error")) {
      log::Warn("store", "moving recent readings into the archive failed (tried again later; they stay readable): {}",
                e.what());
    }
  }
}

void Core::LoadEngine(bool announce) {
  // The recent readings are merged as in operation, only past merge_rows (a slice), not all of them first: a whole
  // merge writes a page of every station that has unmerged readings, and at 150,000 stations it was 7 of a 15 s
  // start (docs/benchmarks.md, "Start-up at 150,000 stations"). The replay below reads the unmerged ones in one scan.
  MergeRecent();
  alerting::EngineState state;
  bool any = false;
  meta_whole_ = false;
  if (auto meta = store_.EngineMeta()) {
    auto ok = DecodeEngineMeta(*meta, state);
    if (!ok) throw std::runtime_error("the engine state in the database is unreadable: " + ok.error().reason);
    any = true;
    // An older kaoko's engine_meta, with every village's state in it: SaveEngine moves them to their rows.
    meta_whole_ = !state.alerts.empty() || !state.sirens.empty() || !state.seen.empty();
  }
  auto add_part = [&](std::string_view text, const char* what) {
    alerting::EngineState part;
    auto ok = DecodeEngineMeta(text, part);
    if (!ok) throw std::runtime_error(fmt::format("{} in the database is unreadable: {}", what, ok.error().reason));
    for (auto& a : part.alerts) state.alerts.push_back(std::move(a));
    for (auto& x : part.sirens) state.sirens.push_back(std::move(x));
    for (auto& m : part.seen) state.seen.push_back(std::move(m));
    any = true;
  };
  store_.ForEachEngineVillage([&](std::string_view text) { add_part(text, "a village's alert state"); });
  store_.ForEachEngineSeen([&](std::string_view text) { add_part(text, "a remembered message"); });
  store_.ForEachStationTrack([&](std::string_view text) {
    auto track = DecodeStationTrack(text);
    if (!track) throw std::runtime_error("a station's state in the database is unreadable: " + track.error().reason);
    state.stations.push_back(std::move(*track));
    any = true;
  });
  for (const auto& row : store_.Incidents(/*open_only=*/true, 1'000'000)) {
    auto inc = DecodeIncident(row.state);
    if (!inc) throw std::runtime_error(fmt::format("incident {} in the database is unreadable: {}", row.id, inc.error().reason));
    state.incidents.push_back(std::move(*inc));
    any = true;
  }
  if (any) {
    if (announce) {
      log::Info("core", "resuming: {} open incidents, {} station states; deadlines that passed while kaoko was down fire now",
                state.incidents.size(), state.stations.size());
    }
    engine_.ImportState(std::move(state));
  }
  // Each station's state was saved when it last changed in a way a replay could not rebuild (or every few readings):
  // the readings stored since then are evaluated again, without effects, so that the fast-rise ring, the rain and
  // the counters are exactly as they were. This reads only those readings (seq above the saved max_seq), never the
  // whole table.
  const TimePoint now = Now();
  std::size_t replayed = 0;
  for (StationSlot& s : slots_) {
    StationSlot* slot = &s;
    if (!slot->key) continue;  // no reading ever stored
    const alerting::StationTrack* t = engine_.TrackAt(static_cast<std::size_t>(slot - slots_.data()));
    if (!t) continue;
    store_.ForEachReadingAfter(slot->key, t->max_seq, [&](const store::StoredReading& r) {
      engine_.Replay({StationOf(*slot).id, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v}, now);
      ++replayed;
    });
    // The dashboard's newest reading: the one the engine evaluated last (the newest by its own time).
    if (t->latest_ts) {
      if (auto r = store_.Reading(slot->key, t->latest_seq)) SetLatest(*slot, *r);
    }
  }
  store_.DropUnmerged();  // the replay's copy of the unmerged readings: up to 1.2 million, not needed again
  if (replayed && announce) {
    log::Info("core", "replayed {} readings stored since the stations' states were last saved", replayed);
  }
  engine_.ClearDirty();
}

void Core::ReloadEngine() {
  engine_stale_ = true;
  engine_ = alerting::Engine(network_, options_.engine);
  LoadEngine(/*announce=*/false);
  pending_ = alerting::Effects();
  engine_touched_ = false;
  engine_stale_ = false;
  villages_stale_ = true;
  RefreshViews(Now(), nullptr);
}

void Core::SetLatest(StationSlot& slot, const store::StoredReading& r) {
  slot.latest_seq = r.seq;
  slot.latest_ts = r.ts.time_since_epoch().count();
  slot.latest_level_cm = r.level_cm;
  slot.latest_rain_mm = r.rain_mm.value_or(std::numeric_limits<double>::quiet_NaN());
  slot.latest_battery_v = r.battery_v.value_or(std::numeric_limits<double>::quiet_NaN());
}

TimePoint Core::Now() const {  // NOLINT
  if (options_.clock) return options_.clock();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

void Core::Enqueue(Inbound message) {
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(message));
    metrics_.queue_depth = queue_.size();
  }
  queue_cv_.notify_one();
}

std::size_t Core::QueueDepth() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void Core::Run(std::stop_token stop) {
  using clock = std::chrono::steady_clock;
  std::stop_callback wake(stop, [this] { queue_cv_.notify_all(); });
  std::vector<Inbound> batch;
  while (true) {
    batch.clear();
    bool drained = false;  // this batch took everything there was
    {
      std::unique_lock lock(queue_mu_);
      // Wakes for a message, for the next ack due, and at least every ack_interval (deadlines: below).
      auto wake = clock::now() + options_.ack_interval;
      if (!acks_waiting_.empty()) {
        wake = std::min(wake, clock::time_point(std::chrono::milliseconds(acks_waiting_.top().first)));
      }
      queue_cv_.wait_until(lock, wake, [&] { return !queue_.empty() || stop.stop_requested(); });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      metrics_.queue_depth = queue_.size();
      drained = queue_.empty();
    }
    std::vector<PendingCommand> commands;
    {
      std::lock_guard lock(queue_mu_);
      commands.swap(commands_);
    }
    auto due = engine_.NextDeadline();
    bool advance = (due && *due <= Now()) || !pending_.Empty();
    if ((!batch.empty() || advance || !commands.empty()) && !ProcessBatch(batch, &commands)) {
      // The disk is full or the database is failing. Readings are not acknowledged, so their stations keep them and
      // send them again; people's reports, decisions and station status have no such resend, so keep them.
      std::size_t kept = 0;
      {
        std::lock_guard lock(queue_mu_);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          if (it->topic.ends_with("/reading") || queue_.size() > 100000) continue;
          queue_.push_front(std::move(*it));
          ++kept;
        }
      }
      metrics_.Count("kaoko_readings_deferred_total", "db_error", batch.size() - kept);
      std::this_thread::sleep_for(options_.retry_after_db_error);
    }
    AckDue(clock::now());
    MergeRecent();
    if (drained) GiveBackMemory();
    if (stop.stop_requested()) {
      std::lock_guard lock(queue_mu_);
      if (queue_.empty()) break;
    }
  }
  FlushAcks();
}

bool Core::ProcessBatch(std::vector<Inbound>& batch, std::vector<PendingCommand>* commands) {
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

bool Core::ProcessSegment(std::vector<Inbound>& batch, std::size_t begin, std::size_t* end,
                          std::vector<PendingCommand>* commands) {
  TimePoint now = Now();
  Batch b;
  std::vector<CommandResult> results;
  // When each step of the batch began and ended (the alert trace's: docs/benchmarks.md).
  using TC = std::chrono::steady_clock;
  TC::time_point t0 = TC::now(), t1, t2, t3, t4, t5;
  try {
    if (engine_stale_) ReloadEngine();
    store_.Begin();
    if (commands) {
      for (auto& c : *commands) results.push_back(c.run(now));
    }
    b.size = batch.size() - begin;  // until a segment is cut short (below)
    feeding_ = &b;
    feeding_now_ = now;
    std::size_t i = begin;
    while (i < batch.size()) {
      Handle(batch[i++], now, b);
      // An alert leaves as soon as it is on disk: the rest of the batch is handled and committed after it, not
      // before (at 90 % load a batch holds thousands of readings; docs/benchmarks.md, "Where an alert's time goes").
      if (!pending_.alerts.empty()) break;
    }
    *end = i;
    b.size = i - begin;
    feeding_ = nullptr;
    t1 = TC::now();
    // Every deadline, reminder and offline check that fell due, including those that passed while kaoko was down.
    Apply(engine_.Advance(now));
    t2 = TC::now();
    SaveEngine();
    t3 = TC::now();
    store_.Commit();
    t4 = TC::now();
  } catch (const std::exception& e) {
    feeding_ = nullptr;
    store_.Rollback();
    if (options_.tap) options_.tap->RolledBack();
    // Nothing of this batch is on disk, so nothing of it may stay in memory: not a station key it created (the row is
    // gone), nor what the engine decided from its inputs. Those come again — readings from their stations, reports,
    // decisions and status from the queue (Run) — and must then be decided once, with one receipt each (issue 7:
    // a report during a full disk got a receipt per retry, and readings fed the engine twice).
    for (StationSlot* slot : b.new_keys) slot->key = 0;
    try {
      ReloadEngine();
    } catch (const std::exception& again) {
      if (log::ShouldLog("engine_reload")) log::Error("core", "cannot read the engine's state back: {}", again.what());
    }
    ++metrics_.db_errors;
    {
      std::lock_guard lock(view_mu_);
      db_problem_ = e.what();
    }
    if (log::ShouldLog("db_error")) log::Error("core", "a batch of {} messages was not stored: {}", b.size, e.what());
    if (commands) {
      for (auto& c : *commands) c.done->set_value(CommandResult{fmt::format("not stored: {}", e.what()), std::nullopt});
    }
    return false;
  }
  ++metrics_.batches;
  metrics_.readings_accepted += b.accepted;
  metrics_.readings_duplicate += b.duplicate;
  for (const auto& [family, code] : b.rejected) metrics_.Count(family, code);
  for (const auto& r : b.results) {
    auto colon = r.find(':');
    metrics_.Count(r.substr(0, colon), r.substr(colon + 1));
  }
  auto done = std::chrono::steady_clock::now();
  for (std::size_t k = begin; k < *end; ++k) {
    metrics_.store_latency.Observe(std::chrono::duration<double>(done - batch[k].arrived).count());
  }
  {
    std::lock_guard lock(view_mu_);
    db_problem_.reset();
    for (auto& [slot, reading] : b.latest) {
      if (slot->latest_ts == kNone || reading.ts.time_since_epoch().count() >= slot->latest_ts) SetLatest(*slot, reading);
      slot->last_seen = now.time_since_epoch().count();
    }
    for (auto& [slot, online] : b.status) slot->online = online ? 1 : 0;
  }
  for (auto& [slot, seq] : b.acks) {
    auto& pending = pending_acks_[slot];
    if (pending.empty() && !slot->ack_waiting) acking_.push_back(slot);
    pending.push_back(seq);
  }
  // The stations whose state moved: their view is redrawn below (the others have not changed).
  const std::vector<std::uint32_t> touched = engine_.TouchedStations();
  engine_.ClearDirty();
  engine_touched_ = false;
  // Committed: now it may be announced. Engine effects first (alerts, sirens, notifications, receipts), in order,
  // before anything else is done for the batch (the screens' events below wait, an alert does not).
  for (const auto& a : pending_.alerts) {
    publisher_.Publish(wire::AlertTopic(network_.tambon, a.village), RenderAlert(a), true);
  }
  for (const auto& s : pending_.sirens) {
    publisher_.Publish(wire::SirenTopic(network_.tambon, s.village), RenderSiren(s), true);
  }
  for (const auto& n : pending_.notifications) {
    publisher_.Publish(wire::NotifyTopic(network_.tambon, n.village, n.user), RenderNotification(n), false);
  }
  for (const auto& r : pending_.receipts) {
    publisher_.Publish(wire::ReceiptTopic(network_.tambon, r.village, r.user),
                       wire::RenderReceipt(r.ref, r.ok, r.incident, r.error), false);
  }
  t5 = TC::now();
  // What open screens should redraw (the WebSocket hub): newest reading per station, and every engine effect.
  std::vector<LiveEvent> live;
  const bool observed = observer_ && (!listening_ || listening_());
  if (observed) {
    std::unordered_map<StationSlot*, const store::StoredReading*> newest;
    for (auto& [slot, reading] : b.latest) {
      auto& n = newest[slot];
      if (!n || reading.ts >= n->ts) n = &reading;
    }
    for (auto& [slot, reading] : newest) {
      live.push_back({"reading", fmt::format(R"({{"station":"{}","seq":{},"ts":"{}","level_cm":{},"level":"{}","health":"{}"}})",
                                             StationOf(*slot).id, reading->seq, wire::FormatTime(reading->ts),
                                             reading->level_cm, alerting::ToString(slot->level),
                                             alerting::ToString(alerting::HealthOf(
                                                 slot->problems, OptTime(slot->last_heard), StationOf(*slot),
                                                 options_.engine.stale_intervals, now))),
                      StationOf(*slot).village, "", 0});
    }
    for (const auto& a : pending_.alerts) live.push_back({"alert", RenderAlert(a), a.village, "", 0});
    for (const auto& s : pending_.sirens) {
      live.push_back(
          {"siren", fmt::format(R"({{"village":"{}","siren":{}}})", s.village, RenderSiren(s)), s.village, "", 0});
    }
    for (const auto& n : pending_.notifications) {
      live.push_back({"notification", fmt::format(R"({{"user":"{}","village":"{}","notification":{}}})", n.user,
                                                  n.village, RenderNotification(n)),
                      n.village, n.user, 0});
    }
    std::set<std::int64_t> incidents;
    for (const auto& e : pending_.timeline) incidents.insert(e.incident);
    for (auto id : incidents) live.push_back({"incident", fmt::format(R"({{"id":{}}})", id), "", "", id});
  }
  bool cap_changed = pending_.cap_changed;
  bool alerts_changed = !pending_.alerts.empty();
  pending_ = alerting::Effects();
  for (auto& out : b.publish) publisher_.Publish(out.topic, out.payload, out.retained);
  if (cap_changed) {
    std::string cap = engine_.Cap(now);
    if (cap.size() <= kMaxCapPublishBytes) {
      publisher_.Publish(wire::CapTopic(network_.tambon), cap, true);
    } else {
      // Over the broker's max_packet_size the broker would drop kaoko's connection (and again after every
      // reconnect): the retained topic gets the most severe incidents that fit; GET /api/v1/cap keeps them all.
      std::size_t omitted = 0;
      publisher_.Publish(wire::CapTopic(network_.tambon), engine_.Cap(now, kMaxCapPublishBytes, &omitted, &cap), true);
      metrics_.Count("kaoko_cap_truncated_total", "mqtt");
      if (log::ShouldLog("cap_truncated")) {
        log::Warn("core", "CAP document of {} bytes is over the MQTT bound of {}: published without {} of the least "
                  "severe incidents (GET /api/v1/cap has them all)", cap.size(), kMaxCapPublishBytes, omitted);
      }
    }
    std::lock_guard lock(view_mu_);
    cap_view_ = std::move(cap);
  }
  if (alerts_changed) {
    if (alert_trace_) TraceAlerts(b, {t0, t1, t2, t3, t4, t5});
    for (auto arrived : b.alert_causes) {  // t5: the effects were handed to MQTT
      metrics_.alert_latency.Observe(std::chrono::duration<double>(t5 - arrived).count());
    }
  }
  if (options_.tap) options_.tap->Committed(now);
  RefreshViews(now, &touched);
  if (observed && !live.empty()) observer_(std::move(live));
  // Answer the commands only now: what they changed is on disk and announced.
  if (commands) {
    for (std::size_t i = 0; i < commands->size(); ++i) (*commands)[i].done->set_value(std::move(results[i]));
  }
  return true;
}

// One line per reading that caused an alert: when it arrived and its alert was published (steady-clock nanoseconds,
// comparable with other processes' CLOCK_MONOTONIC on the same machine), then where the time went, in microseconds.
// t[5] is when the effects were handed to MQTT: the alert's "published".
void Core::TraceAlerts(const Batch& b, const std::array<std::chrono::steady_clock::time_point, 6>& t) {
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

void Core::Apply(alerting::Effects fx) {
  if (fx.Empty()) return;
  engine_touched_ = true;
  auto append = [](auto& into, auto& from) {
    for (auto& x : from) into.push_back(std::move(x));
  };
  if (!fx.alerts.empty()) villages_stale_ = true;
  append(pending_.timeline, fx.timeline);
  append(pending_.alerts, fx.alerts);
  append(pending_.sirens, fx.sirens);
  append(pending_.notifications, fx.notifications);
  append(pending_.receipts, fx.receipts);
  pending_.cap_changed = pending_.cap_changed || fx.cap_changed;
}

// Writes what the engine changed in this batch, inside its transaction: the changed incidents, the stations whose
// evaluation moved, and the counters. A restart reads them back (LoadEngine) and resumes every deadline.
void Core::SaveEngine() {
  for (const auto& e : pending_.timeline) {
    store_.InsertTimeline({e.incident, e.ts, e.kind, e.actor, e.via, e.text_th, e.text_en});
    if (options_.tap) options_.tap->TimelineStored(e, engine_.FindIncident(e.incident));
  }
  for (std::int64_t id : engine_.DirtyIncidents()) {
    const alerting::Incident* inc = engine_.FindIncident(id);
    if (!inc) continue;
    store_.UpsertIncident({inc->id, alerting::ToString(inc->kind), inc->village, alerting::ToString(inc->stage),
                           alerting::ToString(inc->level), inc->exercise, inc->opened, inc->updated, inc->closed,
                           EncodeIncident(*inc)});
    engine_touched_ = true;
  }
  for (std::uint32_t i : engine_.DirtyStationPositions()) {
    const std::string& id = network_.stations[i].id;
    if (const alerting::StationTrack* t = engine_.TrackAt(i)) store_.UpsertStationTrack(id, EncodeStationTrack(id, *t));
  }
  // Village alert states, sirens and remembered messages: only those that changed, one row each. A database from an
  // older kaoko kept them all in engine_meta: the first save moves them over (then engine_meta holds the counters).
  if (meta_whole_) {
    alerting::EngineState all = engine_.ExportMeta();
    for (const auto& v : network_.villages) {
      alerting::EngineState part = engine_.ExportVillage(v.id);
      if (!part.alerts.empty() || !part.sirens.empty()) store_.UpsertEngineVillage(v.id, EncodeEngineMeta(part));
    }
    for (auto& m : all.seen) {
      alerting::EngineState part;
      part.seen.push_back(std::move(m));
      store_.AddEngineSeen(part.seen.front().key, EncodeEngineMeta(part), options_.engine.seen_capacity);
    }
    engine_touched_ = true;
  } else {
    for (const std::string& village : engine_.DirtyVillages()) {
      store_.UpsertEngineVillage(village, EncodeEngineMeta(engine_.ExportVillage(village)));
      engine_touched_ = true;
    }
    for (auto& m : engine_.NewSeen()) {
      alerting::EngineState part;
      part.seen.push_back(std::move(m));
      store_.AddEngineSeen(part.seen.front().key, EncodeEngineMeta(part), options_.engine.seen_capacity);
      engine_touched_ = true;
    }
  }
  if (engine_touched_) {
    store_.SaveEngineMeta(EncodeEngineMeta(engine_.ExportCounters()));
    meta_whole_ = false;
  }
}

// Redraws the views of the stations the batch touched (all of them when `touched` is null) and, when an alert
// changed, the villages'. Work per batch follows what the batch did, not the size of the network.
void Core::RefreshViews(TimePoint now, const std::vector<std::uint32_t>* touched) {
  std::optional<std::vector<alerting::AlertState>> villages;
  if (villages_stale_ || !touched) villages = engine_.Alerts();
  villages_stale_ = false;
  auto refresh = [&](StationSlot& slot) {
    const alerting::StationTrack* t = engine_.TrackAt(static_cast<std::size_t>(&slot - slots_.data()));
    if (!t) return;
    slot.level = t->level;
    slot.problems = t->problems;
    slot.last_heard = t->last_heard ? t->last_heard->time_since_epoch().count() : kNone;
    slot.silenced_until = t->silenced_until ? t->silenced_until->time_since_epoch().count() : kNone;
  };
  std::lock_guard lock(view_mu_);
  if (villages) villages_view_ = std::move(*villages);
  if (touched) {
    for (std::uint32_t i : *touched) {
      if (i < slots_.size()) refresh(slots_[i]);
    }
  } else {
    for (StationSlot& slot : slots_) refresh(slot);
  }
  if (cap_view_.empty()) cap_view_ = engine_.Cap(now);
}

CommandResult Core::Run(std::function<CommandResult(TimePoint)> run) {
  PendingCommand c{std::move(run), std::make_shared<std::promise<CommandResult>>()};
  auto result = c.done->get_future();
  {
    std::lock_guard lock(queue_mu_);
    commands_.push_back(std::move(c));
  }
  queue_cv_.notify_one();
  return result.get();
}

std::optional<std::string> Core::Command(std::function<alerting::Effects(alerting::Engine&, TimePoint)> command) {
  return Run([this, command = std::move(command)](TimePoint now) {
           alerting::Effects fx = command(engine_, now);
           CommandResult r{fx.error, std::nullopt};
           Apply(std::move(fx));
           return r;
         })
      .error;
}

CommandResult Core::Decide(const std::string& user, const wire::DecisionMsg& decision, const std::string& via) {
  return Run([this, user, decision, via](TimePoint now) {
    const alerting::Incident* inc = engine_.FindIncident(decision.incident);
    std::string village;
    if (inc) {
      village = inc->village;
    } else if (auto row = store_.Incident(decision.incident)) {
      village = row->village;
    }
    if (village.empty()) {
      return CommandResult{std::nullopt, alerting::Receipt{user, "", decision.id, false, std::nullopt,
                                                           fmt::format("incident {} does not exist", decision.incident)}};
    }
    if (auto seen = store_.FindDecision(user, decision.id)) {
      return CommandResult{std::nullopt,
                           alerting::Receipt{user, village, decision.id, seen->ok,
                                             seen->ok ? std::optional<std::int64_t>(seen->incident) : std::nullopt,
                                             seen->error}};
    }
    alerting::Effects fx = DecideOnCore(user, village, decision, via, now);
    alerting::Receipt receipt{user, village, decision.id, false, std::nullopt, "no receipt"};
    for (const auto& r : fx.receipts) {
      if (r.ref == decision.id && r.user == user) receipt = r;
    }
    store_.InsertDecision(user, village, decision, via, now, receipt.ok, receipt.ok ? "" : receipt.error);
    metrics_.Count("kaoko_decisions_total", receipt.ok ? "accepted" : "refused");
    Apply(std::move(fx));
    return CommandResult{std::nullopt, receipt};
  });
}

void Core::SetObserver(std::function<void(std::vector<LiveEvent>)> observer, std::function<bool()> listening) {
  observer_ = std::move(observer);
  listening_ = std::move(listening);
}

void Core::PublishAck(StationSlot& slot, std::int64_t now_ms) {
  auto it = pending_acks_.find(&slot);
  if (it == pending_acks_.end()) return;
  auto ranges = wire::ToRanges(std::move(it->second));
  pending_acks_.erase(it);
  slot.acked_at = now_ms;
  publisher_.Publish(wire::AckTopic(network_.tambon, StationOf(slot).village, StationOf(slot).id), wire::RenderAck(ranges),
                     false);
  ++metrics_.acks_published;
}

void Core::AckDue(std::chrono::steady_clock::time_point now) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::int64_t interval = options_.ack_interval.count();
  for (StationSlot* slot : acking_) {
    if (!pending_acks_.count(slot) || slot->ack_waiting) continue;
    if (slot->acked_at == kNone || now_ms - slot->acked_at >= interval) {
      PublishAck(*slot, now_ms);
    } else {
      slot->ack_waiting = true;
      acks_waiting_.emplace(slot->acked_at + interval, slot);
    }
  }
  acking_.clear();
  while (!acks_waiting_.empty() && acks_waiting_.top().first <= now_ms) {
    StationSlot* slot = acks_waiting_.top().second;
    acks_waiting_.pop();
    slot->ack_waiting = false;
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
}

void Core::FlushAcks() {
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  for (StationSlot* slot : acking_) {
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
  acking_.clear();
  while (!acks_waiting_.empty()) {
    StationSlot* slot = acks_waiting_.top().second;
    acks_waiting_.pop();
    slot->ack_waiting = false;
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
}

void Core::Refuse(Batch& b, const char* family, const Error& e, const Inbound& in) {
  b.rejected.emplace_back(family, e.code);
  if (log::ShouldLog(std::string(family) + e.code)) {
    log::Warn("ingest", "refused {} ({}): {} — payload: {}", in.topic, e.code, e.reason, Snippet(in.payload));
  }
}

void Core::Feed(Inbound& in) {
  if (feeding_) Handle(in, feeding_now_, *feeding_);
}

void Core::Handle(Inbound& in, TimePoint now, Batch& b) {
  if (options_.tap && options_.tap->Intercept(in, now)) return;
  auto topic = wire::ParseTopic(in.topic);
  if (!topic) return Refuse(b, kMessagesRejected, topic.error(), in);
  const wire::Topic& t = *topic;
  if (t.tambon != network_.tambon) {
    return Refuse(b, kMessagesRejected,
                  MakeError("unknown_tambon", fmt::format("tambon '{}' is not served here ('{}')", t.tambon,
                                                          network_.tambon)),
                  in);
  }
  switch (t.kind) {
    case wire::TopicKind::kReading: return HandleReading(t, in, now, b);
    case wire::TopicKind::kStatus: return HandleStatus(t, in, now, b);
    case wire::TopicKind::kReport: return HandleReport(t, in, now, b);
    case wire::TopicKind::kDecision: return HandleDecision(t, in, now, b);
    default:
      return Refuse(b, kMessagesRejected, MakeError("not_inbound", "kaoko does not take messages on this topic"), in);
  }
}

void Core::HandleReading(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  const int idx = network_.StationIndex(t.name);
  if (idx < 0) {
    return Refuse(b, kReadingsRejected,
                  MakeError("unknown_station", fmt::format("station '{}' is not in the network file", t.name)), in);
  }
  StationSlot& slot = slots_[static_cast<std::size_t>(idx)];
  if (StationOf(slot).village != t.village) {
    return Refuse(b, kReadingsRejected,
                  MakeError("wrong_village", fmt::format("station '{}' belongs to village '{}', not '{}'", t.name,
                                                         StationOf(slot).village, t.village)),
                  in);
  }
  auto parsed = wire::ParseReading(in.payload, StationOf(slot), now);
  if (parsed.refused) {
    Refuse(b, kReadingsRejected, parsed.refused->error, in);
    if (parsed.refused->seq_if_known) {
      // Keep the refused reading and acknowledge it: the station must not resend it forever, and the TAO's
      // technician can see what the station sent and why it was refused.
      store_.InsertRefusedReading(t.name, *parsed.refused->seq_if_known, parsed.refused->ts_if_known, now,
                                  parsed.refused->error, in.payload);
      b.acks.emplace_back(&slot, *parsed.refused->seq_if_known);
    }
    return;
  }
  const wire::ReadingMsg& r = *parsed.reading;
  if (!slot.key) {
    slot.key = store_.StationKey(StationOf(slot).id);
    b.new_keys.push_back(&slot);
  }
  if (store_.InsertReading(slot.key, r) == store::Insert::kStored) {
    ++b.accepted;
    if (options_.tap) options_.tap->ReadingStored(t.name, r, now);
    b.latest.emplace_back(&slot, store::StoredReading{{}, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v});
    alerting::Effects fx = engine_.OnReading(static_cast<std::size_t>(idx),
                                             {t.name, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v}, now);
    if (!fx.alerts.empty()) b.alert_causes.push_back(in.arrived);
    Apply(std::move(fx));
  } else {
    ++b.duplicate;
  }
  b.acks.emplace_back(&slot, r.seq);  // a repeat is acked again: its first ack may have been lost
}

void Core::HandleStatus(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  const int idx = network_.StationIndex(t.name);
  if (idx < 0 || network_.stations[static_cast<std::size_t>(idx)].village != t.village) {
    return Refuse(b, kMessagesRejected,
                  MakeError("unknown_station", fmt::format("station '{}' of village '{}' is not in the network file",
                                                           t.name, t.village)),
                  in);
  }
  auto status = wire::ParseStatus(in.payload);
  if (!status) return Refuse(b, kMessagesRejected, status.error(), in);
  store_.UpsertStatus(t.name, *status, now);
  b.status.emplace_back(&slots_[static_cast<std::size_t>(idx)], status->online);
  Apply(engine_.OnStationStatus({t.name, status->online, status->ts.value_or(now)}, now));
}

void Core::Receipt(Batch& b, const wire::Topic& t, std::string_view ref, bool ok, std::optional<std::int64_t> incident,
                   std::string_view error) {
  b.publish.push_back({wire::ReceiptTopic(t.tambon, t.village, t.name), wire::RenderReceipt(ref, ok, incident, error),
                       false});
}

void Core::HandleReport(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  std::string ref = wire::PeekId(in.payload).value_or("");
  auto refuse = [&](const Error& e) {
    Refuse(b, kMessagesRejected, e, in);
    b.results.push_back("kaoko_reports_total:refused");
    Receipt(b, t, ref, false, std::nullopt, e.reason);
  };
  const alerting::Person* person = network_.FindPerson(t.name);
  if (!person) return refuse(MakeError("unknown_user", fmt::format("'{}' is not in the network file", t.name)));
  if (!network_.FindVillage(t.village)) {
    return refuse(MakeError("unknown_village", fmt::format("village '{}' is not in the network file", t.village)));
  }
  if (person->role != alerting::Role::kTao && person->village != t.village) {
    return refuse(MakeError("wrong_village", fmt::format("{} reports for village '{}', not '{}'", person->id,
                                                         person->village, t.village)));
  }
  auto report = wire::ParseReport(in.payload);
  if (!report) return refuse(report.error());
  if (report->station) {
    const alerting::Station* st = network_.FindStation(*report->station);
    if (!st) return refuse(MakeError("unknown_station", fmt::format("station '{}' is not in the network file", *report->station)));
    if (st->village != t.village) {
      return refuse(MakeError("wrong_village", fmt::format("station '{}' is in village '{}', not '{}'", st->id,
                                                           st->village, t.village)));
    }
  }
  if (store_.InsertReport(t.name, t.village, *report, now) == store::Insert::kDuplicate) {
    b.results.push_back("kaoko_reports_total:duplicate");
    auto incident = store_.ReportIncident(t.name, report->id);
    Receipt(b, t, report->id, true, incident && *incident ? incident : std::nullopt, "");
    return;
  }
  b.results.push_back("kaoko_reports_total:stored");
  alerting::Report ar{t.name, report->id, report->ts, t.village, report->station, report->level_cm,
                      report->trend ? std::optional<std::string>(wire::ToString(*report->trend)) : std::nullopt,
                      report->concern, report->note};
  alerting::Effects fx = engine_.OnReport(ar, now);
  // The engine answers every report with exactly one receipt; record the incident it joined.
  for (const auto& r : fx.receipts) {
    if (r.ref == report->id && r.user == t.name && r.incident) store_.SetReportIncident(t.name, r.ref, *r.incident);
  }
  Apply(std::move(fx));
}

void Core::HandleDecision(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  std::string ref = wire::PeekId(in.payload).value_or("");
  auto refuse = [&](const Error& e) {
    Refuse(b, kMessagesRejected, e, in);
    b.results.push_back("kaoko_decisions_total:refused");
    Receipt(b, t, ref, false, std::nullopt, e.reason);
  };
  const alerting::Person* person = network_.FindPerson(t.name);
  if (!person) return refuse(MakeError("unknown_user", fmt::format("'{}' is not in the network file", t.name)));
  auto decision = wire::ParseDecision(in.payload);
  if (!decision) return refuse(decision.error());
  if (auto seen = store_.FindDecision(t.name, decision->id)) {
    // A repeat (QoS 1 redelivery, a phone sending again): the same answer, decided once.
    b.results.push_back("kaoko_decisions_total:duplicate");
    Receipt(b, t, decision->id, seen->ok, seen->ok ? std::optional<std::int64_t>(seen->incident) : std::nullopt,
            seen->error);
    return;
  }
  alerting::Effects fx = DecideOnCore(t.name, t.village, *decision, "mqtt", now);
  bool ok = false;
  std::string error = "no receipt";
  for (const auto& r : fx.receipts) {
    if (r.ref == decision->id && r.user == t.name) {
      ok = r.ok;
      error = r.error;
    }
  }
  store_.InsertDecision(t.name, t.village, *decision, "mqtt", now, ok, ok ? "" : error);
  b.results.push_back(ok ? "kaoko_decisions_total:accepted" : "kaoko_decisions_total:refused");
  if (!ok && log::ShouldLog("decision_refused")) log::Info("core", "decision {} of {} refused: {}", decision->id, t.name, error);
  Apply(std::move(fx));
}

alerting::Effects Core::DecideOnCore(const std::string& user, const std::string& village,
                                     const wire::DecisionMsg& d, const std::string& via, TimePoint now) {
  alerting::Decision ad{user, d.id, d.ts, village, d.incident, d.action,
                        d.level, d.note, via};
  return engine_.OnDecision(ad, now);
}

std::vector<StationView> Core::Stations(std::string_view village) const {
  const TimePoint now = Now();
  std::vector<StationView> out;
  if (village.empty()) {
    out.reserve(slots_.size());
    std::lock_guard lock(view_mu_);
    for (const StationSlot& slot : slots_) out.push_back(ViewOf(slot, now));
    return out;
  }
  // One village's stations are found before the lock (the network does not change): the core's commits, which take
  // the same lock, then wait only for the few views copied, not for a scan of every station.
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < network_.stations.size(); ++i) {
    if (network_.stations[i].village == village) positions.push_back(i);
  }
  out.reserve(positions.size());
  std::lock_guard lock(view_mu_);
  for (std::size_t i : positions) out.push_back(ViewOf(slots_[i], now));
  return out;
}

// Under view_mu_.
StationView Core::ViewOf(const StationSlot& slot, TimePoint now) const {
  StationView v;
  v.station = &StationOf(slot);
  if (slot.latest_ts != kNone) {
    v.latest = store::StoredReading{StationOf(slot).id,
                                    slot.latest_seq,
                                    *OptTime(slot.latest_ts),
                                    slot.latest_level_cm,
                                    std::isnan(slot.latest_rain_mm) ? std::nullopt
                                                                    : std::optional<double>(slot.latest_rain_mm),
                                    std::isnan(slot.latest_battery_v) ? std::nullopt
                                                                      : std::optional<double>(slot.latest_battery_v)};
  }
  if (slot.online >= 0) v.online = slot.online == 1;
  v.last_seen = OptTime(slot.last_seen);
  // Health moves with the clock (a station goes stale by staying silent): as of now, not of the last batch.
  v.health = alerting::ToString(alerting::HealthOf(slot.problems, OptTime(slot.last_heard), StationOf(slot),
                                                   options_.engine.stale_intervals, now));
  v.level = slot.level;
  v.problems = alerting::ProblemNames(slot.problems);
  v.silenced_until = OptTime(slot.silenced_until);
  return v;
}

std::vector<alerting::AlertState> Core::Villages(std::string_view village) const {
  std::lock_guard lock(view_mu_);
  if (village.empty()) return villages_view_;
  std::vector<alerting::AlertState> out;
  for (const auto& a : villages_view_) {
    if (a.village == village) out.push_back(a);
  }
  return out;
}

std::string Core::Cap() const {
  std::lock_guard lock(view_mu_);
  return cap_view_;
}

std::optional<std::string> Core::DbProblem() const {
  std::lock_guard lock(view_mu_);
  return db_problem_;
}

}  // namespace kaoko::server
