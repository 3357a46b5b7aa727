#include "kaoko/alerting/delivery.hpp"

#include <algorithm>

namespace kaoko::alerting {

const char* ToString(DeliveryState state) {
  switch (state) {
    case DeliveryState::kQueued:
      return "queued";
    case DeliveryState::kSent:
      return "sent";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kSeen:
      return "seen";
    case DeliveryState::kActed:
      return "acted";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kExpired:
      return "expired";
  }
  return "queued";
}

std::optional<DeliveryState> ParseDeliveryState(std::string_view text) {
  for (auto s : {DeliveryState::kQueued, DeliveryState::kSent, DeliveryState::kDelivered, DeliveryState::kSeen,
                 DeliveryState::kActed, DeliveryState::kFailed, DeliveryState::kExpired}) {
    if (text == ToString(s)) return s;
  }
  return std::nullopt;
}

bool CanMove(DeliveryState from, DeliveryState to) {
  using S = DeliveryState;
  if (from == to || from == S::kActed) return false;
  if (from == S::kFailed || from == S::kExpired) return to == S::kActed;
  if (to == S::kFailed || to == S::kExpired) return true;  // from queued, sent, delivered or seen
  if (to == S::kQueued) return false;
  return static_cast<int>(to) > static_cast<int>(from);  // sent < delivered < seen < acted
}

bool IsFinal(DeliveryState state) {
  return state == DeliveryState::kActed || state == DeliveryState::kFailed || state == DeliveryState::kExpired;
}

Urgency UrgencyOf(ActionNeeded action) {
  switch (action) {
    case ActionNeeded::kConfirm:
    case ActionNeeded::kDeclare:
      return Urgency::kActNow;
    case ActionNeeded::kAck:
      return Urgency::kAcknowledge;
    case ActionNeeded::kNone:
      return Urgency::kInform;
  }
  return Urgency::kInform;
}

std::chrono::seconds RetryBackoff(int attempt) {
  const int doublings = std::clamp(attempt - 1, 0, 10);
  return std::min(std::chrono::seconds(15) * (1 << doublings), std::chrono::seconds(600));
}

}  // namespace kaoko::alerting
