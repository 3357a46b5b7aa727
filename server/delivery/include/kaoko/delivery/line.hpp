// What kaoko says and reads on LINE (docs/delivery-line.md), without IO: the message object a push carries (a
// buttons template with the step's postback buttons, or a text for information), the postback data of a button
// ("c=4821&a=1": the reply code and the choice, never a person's id), X-Line-Signature, and a link code typed in a
// chat. Pure apart from OpenSSL's HMAC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kaoko/alerting/network.hpp"
#include "kaoko/delivery/sms_text.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::delivery {

// The LINE message object (JSON) for message `m` with reply code `code`: a "buttons" template whose text is the Thai
// text (at most 160 characters, LINE's limit without a title) and whose buttons answer the step (ack: รับทราบ;
// confirm: ยืนยัน / ไม่ใช่; declare: ประกาศ / ไม่ประกาศ), with the whole text as altText; a "text" message when `code`
// is empty or the message asks nothing. Holds no person's data.
std::string LineMessage(const store::DeliveryMessage& m, std::string_view code, const alerting::Network& network);

// A LINE text message object (JSON) saying `text` (cut to LINE's 5000 characters).
std::string LineTextMessage(std::string_view text);

// The postback data of a button: "c=<code>&a=1" (yes) or "&a=2" (no).
std::string PostbackData(std::string_view code, ReplyChoice choice);
// A button's postback data read back: nullopt unless it is "c=<4 digits>&a=1|2" (in either order).
std::optional<ParsedReply> ParsePostbackData(std::string_view data);

// X-Line-Signature of `body`: base64(HMAC-SHA256(channel secret, body)).
std::string LineSignature(std::string_view channel_secret, std::string_view body);
// Whether `signature` is `body`'s, compared in constant time. False when either is empty.
bool LineSignatureOk(std::string_view channel_secret, std::string_view body, std::string_view signature);

// A link code typed in a LINE chat ("482913", " ๔๘๒๙๑๓ "): its six ASCII digits, or empty when the text is not one.
std::string LinkCodeIn(std::string_view text);

}  // namespace kaoko::delivery
