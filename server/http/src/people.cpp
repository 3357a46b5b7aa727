// The people's session (docs/screens.md): the cookie and CSRF check every state-changing call makes, POST login and
// logout, GET me and me/notifications, and POST me/notifications/seen (the page showed them: docs/delivery.md).
#include <fmt/format.h>
#include <sodium.h>

#include "api.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/ingest/engine_codec.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::server {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSessionCookie = "kaoko_session";

std::string CookieValue(const Request& req, std::string_view name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return {};
  std::string_view all(it->value().data(), it->value().size());
  while (!all.empty()) {
    auto semi = all.find(';');
    std::string_view pair = all.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return {};
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Who is logged in, with what the pages need to start: the CSRF token, the broker's WebSocket and the tambon.
json PersonJson(const ApiContext& ctx, const Principal& who) {
  const alerting::Person& p = *who.person;
  json j{{"user", p.id},
         {"role", alerting::ToString(p.role)},
         {"village", p.village.empty() ? json(nullptr) : json(p.village)},
         {"name_th", p.name_th},
         {"name_en", p.name_en}};
  if (const auto* v = ctx.network.FindVillage(p.village)) {
    j["village_name_th"] = v->name_th;
    j["village_name_en"] = v->name_en;
  }
  j["csrf"] = who.csrf;
  j["mqtt_ws"] = ctx.web.mqtt_ws_url.empty() ? json(nullptr) : json(ctx.web.mqtt_ws_url);
  j["tambon"] = ctx.network.tambon;
  return j;
}

}  // namespace

std::variant<Principal, Response> SessionOf(ApiContext& ctx, const Request& req, bool state_changing) {
  std::optional<Principal> who;
  if (ctx.auth) who = ctx.auth->Authenticate(CookieValue(req, kSessionCookie));
  if (!who) {
    return ErrorJson(req, http::status::unauthorized,
                     "log in first: this needs a session of the right role (กรุณาเข้าสู่ระบบก่อน)");
  }
  if (state_changing) {
    auto it = req.find("X-CSRF-Token");
    std::string_view sent =
        it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
    if (!SameSecret(sent, who->csrf)) {
      return ErrorJson(req, http::status::forbidden,
                       "missing or wrong X-CSRF-Token header: take it from GET /api/v1/me or the login answer");
    }
  }
  return *who;
}

Response Login(ApiContext& ctx, const Call& call) {
  const Request& req = call.req;
  if (!ctx.auth) return ErrorJson(req, http::status::service_unavailable, "logins are not set up on this service");
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.contains("user") || !body["user"].is_string() || !body.contains("password") ||
      !body["password"].is_string()) {
    return ErrorJson(req, http::status::bad_request, R"(send {"user": "...", "password": "..."})");
  }
  auto r = ctx.auth->Login(body["user"].get<std::string>(), body["password"].get<std::string>(), call.client);
  switch (r.status) {
    case LoginStatus::kRateLimited: {
      auto res = ErrorJson(req, http::status::too_many_requests, r.error);
      res.set(http::field::retry_after, std::to_string(r.retry_after.count()));
      return res;
    }
    case LoginStatus::kWrongCredentials:
      return ErrorJson(req, http::status::unauthorized, r.error);
    case LoginStatus::kError:
      return ErrorJson(req, http::status::service_unavailable, r.error);
    case LoginStatus::kOk:
      break;
  }
  auto res = Json(req, http::status::ok, PersonJson(ctx, *r.principal));
  res.set(http::field::set_cookie, fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", kSessionCookie,
                                               r.token, AuthOptions{}.session_lifetime.count()));
  return res;
}

Response Logout(ApiContext& ctx, const Call& call) {
  auto who = SessionOf(ctx, call.req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  ctx.auth->Logout(std::get<Principal>(who).token_hash);
  auto res = Json(call.req, http::status::ok, json{{"ok", true}});
  res.set(http::field::set_cookie, fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kSessionCookie));
  return res;
}

