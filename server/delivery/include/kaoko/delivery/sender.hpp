// One channel's gateway as the delivery room sees it: hand it a text for an address, learn whether it took it.
// SMS through Kannel (kannel_sender.cpp) and LINE's push API (line_sender.cpp); a channel that dials goes behind the
// same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kaoko/delivery/delivery.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::delivery {

struct Outgoing {
  std::string address;        // personal data: never logged
  std::string text;           // what Render made of the message (or an answer's text)
  std::int64_t delivery = 0;  // the outbox row (0: an answer to a reply, not a delivery)
  // The key that makes a retry of the same delivery safe (LINE's X-Line-Retry-Key): made before the first attempt,
  // kept in the outbox row's gateway_ref and the same on every retry. Empty for a channel that has none.
  std::string retry_key;
};

struct SendResult {
  enum Kind { kAccepted, kRetry, kRefused } kind = kRetry;
  std::string reason;                   // why not accepted: plain English, no address
  std::string gateway_ref;              // the gateway's id for it, when it gives one
  bool gateway_down = false;            // the gateway itself did not answer (not this message's fault)
  std::chrono::seconds retry_after{0};  // the gateway asked for this wait at least (LINE's 429 Retry-After)
};

class Sender {
 public:
  virtual ~Sender() = default;
  // The channel's text (or body) for message `m` with reply code `code` (empty when it asks nothing).
  virtual std::string Render(const store::DeliveryMessage& m, std::string_view code) const = 0;
  // Whether the channel needs a retry key made before the first attempt (Outgoing::retry_key).
  virtual bool wants_retry_key() const { return false; }
  // Hands one message to the gateway; blocks for at most the configured timeout. Called from the delivery thread only.
  virtual SendResult Send(const Outgoing& message) = 0;
};

// Kannel's smsbox: GET sendsms with coding=2 (UCS-2) and charset=UTF-8, a dlr-url back to kaoko for deliveries; the
// text is SmsText's (sms_text.hpp).
std::unique_ptr<Sender> KannelSender(const SmsGateway& gateway, const alerting::Network& network,
                                     std::chrono::seconds timeout);

// LINE's push API: POST {api_base}/v2/bot/message/push with the channel access token and X-Line-Retry-Key (the
// row's retry key: wants_retry_key() is true); the message is LineMessage's (line.hpp). An Outgoing without a delivery
// is an answer to a webhook event: POST /v2/bot/message/reply with `address` as the reply token, without a retry key.
// HTTPS is verified, against `account.ca_file` when set.
std::unique_ptr<Sender> LineSender(const LineAccount& account, const alerting::Network& network,
                                   std::chrono::seconds timeout);

}  // namespace kaoko::delivery
