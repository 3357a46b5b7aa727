// What a delivery is and how it may move: the facts kaoko records about reaching one person on one channel
// (docs/delivery.md). Pure rules, time passed in; the store keeps the rows, the delivery room carries them out.
//
//   queued → sent → delivered → seen → acted        (each step may be skipped: a reply proves delivery)
//      ↘        ↘          ↘        ↘
//       failed / expired (with the reason)          acted also after failed or expired: the person acted elsewhere
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "kaoko/alerting/events.hpp"

namespace kaoko::alerting {

enum class DeliveryState { kQueued, kSent, kDelivered, kSeen, kActed, kFailed, kExpired };
// Wire names: "queued", "sent", "delivered", "seen", "acted", "failed", "expired".
const char* ToString(DeliveryState state);
std::optional<DeliveryState> ParseDeliveryState(std::string_view text);

// Whether a delivery in `from` may be recorded as `to`. Forward only along the chain; a later fact may arrive first
// (an SMS reply before its delivery report) and the skipped steps stay empty; failed and expired end the sending but
// not the person: they may still act through another path. Nothing moves out of acted, and no state repeats.
bool CanMove(DeliveryState from, DeliveryState to);

// True for the states after which nothing more is sent on this delivery.
bool IsFinal(DeliveryState state);

// How soon a delivery must go, most urgent first: a person who must act now (confirm, declare), then one who must
// acknowledge, then information. The outbox sends in this order, so a flood in five villages does not starve the
// one at critical.
enum class Urgency { kActNow = 0, kAcknowledge = 1, kInform = 2 };
Urgency UrgencyOf(ActionNeeded action);

// The wait before attempt `attempt` (1 = the first retry): 15 s, 30 s, 1 min, 2 min, … doubling up to 10 min.
std::chrono::seconds RetryBackoff(int attempt);

}  // namespace kaoko::alerting
