// The edge's arbiter (arbiter.hpp): the one publisher of the village's siren and alert on the edge broker.
#include "kaoko/tiers/arbiter.hpp"

#include <fmt/format.h>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/wire.hpp"

namespace kaoko::server::tier {

Arbiter::Arbiter(std::string tambon, std::string village, Metrics& metrics)
    : alert_topic_(wire::AlertTopic(tambon, village)),
      siren_topic_(wire::SirenTopic(tambon, village)),
      notify_prefix_(fmt::format("kaoko/v1/{}/{}/notify/", tambon, village)),
      metrics_(metrics) {}

void Arbiter::Publish(const std::string& topic, const std::string& payload, bool retained) {
  // Publishing under the lock keeps the order of a switch and the core's own messages (Publish only queues).
  std::lock_guard lock(mu_);
  bool pass = true;
  if (topic == siren_topic_) {
    v_.own_siren = payload;
    pass = mode_ == false;
  } else if (topic == alert_topic_) {
    v_.own_alert = payload;
    pass = mode_ == false;
  } else if (topic.starts_with(notify_prefix_)) {
    pass = mode_ != true;
    if (!pass) {
      ++v_.suppressed_notifications;
      metrics_.Count("kaoko_tier_edge_total", "own_notification_suppressed");
    }
  }
  if (pass && out_) out_->Publish(topic, payload, retained);
}

void Arbiter::FromAbove(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  bool retained = false;
  if (topic == siren_topic_) {
    v_.tao_siren = payload;
    retained = true;
  } else if (topic == alert_topic_) {
    v_.tao_alert = payload;
    retained = true;
  } else if (!topic.starts_with(notify_prefix_)) {
    return;  // not the village's: nothing to relay
  }
  if (mode_ == true && out_) {
    out_->Publish(topic, payload, retained);
    ++v_.relayed;
    metrics_.Count("kaoko_tier_edge_total", "relayed_from_tao");
  }
}

void Arbiter::Seed(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(mu_);
  if (topic == siren_topic_) v_.own_siren = payload;
  if (topic == alert_topic_) v_.own_alert = payload;
}

bool Arbiter::SetFollowing(bool following, std::string_view why) {
  std::lock_guard lock(mu_);
  if (mode_ == following) return false;
  mode_ = following;
  v_.following = following;
  ++v_.handovers;
  metrics_.Count("kaoko_tier_edge_total", following ? "handover_to_tao" : "acting_alone");
  // The village's siren and alert now come from the other source. A state not known (never published) is left as it
  // stands: a siren is never switched off for want of a message.
  const auto& siren = following ? v_.tao_siren : v_.own_siren;
  const auto& alert = following ? v_.tao_alert : v_.own_alert;
  if (out_) {
    if (siren) out_->Publish(siren_topic_, *siren, true);
    if (alert) out_->Publish(alert_topic_, *alert, true);
  }
  if (following) {
    log::Info("tier", "following the TAO again ({}): the village's siren and alert are the TAO's", why);
  } else {
    log::Warn("tier", "acting alone ({}): this box's own engine sounds the siren and notifies the village", why);
  }
  return true;
}

bool Arbiter::following() const {
  std::lock_guard lock(mu_);
  return mode_ == true;
}

bool Arbiter::decided() const {
  std::lock_guard lock(mu_);
  return mode_.has_value();
}

Arbiter::View Arbiter::Snapshot() const {
  std::lock_guard lock(mu_);
  return v_;
}

}  // namespace kaoko::server::tier
