// The stand-in for LINE's Messaging API: the channel's state and LINE's answers to the bot server. Owns the
// configured users (each a simulated phone with an inbox), the retry keys accepted in the last 24 hours, the
// reply tokens handed out in webhooks and the injected faults. Time is passed in, so a test can walk a retry key
// past its 24 hours without waiting.
//
//   LinePlatform line(config);
//   LineReply r = line.Push(request, now);   // 200, 400, 401, 409, 429 or 500, with LINE's bodies and headers
//
// Thread-safe: every public function takes the platform's lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kaoko/sim/line_types.hpp"

namespace kaoko::sim {

using LineClock = std::chrono::system_clock;

// A simulated LINE user: a phone with the account added as a friend (unless blocked).
struct LineUserConfig {
  std::string id;  // U + 32 hex
  std::string display_name;
  std::string language = "th";
  bool blocked = false;
  // A scripted person: after each delivered message that has postback buttons, press button `auto_press_index`
  // (counting every postback action of the message in order) this long after it arrived. Unset: never by itself.
  std::optional<std::chrono::milliseconds> auto_press_after;
  int auto_press_index = 0;
};

struct LineChannelConfig {
  std::string access_token;    // the channel access token the bot must present (never logged)
  std::string channel_secret;  // the key of X-Line-Signature (never logged)
  std::string bot_user_id;     // the webhook's "destination"
  std::vector<LineUserConfig> users;
};

// An injected fault. Applies to the next `count` push/reply requests (-1: until cleared), to one user's only when
// `user` is set. status 429 or 500 answers that status (429 with Retry-After when retry_after_s > 0);
// status 0 answers normally. `delivered` performs the push before answering the fault (a 500 or a timeout after
// LINE accepted it: the case X-Line-Retry-Key exists for). `delay` slows the answer; `hang` never answers.
struct LineFault {
  int status = 0;
  int count = 1;
  std::string user{};
  int retry_after_s = 0;
  std::string message{};  // the 429/500 body's message; LINE's rate-limit text when empty
  bool delivered = false;
  std::chrono::milliseconds delay{0};
  bool hang = false;
};

// One message as a user's phone received it.
struct LineDelivery {
  std::string user_id;
  nlohmann::json message;  // the message object as sent
  std::string message_id;  // sentMessages[].id
  std::string request_id;  // x-line-request-id of the accepted request
  std::string retry_key;   // "" when the request had none
  std::string via;         // "push" or "reply"
  LineClock::time_point at;
};

// A postback button found in a delivered message, for the scripted presses.
struct LinePress {
  std::string user_id;
  std::string data;
  std::chrono::milliseconds after{0};
};

class LinePlatform {
 public:
  explicit LinePlatform(LineChannelConfig config);

  // POST /v2/bot/message/push. `presses` receives the scripted button presses the delivery causes.
  [[nodiscard]] LineReply Push(const LineRequest& request, LineClock::time_point now,
                               std::vector<LinePress>* presses = nullptr);
  // POST /v2/bot/message/reply: a reply token from a webhook, usable once.
  [[nodiscard]] LineReply Reply(const LineRequest& request, LineClock::time_point now,
                                std::vector<LinePress>* presses = nullptr);
  // GET /v2/bot/profile/{userId}.
  [[nodiscard]] LineReply Profile(const LineRequest& request, const std::string& user_id);

  // Control side.
  void AddFault(LineFault fault);
  void ClearFaults();
  // A new reply token for an event sent to the bot: valid for one reply. (LINE also bounds how long after the
  // event it may be used; the stand-in does not, so a slow test is not failed by it.)
  [[nodiscard]] std::string IssueReplyToken(const std::string& user_id, LineClock::time_point now);
  // Blocks or unblocks a user; false when the user is unknown.
  bool SetBlocked(const std::string& user_id, bool blocked);
  [[nodiscard]] bool HasUser(const std::string& user_id) const;
  [[nodiscard]] std::vector<LineDelivery> Deliveries(const std::string& user_id = "") const;
  // The users with their state, as the control API lists them.
  [[nodiscard]] nlohmann::json UsersJson() const;
  // Requests answered, by status ("200": 3, "409": 1, ...), and messages dropped because the user blocked us.
  [[nodiscard]] nlohmann::json CountersJson() const;
  [[nodiscard]] const std::string& channel_secret() const { return config_.channel_secret; }
  [[nodiscard]] const std::string& bot_user_id() const { return config_.bot_user_id; }

 private:
  struct AcceptedKey {
    std::string request_id;
    nlohmann::json sent_messages;
    LineClock::time_point at;
  };
  struct ReplyToken {
    std::string user_id;
    LineClock::time_point issued;
  };

  LineReply Send(const LineRequest& request, LineClock::time_point now, bool is_reply, std::vector<LinePress>* presses);
  std::optional<LineReply> CheckAuth(const LineRequest& request) const;
  std::optional<LineFault> TakeFault(const std::string& user_id);
  nlohmann::json Deliver(const std::string& user_id, const nlohmann::json& messages, const std::string& request_id,
                         const std::string& retry_key, const std::string& via, LineClock::time_point now,
                         std::vector<LinePress>* presses);
  LineReply Finish(LineReply reply, const std::string& request_id);
  const LineUserConfig* FindUser(const std::string& user_id) const;

  LineChannelConfig config_;
  mutable std::mutex mutex_;
  std::vector<LineFault> faults_;
  std::map<std::string, AcceptedKey> accepted_keys_;
  std::map<std::string, ReplyToken> reply_tokens_;
  std::vector<LineDelivery> deliveries_;
  std::map<int, int> answered_;
  int dropped_blocked_ = 0;
};

// The error body LINE sends: {"message": message} plus "details" when there are any.
[[nodiscard]] std::string LineErrorBody(const std::string& message, const nlohmann::json& details = nullptr);

}  // namespace kaoko::sim
