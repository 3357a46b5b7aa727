// The stand-in for LINE's Messaging API: the users' side. A user presses a postback button, types a text, adds or
// blocks the account; LINE's platform POSTs the event to the bot's webhook URL, signed with X-Line-Signature. For
// the bot's verification tests it also sends webhooks that must be refused: unsigned, signed with the wrong secret,
// tampered with after signing, and replays of an earlier webhook's exact bytes.
//
//   LineWebhook webhook(io, platform, "http://127.0.0.1:8081/line/webhook", nullptr);
//   webhook.Press("U0123…", "ack:incident=42", std::chrono::seconds(90));  // a person who answers after 90 s
//
// Thread-safe: every function may be called from any thread; the POSTs run on `io`.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "kaoko/sim/line_platform.hpp"

namespace kaoko::sim {

enum class LineSigning {
  kValid,        // base64(HMAC-SHA256(channel secret, body)), as LINE signs
  kWrongSecret,  // a well-formed signature under another secret
  kUnsigned,     // no X-Line-Signature header
  kTampered,     // a valid signature of other bytes than those sent
};

// One webhook POST as sent, and what the bot answered.
struct LineWebhookAttempt {
  std::string kind;  // "postback", "message", "follow", "unfollow", "forged:unsigned", "replay", "redelivery", ...
  std::string user_id;
  std::string body;       // the exact bytes sent
  std::string signature;  // the X-Line-Signature sent; "" when none
  int status = 0;         // the bot's HTTP status; 0 when it did not answer
  std::string error;      // why it did not answer
  LineClock::time_point at;
};

class LineWebhook {
 public:
  // `url` may be empty (no webhook yet: events are recorded with an error). `client_tls` is used for https URLs and
  // must outlive this object.
  LineWebhook(boost::asio::io_context& io, LinePlatform& platform, std::string url,
              boost::asio::ssl::context* client_tls);

  void SetUrl(std::string url);
  [[nodiscard]] std::string url() const;

  // The user's actions, sent `after` from now (a human delay). Each event that LINE gives a reply token gets one.
  void Press(const std::string& user_id, const std::string& data, std::chrono::milliseconds after = {});
  void Text(const std::string& user_id, const std::string& text, std::chrono::milliseconds after = {});
  void Follow(const std::string& user_id, std::chrono::milliseconds after = {});
  void Unfollow(const std::string& user_id, std::chrono::milliseconds after = {});
  // A postback webhook that a bot must refuse (`how` is not kValid).
  void Forge(LineSigning how, const std::string& user_id, const std::string& data);
  // The last webhook sent, byte for byte with its signature, again (an attacker's replay: valid signature, old
  // event). false when none was sent yet.
  bool Replay();
  // The last webhook's events again as LINE redelivers them: same webhookEventId, deliveryContext.isRedelivery
  // true, signed anew. false when none was sent yet.
  bool Redeliver();

  [[nodiscard]] std::vector<LineWebhookAttempt> Attempts() const;
  [[nodiscard]] nlohmann::json AttemptsJson() const;
  // Webhooks scheduled or in flight.
  [[nodiscard]] int pending() const;

 private:
  using Builder = std::function<std::vector<nlohmann::json>(std::int64_t now_ms)>;
  void Schedule(std::string kind, std::string user_id, Builder build, LineSigning signing,
                std::chrono::milliseconds after);
  void Post(LineWebhookAttempt attempt, bool with_signature);

  boost::asio::io_context& io_;
  LinePlatform& platform_;
  boost::asio::ssl::context* client_tls_;
  mutable std::mutex mutex_;
  std::string url_;
  std::vector<LineWebhookAttempt> attempts_;
  std::vector<nlohmann::json> last_events_;
  LineWebhookAttempt last_sent_;
  bool has_last_ = false;
  int pending_ = 0;
};

}  // namespace kaoko::sim
