// GET /api/v1/villages (each village's alert state) with the lists' ?village= filter, and POST
// …/villages/{id}/drill (an exercise incident).
#include <fmt/format.h>

#include "api.hpp"
#include "kaoko/contract/render.hpp"

namespace kaoko::server {

using json = nlohmann::json;

// A village's pages ask for their own: on a network of thousands of villages the whole list is megabytes for a phone,
// and the newest thousand incidents may all be other villages'.
std::variant<std::string, Response> VillageFilter(ApiContext& ctx, const Call& call) {
  auto it = call.target.query.find("village");
  if (it == call.target.query.end()) return std::string();
  const std::string& village = it->second;
  if (village.empty()) {
    return ErrorJson(call.req, http::status::bad_request, "village is empty: give a village id or leave it out");
  }
  if (!ctx.network.FindVillage(village)) {
    return ErrorJson(call.req, http::status::not_found,
                     fmt::format("no village '{}' in tambon {}", village, ctx.network.tambon));
  }
  return village;
}

Response VillageList(ApiContext& ctx, const Call& call) {
  auto village = VillageFilter(ctx, call);
  if (auto* refusal = std::get_if<Response>(&village)) return std::move(*refusal);
  JsonList out;
  for (const auto& a : ctx.core.Villages(std::get<std::string>(village))) {
    // The alert as the contract renders it, with the village's names and place in the chain added.
    const alerting::Village* v = ctx.network.FindVillage(a.village);
    if (!v) {
      out.AddText(RenderAlert(a));
      continue;
    }
    out.AddText(ExtendObject(RenderAlert(a), json{{"name_th", v->name_th},
                                                  {"name_en", v->name_en},
                                                  {"order", ctx.network.VillageIndex(v->id)},
                                                  {"travel_to_next_minutes", v->travel_to_next.count() / 60}}));
  }
  return out.Done(call.req, http::status::ok);
}

Response Drill(ApiContext& ctx, const Call& call) {
  const Request& req = call.req;
  const std::string village = call.Arg(1);
  auto who = SessionOf(ctx, req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  if (!(person.role == alerting::Role::kTao ||
        (person.role == alerting::Role::kHeadman && person.village == village))) {
    return ErrorJson(req, http::status::forbidden,
                     fmt::format("only a TAO officer or the headman of {} may start a drill", village));
  }
  if (!ctx.network.FindVillage(village)) {
    return ErrorJson(req, http::status::not_found, fmt::format("no village '{}'", village));
  }
  alerting::Level level = alerting::Level::kWarning;
  if (!req.body().empty()) {
    json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object())
      return ErrorJson(req, http::status::bad_request, R"(send {"level": "watch|warning|critical"})");
    if (body.contains("level")) {
      auto l = body["level"].is_string() ? alerting::ParseLevel(body["level"].get<std::string>()) : std::nullopt;
      if (!l || *l == alerting::Level::kNormal) {
        return ErrorJson(req, http::status::bad_request, "level must be watch, warning or critical");
      }
      level = *l;
    }
  }
  auto error = ctx.core.Command(
      [&](alerting::Engine& engine, wire::TimePoint now) { return engine.StartDrill(village, person.id, now, level); });
  if (error) return ErrorJson(req, http::status::conflict, *error);
  json j{{"ok", true}, {"village", village}, {"level", alerting::ToString(level)}};
  for (const auto& a : ctx.core.Villages()) {
    if (a.village == village && a.exercise && a.incident) j["incident"] = *a.incident;
  }
  return Json(req, http::status::ok, j);
}

}  // namespace kaoko::server
