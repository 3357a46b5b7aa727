// The users' side of kaoko-line (line_webhook.hpp): events built when they happen, signed, POSTed to the webhook.
#include "kaoko/sim/line_webhook.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kaoko/sim/line_events.hpp"
#include "kaoko/sim/line_http_client.hpp"
#include "kaoko/sim/line_signature.hpp"

namespace kaoko::sim {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

constexpr auto kWebhookTimeout = std::chrono::seconds(10);

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(LineClock::now().time_since_epoch()).count();
}

}  // namespace

LineWebhook::LineWebhook(asio::io_context& io, LinePlatform& platform, std::string url, asio::ssl::context* client_tls)
    : io_(io), platform_(platform), client_tls_(client_tls), url_(std::move(url)) {}

void LineWebhook::SetUrl(std::string url) {
  std::lock_guard lock(mutex_);
  url_ = std::move(url);
}

std::string LineWebhook::url() const {
  std::lock_guard lock(mutex_);
  return url_;
}

void LineWebhook::Press(const std::string& user_id, const std::string& data, std::chrono::milliseconds after) {
  Schedule(
      "postback", user_id,
      [this, user_id, data](std::int64_t now_ms) {
        std::string token = platform_.IssueReplyToken(user_id, LineClock::now());
        return std::vector<json>{LinePostbackEvent({user_id, now_ms, false}, data, token)};
      },
      LineSigning::kValid, after);
}

void LineWebhook::Text(const std::string& user_id, const std::string& text, std::chrono::milliseconds after) {
  Schedule(
      "message", user_id,
      [this, user_id, text](std::int64_t now_ms) {
        std::string token = platform_.IssueReplyToken(user_id, LineClock::now());
        return std::vector<json>{LineTextEvent({user_id, now_ms, false}, text, token)};
      },
      LineSigning::kValid, after);
}

void LineWebhook::Follow(const std::string& user_id, std::chrono::milliseconds after) {
  Schedule(
      "follow", user_id,
      [this, user_id](std::int64_t now_ms) {
        platform_.SetBlocked(user_id, false);
        std::string token = platform_.IssueReplyToken(user_id, LineClock::now());
        return std::vector<json>{LineFollowEvent({user_id, now_ms, false}, token)};
      },
      LineSigning::kValid, after);
}

void LineWebhook::Unfollow(const std::string& user_id, std::chrono::milliseconds after) {
  Schedule(
      "unfollow", user_id,
      [this, user_id](std::int64_t now_ms) {
        platform_.SetBlocked(user_id, true);
        return std::vector<json>{LineUnfollowEvent({user_id, now_ms, false})};
      },
      LineSigning::kValid, after);
}

void LineWebhook::Forge(LineSigning how, const std::string& user_id, const std::string& data) {
  static constexpr const char* kKinds[] = {"postback", "forged:wrong-secret", "forged:unsigned", "forged:tampered"};
  Schedule(
      kKinds[static_cast<int>(how)], user_id,
      [user_id, data](std::int64_t now_ms) {
        return std::vector<json>{LinePostbackEvent({user_id, now_ms, false}, data, "00000000000000000000000000000000")};
      },
      how, {});
}

bool LineWebhook::Replay() {
  LineWebhookAttempt again;
  {
    std::lock_guard lock(mutex_);
    if (!has_last_) return false;
    again = last_sent_;
    ++pending_;
  }
  again.kind = "replay";
  Post(std::move(again), true);
  return true;
}

bool LineWebhook::Redeliver() {
  std::vector<json> events;
  LineWebhookAttempt attempt;
  {
    std::lock_guard lock(mutex_);
    if (!has_last_) return false;
    events = last_events_;
    attempt.user_id = last_sent_.user_id;
    ++pending_;
  }
  for (auto& event : events) event["deliveryContext"]["isRedelivery"] = true;
  attempt.kind = "redelivery";
  attempt.body = LineWebhookBody(platform_.bot_user_id(), events);
  attempt.signature = LineSignature(platform_.channel_secret(), attempt.body);
  Post(std::move(attempt), true);
  return true;
}

void LineWebhook::Schedule(std::string kind, std::string user_id, Builder build, LineSigning signing,
                           std::chrono::milliseconds after) {
  {
    std::lock_guard lock(mutex_);
    ++pending_;
  }
  asio::co_spawn(
      io_,
      [this, kind = std::move(kind), user_id = std::move(user_id), build = std::move(build), signing,
       after]() -> asio::awaitable<void> {
        if (after.count() > 0) {
          asio::steady_timer timer(io_, after);
          boost::system::error_code ec;
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        // The event is made when the person acts, so its timestamp and reply token are of that moment.
        std::vector<json> events = build(NowMs());
        LineWebhookAttempt attempt;
        attempt.kind = kind;
        attempt.user_id = user_id;
        attempt.body = LineWebhookBody(platform_.bot_user_id(), events);
        switch (signing) {
          case LineSigning::kValid:
            attempt.signature = LineSignature(platform_.channel_secret(), attempt.body);
            {
              std::lock_guard lock(mutex_);
              last_events_ = events;
            }
            break;
          case LineSigning::kWrongSecret:
            attempt.signature = LineSignature("not-the-channel-secret", attempt.body);
            break;
          case LineSigning::kUnsigned:
            break;
          case LineSigning::kTampered: {
            attempt.signature = LineSignature(platform_.channel_secret(), attempt.body);
            events[0]["postback"]["data"] = events[0]["postback"]["data"].get<std::string>() + "&tampered=1";
            attempt.body = LineWebhookBody(platform_.bot_user_id(), events);
            break;
          }
        }
        Post(std::move(attempt), signing != LineSigning::kUnsigned);
      },
      asio::detached);
}

void LineWebhook::Post(LineWebhookAttempt attempt, bool with_signature) {
  asio::co_spawn(
      io_,
      [this, attempt = std::move(attempt), with_signature]() mutable -> asio::awaitable<void> {
        std::vector<std::pair<std::string, std::string>> headers;
        if (with_signature) headers.emplace_back("X-Line-Signature", attempt.signature);
        std::optional<LineUrl> url = ParseLineUrl(this->url());
        attempt.at = LineClock::now();
        if (!url) {
          attempt.error = "no webhook URL (or not http/https)";
        } else {
          LineHttpResult result = co_await LinePost(*url, attempt.body, headers, client_tls_, kWebhookTimeout);
          attempt.status = result.status;
          attempt.error = result.error;
        }
        std::lock_guard lock(mutex_);
        if (attempt.kind == "postback" || attempt.kind == "message" || attempt.kind == "follow" ||
            attempt.kind == "unfollow") {
          last_sent_ = attempt;
          has_last_ = true;
        }
        attempts_.push_back(std::move(attempt));
        --pending_;
      },
      asio::detached);
}

std::vector<LineWebhookAttempt> LineWebhook::Attempts() const {
  std::lock_guard lock(mutex_);
  return attempts_;
}

json LineWebhook::AttemptsJson() const {
  std::lock_guard lock(mutex_);
  json out = json::array();
  for (const auto& a : attempts_) {
    out.push_back({{"kind", a.kind},
                   {"userId", a.user_id},
                   {"body", a.body},
                   {"signature", a.signature},
                   {"status", a.status},
                   {"error", a.error},
                   {"at", std::chrono::duration_cast<std::chrono::milliseconds>(a.at.time_since_epoch()).count()}});
  }
  return out;
}

int LineWebhook::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

}  // namespace kaoko::sim
