// LINE's answers to the bot server (line_platform.hpp). The order of the checks follows LINE: the access token
// first (401), then the retry key (400 malformed, 409 already accepted), then injected faults, then the body (400).
// A request answered 4xx or 429 is not performed and does not use up its retry key; a 500 may have been performed
// (LineFault::delivered), which is why LINE's retry keys exist.
#include "kaoko/sim/line_platform.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kaoko/sim/line_ids.hpp"
#include "kaoko/sim/line_validate.hpp"

namespace kaoko::sim {
namespace {

using nlohmann::json;

constexpr auto kRetryKeyLifetime = std::chrono::hours(24);
constexpr const char* kRateLimitMessage = "The API rate limit has been exceeded. Try again later.";

LineReply Error(int status, const std::string& message, const json& details = nullptr) {
  LineReply reply;
  reply.status = status;
  reply.body = LineErrorBody(message, details);
  return reply;
}

json DetailsJson(const std::vector<LineErrorDetail>& details) {
  json out = json::array();
  for (const auto& d : details) out.push_back({{"message", d.message}, {"property", d.property}});
  return out;
}

// The postback data of every postback button in a message, in order (template actions, then quick replies).
std::vector<std::string> PostbackData(const json& message) {
  std::vector<std::string> out;
  auto collect = [&out](const json& actions) {
    if (!actions.is_array()) return;
    for (const auto& a : actions) {
      if (a.is_object() && a.value("type", "") == "postback") out.push_back(a.value("data", ""));
    }
  };
  if (message.contains("template") && message["template"].is_object()) {
    collect(message["template"].value("actions", json::array()));
  }
  if (message.contains("quickReply") && message["quickReply"].is_object()) {
    for (const auto& item : message["quickReply"].value("items", json::array())) {
      if (item.is_object() && item.contains("action")) collect(json::array({item["action"]}));
    }
  }
  return out;
}

}  // namespace

std::string LineErrorBody(const std::string& message, const json& details) {
  json body = {{"message", message}};
  if (details.is_array() && !details.empty()) body["details"] = details;
  return body.dump();
}

LinePlatform::LinePlatform(LineChannelConfig config) : config_(std::move(config)) {}

LineReply LinePlatform::Push(const LineRequest& request, LineClock::time_point now, std::vector<LinePress>* presses) {
  std::lock_guard lock(mutex_);
  return Send(request, now, false, presses);
}

LineReply LinePlatform::Reply(const LineRequest& request, LineClock::time_point now, std::vector<LinePress>* presses) {
  std::lock_guard lock(mutex_);
  return Send(request, now, true, presses);
}

LineReply LinePlatform::Send(const LineRequest& request, LineClock::time_point now, bool is_reply,
                             std::vector<LinePress>* presses) {
  std::string request_id = NewLineRequestId();
  if (auto refused = CheckAuth(request)) return Finish(*refused, request_id);

  std::string retry_key = request.Header("x-line-retry-key");
  bool has_key = request.headers.count("x-line-retry-key") > 0;
  if (has_key && is_reply) {
    return Finish(Error(400, "X-Line-Retry-Key is not supported by this API"), request_id);
  }
  if (has_key && !IsLineRetryKey(retry_key)) {
    return Finish(Error(400, "The value for the 'X-Line-Retry-Key' header is invalid"), request_id);
  }
  std::transform(retry_key.begin(), retry_key.end(), retry_key.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::erase_if(accepted_keys_, [now](const auto& kv) { return now - kv.second.at >= kRetryKeyLifetime; });
  if (has_key) {
    if (auto it = accepted_keys_.find(retry_key); it != accepted_keys_.end()) {
      LineReply reply;
      reply.status = 409;
      reply.body =
          json({{"message", "The retry key is already accepted"}, {"sentMessages", it->second.sent_messages}}).dump();
      reply.headers.emplace_back("x-line-accepted-request-id", it->second.request_id);
      return Finish(reply, request_id);
    }
  }

  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Finish(Error(400, "The request body could not be parsed as JSON"), request_id);
  }

  std::string user_id;
  if (is_reply) {
    auto it = reply_tokens_.find(body.value("replyToken", ""));
    if (it == reply_tokens_.end()) return Finish(Error(400, "Invalid reply token"), request_id);
    user_id = it->second.user_id;
  } else {
    if (!body.contains("to") || !body["to"].is_string()) {
      return Finish(Error(400, "The request body has 1 error(s)", DetailsJson({{"May not be empty", "to"}})),
                    request_id);
    }
    user_id = body["to"].get<std::string>();
  }

  std::optional<LineFault> fault = TakeFault(user_id);
  if (fault && fault->status == 429) {
    LineReply reply = Error(429, fault->message.empty() ? kRateLimitMessage : fault->message);
    if (fault->retry_after_s > 0) reply.headers.emplace_back("Retry-After", std::to_string(fault->retry_after_s));
    reply.delay = fault->delay;
    reply.hang = fault->hang;
    return Finish(reply, request_id);
  }
  if (fault && !fault->delivered && (fault->status >= 500 || fault->hang)) {
    LineReply reply = Error(fault->status >= 500 ? fault->status : 500,
                            fault->message.empty() ? "An error occurred in the LINE Platform" : fault->message);
    reply.delay = fault->delay;
    reply.hang = fault->hang;
    return Finish(reply, request_id);
  }

  if (!is_reply && !IsLineUserId(user_id)) {
    return Finish(Error(400, "The request body has 1 error(s)",
                        DetailsJson({{"Must be a valid user ID, group ID or room ID", "to"}})),
                  request_id);
  }
  if (!is_reply && FindUser(user_id) == nullptr) {
    return Finish(Error(400, "Failed to send messages",
                        DetailsJson({{"The user doesn't exist or hasn't added the account as a friend", "to"}})),
                  request_id);
  }
  std::vector<LineErrorDetail> problems = ValidateLineMessages(body.contains("messages") ? body["messages"] : json());
  if (!problems.empty()) {
    return Finish(Error(400, fmt::format("The request body has {} error(s)", problems.size()), DetailsJson(problems)),
                  request_id);
  }

  if (is_reply) reply_tokens_.erase(body.value("replyToken", ""));
  json sent = Deliver(user_id, body["messages"], request_id, retry_key, is_reply ? "reply" : "push", now, presses);
  if (has_key) accepted_keys_[retry_key] = AcceptedKey{request_id, sent, now};

  LineReply reply;
  reply.body = json({{"sentMessages", sent}}).dump();
  // Performed, then answered with the fault (slow, 500 or none at all): the bot cannot know it was delivered.
  if (fault && fault->status >= 500) reply = Error(fault->status, "An error occurred in the LINE Platform");
  if (fault) {
    reply.delay = fault->delay;
    reply.hang = fault->hang;
  }
  return Finish(reply, request_id);
}

std::optional<LineReply> LinePlatform::CheckAuth(const LineRequest& request) const {
  std::string auth = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
    return Error(401, "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'");
  }
  if (auth.substr(kBearer.size()) != config_.access_token) {
    return Error(401, "Authentication failed. Confirm that the access token in the authorization header is valid.");
  }
  return std::nullopt;
}

