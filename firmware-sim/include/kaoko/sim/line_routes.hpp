// The stand-in for LINE's Messaging API: the two route tables. The API side answers what api.line.me answers
// (push, reply, profile); the control side is for tests and the demo (what each phone received, press a button,
// inject faults, send forged webhooks). README.md lists every control route.
#pragma once

#include "kaoko/sim/line_platform.hpp"
#include "kaoko/sim/line_types.hpp"
#include "kaoko/sim/line_webhook.hpp"

namespace kaoko::sim {

// POST /v2/bot/message/push, POST /v2/bot/message/reply, GET /v2/bot/profile/{userId}; anything else 404 with
// LINE's error body. A delivery to a scripted user schedules the button press on `webhook`. Thread-safe.
[[nodiscard]] LineReply RouteLineApi(LinePlatform& platform, LineWebhook& webhook, const LineRequest& request);
// /control/...: JSON in, JSON out. Thread-safe.
[[nodiscard]] LineReply RouteLineControl(LinePlatform& platform, LineWebhook& webhook, const LineRequest& request);

}  // namespace kaoko::sim
