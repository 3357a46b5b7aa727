// The delivery outbox (docs/delivery.md, migration 10): one row per notification, person and channel, with every fact
// kaoko has seen about it (queued, sent, delivered, seen, acted, failed, expired) and when. The core queues rows in
// the same transaction as the state change that caused them, so a crash loses none and replays add none
// (UNIQUE (notification, person, channel)); the delivery room takes them in urgency order and records what the
// gateways answer. Moves follow alerting::CanMove: a fact that may not follow the row's state is not written.
//
// An Outbox works on one Store's connection, inside whatever transaction that Store has open. Not thread-safe: use
// it from the Store's thread only. No contact address is kept here: the row names the person and the channel, and
// the address is read from the network when the message goes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/alerting/delivery.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::store {

struct DeliveryRow {
  std::int64_t id = 0;       // set by the store
  std::string notification;  // the engine's notification id ("n-…")
  std::int64_t incident = 0;
  std::string person;
  alerting::Channel channel = alerting::Channel::kWeb;
  alerting::Urgency urgency = alerting::Urgency::kInform;
  alerting::DeliveryState state = alerting::DeliveryState::kQueued;
  std::string reason;       // why it failed or expired; empty otherwise
  int attempts = 0;         // sends tried
  TimePoint due{};          // when to try next (queued only)
  TimePoint expires{};      // after this it is not sent any more
  std::string gateway_ref;  // the gateway's id for the message (an SMSC message id, a LINE request id)
  TimePoint queued_at{};
  std::optional<TimePoint> sent_at, delivered_at, seen_at, acted_at, ended_at;  // ended: failed or expired
};

class Outbox {
 public:
  explicit Outbox(Store& store) : store_(store) {}

  // Queues a delivery (state queued, due at `row.due`); a repeat of the same (notification, person, channel) is not
  // queued again. Returns the row's id, new or existing.
  std::int64_t Queue(const DeliveryRow& row);
  // Queued deliveries due at `now`, most urgent first, then oldest due: at most `limit`.
  std::vector<DeliveryRow> Due(TimePoint now, int limit);
  // Records a fact about delivery `id` at `at`: false (and nothing written) when there is no such delivery or the
  // fact may not follow its state (alerting::CanMove). `reason` for failed and expired; `gateway_ref` for sent.
  bool Move(std::int64_t id, alerting::DeliveryState to, TimePoint at, std::string_view reason = {},
            std::string_view gateway_ref = {});
  // A send that did not go through and will be tried again at `next`: attempts + 1, the reason kept, still queued.
  bool Retry(std::int64_t id, TimePoint next, std::string_view reason);
  // The delivery a gateway's id names (a delivery report carries only that).
  std::optional<DeliveryRow> ByGatewayRef(alerting::Channel channel, std::string_view gateway_ref);
  std::optional<DeliveryRow> Find(std::int64_t id);
  // Every delivery of an incident, by person, then channel order of queueing.
  std::vector<DeliveryRow> OfIncident(std::int64_t incident);
  // How many deliveries are in each state now (for /metrics), indexed by alerting::DeliveryState.
  std::vector<std::int64_t> CountByState();

 private:
  Store& store_;
};

}  // namespace kaoko::store
