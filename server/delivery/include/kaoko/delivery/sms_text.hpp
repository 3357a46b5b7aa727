// What kaoko says by SMS (docs/delivery.md): the Thai text of a message with the reply code it carries, how a reply
// is read ("1 4821", "ยืนยัน 4821", "๒ ๔๘๒๑"), and the short Thai answers to a reply. Pure: no IO, time passed in.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::delivery {

// "HH:MM" in Thailand's time (UTC+7 all year).
std::string ThaiClock(alerting::TimePoint t);
// The level in as few characters as a villager still reads at once (ThaiName's are for screens): "เตือนภัย".
const char* ShortLevel(alerting::Level level);
// Thai digits ๐..๙ as ASCII digits; everything else kept.
std::string ArabicDigits(std::string_view text);

// UCS-2 code units of UTF-8 text (Thai, digits and ASCII are each one unit).
std::size_t Ucs2Length(std::string_view utf8);
// The SMS parts a UCS-2 text takes: one up to 70 units, else 67 a part (six octets of each go to the concatenation
// header). An operator charges per part.
int SmsParts(std::string_view utf8);
// Every text kaoko sends by SMS fits in this many parts (sms_text_test checks the shipped network's longest names).
constexpr int kMaxSmsParts = 2;

// The SMS for message `m`: the level, the village, the incident, what is asked and by when (Thailand time), and how to
// answer with `code` ("ตอบ 1 4821 = ยืนยัน"). `code` is empty for a message that asks nothing.
std::string SmsText(const store::DeliveryMessage& m, std::string_view code, const alerting::Network& network);

// A reply: yes (acknowledge, confirm, declare: whatever the code's step asks) or no (reject), and the code.
enum class ReplyChoice { kYes, kNo };
struct ParsedReply {
  ReplyChoice choice = ReplyChoice::kYes;
  std::string code;  // four ASCII digits
};
// The decision a reply means: reject for no, else what the code's step asks (acknowledge, confirm, declare at the
// code's level); id "<via>-<incident>-<code>" (a repeat is the same decision), note `note`, at `now`.
wire::DecisionMsg ReplyDecision(const store::ReplyCode& code, ReplyChoice choice, std::string_view via,
                                std::string_view note, alerting::TimePoint now);
// Reads "1 4821", "14821", "ยืนยัน 4821", "รับทราบ 4821", "ประกาศ 4821", "2 4821", "ไม่ใช่ 4821", "ปฏิเสธ 4821", with
// Thai or Arabic digits and any spaces; nullopt for anything else.
std::optional<ParsedReply> ParseReply(std::string_view text);

// A number as a phone network gives it ("+66812345001", "66812345001", "0812345001") in kaoko's +66 form; empty when
// it is not a Thai mobile number.
std::string NormalizeNumber(std::string_view number);

// The short Thai answers to a reply (each fits in one SMS part).
namespace answer {
std::string UnknownNumber();
std::string Unreadable();
std::string WrongCode(std::string_view code);
std::string UsedCode(std::string_view code);
std::string Refused(std::string_view why_en);
std::string Accepted(alerting::ActionNeeded step, ReplyChoice choice, std::int64_t incident);
}  // namespace answer

}  // namespace kaoko::delivery
