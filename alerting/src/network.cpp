#include "kaoko/alerting/network.hpp"

#include <algorithm>

namespace kaoko::alerting {

const char* ToString(Level level) {
  switch (level) {
    case Level::kNormal: return "normal";
    case Level::kWatch: return "watch";
    case Level::kWarning: return "warning";
    case Level::kCritical: return "critical";
  }
  return "normal";
}

std::optional<Level> ParseLevel(std::string_view text) {
  if (text == "normal") return Level::kNormal;
  if (text == "watch") return Level::kWatch;
  if (text == "warning") return Level::kWarning;
  if (text == "critical") return Level::kCritical;
  return std::nullopt;
}

const char* ThaiName(Level level) {
  switch (level) {
    case Level::kNormal: return "ภาวะปกติ";
    case Level::kWatch: return "เฝ้าระวัง";
    case Level::kWarning: return "เตือนภัย";
    case Level::kCritical: return "เตือนภัยรุนแรง — อพยพ";
  }
  return "ภาวะปกติ";
}

const char* ToString(Role role) {
  switch (role) {
    case Role::kWatcher: return "watcher";
    case Role::kCommittee: return "committee";
    case Role::kHeadman: return "headman";
    case Role::kDeputy: return "deputy";
    case Role::kTao: return "tao";
  }
  return "watcher";
}

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "watcher") return Role::kWatcher;
  if (text == "committee") return Role::kCommittee;
  if (text == "headman") return Role::kHeadman;
  if (text == "deputy") return Role::kDeputy;
  if (text == "tao") return Role::kTao;
  return std::nullopt;
}

namespace {
template <typename T>
const T* FindById(const std::vector<T>& items, std::string_view id) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.id == id; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Village* Network::FindVillage(std::string_view id) const { return FindById(villages, id); }
const Station* Network::FindStation(std::string_view id) const { return FindById(stations, id); }
const Person* Network::FindPerson(std::string_view id) const { return FindById(people, id); }

int Network::VillageIndex(std::string_view id) const {
  for (size_t i = 0; i < villages.size(); ++i) {
    if (villages[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace kaoko::alerting
