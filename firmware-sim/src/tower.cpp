#include "kaoko/sim/tower.hpp"

#include <algorithm>

#include "kaoko/contract/wire.hpp"

namespace kaoko::sim {

std::vector<std::string> Tower::Subscriptions() const { return {wire::AnnounceTopic(config_.tambon, config_.village)}; }

std::string Tower::StatusTopic() const {
  return wire::DeviceStatusTopic(config_.tambon, config_.village, config_.device);
}

bool Tower::OnMessage(std::string_view topic, std::string_view payload, WallTime wall) {
  if (topic != wire::AnnounceTopic(config_.tambon, config_.village)) return false;
  auto a = wire::ParseAnnouncement(payload);
  if (!a) {
    ++stats_.malformed;
    return false;
  }
  if (!heard_.insert(a->id).second) return true;  // played already
  ++stats_.announcements;
  if (config_.silent) {
    ++stats_.ignored_silent;
    return true;
  }
  pending_.push_back({a->id, wall + config_.delay});
  return true;
}

std::vector<SoundedOut> Tower::Due(WallTime wall, SimTime now) {
  std::vector<SoundedOut> out;
  std::erase_if(pending_, [&](const Pending& p) {
    if (p.due > wall) return false;
    const wire::SoundedMsg msg{p.announce, std::chrono::time_point_cast<std::chrono::milliseconds>(now), true, ""};
    out.push_back(
        {wire::SoundedTopic(config_.tambon, config_.village, config_.device), wire::RenderSounded(msg), p.announce});
    ++stats_.sounded;
    return true;
  });
  return out;
}

}  // namespace kaoko::sim
