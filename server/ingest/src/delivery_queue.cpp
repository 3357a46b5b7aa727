// The core's half of delivery (delivery_queue.hpp).
#include "delivery_queue.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "kaoko/alerting/delivery.hpp"

namespace kaoko::server {

DeliveryQueue::DeliveryQueue(const alerting::Network& network, store::Store& store,
                             std::vector<alerting::Channel> channels)
    : network_(network), outbox_(store), channels_(std::move(channels)) {}

alerting::TimePoint ExpiryOf(const alerting::Notification& n, alerting::TimePoint now) {
  if (n.deadline && *n.deadline > now) return *n.deadline;
  return now + std::chrono::hours(6);
}

void DeliveryQueue::Queue(const alerting::Effects& pending, alerting::TimePoint now) {
  if (channels_.empty()) return;
  for (const alerting::Notification& n : pending.notifications) {
    const alerting::Person* person = network_.FindPerson(n.user);
    if (!person) continue;
    // The contacts this notification goes to: consented, on a channel kaoko can send on. A web row is sent by nobody:
    // notify/{user} and the person's page carry it, and the page says when it showed it (seen). Only for an ask: the
    // pages show what the person must do, so a row for information would only ever expire.
    std::vector<const alerting::Contact*> to;
    for (const alerting::Contact& contact : person->contacts) {
      if (!contact.consented()) continue;
      if (contact.channel == alerting::Channel::kWeb && n.action_needed == alerting::ActionNeeded::kNone) continue;
      // A LINE contact may be linked later from the person's page: the delivery room reads the link when it sends,
      // and fails the row ("LINE account not linked yet"), which brings the ladder's next forward.
      const bool needs_address =
          contact.channel != alerting::Channel::kLine && contact.channel != alerting::Channel::kWeb;
      if (contact.address.empty() && needs_address) continue;
      if (std::find(channels_.begin(), channels_.end(), contact.channel) == channels_.end()) continue;
      to.push_back(&contact);
    }
    if (to.empty()) continue;
    // The ladder (docs/delivery.md): a later channel waits its minutes and goes only if nothing reached the person
    // before (the delivery room checks when it comes due). Counted from the first channel this person really has: a
    // ladder that starts with LINE does not hold back the SMS of someone who has no LINE. The page is there at once
    // and holds back nothing: a person's SMS does not wait on a page that may be closed.
    auto is_web = [](const alerting::Contact* c) { return c->channel == alerting::Channel::kWeb; };
    auto delay = [&](const alerting::Contact* c) {
      return is_web(c) ? alerting::Seconds(0) : network_.delivery.DelayOf(n.level, c->channel);
    };
    std::optional<alerting::Seconds> first;
    for (const auto* c : to) {
      if (!is_web(c)) first = first ? std::min(*first, delay(c)) : delay(c);
    }
    outbox_.Remember({n.id, n.incident, n.village, n.level, n.action_needed, n.text_th, n.text_en, n.deadline,
                      n.reminder, n.exercise});
    for (const alerting::Contact* contact : to) {
      store::DeliveryRow row;
      row.notification = n.id;
      row.incident = n.incident;
      row.person = n.user;
      row.channel = contact->channel;
      row.urgency = alerting::UrgencyOf(n.action_needed);
      row.due = is_web(contact) ? now : now + (delay(contact) - first.value_or(alerting::Seconds(0)));
      row.queued_at = now;
      row.expires = ExpiryOf(n, now);
      outbox_.Queue(row);
    }
  }
  for (const alerting::TimelineEvent& e : pending.timeline) {
    if (e.kind == "decision") outbox_.ActedBy(e.incident, e.actor, e.ts);
  }
}

}  // namespace kaoko::server