Response Me(ApiContext& ctx, const Call& call) {
  auto who = SessionOf(ctx, call.req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  json j = PersonJson(ctx, std::get<Principal>(who));
  j["tambon_name_th"] = ctx.network.tambon_name_th;
  j["tambon_name_en"] = ctx.network.tambon_name_en;
  return Json(call.req, http::status::ok, j);
}

Response MyNotifications(ApiContext& ctx, const Call& call) {
  auto who = SessionOf(ctx, call.req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  const std::string& me = person.id;
  json out = json::array();
  store::Outbox outbox(*ctx.reader);
  // What is waiting for this person: the open asks of open incidents (the engine reminds until they act). A village's
  // people are asked about their own village's incidents only (TAO officers, who have none, about all): looking only
  // there keeps theirs in view however many other villages have incidents open.
  for (const auto& row : ctx.reader->Incidents(/*open_only=*/true, 1000, person.village)) {
    auto inc = DecodeIncident(row.state);
    if (!inc) continue;
    for (const auto& a : inc->asks) {
      if (a.user != me || !a.open) continue;
      out.push_back(
          json{{"incident", inc->id},
               {"action_needed", alerting::ToString(a.action)},
               {"asked", wire::FormatTime(a.asked)},
               {"reminders", a.reminders},
               {"deadline", inc->stage_deadline ? json(wire::FormatTime(*inc->stage_deadline)) : json(nullptr)},
               {"village", inc->village},
               {"kind", alerting::ToString(inc->kind)},
               {"level", alerting::ToString(inc->level)},
               {"status", alerting::ToString(inc->stage)},
               {"exercise", inc->exercise},
               {"headline_th", inc->headline_th},
               {"headline_en", inc->headline_en},
               // The notifications that asked it (reminders too): what the page reports as seen once it showed this.
               {"notifications", outbox.NotificationsOf(me, inc->id, a.action)}});
    }
  }
  return Json(call.req, http::status::ok, out);
}

Response MyNotificationsSeen(ApiContext& ctx, const Call& call) {
  auto who = SessionOf(ctx, call.req, /*state_changing=*/true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const std::string& me = std::get<Principal>(who).person->id;
  constexpr std::size_t kMaxIds = 100;
  const json body = json::parse(call.req.body(), nullptr, false);
  auto malformed = [&](std::string_view why) {
    ctx.metrics.Count("kaoko_seen_reports_total", "malformed");
    return ErrorJson(
        call.req, http::status::bad_request,
        fmt::format(R"({}: send {{"notifications": ["n-…", …]}}, the ids your page showed (1 to {}))", why, kMaxIds));
  };
  if (body.is_discarded()) return malformed("the body is not JSON");
  if (!body.is_object() || !body.contains("notifications")) return malformed("no \"notifications\"");
  const json& list = body["notifications"];
  if (!list.is_array() || list.empty() || list.size() > kMaxIds) return malformed("\"notifications\" is not a list");
  std::vector<std::string> ids;
  for (const json& id : list) {
    if (!id.is_string() || id.get_ref<const std::string&>().empty() || id.get_ref<const std::string&>().size() > 64) {
      return malformed("each notification id must be a string of 1 to 64 characters");
    }
    ids.push_back(id.get<std::string>());
  }
  if (!ctx.delivery) {
    // Without a delivery room no notification has a delivery to mark (the pages get no ids to send).
    ctx.metrics.Count("kaoko_seen_reports_total", "no_delivery");
    return ErrorJson(call.req, http::status::not_found,
                     fmt::format("no notification {}: deliveries are not recorded on this service", ids.front()));
  }
  const auto seen = ctx.delivery->Seen(me, ids);
  switch (seen.kind) {
    case delivery::Delivery::SeenOutcome::kUnknown:
      ctx.metrics.Count("kaoko_seen_reports_total", "unknown");
      return ErrorJson(call.req, http::status::not_found,
                       fmt::format("no notification {}: nothing was marked", seen.notification));
    case delivery::Delivery::SeenOutcome::kNotYours:
      ctx.metrics.Count("kaoko_seen_reports_total", "not_yours");
      return ErrorJson(call.req, http::status::forbidden,
                       fmt::format("notification {} is not yours: a page marks only its own person's; nothing was "
                                   "marked",
                                   seen.notification));
    case delivery::Delivery::SeenOutcome::kOk:
      break;
  }
  ctx.metrics.Count("kaoko_seen_reports_total", "ok");
  return Json(call.req, http::status::ok, json{{"ok", true}, {"marked", seen.marked}});
}

}  // namespace kaoko::server
