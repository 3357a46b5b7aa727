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
#include <functional>
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

// What a notification says, kept once for all its deliveries (the delivery room renders each channel's text from it).
// Holds no person's data: the person and the address are the delivery's.
struct DeliveryMessage {
  std::string notification;
  std::int64_t incident = 0;
  std::string village;
  alerting::Level level = alerting::Level::kNormal;
  alerting::ActionNeeded action = alerting::ActionNeeded::kNone;
  std::string text_th;
  std::string text_en;
  std::optional<TimePoint> deadline;
  bool reminder = false;
  bool exercise = false;
};

// A reply code an SMS carries ("ตอบ 1 4821"): it works once, only for its person, incident and step (`action`).
struct ReplyCode {
  std::string person;
  std::string code;
  std::int64_t incident = 0;
  alerting::ActionNeeded action = alerting::ActionNeeded::kAck;
  alerting::Level level = alerting::Level::kNormal;  // the level a declare by reply declares
  TimePoint created_at{};
  std::optional<TimePoint> used_at;
};

// A person asked to act on an incident and not reached on any channel (Outbox::Unreached).
struct UnreachedPerson {
  std::int64_t incident = 0;
  std::string person;
  alerting::ActionNeeded action = alerting::ActionNeeded::kNone;
  TimePoint first_queued{};
  bool every_channel_failed = false;  // found before the wait was over: every delivery ended failed or expired
};

class Outbox {
 public:
  explicit Outbox(Store& store) : store_(store) {}

  // Queues a delivery (state queued, due at `row.due`); a repeat of the same (notification, person, channel) is not
  // queued again. Returns the row's id, new or existing.
  std::int64_t Queue(const DeliveryRow& row);
  // Queued deliveries due at `now`, most urgent first, then oldest due: at most `limit`. A web row is due only once it
  // has expired: nothing sends it (the person's page shows it, MarkSeen), so the delivery room only ends it.
  std::vector<DeliveryRow> Due(TimePoint now, int limit);
  // Records a fact about delivery `id` at `at`: false (and nothing written) when there is no such delivery or the
  // fact may not follow its state (alerting::CanMove). `reason` for failed and expired; `gateway_ref` for sent.
  bool Move(std::int64_t id, alerting::DeliveryState to, TimePoint at, std::string_view reason = {},
            std::string_view gateway_ref = {});
  // A fact that came after the person had already acted (the phone's delivery report after their reply, the
  // gateway's acceptance after they answered on another channel): its time is kept, the state stays acted. False when
  // the delivery is not acted or already has that time. Only sent, delivered and seen.
  bool NoteLate(std::int64_t id, alerting::DeliveryState fact, TimePoint at, std::string_view gateway_ref = {});
  // Gives a queued delivery its gateway reference before the first attempt (a retry key), once: false when it has one.
  bool SetGatewayRef(std::int64_t id, std::string_view gateway_ref);
  // A send that did not go through and will be tried again at `next`: attempts + 1, the reason kept, still queued.
  bool Retry(std::int64_t id, TimePoint next, std::string_view reason);
  // The delivery a gateway's id names (a delivery report carries only that).
  std::optional<DeliveryRow> ByGatewayRef(alerting::Channel channel, std::string_view gateway_ref);
  std::optional<DeliveryRow> Find(std::int64_t id);
  // Every delivery of an incident, by person, then channel order of queueing.
  std::vector<DeliveryRow> OfIncident(std::int64_t incident);
  // How many deliveries are in each state now (for /metrics), indexed by alerting::DeliveryState.
  std::vector<std::int64_t> CountByState();
  // How many deliveries of `channel` are in `state` now.
  std::int64_t Count(alerting::Channel channel, alerting::DeliveryState state);

  // The channel on which delivery `except`'s notification already reached its person (delivered, seen or acted on
  // another channel), or nullopt: a later step of the ladder is then not needed.
  std::optional<alerting::Channel> ReachedOn(std::string_view notification, std::string_view person,
                                             std::int64_t except);
  // A delivery failed: the ladder's next steps for the same notification and person become due at `now` instead of
  // waiting. Returns how many moved forward.
  int PullForward(std::string_view notification, std::string_view person, TimePoint now);
  // People asked to act (ack, confirm, declare) whose deliveries for that step were all queued at or before
  // `asked_before` and since `since`, with none delivered, seen or acted on, and not reported yet (MarkUnreached);
  // and, without waiting for `asked_before`, those whose every delivery of the step already failed or expired (a
  // wrong number, a blocked account: no receipt will ever come).
  std::vector<UnreachedPerson> Unreached(TimePoint asked_before, TimePoint since);
  // Who else of `incident` was found not reached for `action` (reported before).
  std::vector<std::string> UnreachedOf(std::int64_t incident, alerting::ActionNeeded action);
  void MarkUnreached(const UnreachedPerson& u, TimePoint at);

  // Whose notification `notification` is as far as the outbox knows: nullopt when it has no delivery at all (unknown),
  // false when none of its deliveries is `person`'s, true when one is.
  std::optional<bool> IsFor(std::string_view notification, std::string_view person);
  // `person`'s page showed notification `notification` at `at`: each of their deliveries of it, on every channel,
  // becomes seen where alerting::CanMove allows (compare and set: the first time is kept), and an acted one keeps the
  // time as a late fact (NoteLate). Failed and expired rows stay as they are. Returns how many rows it changed.
  int MarkSeen(std::string_view notification, std::string_view person, TimePoint at);
  // The notifications that asked `person` to do `action` on `incident` (reminders too) and have a delivery of theirs,
  // oldest first: what a page showing that ask has shown.
  std::vector<std::string> NotificationsOf(std::string_view person, std::int64_t incident,
                                           alerting::ActionNeeded action);

  // Keeps what notification `m.notification` says (once; a repeat is ignored).
  void Remember(const DeliveryMessage& m);
  std::optional<DeliveryMessage> Message(std::string_view notification);

  // `person` acted on `incident` (a decision through any path) at `at`: every delivery of theirs for it that may
  // move to acted does. Returns how many moved.
  int ActedBy(std::int64_t incident, std::string_view person, TimePoint at);

  // The reply code of `person` for `incident` and step `action`: the one already given, else a new one from `fresh`
  // (tried again while it collides with another code of the person). Empty when `fresh` gives no free code in 20 tries.
  std::string CodeFor(std::string_view person, std::int64_t incident, alerting::ActionNeeded action,
                      alerting::Level level, TimePoint now, const std::function<std::string()>& fresh);
  std::optional<ReplyCode> Code(std::string_view person, std::string_view code);
  // Marks a code used at `at`: false when it is unknown or was used already (compare and set).
  bool UseCode(std::string_view person, std::string_view code, TimePoint at);

 private:
  Store& store_;
};

}  // namespace kaoko::store
