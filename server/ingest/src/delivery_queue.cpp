// The core's half of delivery (delivery_queue.hpp).
#include "delivery_queue.hpp"

#include <algorithm>
#include <chrono>

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
    bool remembered = false;
    for (const alerting::Contact& contact : person->contacts) {
      // Nothing goes to a contact without consent, nor on a channel no gateway is configured for. The web page is
      // reached through notify/{user} (handed to the broker by the effects publisher), not through the outbox.
      if (!contact.consented() || contact.channel == alerting::Channel::kWeb) continue;
      if (std::find(channels_.begin(), channels_.end(), contact.channel) == channels_.end()) continue;
      // A LINE contact may be linked later from the person's page: the delivery room reads the link when it sends,
      // and fails the row ("LINE account not linked yet") when there is none.
      if (contact.address.empty() && contact.channel != alerting::Channel::kLine) continue;
      if (!remembered) {
        outbox_.Remember({n.id, n.incident, n.village, n.level, n.action_needed, n.text_th, n.text_en, n.deadline,
                          n.reminder, n.exercise});
        remembered = true;
      }
      store::DeliveryRow row;
      row.notification = n.id;
      row.incident = n.incident;
      row.person = n.user;
      row.channel = contact.channel;
      row.urgency = alerting::UrgencyOf(n.action_needed);
      row.due = now;
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
