// The village's broadcast towers (หอกระจายข่าว) and sirens as devices that say that they sounded. Whenever the engine
// switches a village's siren it also makes an Announcement for the village's devices (`{village}/announce`), and
// each device of the network file is expected to answer (`device/{id}/sounded`) within its answer_after. The engine
// records every answer on the announcement's incident (sounded, sounded late, could not play), and when a deadline
// passes unanswered it says so on the timeline and tells the TAO officers. Pure logic: time is passed in, no IO.
//
// The Engine owns one TowerWatch and does the talking (Engine::OnDeviceSounded, and its private AnnounceToDevices and
// AdvanceTowers, defined in tower_watch.cpp); this class keeps who is expected to answer what, and until when, so that
// it can be saved with each village's state (EngineState::towers) and survive a restart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/alerting/events.hpp"

namespace kaoko::alerting {

struct EngineState;

// One answer kaoko waits for, or has waited for: one device and one announcement.
struct TowerExpectation {
  std::string device;
  std::string village;
  std::string announce;  // the announcement's id, "a-12"
  std::int64_t incident = 0;
  bool exercise = false;
  TimePoint sent{};
  TimePoint deadline{};   // sent + the device's answer_after
  bool answered = false;  // an answer came (in time, late, or could not play): a repeat is recorded once
  bool missed = false;    // the deadline passed unanswered and the TAO was told
};

// Who is expected to answer which announcement. Not thread-safe (the engine's thread); every call is linear in the
// expectations kept, which are a few per device (see Prune).
class TowerWatch {
 public:
  // How long a missed announcement still takes a late answer ("sounded late, at …"); after that it is forgotten.
  static constexpr Seconds kKeepMissed{std::chrono::hours(6)};
  // At most this many expectations are kept per device (the oldest go first): a device that never answers cannot
  // grow the saved state without bound during a long flood.
  static constexpr std::size_t kMaxPerDevice = 16;

  // The next announcement's id, "a-<n>", and counts it.
  std::string NextId() { return "a-" + std::to_string(next_announcement_++); }
  std::int64_t next_announcement() const { return next_announcement_; }

  // Waits for `device` to answer `announcement` by `deadline`.
  void Expect(const Announcement& announcement, const std::string& device, TimePoint deadline);
  // The expectation of this device and announcement; nullptr when there is none (never sent, or forgotten).
  TowerExpectation* Find(std::string_view device, std::string_view announce);
  // Marks every unanswered expectation whose deadline is at or before `now` missed, and returns copies of them.
  std::vector<TowerExpectation> TakeDue(TimePoint now);
  // Forgets what is settled: answered ones once their deadline has passed, missed ones kKeepMissed after it. Returns
  // the villages whose expectations changed (to be saved).
  std::vector<std::string> Prune(TimePoint now);
  // The earliest deadline still awaited; nullopt when none.
  std::optional<TimePoint> NextDeadline() const;

  // ---- durable state (EngineState::next_announcement and ::towers)
  // Everything into `state` (its towers replaced).
  void Export(EngineState& state) const;
  // Only `village`'s expectations, appended to state.towers (saved with the village's row).
  void ExportVillage(std::string_view village, EngineState& state) const;
  // Replaces everything with what `state` holds.
  void Import(const EngineState& state);

 private:
  std::vector<TowerExpectation> expected_;  // in the order sent
  std::int64_t next_announcement_ = 1;
};

}  // namespace kaoko::alerting
