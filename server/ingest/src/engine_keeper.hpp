// The engine keeper: the alerting engine the core thread feeds, the effects it decided that are not yet committed,
// and the engine's persistence: what a batch changed is written inside its transaction (Save), read back at start
// (Load) and after a rolled-back batch (Reload), so that a restart or a failed batch resumes every deadline with the
// state the database holds. Core thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "kaoko/alerting/engine.hpp"
#include "read_model.hpp"
#include "readings_merger.hpp"

namespace kaoko::server {

class EngineKeeper {
 public:
  EngineKeeper(const alerting::Network& network, store::Store& store, const CoreOptions& options, ReadModel& views,
               ReadingsMerger& merger);

  alerting::Engine& engine() { return engine_; }
  const alerting::Engine& engine() const { return engine_; }
  // Effects decided and not yet committed (a rolled-back batch drops them with the engine's state: Reload).
  const alerting::Effects& pending() const { return pending_; }
  // Adds what the engine decided to the pending effects. Inline: called for every reading.
  void Apply(alerting::Effects fx) {
    if (!fx.Empty()) Absorb(std::move(fx));
  }

  // Reads the engine's state from the database and replays the readings stored since each station's state was
  // saved. Throws when the state is unreadable.
  void Load(bool announce = true);
  // Writes what the engine changed in this batch, inside its transaction.
  void Save();
  // After a rolled-back batch: the engine as the database last committed it, its uncommitted effects dropped, the
  // views redrawn. Throws when the state cannot be read back (stale() then stays true and the next batch tries again).
  void Reload();
  bool stale() const { return stale_; }

  // After a commit: the stations whose state moved (their views are redrawn), and the committed effects, taken.
  std::vector<std::uint32_t> Committed();
  alerting::Effects TakePending();

 private:
  void Absorb(alerting::Effects fx);
  // Load's two halves: the saved state into the engine (false: nothing saved), then the replay.
  bool ImportSaved(bool announce);
  void ReplayUnsaved(bool announce);
  // Save's part for villages' alert states, sirens and remembered messages.
  void SaveVillagesAndSeen();

  const alerting::Network& network_;
  store::Store& store_;
  const CoreOptions& options_;
  ReadModel& views_;
  ReadingsMerger& merger_;
  alerting::Engine engine_;
  alerting::Effects pending_;
  bool touched_ = false;     // the engine's counters, alerts or sirens may have changed since the last save
  bool stale_ = false;       // a batch was rolled back and the engine could not be read back yet
  bool meta_whole_ = false;  // engine_meta still holds every village's state (an older kaoko's): Save moves it
};

}  // namespace kaoko::server
