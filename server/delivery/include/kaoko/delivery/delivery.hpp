// The delivery room (docs/delivery.md): carries the outbox's rows to people's phones, away from the core. A thread of
// its own with a database connection of its own takes the due deliveries, most urgent first, at each gateway's
// rate, renders each channel's text, hands it to the gateway and records what the gateway said; the gateway's later
// reports (delivered, failed) and people's replies arrive through the HTTP room's callback routes and are recorded
// here. A reply that decides (confirm, reject, acknowledge, declare) is handed to the core through `DecideFn`, the
// same path as a decision from a page.
//
// Channels: SMS through Kannel's smsbox (kannel_sender.cpp), LINE through its Messaging API (line_sender.cpp; the
// webhook and account linking in line_webhook.cpp). A dialling channel is to come behind the same Sender interface
// (sender.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/common/clock.hpp"
#include "kaoko/common/metrics.hpp"
#include "kaoko/contract/result.hpp"
#include "kaoko/contract/wire.hpp"

namespace kaoko::store {
class Store;
class Outbox;
class LineRows;
struct DeliveryRow;
}  // namespace kaoko::store

namespace kaoko::delivery {

// An SMS gateway: Kannel's smsbox (sendsms), as docs/delivery-sms.md sets it up.
struct SmsGateway {
  std::string sendsms_url;  // e.g. http://127.0.0.1:13013/cgi-bin/sendsms
  std::string username;     // the sendsms-user group
  std::string password;
  std::string from = "KAOKO";
  // Messages a minute the gateway may be given: a GSM modem sends a few a minute, an operator account has its
  // contracted rate. kaoko hands no more than this to the gateway, so that the most urgent always goes next.
  double per_minute = 30;
  // Where Kannel reaches kaoko's HTTP API for delivery reports (dlr-url), e.g. http://127.0.0.1:8080
  std::string callback_url;
  // A secret the callback URLs carry (dlr-url and sms-service get-url): a request without it is refused.
  std::string callback_token;
};

// A TAO's LINE Official Account (docs/delivery-line.md): its Messaging API channel.
struct LineAccount {
  std::string api_base = "https://api.line.me";
  std::string channel_token;   // the long-lived channel access token (never logged)
  std::string channel_secret;  // the key of X-Line-Signature (never logged)
  std::string ca_file;         // what to trust for api_base's certificate; empty: the system's store
  double per_minute = 600;     // pushes a minute kaoko hands to LINE
};

struct DeliveryOptions {
  std::string db_path;
  Clock clock;  // kaoko's clock: the times recorded; the gateway's rate is paced on the steady clock
  // The real time of day, even in a rehearsal: LINE's event timestamps are checked against it, and a link code lasts
  // 15 real minutes.
  Clock wall;
  std::optional<SmsGateway> sms;
  std::optional<LineAccount> line;
  std::chrono::milliseconds poll{200};                       // how often the outbox is looked at
  std::chrono::seconds http_timeout{10};                     // one request to a gateway
  std::chrono::seconds down_after{std::chrono::minutes(5)};  // a gateway failing this long is "down" (/healthz)
};

// An answer to one of the gateway's callbacks: the HTTP status and a plain-text body.
struct Answer {
  int status = 200;
  std::string body;
};

// What the core said of a decision made by reply.
struct DecideOutcome {
  bool ok = false;
  std::string error;  // plain English, when !ok
};
// `via` is the channel the person answered on ("sms", "line"): the timeline says it.
using DecideFn =
    std::function<DecideOutcome(const std::string& user, const wire::DecisionMsg& decision, const std::string& via)>;

// A one-time code a person sends to the TAO's LINE Official Account to link their LINE account (line_webhook.cpp).
struct LineLinkCode {
  std::string code;  // six digits
  alerting::TimePoint expires;
};
// Tells the chain that a person asked to act was not reached on any channel (alerting::Engine::OnUnreached), within
// the network's wait or, sooner, because every channel failed; true once the core has taken it (then not told again).
using UnreachedFn = std::function<bool(std::int64_t incident, const std::string& user, alerting::ActionNeeded action,
                                       const std::vector<std::string>& also_unreached, bool every_channel_failed)>;

class Sender;
struct SendResult;

class Delivery {
 public:
  // Opens the room's own database connection. Does not start the thread.
  static Result<std::unique_ptr<Delivery>> Create(const alerting::Network& network, DeliveryOptions options,
                                                  server::Metrics& metrics, DecideFn decide);
  ~Delivery();
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // The gateway's way back to kaoko when the options left it out (the HTTP port is known only once bound). Before
  // Start.
  void SetCallbackUrl(const std::string& url);
  // Who is told of people not reached (none: nobody; set before Start).
  void SetUnreached(UnreachedFn unreached) { unreached_ = std::move(unreached); }
  void Start();
  void Stop();  // waits for the thread; a send in progress finishes first

  // The channels the core queues: each one a gateway is configured for, and the web page (sent by nobody: the page
  // says when it showed it, Seen; the row expires like the others when it never does).
  std::vector<alerting::Channel> channels() const;

