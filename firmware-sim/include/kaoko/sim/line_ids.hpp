// The stand-in for LINE's Messaging API: identifiers in the shapes LINE uses — request ids (x-line-request-id),
// webhook event ids (ULID, 26 characters of Crockford base32), reply tokens and message ids. Random, so two runs of
// a test never see the same ones. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace kaoko::sim {

// A random version-4 UUID in lower-case hex ("8c1a…-…"), LINE's x-line-request-id shape.
[[nodiscard]] std::string NewLineRequestId();
// A ULID for `unix_ms` (the event time) with random low bits: LINE's webhookEventId shape.
[[nodiscard]] std::string NewWebhookEventId(std::int64_t unix_ms);
// 32 random hex characters: a reply token.
[[nodiscard]] std::string NewReplyToken();
// 18 decimal digits: a message id as LINE gives in sentMessages[].id.
[[nodiscard]] std::string NewMessageId();

}  // namespace kaoko::sim
