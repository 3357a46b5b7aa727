// One channel's gateway as the delivery room sees it: hand it a text for an address, learn whether it took it.
// SMS through Kannel is the first (kannel_sender.cpp); LINE and a channel that dials go behind the same interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kaoko/delivery/delivery.hpp"

namespace kaoko::delivery {

struct Outgoing {
  std::string address;  // personal data: never logged
  std::string text;
  std::int64_t delivery = 0;  // the outbox row (0: an answer to a reply, not a delivery)
};

struct SendResult {
  enum Kind { kAccepted, kRetry, kRefused } kind = kRetry;
  std::string reason;         // why not accepted: plain English, no address
  std::string gateway_ref;    // the gateway's id for it, when it gives one
  bool gateway_down = false;  // the gateway itself did not answer (not this message's fault)
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual SendResult Send(const Outgoing& message) = 0;
};

// Kannel's smsbox: GET sendsms with coding=2 (UCS-2) and charset=UTF-8, a dlr-url back to kaoko for deliveries.
std::unique_ptr<Sender> KannelSender(const SmsGateway& gateway, std::chrono::seconds timeout);

}  // namespace kaoko::delivery
