// LINE's routes (docs/delivery-line.md): POST /api/v1/delivery/line/webhook, LINE's webhook, handed to the delivery
// room with its raw body and X-Line-Signature (the room checks the signature on those exact bytes); and
// /api/v1/me/line-link, where a logged-in person sees whether their LINE account is linked (GET) and takes a
// one-time code to send to the TAO's Official Account (POST, with the session's CSRF token).
#include <fmt/format.h>

#include "api.hpp"
#include "kaoko/delivery/delivery.hpp"

namespace kaoko::server {

Response LineWebhookRoute(ApiContext& ctx, const Call& call) {
  if (!ctx.delivery) return ErrorJson(call.req, http::status::not_found, "no LINE channel is configured");
  auto it = call.req.find("X-Line-Signature");
  const std::string_view signature =
      it == call.req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
  const delivery::Answer a = ctx.delivery->LineWebhook(call.req.body(), signature);
  return Text(call.req, static_cast<http::status>(a.status), "text/plain; charset=utf-8", a.body);
}

Response MeLineLink(ApiContext& ctx, const Call& call) {
  const bool get = call.req.method() == http::verb::get || call.req.method() == http::verb::head;
  if (!get && call.req.method() != http::verb::post) return MethodNotAllowed(call.req, "GET, POST");
  auto who = SessionOf(ctx, call.req, /*state_changing=*/!get);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const std::string& person = std::get<Principal>(who).person->id;
  const std::optional<bool> linked = ctx.delivery ? ctx.delivery->LineLinked(person) : std::nullopt;
  if (!linked) return ErrorJson(call.req, http::status::not_found, "no LINE channel is configured on this service");
  if (get) return Json(call.req, http::status::ok, nlohmann::json{{"linked", *linked}});
  auto code = ctx.delivery->NewLineLinkCode(person);
  if (!code) return ErrorJson(call.req, http::status::conflict, code.error().reason);
  return Json(call.req, http::status::ok,
              nlohmann::json{{"code", code->code},
                             {"expires", wire::FormatTime(code->expires)},
                             {"linked", *linked},
                             {"how_th", "ส่งรหัสนี้เป็นข้อความถึงบัญชี LINE ของ อบต. ภายใน 15 นาที"},
                             {"how_en", "Send this code as a message to the TAO's LINE account within 15 minutes."}});
}

}  // namespace kaoko::server
