// The delivery facts: which moves are allowed, the urgency order, the retry backoff.
#include "kaoko/alerting/delivery.hpp"

#include <catch2/catch.hpp>

using namespace kaoko::alerting;
using S = DeliveryState;

TEST_CASE("delivery: states have wire names both ways", "[delivery]") {
  for (auto s : {S::kQueued, S::kSent, S::kDelivered, S::kSeen, S::kActed, S::kFailed, S::kExpired}) {
    CHECK(ParseDeliveryState(ToString(s)) == s);
  }
  CHECK_FALSE(ParseDeliveryState("notified"));
  CHECK_FALSE(ParseDeliveryState(""));
}

TEST_CASE("delivery: a delivery moves forward only, and a later fact may come first", "[delivery]") {
  CHECK(CanMove(S::kQueued, S::kSent));
  CHECK(CanMove(S::kSent, S::kDelivered));
  CHECK(CanMove(S::kDelivered, S::kSeen));
  CHECK(CanMove(S::kSeen, S::kActed));
  // An SMS reply proves the message arrived even when its delivery report never came.
  CHECK(CanMove(S::kSent, S::kActed));
  CHECK(CanMove(S::kQueued, S::kActed));  // acted on the page before the SMS went
  // Never backwards, never the same fact twice.
  CHECK_FALSE(CanMove(S::kDelivered, S::kSent));
  CHECK_FALSE(CanMove(S::kSent, S::kQueued));
  CHECK_FALSE(CanMove(S::kSent, S::kSent));
  CHECK_FALSE(CanMove(S::kActed, S::kActed));
}

TEST_CASE("delivery: failed and expired end the sending, not the person", "[delivery]") {
  for (auto from : {S::kQueued, S::kSent, S::kDelivered, S::kSeen}) {
    CHECK(CanMove(from, S::kFailed));
    CHECK(CanMove(from, S::kExpired));
    CHECK_FALSE(IsFinal(from));
  }
  for (auto end : {S::kFailed, S::kExpired}) {
    CHECK(IsFinal(end));
    CHECK(CanMove(end, S::kActed));  // they answered on another channel
    CHECK_FALSE(CanMove(end, S::kSent));
    CHECK_FALSE(CanMove(end, S::kDelivered));
    CHECK_FALSE(CanMove(end, S::kQueued));
  }
  CHECK_FALSE(CanMove(S::kFailed, S::kExpired));
  // Nothing after acted.
  for (auto to : {S::kQueued, S::kSent, S::kDelivered, S::kSeen, S::kFailed, S::kExpired}) {
    CHECK_FALSE(CanMove(S::kActed, to));
  }
  CHECK(IsFinal(S::kActed));
}

TEST_CASE("delivery: those who must act now go first", "[delivery]") {
  CHECK(UrgencyOf(ActionNeeded::kConfirm) == Urgency::kActNow);
  CHECK(UrgencyOf(ActionNeeded::kDeclare) == Urgency::kActNow);
  CHECK(UrgencyOf(ActionNeeded::kAck) == Urgency::kAcknowledge);
  CHECK(UrgencyOf(ActionNeeded::kNone) == Urgency::kInform);
  CHECK(static_cast<int>(Urgency::kActNow) < static_cast<int>(Urgency::kAcknowledge));
  CHECK(static_cast<int>(Urgency::kAcknowledge) < static_cast<int>(Urgency::kInform));
}

TEST_CASE("delivery: retries back off, doubling up to ten minutes", "[delivery]") {
  using std::chrono::seconds;
  CHECK(RetryBackoff(0) == seconds(15));
  CHECK(RetryBackoff(1) == seconds(15));
  CHECK(RetryBackoff(2) == seconds(30));
  CHECK(RetryBackoff(3) == seconds(60));
  CHECK(RetryBackoff(6) == seconds(480));
  CHECK(RetryBackoff(7) == seconds(600));
  CHECK(RetryBackoff(1000) == seconds(600));
}
