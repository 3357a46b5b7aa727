// The effects publisher: once a batch has committed, what it decided leaves here — the engine's alerts, sirens (with
// their announcements to the villages' devices), notifications and receipts over MQTT (in that order, an alert first),
// the batch's own messages, the retained CAP document (cut to what the broker takes), and the events the open screens
// redraw from. Core thread only, except SetObserver (before the core runs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "read_model.hpp"

namespace kaoko::server {

class EffectsPublisher {
 public:
  EffectsPublisher(const alerting::Network& network, Publisher& publisher, Metrics& metrics, ReadModel& views);

  void SetObserver(std::function<void(std::vector<LiveEvent>)> observer, std::function<bool()> listening);
  // Whether anyone would see live events: when not, they are not even built (a reading costs nothing for screens).
  bool Observed() const { return observer_ && (!listening_ || listening_()); }

  // The engine's committed effects: alerts, sirens, notifications, receipts, in order.
  void PublishEffects(const alerting::Effects& fx);
  // Messages a batch made itself (receipts of refusals and repeats).
  void PublishOutgoing(const std::vector<Outgoing>& out);
  // The CAP document as of `now`: retained on MQTT within the broker's bound, whole for the HTTP API.
  void PublishCap(const alerting::Engine& engine, TimePoint now);
  // What open screens should redraw: the newest reading per station of the batch and every engine effect.
  std::vector<LiveEvent> LiveEvents(const Batch& b, const alerting::Effects& fx, TimePoint now) const;
  // Hands the events to the observer (nothing when there are none).
  void Announce(std::vector<LiveEvent> live) const;

 private:
  const alerting::Network& network_;
  Publisher& publisher_;
  Metrics& metrics_;
  ReadModel& views_;
  std::function<void(std::vector<LiveEvent>)> observer_;
  std::function<bool()> listening_;
};

}  // namespace kaoko::server
