#include "kaoko/contract/render.hpp"

#include <nlohmann/json.hpp>

#include "kaoko/contract/wire.hpp"

namespace kaoko::server {
namespace {
using json = nlohmann::json;
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
json Incident(const std::optional<std::int64_t>& id) { return id ? json(*id) : json(nullptr); }
}  // namespace

std::string RenderAlert(const alerting::AlertState& a) {
  json j{{"village", a.village},
         {"level", alerting::ToString(a.level)},
         {"incident", a.level == alerting::Level::kNormal ? json(nullptr) : Incident(a.incident)},
         {"status", alerting::ToString(a.status)},
         {"since", wire::FormatTime(a.since)},
         {"updated", wire::FormatTime(a.updated)},
         {"headline_th", a.headline_th},
         {"headline_en", a.headline_en}};
  if (a.exercise) j["exercise"] = true;
  if (!a.upstream_village.empty()) {
    j["upstream"] =
        json{{"village", a.upstream_village},
             {"name_th", a.upstream_name_th},
             {"name_en", a.upstream_name_en},
             {"level", alerting::ToString(a.upstream_level)},
             {"expected_arrival", a.expected_arrival ? json(wire::FormatTime(*a.expected_arrival)) : json(nullptr)}};
  }
  if (a.tao_overdue_since) j["tao_overdue_since"] = wire::FormatTime(*a.tao_overdue_since);
  if (a.district_notified_at) j["district_notified_at"] = wire::FormatTime(*a.district_notified_at);
  return Dump(j);
}

std::string RenderSiren(const alerting::Siren& s) {
  json j{{"on", s.on}, {"level", alerting::ToString(s.level)}, {"incident", Incident(s.incident)}};
  if (s.exercise) j["exercise"] = true;
  return Dump(j);
}

std::string RenderAnnouncement(const alerting::Announcement& a) {
  return Dump(json{{"id", a.id},
                   {"incident", a.incident},
                   {"level", alerting::ToString(a.level)},
                   {"on", a.on},
                   {"play", alerting::ToString(a.play)},
                   {"text_th", a.text_th},
                   {"text_en", a.text_en},
                   {"ts", wire::FormatTime(a.ts)},
                   {"exercise", a.exercise}});
}

std::string RenderNotification(const alerting::Notification& n) {
  json j{{"id", n.id},
         {"incident", n.incident},
         {"level", alerting::ToString(n.level)},
         {"action_needed", alerting::ToString(n.action_needed)},
         {"deadline", n.deadline ? json(wire::FormatTime(*n.deadline)) : json(nullptr)},
         {"text_th", n.text_th},
         {"text_en", n.text_en}};
  if (n.reminder) j["reminder"] = true;
  if (n.exercise) j["exercise"] = true;
  return Dump(j);
}

}  // namespace kaoko::server
