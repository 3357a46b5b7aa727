// The one place HTTP answers are built: JSON (from a tree, from ready text, or a long list a piece at a time), the
// JSON errors, 405 with its Allow header, and the security headers of the pages.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kaoko/http/http.hpp"

namespace kaoko::server {

// A JSON answer from its text (no-store: every answer is live data).
Response JsonText(const Request& req, http::status status, std::string body);
// A JSON answer from its tree; invalid UTF-8 in strings is replaced, never thrown on.
Response Json(const Request& req, http::status status, const nlohmann::json& body);
// {"error": message}
Response ErrorJson(const Request& req, http::status status, std::string_view message);
// 405 naming the method to use, in the message, and what is allowed in the Allow header.
Response MethodNotAllowed(const Request& req, std::string_view use, std::string_view allow);
inline Response MethodNotAllowed(const Request& req, std::string_view use) { return MethodNotAllowed(req, use, use); }
// A non-JSON answer of `type` (keep-alive as asked), with `cache_control` when given.
Response Text(const Request& req, http::status status, std::string_view type, std::string body,
              std::string_view cache_control = {});

// The text of a JSON tree, as every answer writes it.
std::string Dump(const nlohmann::json& j);

// `object` (the text of a JSON object) with `more`'s members appended: an answer that adds to a payload rendered
// elsewhere (contract/render.hpp) without parsing it again.
std::string ExtendObject(std::string object, const nlohmann::json& more);

// A long list written one element at a time: only one element's tree is ever built (the trees of 150,000 stations
// at once took 600 MB more than the text they make).
class JsonList {
 public:
  void Reserve(std::size_t bytes) { body_.reserve(bytes); }
  void Add(const nlohmann::json& element) { AddText(Dump(element)); }
  void AddText(std::string_view element) {
    body_ += body_.empty() ? '[' : ',';
    body_ += element;
  }
  Response Done(const Request& req, http::status status);

 private:
  std::string body_;
};

// What every page and report carries against sniffing, referrer leaks and framing.
void SecurityHeaders(Response& res);

}  // namespace kaoko::server
