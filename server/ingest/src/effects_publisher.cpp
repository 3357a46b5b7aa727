#include "effects_publisher.hpp"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/render.hpp"

namespace kaoko::server {

namespace {
// The retained CAP document's bound on MQTT: under the brokers' max_packet_size (256 KiB, broker-config/), with room
// for the topic and the packet's header.
constexpr std::size_t kMaxCapPublishBytes = 200 * 1024;
}  // namespace

EffectsPublisher::EffectsPublisher(const alerting::Network& network, Publisher& publisher, Metrics& metrics,
                                   ReadModel& views)
    : network_(network), publisher_(publisher), metrics_(metrics), views_(views) {}

void EffectsPublisher::SetObserver(std::function<void(std::vector<LiveEvent>)> observer,
                                   std::function<bool()> listening) {
  observer_ = std::move(observer);
  listening_ = std::move(listening);
}

void EffectsPublisher::PublishEffects(const alerting::Effects& fx) {
  for (const auto& a : fx.alerts) {
    publisher_.Publish(wire::AlertTopic(network_.tambon, a.village), RenderAlert(a), true);
  }
  for (const auto& s : fx.sirens) {
    publisher_.Publish(wire::SirenTopic(network_.tambon, s.village), RenderSiren(s), true);
  }
  // Each siren change's announcement, for the village's towers and sirens (retained: a device that reconnects plays
  // what stands).
  for (const auto& a : fx.announcements) {
    publisher_.Publish(wire::AnnounceTopic(network_.tambon, a.village), RenderAnnouncement(a), true);
  }
  for (const auto& n : fx.notifications) {
    publisher_.Publish(wire::NotifyTopic(network_.tambon, n.village, n.user), RenderNotification(n), false);
  }
  for (const auto& r : fx.receipts) {
    publisher_.Publish(wire::ReceiptTopic(network_.tambon, r.village, r.user),
                       wire::RenderReceipt(r.ref, r.ok, r.incident, r.error), false);
  }
}

void EffectsPublisher::PublishOutgoing(const std::vector<Outgoing>& out) {
  for (const auto& o : out) publisher_.Publish(o.topic, o.payload, o.retained);
}

void EffectsPublisher::PublishCap(const alerting::Engine& engine, TimePoint now) {
  std::string cap = engine.Cap(now);
  if (cap.size() <= kMaxCapPublishBytes) {
    publisher_.Publish(wire::CapTopic(network_.tambon), cap, true);
  } else {
    // Over the broker's max_packet_size the broker would drop kaoko's connection (and again after every
    // reconnect): the retained topic gets the most severe incidents that fit; GET /api/v1/cap keeps them all.
    std::size_t omitted = 0;
    publisher_.Publish(wire::CapTopic(network_.tambon), engine.Cap(now, kMaxCapPublishBytes, &omitted, &cap), true);
    metrics_.Count("kaoko_cap_truncated_total", "mqtt");
    if (log::ShouldLog("cap_truncated")) {
      log::Warn("core",
                "CAP document of {} bytes is over the MQTT bound of {}: published without {} of the least "
                "severe incidents (GET /api/v1/cap has them all)",
                cap.size(), kMaxCapPublishBytes, omitted);
    }
  }
  views_.SetCap(std::move(cap));
}

std::vector<LiveEvent> EffectsPublisher::LiveEvents(const Batch& b, const alerting::Effects& fx, TimePoint now) const {
  std::vector<LiveEvent> live;
  std::unordered_map<StationSlot*, const wire::Reading*> newest;
  for (const auto& [slot, reading] : b.latest) {
    auto& n = newest[slot];
    if (!n || reading.ts >= n->ts) n = &reading;
  }
  for (const auto& [slot, reading] : newest) {
    live.push_back(
        {"reading",
         fmt::format(R"({{"station":"{}","seq":{},"ts":"{}","level_cm":{},"level":"{}","health":"{}"}})",
                     views_.StationOf(*slot).id, reading->seq, wire::FormatTime(reading->ts), reading->level_cm,
                     alerting::ToString(slot->level), alerting::ToString(views_.HealthOf(*slot, now))),
         views_.StationOf(*slot).village, "", 0});
  }
  for (const auto& a : fx.alerts) live.push_back({"alert", RenderAlert(a), a.village, "", 0});
  for (const auto& s : fx.sirens) {
    live.push_back(
        {"siren", fmt::format(R"({{"village":"{}","siren":{}}})", s.village, RenderSiren(s)), s.village, "", 0});
  }
  for (const auto& n : fx.notifications) {
    live.push_back(
        {"notification",
         fmt::format(R"({{"user":"{}","village":"{}","notification":{}}})", n.user, n.village, RenderNotification(n)),
         n.village, n.user, 0});
  }
  std::set<std::int64_t> incidents;
  for (const auto& e : fx.timeline) incidents.insert(e.incident);
  for (auto id : incidents) live.push_back({"incident", fmt::format(R"({{"id":{}}})", id), "", "", id});
  return live;
}

void EffectsPublisher::Announce(std::vector<LiveEvent> live) const {
  if (observer_ && !live.empty()) observer_(std::move(live));
}

}  // namespace kaoko::server
