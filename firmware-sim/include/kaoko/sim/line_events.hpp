// The stand-in for LINE's Messaging API: webhook event objects in LINE's shape (postback, follow, unfollow, text
// message) and the webhook request body that carries them, {"destination": bot user id, "events": [...]}.
// Pure functions; ids are random (line_ids.hpp). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kaoko::sim {

// What every event carries: who, when (Unix milliseconds) and whether this is a redelivery.
struct LineEventBase {
  std::string user_id;
  std::int64_t timestamp_ms = 0;
  bool redelivery = false;
};

// A postback: the user pressed a button whose action is {"type": "postback", "data": data}. Has a reply token.
[[nodiscard]] nlohmann::json LinePostbackEvent(const LineEventBase& base, const std::string& data,
                                               const std::string& reply_token);
// A follow: the user added the account as a friend (or unblocked it). Has a reply token.
[[nodiscard]] nlohmann::json LineFollowEvent(const LineEventBase& base, const std::string& reply_token);
// An unfollow: the user blocked the account. No reply token.
[[nodiscard]] nlohmann::json LineUnfollowEvent(const LineEventBase& base);
// A text message the user typed. Has a reply token.
[[nodiscard]] nlohmann::json LineTextEvent(const LineEventBase& base, const std::string& text,
                                           const std::string& reply_token);
// The webhook request body: {"destination": destination, "events": events}, serialised once so that the bytes
// signed are the bytes sent.
[[nodiscard]] std::string LineWebhookBody(const std::string& destination, const std::vector<nlohmann::json>& events);

}  // namespace kaoko::sim
