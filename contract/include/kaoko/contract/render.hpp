// The JSON payloads kaoko publishes for the engine's effects, exactly as the contract shows them (docs/protocol.md),
// with kaoko's optional additions (`exercise`, `reminder`). Pure functions; thread-safe.
#pragma once

#include <string>

#include "kaoko/alerting/events.hpp"

namespace kaoko::server {

// {"village","level","incident","status","since","updated","headline_th","headline_en","exercise"}
std::string RenderAlert(const alerting::AlertState& alert);
// {"on","level","incident","exercise"}
std::string RenderSiren(const alerting::Siren& siren);
// {"id","incident","level","on","play","text_th","text_en","ts","exercise"} (docs/protocol.md, "The tower and the
// siren")
std::string RenderAnnouncement(const alerting::Announcement& a);
// {"id","incident","level","action_needed","deadline","text_th","text_en","reminder","exercise"}
std::string RenderNotification(const alerting::Notification& n);

}  // namespace kaoko::server
