// The stand-in for LINE's Messaging API: the webhook signature LINE sends in X-Line-Signature, base64 of the
// HMAC-SHA256 of the raw request body keyed with the channel secret. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace kaoko::sim {

// base64(HMAC-SHA256(channel_secret, body)).
[[nodiscard]] std::string LineSignature(std::string_view channel_secret, std::string_view body);
// True when `signature` is the signature of `body` under `channel_secret` (compared in constant time).
[[nodiscard]] bool VerifyLineSignature(std::string_view channel_secret, std::string_view body,
                                       std::string_view signature);

}  // namespace kaoko::sim
