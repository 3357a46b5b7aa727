#include "engine_keeper.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "kaoko/common/log.hpp"
#include "kaoko/ingest/engine_codec.hpp"

namespace kaoko::server {

EngineKeeper::EngineKeeper(const alerting::Network& network, store::Store& store, const CoreOptions& options,
                           ReadModel& views, ReadingsMerger& merger)
    : network_(network),
      store_(store),
      options_(options),
      views_(views),
      merger_(merger),
      engine_(network, options.engine) {}

void EngineKeeper::Absorb(alerting::Effects fx) {
  touched_ = true;
  auto append = [](auto& into, auto& from) {
    for (auto& x : from) into.push_back(std::move(x));
  };
  if (!fx.alerts.empty()) views_.MarkVillagesStale();
  append(pending_.timeline, fx.timeline);
  append(pending_.alerts, fx.alerts);
  append(pending_.sirens, fx.sirens);
  append(pending_.announcements, fx.announcements);
  append(pending_.notifications, fx.notifications);
  append(pending_.receipts, fx.receipts);
  pending_.cap_changed = pending_.cap_changed || fx.cap_changed;
}

void EngineKeeper::Load(bool announce) {
  // The recent readings are merged as in operation, only past merge_rows (a slice), not all of them first: a whole
  // merge writes a page of every station that has unmerged readings, and at 150,000 stations it was 7 of a 15 s
  // start (docs/benchmarks.md, "Start-up at 150,000 stations"). The replay reads the unmerged ones in one scan.
  merger_.Merge();
  ImportSaved(announce);
  ReplayUnsaved(announce);
  engine_.ClearDirty();
}

bool EngineKeeper::ImportSaved(bool announce) {
  alerting::EngineState state;
  bool any = false;
  meta_whole_ = false;
  if (auto meta = store_.EngineMeta()) {
    auto ok = DecodeEngineMeta(*meta, state);
    if (!ok) throw std::runtime_error("the engine state in the database is unreadable: " + ok.error().reason);
    any = true;
    // An older kaoko's engine_meta, with every village's state in it: Save moves them to their rows.
    meta_whole_ = !state.alerts.empty() || !state.sirens.empty() || !state.seen.empty();
  }
  auto add_part = [&](std::string_view text, const char* what) {
    alerting::EngineState part;
    auto ok = DecodeEngineMeta(text, part);
    if (!ok) throw std::runtime_error(fmt::format("{} in the database is unreadable: {}", what, ok.error().reason));
    for (auto& a : part.alerts) state.alerts.push_back(std::move(a));
    for (auto& x : part.sirens) state.sirens.push_back(std::move(x));
    for (auto& m : part.seen) state.seen.push_back(std::move(m));
    for (auto& t : part.towers) state.towers.push_back(std::move(t));
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
    if (!inc) {
      throw std::runtime_error(
          fmt::format("incident {} in the database is unreadable: {}", row.id, inc.error().reason));
    }
    state.incidents.push_back(std::move(*inc));
    any = true;
  }
  if (!any) return false;
  if (announce) {
    log::Info("core",
              "resuming: {} open incidents, {} station states; deadlines that passed while kaoko was down fire now",
              state.incidents.size(), state.stations.size());
  }
  engine_.ImportState(std::move(state));
  return true;
}

// Each station's state was saved when it last changed in a way a replay could not rebuild (or every few readings):
// the readings stored since then are evaluated again, without effects, so that the fast-rise ring, the rain and the
// counters are exactly as they were. This reads only those readings (seq above the saved max_seq), never the whole
// table.
void EngineKeeper::ReplayUnsaved(bool announce) {
  const TimePoint now = NowOf(options_);
  std::size_t replayed = 0;
  for (StationSlot& slot : views_.slots()) {
    if (!slot.key) continue;  // no reading ever stored
    const alerting::StationTrack* t = engine_.TrackAt(views_.IndexOf(slot));
    if (!t) continue;
    const std::string& id = views_.StationOf(slot).id;
    store_.ForEachReadingAfter(slot.key, t->max_seq, [&](const wire::Reading& r) {
      engine_.Replay({id, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v}, now);
      ++replayed;
    });
    // The dashboard's newest reading: the one the engine evaluated last (the newest by its own time).
    if (t->latest_ts) {
      if (auto r = store_.Reading(slot.key, t->latest_seq)) ReadModel::SetLatest(slot, *r);
    }
  }
  store_.DropUnmerged();  // the replay's copy of the unmerged readings: up to 1.2 million, not needed again
  if (replayed && announce) {
    log::Info("core", "replayed {} readings stored since the stations' states were last saved", replayed);
  }
}

void EngineKeeper::Reload() {
  stale_ = true;
  engine_ = alerting::Engine(network_, options_.engine);
  Load(/*announce=*/false);
  pending_ = alerting::Effects();
  touched_ = false;
  stale_ = false;
  views_.MarkVillagesStale();
  views_.Refresh(engine_, NowOf(options_), nullptr);
}

std::vector<std::uint32_t> EngineKeeper::Committed() {
  std::vector<std::uint32_t> touched = engine_.TouchedStations();
  engine_.ClearDirty();
  touched_ = false;
  return touched;
}

alerting::Effects EngineKeeper::TakePending() { return std::exchange(pending_, alerting::Effects()); }

// What the engine changed in this batch, inside its transaction: the changed incidents, the stations whose evaluation
// moved, and the counters. A restart reads them back (Load) and resumes every deadline.
void EngineKeeper::Save() {
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
    touched_ = true;
  }
  for (std::uint32_t i : engine_.DirtyStationPositions()) {
    const std::string& id = network_.stations[i].id;
    if (const alerting::StationTrack* t = engine_.TrackAt(i)) store_.UpsertStationTrack(id, EncodeStationTrack(id, *t));
  }
  SaveVillagesAndSeen();
  if (touched_) {
    store_.SaveEngineMeta(EncodeEngineMeta(engine_.ExportCounters()));
    meta_whole_ = false;
  }
}

// Village alert states, sirens, the answers their devices owe, and remembered messages: only those that changed, one
// row each. A database from an
// older kaoko kept them all in engine_meta: the first save moves them over (then engine_meta holds the counters).
void EngineKeeper::SaveVillagesAndSeen() {
  auto add_seen = [&](alerting::SeenMessage m) {
    alerting::EngineState part;
    part.seen.push_back(std::move(m));
    store_.AddEngineSeen(part.seen.front().key, EncodeEngineMeta(part), options_.engine.seen_capacity);
    touched_ = true;
  };
  if (meta_whole_) {
    alerting::EngineState all = engine_.ExportMeta();
    for (const auto& v : network_.villages) {
      alerting::EngineState part = engine_.ExportVillage(v.id);
      if (!part.alerts.empty() || !part.sirens.empty() || !part.towers.empty()) {
        store_.UpsertEngineVillage(v.id, EncodeEngineMeta(part));
      }
    }
    for (auto& m : all.seen) add_seen(std::move(m));
    touched_ = true;
    return;
  }
  for (const std::string& village : engine_.DirtyVillages()) {
    store_.UpsertEngineVillage(village, EncodeEngineMeta(engine_.ExportVillage(village)));
    touched_ = true;
  }
  for (auto& m : engine_.NewSeen()) add_seen(std::move(m));
}

}  // namespace kaoko::server
