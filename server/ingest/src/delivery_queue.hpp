// The core's half of delivery (docs/delivery.md): each notification the engine decided is handed to the outbox, one
// row per consented contact of its person on a channel kaoko can send on, in the same transaction as the state change
// that caused it; a person's decision (through any path) marks their deliveries for the incident acted. The delivery
// room (server/delivery/) sends the rows on a thread of its own: the core never waits on a phone network.
// Core thread only.
#pragma once

#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::server {

class DeliveryQueue {
 public:
  // `channels`: those a gateway is configured for (none: nothing is queued, the outbox stays empty).
  DeliveryQueue(const alerting::Network& network, store::Store& store, std::vector<alerting::Channel> channels);

  // Inside the batch's transaction, before its commit: queues what `pending` notifies, and records who acted.
  // Idempotent (a replayed batch queues nothing twice).
  void Queue(const alerting::Effects& pending, alerting::TimePoint now);

  bool enabled() const { return !channels_.empty(); }

 private:
  const alerting::Network& network_;
  store::Outbox outbox_;
  std::vector<alerting::Channel> channels_;
};

// How long a delivery of `n` may still be sent: until its deadline, or six hours for one that asks nothing.
alerting::TimePoint ExpiryOf(const alerting::Notification& n, alerting::TimePoint now);

}  // namespace kaoko::server
