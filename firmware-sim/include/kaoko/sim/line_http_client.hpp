// The stand-in for LINE's Messaging API: the HTTP client that delivers webhooks to the bot server, as LINE's
// platform does, over https or (for tests on loopback) plain http. One POST per connection, as a coroutine.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

namespace kaoko::sim {

struct LineUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;
};

// "https://host[:port]/path" or "http://host[:port]/path"; nullopt for anything else.
[[nodiscard]] std::optional<LineUrl> ParseLineUrl(const std::string& url);

struct LineHttpResult {
  int status = 0;     // 0 when no answer came
  std::string error;  // why no answer came
  std::string body;
};

// POSTs `body` (application/json; charset=utf-8) with `headers` to `url`. `tls` is the client context for https
// (verifies the peer and its name); it must outlive the call. Gives up after `timeout`. Never throws for network
// errors: they are in the result.
[[nodiscard]] boost::asio::awaitable<LineHttpResult> LinePost(LineUrl url, std::string body,
                                                              std::vector<std::pair<std::string, std::string>> headers,
                                                              boost::asio::ssl::context* tls,
                                                              std::chrono::milliseconds timeout);

}  // namespace kaoko::sim
