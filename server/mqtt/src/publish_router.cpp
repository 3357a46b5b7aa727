#include "kaoko/mqtt/publish_router.hpp"

#include <string_view>

namespace kaoko::server {

bool IsAckTopic(const std::string& topic) {
  // …/station/{station}/ack: a person's receipt topic may end in "/ack" too (a user named "ack").
  std::string_view t(topic);
  if (!t.ends_with("/ack")) return false;
  t.remove_suffix(4);
  const auto slash = t.rfind('/');
  return slash != std::string_view::npos && t.substr(0, slash).ends_with("/station");
}

void PublishRouter::Publish(const std::string& topic, const std::string& payload, bool retained) {
  (IsAckTopic(topic) ? acks_ : rest_).Publish(topic, payload, retained);
}

}  // namespace kaoko::server
