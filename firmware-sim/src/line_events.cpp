// Webhook event objects in LINE's shape (line_events.hpp).
#include "kaoko/sim/line_events.hpp"

#include "kaoko/sim/line_ids.hpp"

namespace kaoko::sim {
namespace {

nlohmann::json Base(const char* type, const LineEventBase& base) {
  return {{"type", type},
          {"mode", "active"},
          {"timestamp", base.timestamp_ms},
          {"source", {{"type", "user"}, {"userId", base.user_id}}},
          {"webhookEventId", NewWebhookEventId(base.timestamp_ms)},
          {"deliveryContext", {{"isRedelivery", base.redelivery}}}};
}

}  // namespace

nlohmann::json LinePostbackEvent(const LineEventBase& base, const std::string& data, const std::string& reply_token) {
  nlohmann::json event = Base("postback", base);
  event["replyToken"] = reply_token;
  event["postback"] = {{"data", data}};
  return event;
}

nlohmann::json LineFollowEvent(const LineEventBase& base, const std::string& reply_token) {
  nlohmann::json event = Base("follow", base);
  event["replyToken"] = reply_token;
  event["follow"] = {{"isUnblocked", false}};
  return event;
}

nlohmann::json LineUnfollowEvent(const LineEventBase& base) { return Base("unfollow", base); }

nlohmann::json LineTextEvent(const LineEventBase& base, const std::string& text, const std::string& reply_token) {
  nlohmann::json event = Base("message", base);
  event["replyToken"] = reply_token;
  event["message"] = {{"type", "text"}, {"id", NewMessageId()}, {"quoteToken", NewReplyToken()}, {"text", text}};
  return event;
}

std::string LineWebhookBody(const std::string& destination, const std::vector<nlohmann::json>& events) {
  nlohmann::json body = {{"destination", destination}, {"events", events}};
  return body.dump();
}

}  // namespace kaoko::sim
