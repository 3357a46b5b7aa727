#include "read_model.hpp"

#include <cmath>

namespace kaoko::server {

ReadModel::ReadModel(const alerting::Network& network, const alerting::EngineOptions& engine_options)
    : network_(network), engine_options_(engine_options), slots_(network.stations.size()) {}

alerting::StationHealth ReadModel::HealthOf(const StationSlot& slot, TimePoint now) const {
  return alerting::HealthOf(slot.problems, OptTime(slot.last_heard), StationOf(slot), engine_options_.stale_intervals,
                            now);
}

void ReadModel::SetLatest(StationSlot& slot, const wire::Reading& r) {
  slot.latest_seq = r.seq;
  slot.latest_ts = r.ts.time_since_epoch().count();
  slot.latest_level_cm = r.level_cm;
  slot.latest_rain_mm = r.rain_mm.value_or(std::numeric_limits<double>::quiet_NaN());
  slot.latest_battery_v = r.battery_v.value_or(std::numeric_limits<double>::quiet_NaN());
}

void ReadModel::Committed(const Batch& b, TimePoint now) {
  std::lock_guard lock(mu_);
  db_problem_.reset();
  for (const auto& [slot, reading] : b.latest) {
    // The newest by its own time, or by the station's count: a station whose clock went back (or was ahead and is
    // right again) still shows what it measured last, not a reading its wrong clock dated later.
    if (slot->latest_ts == kNone || reading.ts.time_since_epoch().count() >= slot->latest_ts ||
        reading.seq > slot->latest_seq) {
      SetLatest(*slot, reading);
    }
    slot->last_seen = now.time_since_epoch().count();
  }
  for (const auto& [slot, online] : b.status) slot->online = online ? 1 : 0;
}

void ReadModel::SetDbProblem(std::string what) {
  std::lock_guard lock(mu_);
  db_problem_ = std::move(what);
}

void ReadModel::Refresh(const alerting::Engine& engine, TimePoint now, const std::vector<std::uint32_t>* touched) {
  std::optional<std::vector<alerting::AlertState>> villages;
  if (villages_stale_ || !touched) villages = engine.Alerts();
  villages_stale_ = false;
  auto refresh = [&](StationSlot& slot) {
    const alerting::StationTrack* t = engine.TrackAt(IndexOf(slot));
    if (!t) return;
    slot.level = t->level;
    slot.problems = t->problems;
    slot.clock_ahead_s = static_cast<std::int32_t>(t->clock_ahead_s);
    slot.last_heard = t->last_heard ? t->last_heard->time_since_epoch().count() : kNone;
    slot.silenced_until = t->silenced_until ? t->silenced_until->time_since_epoch().count() : kNone;
  };
  std::lock_guard lock(mu_);
  if (villages) villages_view_ = std::move(*villages);
  if (touched) {
    for (std::uint32_t i : *touched) {
      if (i < slots_.size()) refresh(slots_[i]);
    }
  } else {
    for (StationSlot& slot : slots_) refresh(slot);
  }
  if (cap_view_.empty()) cap_view_ = engine.Cap(now);
}

void ReadModel::SetCap(std::string cap) {
  std::lock_guard lock(mu_);
  cap_view_ = std::move(cap);
}

std::vector<StationView> ReadModel::Stations(std::string_view village, TimePoint now) const {
  std::vector<StationView> out;
  if (village.empty()) {
    out.reserve(slots_.size());
    std::lock_guard lock(mu_);
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
  std::lock_guard lock(mu_);
  for (std::size_t i : positions) out.push_back(ViewOf(slots_[i], now));
  return out;
}

StationView ReadModel::ViewOf(const StationSlot& slot, TimePoint now) const {
  StationView v;
  v.station = &StationOf(slot);
  if (slot.latest_ts != kNone) {
    v.latest =
        wire::Reading{StationOf(slot).id,
                      slot.latest_seq,
                      *OptTime(slot.latest_ts),
                      slot.latest_level_cm,
                      std::isnan(slot.latest_rain_mm) ? std::nullopt : std::optional<double>(slot.latest_rain_mm),
                      std::isnan(slot.latest_battery_v) ? std::nullopt : std::optional<double>(slot.latest_battery_v)};
  }
  if (slot.online >= 0) v.online = slot.online == 1;
  v.last_seen = OptTime(slot.last_seen);
  v.health = alerting::ToString(HealthOf(slot, now));
  v.level = slot.level;
  v.problems = alerting::ProblemNames(slot.problems, false, alerting::Seconds(slot.clock_ahead_s));
  v.problems_th = alerting::ProblemNames(slot.problems, true, alerting::Seconds(slot.clock_ahead_s));
  v.silenced_until = OptTime(slot.silenced_until);
  return v;
}

std::vector<alerting::AlertState> ReadModel::Villages(std::string_view village) const {
  std::lock_guard lock(mu_);
  if (village.empty()) return villages_view_;
  std::vector<alerting::AlertState> out;
  for (const auto& a : villages_view_) {
    if (a.village == village) out.push_back(a);
  }
  return out;
}

std::string ReadModel::Cap() const {
  std::lock_guard lock(mu_);
  return cap_view_;
}

std::optional<std::string> ReadModel::DbProblem() const {
  std::lock_guard lock(mu_);
  return db_problem_;
}

}  // namespace kaoko::server
