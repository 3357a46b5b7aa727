// POST /api/v1/incidents/{id}/decisions: a person's decision from the pages, judged by the decision policy
// (alerting/decision_policy.hpp) as the engine judges it, and handed to the core as a typed wire::DecisionMsg.
#include <fmt/format.h>

#include "api.hpp"
#include "kaoko/alerting/decision_policy.hpp"

namespace kaoko::server {
namespace {

// The body as on MQTT; the id, the time and the incident may be left to the server (wire::ParseWebDecision).
std::variant<wire::DecisionMsg, Response> ParseWebDecision(ApiContext& ctx, const Request& req, std::int64_t id) {
  auto decision = wire::ParseWebDecision(
      req.body(), {.incident = id, .id = "web-" + RandomToken().substr(0, 16), .ts = ctx.core.Now()});
  if (!decision) return ErrorJson(req, http::status::bad_request, decision.error().reason);
  return std::move(*decision);
}

// The 403 of a decision the person may not take (their role or village); what the incident's step refuses is the
// engine's to answer, with its receipt.
std::string PersonRefusal(const alerting::Person& p, const store::IncidentRow& inc, const wire::DecisionMsg& d) {
  using alerting::DecisionRefusal;
  const auto refusal = alerting::JudgeDecision({p.role, p.village == inc.village, inc.kind == "station",
                                                alerting::ParseStage(inc.stage).value_or(alerting::Stage::kReported),
                                                d.action, d.level});
  if (!alerting::IsPersonRefusal(refusal)) return "";
  const std::string action = alerting::ToString(d.action);
  switch (refusal) {
    case DecisionRefusal::kStationFaultNeedsTao:
      return "only a TAO officer may act on a station fault (เฉพาะเจ้าหน้าที่ อบต.)";
    case DecisionRefusal::kNotVillageResponder:
      return fmt::format(
          "only a committee member, the headman or the deputy of {} may acknowledge "
          "(เฉพาะกรรมการหมู่บ้านหรือผู้ใหญ่บ้าน)",
          inc.village);
    case DecisionRefusal::kNotHeadman:
      return fmt::format("only the headman or deputy of {} may {} (เฉพาะผู้ใหญ่บ้าน)", inc.village, action);
    default:
      return fmt::format("only a TAO officer may {} (เฉพาะเจ้าหน้าที่ อบต.)", action);
  }
}

Response Decide(ApiContext& ctx, const Request& req, std::int64_t id) {
  auto who = SessionOf(ctx, req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  auto decision = ParseWebDecision(ctx, req, id);
  if (auto* refusal = std::get_if<Response>(&decision)) return std::move(*refusal);
  const auto& d = std::get<wire::DecisionMsg>(decision);
  auto row = ctx.reader->Incident(id);
  if (!row) return ErrorJson(req, http::status::not_found, fmt::format("no incident {}", id));
  if (auto why = PersonRefusal(person, *row, d); !why.empty()) return ErrorJson(req, http::status::forbidden, why);
  auto result = ctx.core.Decide(person.id, d, "http");
  if (result.error) return ErrorJson(req, http::status::service_unavailable, *result.error);
  if (!result.receipt) return ErrorJson(req, http::status::internal_server_error, "no receipt");
  const auto& r = *result.receipt;
  // The receipt as MQTT carries it (a refused one names its error there too).
  return JsonText(req, r.ok ? http::status::ok : http::status::conflict,
                  wire::RenderReceipt(r.ref, r.ok, r.incident, r.error));
}

}  // namespace

Response Decisions(ApiContext& ctx, const Call& call) {
  auto id = ParseIncidentId(call.seg[1]);
  if (!id) {
    // The session is checked before the path, so that no probing without one learns anything.
    auto who = SessionOf(ctx, call.req, true);
    if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
    return BadIncidentId(call.req, call.seg[1]);
  }
  return Decide(ctx, call.req, *id);
}

}  // namespace kaoko::server
