// The stand-in for LINE's Messaging API (kaoko-line): the plain request and reply values its HTTP servers hand to the
// API and control handlers, so the handlers are ordinary functions a unit test can call without a socket.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kaoko::sim {

// One HTTP request as the handlers see it. Header names are lower-case (HTTP header names are case-insensitive).
struct LineRequest {
  std::string method;
  std::string target;  // path and query, e.g. "/v2/bot/message/push"
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" when absent.
  [[nodiscard]] std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One HTTP answer. `delay` holds the answer back (a slow platform); `hang` never answers and holds the connection
// open until the client gives up (a platform that timed out) — the client cannot tell whether the push was done.
struct LineReply {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};
  bool hang = false;
};

}  // namespace kaoko::sim
