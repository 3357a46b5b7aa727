// kaoko-smsc's configuration: the SMSC account an ESME (Kannel) binds with, and the simulated phones, each with what
// it does with a message (firmware-sim/README.md, "kaoko-smsc"). Read from a TOML file.
//
//   [smsc]
//   system_id = "kaoko"  password = "secret"  short_code = "4455"  message_ids = "hex"
//   [[phone]]
//   number = "+66812345001"  does = "deliver"  receipt_after_s = 2  reply = "ยืนยัน 4821"  reply_after_s = 20
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/contract/result.hpp"

namespace kaoko::sim::smsc {

// What a phone does with a message sent to it.
enum class PhoneBehaviour {
  kDeliver,  // receives it; a receipt stat:DELIVRD after receipt_after_s
  kOff,      // switched off: never receives it, and no receipt ever comes
  kExpire,   // switched off: never receives it; a receipt stat:EXPIRED after expire_after_s
  kBarred,   // the SMSC refuses the submit_sm with refuse_status
};

std::string_view BehaviourName(PhoneBehaviour b);

struct PhoneConfig {
  std::string number;  // "+66812345001"
  std::string name;    // for logs only
  PhoneBehaviour does = PhoneBehaviour::kDeliver;
  double receipt_after_s = 2;
  double expire_after_s = 60;
  uint32_t refuse_status = 0x45;     // ESME_RSUBMITFAIL
  std::optional<std::string> reply;  // UTF-8; sent to the short code once a whole message has arrived
  double reply_after_s = 20;
};

enum class MessageIdStyle { kHex, kDecimal };

struct SmscConfig {
  std::string system_id = "kaoko";
  std::string password = "secret";
  std::string short_code = "4455";  // the destination of phones' replies
  MessageIdStyle message_ids = MessageIdStyle::kHex;
  bool refuse_unknown = false;  // a number not listed: refused with ESME_RINVDSTADR, or else delivered
  std::vector<PhoneConfig> phones;
};

// Parses the TOML text (named `name` in messages). Errors: "smsc_config_syntax", "smsc_config_invalid" with
// "<file>:<line>:<column>: <what>". Unknown keys are refused. Thread-safe.
Result<SmscConfig> ParseSmscConfig(std::string_view text, const std::string& name);
// The same from a file; "smsc_config_unreadable" when it cannot be opened.
Result<SmscConfig> LoadSmscConfig(const std::string& path);

// "+66812345001" from an SMPP address as an ESME sends it: TON 1 (international) gets a '+'; a national number
// ("0812345001", TON 2 or a leading 0) becomes +66…; anything else (short codes, names) is kept as it is.
std::string NormaliseNumber(uint8_t ton, std::string_view digits);

}  // namespace kaoko::sim::smsc
