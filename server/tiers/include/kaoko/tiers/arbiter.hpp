// The edge box's one publisher of the village's siren and alert (docs/tiers.md, "The edge box acting alone"): it
// chooses between the TAO's state (following) and the box's own engine (acting alone).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/common/metrics.hpp"
#include "kaoko/ingest/core.hpp"

namespace kaoko::server::tier {

// The edge's rule for the village's retained `siren` and `alert` on the edge broker, of which it is the only
// publisher: the TAO's state while the link is up and the journal is caught up ("following"), its own engine's state
// otherwise ("acting alone"). The engine's notifications to people are published only while acting alone; the TAO's
// (bridged down) only while following. Thread-safe.
class Arbiter : public Publisher {
 public:
  Arbiter(std::string tambon, std::string village, Metrics& metrics);
  void SetOutput(Publisher* out) { out_ = out; }

  // From the edge's own core.
  void Publish(const std::string& topic, const std::string& payload, bool retained) override;
  // The TAO's alert, siren or notification for the village (`topic` with the "kaoko/tier/up/" prefix removed).
  void FromAbove(const std::string& topic, const std::string& payload);
  // What the engine last decided before a restart (recorded, not published).
  void Seed(const std::string& topic, const std::string& payload);
  // Switches between following the TAO and acting alone; republishes the village's siren and alert from the new
  // source. Until the first switch the mode is undecided: sirens and alerts wait, notifications go out. Returns true
  // when it changed.
  bool SetFollowing(bool following, std::string_view why);
  bool following() const;
  bool decided() const;

  struct View {
    bool following = false;
    std::optional<std::string> own_siren, own_alert, tao_siren, tao_alert;
    std::uint64_t handovers = 0, suppressed_notifications = 0, relayed = 0;
  };
  View Snapshot() const;

 private:
  std::string alert_topic_, siren_topic_, notify_prefix_;
  Metrics& metrics_;
  Publisher* out_ = nullptr;
  mutable std::mutex mu_;
  std::optional<bool> mode_;  // following the TAO (true), acting alone (false), undecided
  View v_;
};

}  // namespace kaoko::server::tier