std::optional<LineFault> LinePlatform::TakeFault(const std::string& user_id) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->user.empty() && it->user != user_id) continue;
    LineFault fault = *it;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return fault;
  }
  return std::nullopt;
}

json LinePlatform::Deliver(const std::string& user_id, const json& messages, const std::string& request_id,
                           const std::string& retry_key, const std::string& via, LineClock::time_point now,
                           std::vector<LinePress>* presses) {
  json sent = json::array();
  const LineUserConfig* user = FindUser(user_id);
  for (const auto& message : messages) {
    std::string id = NewMessageId();
    json entry = {{"id", id}};
    if (message.value("type", "") == "text") entry["quoteToken"] = NewReplyToken();
    sent.push_back(entry);
    // LINE accepts a push to a user who blocked the account and answers 200; the phone never shows it.
    if (user == nullptr || user->blocked) {
      ++dropped_blocked_;
      continue;
    }
    deliveries_.push_back(LineDelivery{user_id, message, id, request_id, retry_key, via, now});
    std::vector<std::string> buttons = PostbackData(message);
    if (presses != nullptr && user->auto_press_after && user->auto_press_index >= 0 &&
        static_cast<std::size_t>(user->auto_press_index) < buttons.size()) {
      presses->push_back(LinePress{user_id, buttons[user->auto_press_index], *user->auto_press_after});
    }
  }
  return sent;
}

LineReply LinePlatform::Finish(LineReply reply, const std::string& request_id) {
  reply.headers.emplace_back("x-line-request-id", request_id);
  ++answered_[reply.status];
  return reply;
}

LineReply LinePlatform::Profile(const LineRequest& request, const std::string& user_id) {
  std::lock_guard lock(mutex_);
  std::string request_id = NewLineRequestId();
  if (auto refused = CheckAuth(request)) return Finish(*refused, request_id);
  const LineUserConfig* user = FindUser(user_id);
  if (user == nullptr || user->blocked) return Finish(Error(404, "Not found"), request_id);
  LineReply reply;
  reply.body = json({{"displayName", user->display_name}, {"userId", user->id}, {"language", user->language}}).dump();
  return Finish(reply, request_id);
}

void LinePlatform::AddFault(LineFault fault) {
  std::lock_guard lock(mutex_);
  if (fault.count != 0) faults_.push_back(std::move(fault));
}

void LinePlatform::ClearFaults() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

std::string LinePlatform::IssueReplyToken(const std::string& user_id, LineClock::time_point now) {
  std::lock_guard lock(mutex_);
  std::string token = NewReplyToken();
  reply_tokens_[token] = ReplyToken{user_id, now};
  return token;
}

bool LinePlatform::SetBlocked(const std::string& user_id, bool blocked) {
  std::lock_guard lock(mutex_);
  for (auto& user : config_.users) {
    if (user.id == user_id) {
      user.blocked = blocked;
      return true;
    }
  }
  return false;
}

bool LinePlatform::HasUser(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  return FindUser(user_id) != nullptr;
}

std::vector<LineDelivery> LinePlatform::Deliveries(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  std::vector<LineDelivery> out;
  for (const auto& d : deliveries_) {
    if (user_id.empty() || d.user_id == user_id) out.push_back(d);
  }
  return out;
}

json LinePlatform::UsersJson() const {
  std::lock_guard lock(mutex_);
  json out = json::array();
  for (const auto& user : config_.users) {
    auto received = std::count_if(deliveries_.begin(), deliveries_.end(),
                                  [&user](const LineDelivery& d) { return d.user_id == user.id; });
    out.push_back(
        {{"userId", user.id}, {"displayName", user.display_name}, {"blocked", user.blocked}, {"received", received}});
  }
  return out;
}

json LinePlatform::CountersJson() const {
  std::lock_guard lock(mutex_);
  json answered = json::object();
  for (const auto& [status, n] : answered_) answered[std::to_string(status)] = n;
  return {{"answered", answered},
          {"droppedBlocked", dropped_blocked_},
          {"acceptedRetryKeys", accepted_keys_.size()},
          {"faultsPending", faults_.size()}};
}

const LineUserConfig* LinePlatform::FindUser(const std::string& user_id) const {
  for (const auto& user : config_.users) {
    if (user.id == user_id) return &user;
  }
  return nullptr;
}

}  // namespace kaoko::sim