  // `person`'s own page showed notifications `ids` (POST /api/v1/me/notifications/seen): when every id is one of
  // theirs, each of their deliveries of it becomes seen (store::Outbox::MarkSeen) and `marked` says how many rows
  // changed; otherwise nothing is written and the first id that is unknown or someone else's is named. Thread-safe.
  struct SeenOutcome {
    enum Kind { kOk, kUnknown, kNotYours } kind = kOk;
    std::string notification;  // the id refused
    int marked = 0;
  };
  SeenOutcome Seen(const std::string& person, const std::vector<std::string>& ids);

  // Kannel's dlr-url: ?k=token&d=delivery&type=%d&reply=%A. Thread-safe.
  Answer SmsReport(const std::map<std::string, std::string>& query);
  // Kannel's sms-service get-url: ?k=token&from=%p&text=%b. A reply is read, judged and answered by SMS; Kannel itself
  // sends nothing back (max-messages = 0). Thread-safe; blocks while the core judges a decision.
  Answer SmsReply(const std::map<std::string, std::string>& query);

  // LINE's webhook (POST /api/v1/delivery/line/webhook): the raw body and its X-Line-Signature. Unsigned or badly
  // signed: 401. Each event is handled once (webhookEventId), and not when older than 10 minutes; a postback answers
  // a step with its reply code, a text that is a link code links the sender's LINE account. Thread-safe; blocks while
  // the core judges a decision.
  Answer LineWebhook(std::string_view body, std::string_view signature);
  // A new link code for `person` (their earlier one stops working), valid 15 minutes; an error when LINE is not
  // configured or the person has no consented LINE contact. Thread-safe.
  Result<LineLinkCode> NewLineLinkCode(const std::string& person);
  // Whether `person` has linked a LINE account (or the network file gives one); nullopt when LINE is not configured.
  // Thread-safe.
  std::optional<bool> LineLinked(const std::string& person);

  // Empty, or why a channel is degraded ("sms: gateway unreachable for 6 min: …"), for /healthz. Thread-safe.
  std::string Problem() const;

  // One round of the worker: expire, send what is due and allowed by the rate, send queued answers. Tests call it
  // directly instead of Start.
  void RunOnce();

 private:
  Delivery(const alerting::Network& network, DeliveryOptions options, server::Metrics& metrics, DecideFn decide,
           std::unique_ptr<store::Store> store);
  struct Bucket {
    double tokens = 1;
    double per_second = 0.5;
    std::chrono::steady_clock::time_point last{};
    bool Take(std::chrono::steady_clock::time_point now);
  };
  // One channel's gateway: its sender (made when the thread starts: the callback URL is known by then), its rate,
  // and since when it has been failing (guarded by problem_mu_).
  struct Lane {
    alerting::Channel channel = alerting::Channel::kSms;
    double per_minute = 30;
    std::unique_ptr<Sender> sender;
    Bucket bucket;
    bool paused = false;  // this round: the gateway is down or its rate is used up; the rest of its rows wait
    std::optional<std::chrono::steady_clock::time_point> failing_since;
    std::string last_failure;
  };
  Lane* LaneOf(alerting::Channel channel);
  void MakeSenders();
  void SendDue(alerting::TimePoint now);
  // One due row: false when its lane is paused (the row waits, untouched).
  void SendOne(const store::DeliveryRow& row, Lane& lane, alerting::TimePoint now);
  void Record(const store::DeliveryRow& row, const SendResult& sent);
  void SendAnswers();
  // Every few seconds: the people asked to act whom nothing reached within the network's not_reached time.
  void FindUnreached(alerting::TimePoint now);
  void Answered(const std::string& number, std::string text);
  void GatewayResult(Lane& lane, bool ok, const std::string& reason);
  void Gauges();
  bool TokenOk(const std::map<std::string, std::string>& query) const;
  // LINE (line_webhook.cpp). The address of `person`'s LINE contact: their linked account, else the network file's;
  // empty when not linked. Takes db_mu_.
  std::string LineAddress(const std::string& person, const std::string& from_file);
  struct LineEvent;
  std::string LineEventResult(const LineEvent& event, alerting::TimePoint wall_now);
  std::string LinePostback(const LineEvent& event);
  std::string LineText(const LineEvent& event);
  void LineAnswer(const LineEvent& event, std::string text);
  // The short answers to webhook events, through LINE's reply API (no retry key: a reply takes none).
  void SendLineAnswers();

  const alerting::Network& network_;
  DeliveryOptions options_;
  server::Metrics& metrics_;
  DecideFn decide_;
  UnreachedFn unreached_;
  std::chrono::steady_clock::time_point next_unreached_check_{};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Outbox> outbox_;
  std::unique_ptr<store::LineRows> line_rows_;
  std::vector<Lane> lanes_;
  std::map<std::string, std::string> person_by_number_;  // +66… → person id (sms contacts)

  mutable std::mutex db_mu_;  // store_ and outbox_: the worker and the HTTP thread
  std::mutex answers_mu_;
  std::deque<std::pair<std::string, std::string>> answers_;  // (number, Thai text) to send by SMS
  mutable std::mutex problem_mu_;
  std::mutex line_mu_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> link_misses_;  // by LINE user id
  std::deque<std::pair<std::string, std::string>> line_answers_;  // (reply token, Thai text); line_mu_

  bool busy_ = false;  // the last round was full: the worker goes again without waiting
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kaoko::delivery
