// The read model: what the HTTP API asks of the core (stations, villages' alert states, the CAP document, the last
// database problem), as snapshots the core thread redraws after each commit. One lock guards them; the core takes it
// only to copy in what a batch changed, a reader only to copy out.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch.hpp"

namespace kaoko::server {

class ReadModel {
 public:
  ReadModel(const alerting::Network& network, const alerting::EngineOptions& engine_options);

  // The slots, by index in network.stations; never resized. The view fields only on the core thread, under Lock.
  std::vector<StationSlot>& slots() { return slots_; }
  StationSlot& Slot(std::size_t index) { return slots_[index]; }
  std::size_t IndexOf(const StationSlot& slot) const { return static_cast<std::size_t>(&slot - slots_.data()); }
  const alerting::Station& StationOf(const StationSlot& slot) const { return network_.stations[IndexOf(slot)]; }
  // The station's health as of `now` (it moves with the clock: a station goes stale by staying silent).
  alerting::StationHealth HealthOf(const StationSlot& slot, TimePoint now) const;
  static void SetLatest(StationSlot& slot, const wire::Reading& r);

  // Core thread, after a commit: the batch's newest readings and station status; the database works again.
  void Committed(const Batch& b, TimePoint now);
  // Core thread, after a rollback.
  void SetDbProblem(std::string what);
  // An alert changed: the next Refresh redraws the villages' states.
  void MarkVillagesStale() { villages_stale_ = true; }
  // Redraws the views of the stations the batch touched (all of them when `touched` is null) and, when an alert
  // changed, the villages'. Work per batch follows what the batch did, not the size of the network. Core thread.
  void Refresh(const alerting::Engine& engine, TimePoint now, const std::vector<std::uint32_t>* touched);
  void SetCap(std::string cap);

  // Snapshots; thread-safe. With a village: only its stations (its alert state).
  std::vector<StationView> Stations(std::string_view village, TimePoint now) const;
  std::vector<alerting::AlertState> Villages(std::string_view village) const;
  std::string Cap() const;
  std::optional<std::string> DbProblem() const;

 private:
  StationView ViewOf(const StationSlot& slot, TimePoint now) const;  // under mu_

  const alerting::Network& network_;
  const alerting::EngineOptions& engine_options_;
  std::vector<StationSlot> slots_;
  bool villages_stale_ = true;  // an alert changed since villages_view_ was taken (core thread only)

  mutable std::mutex mu_;  // guards the slots' view fields and the snapshots below
  std::optional<std::string> db_problem_;
  std::vector<alerting::AlertState> villages_view_;
  std::string cap_view_;
};

}  // namespace kaoko::server
