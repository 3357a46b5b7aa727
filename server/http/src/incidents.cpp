// GET /api/v1/incidents (the newest thousand, open or all), GET …/incidents/{id} (one with its timeline) and GET
// …/cap (the CAP 1.2 document of the open alerts), all as stored after the core's last commit.
#include <fmt/format.h>

#include <charconv>

#include "api.hpp"
#include "kaoko/ingest/engine_codec.hpp"

namespace kaoko::server {

using json = nlohmann::json;

std::optional<std::int64_t> ParseIncidentId(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

Response BadIncidentId(const Request& req, std::string_view text) {
  return ErrorJson(req, http::status::bad_request, fmt::format("incident id '{}' is not a positive number", text));
}

std::variant<alerting::Incident, Response> StoredIncident(ApiContext& ctx, const Request& req, std::int64_t id) {
  auto row = ctx.reader->Incident(id);
  if (!row) return ErrorJson(req, http::status::not_found, fmt::format("no incident {}", id));
  auto inc = DecodeIncident(row->state);
  if (!inc) return ErrorJson(req, http::status::internal_server_error, inc.error().reason);
  return std::move(*inc);
}

Response IncidentList(ApiContext& ctx, const Call& call) {
  auto village = VillageFilter(ctx, call);
  if (auto* refusal = std::get_if<Response>(&village)) return std::move(*refusal);
  auto it = call.target.query.find("status");
  if (it != call.target.query.end() && it->second != "open" && it->second != "all") {
    return ErrorJson(call.req, http::status::bad_request, "status must be open or all");
  }
  bool open_only = it == call.target.query.end() || it->second == "open";
  json out = json::array();
  for (const auto& row : ctx.reader->Incidents(open_only, 1000, std::get<std::string>(village))) {
    auto inc = DecodeIncident(row.state);
    if (!inc) continue;
    json j = IncidentPublicJson(*inc);
    if (!inc->closed) j["reach"] = ReachJson(*ctx.reader, *inc);
    out.push_back(std::move(j));
  }
  return Json(call.req, http::status::ok, out);
}

Response IncidentDetail(ApiContext& ctx, const Call& call) {
  const Request& req = call.req;
  auto id = ParseIncidentId(call.seg[1]);
  if (!id) return BadIncidentId(req, call.seg[1]);
  auto inc = StoredIncident(ctx, req, *id);
  if (auto* refusal = std::get_if<Response>(&inc)) return std::move(*refusal);
  json j = IncidentPublicJson(std::get<alerting::Incident>(inc));
  json timeline = json::array();
  for (const auto& e : ctx.reader->Timeline(*id)) {
    timeline.push_back(json{{"ts", wire::FormatTime(e.ts)},
                            {"kind", e.kind},
                            {"actor", e.actor},
                            {"via", e.via},
                            {"text_th", e.text_th},
                            {"text_en", e.text_en}});
  }
  j["timeline"] = std::move(timeline);
  j["deliveries"] = DeliveriesJson(*ctx.reader, *id);
  j["reach"] = ReachJson(*ctx.reader, std::get<alerting::Incident>(inc));
  return Json(req, http::status::ok, j);
}

Response CapDocument(ApiContext& ctx, const Call& call) {
  return Text(call.req, http::status::ok, "application/cap+xml; charset=utf-8", ctx.core.Cap(), "no-store");
}

}  // namespace kaoko::server
