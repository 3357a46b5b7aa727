// The stand-in for LINE's Messaging API: the checks LINE makes on a push or reply body before it accepts it, with
// the error details LINE gives ({"message": ..., "property": "messages[0].text"}), and the shapes of a user id and of
// a retry key. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kaoko::sim {

// One entry of an error answer's "details" array.
struct LineErrorDetail {
  std::string message;
  std::string property;
};

inline constexpr int kLineMaxMessagesPerRequest = 5;
inline constexpr std::size_t kLineMaxTextChars = 5000;  // counted in UTF-16 code units, as LINE counts

// True for "U" followed by 32 lower-case hex digits, the form of a user id LINE gives to a channel.
[[nodiscard]] bool IsLineUserId(std::string_view id);
// True for a UUID in hexadecimal (8-4-4-4-12, either case): the form LINE asks of X-Line-Retry-Key.
[[nodiscard]] bool IsLineRetryKey(std::string_view key);
// The problems in `messages` (the array of message objects of a push or reply); empty when LINE would accept them.
[[nodiscard]] std::vector<LineErrorDetail> ValidateLineMessages(const nlohmann::json& messages);
// The length LINE counts for a text: UTF-16 code units (a Thai character is one, an emoji outside the BMP two).
[[nodiscard]] std::size_t LineTextLength(std::string_view utf8);

}  // namespace kaoko::sim
