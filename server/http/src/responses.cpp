// The HTTP answers (responses.hpp).
#include "responses.hpp"

#include <fmt/format.h>

namespace kaoko::server {

using json = nlohmann::json;

Response Text(const Request& req, http::status status, std::string_view type, std::string body,
              std::string_view cache_control) {
  Response res{status, req.version()};
  res.set(http::field::content_type, std::string(type));
  if (!cache_control.empty()) res.set(http::field::cache_control, std::string(cache_control));
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response JsonText(const Request& req, http::status status, std::string body) {
  return Text(req, status, "application/json; charset=utf-8", std::move(body), "no-store");
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response Json(const Request& req, http::status status, const json& body) { return JsonText(req, status, Dump(body)); }

Response ErrorJson(const Request& req, http::status status, std::string_view message) {
  return Json(req, status, json{{"error", message}});
}

Response MethodNotAllowed(const Request& req, std::string_view use, std::string_view allow) {
  auto res = ErrorJson(req, http::status::method_not_allowed,
                       fmt::format("{} is not allowed here; use {}", std::string(req.method_string()), use));
  res.set(http::field::allow, std::string(allow));
  return res;
}

std::string ExtendObject(std::string object, const json& more) {
  std::string members = Dump(more);  // "{…}"
  if (members.size() <= 2) return object;
  while (!object.empty() && object.back() != '}') object.pop_back();
  if (object.size() < 2) return object;
  object.pop_back();
  if (object.back() != '{') object += ',';
  object.append(members, 1, std::string::npos);
  return object;
}

Response JsonList::Done(const Request& req, http::status status) {
  body_ += body_.empty() ? "[]" : "]";
  return JsonText(req, status, std::move(body_));
}

void SecurityHeaders(Response& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

}  // namespace kaoko::server
