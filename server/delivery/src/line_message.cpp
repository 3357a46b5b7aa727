// What kaoko says and reads on LINE (line.hpp): message objects, postback data, signatures, link codes.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "kaoko/delivery/line.hpp"

namespace kaoko::delivery {
namespace {

using json = nlohmann::json;

// LINE's limits (docs/delivery-line.md section 5), in UTF-16 units as LINE counts them.
constexpr std::size_t kButtonsText = 160;
constexpr std::size_t kAltText = 400;
constexpr std::size_t kText = 5000;

// `text` cut to at most `max` UTF-16 units, at a character's boundary.
std::string Clip(std::string_view text, std::size_t max) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    const std::size_t width = c >= 0xF0 ? 2 : 1;
    if (units + width > max) return std::string(text.substr(0, i));
    units += width;
  }
  return std::string(text);
}

struct Button {
  const char* label;
  ReplyChoice choice;
};

std::vector<Button> ButtonsOf(alerting::ActionNeeded action) {
  switch (action) {
    case alerting::ActionNeeded::kAck:
      return {{"รับทราบ", ReplyChoice::kYes}};
    case alerting::ActionNeeded::kConfirm:
      return {{"ยืนยัน", ReplyChoice::kYes}, {"ไม่ใช่", ReplyChoice::kNo}};
    case alerting::ActionNeeded::kDeclare:
      return {{"ประกาศ", ReplyChoice::kYes}, {"ไม่ประกาศ", ReplyChoice::kNo}};
    case alerting::ActionNeeded::kNone:
      break;
  }
  return {};
}

std::string Ask(const store::DeliveryMessage& m) {
  const std::string by = m.deadline ? fmt::format(" ภายใน {}", ThaiClock(*m.deadline)) : "";
  switch (m.action) {
    case alerting::ActionNeeded::kAck:
      return "โปรดรับทราบ" + by;
    case alerting::ActionNeeded::kConfirm:
      return "โปรดยืนยันน้ำท่วม" + by;
    case alerting::ActionNeeded::kDeclare:
      return "โปรดประกาศเตือนภัย" + by;
    case alerting::ActionNeeded::kNone:
      break;
  }
  return {};
}

}  // namespace

std::string LineMessage(const store::DeliveryMessage& m, std::string_view code, const alerting::Network& network) {
  const alerting::Village* v = network.FindVillage(m.village);
  const std::string head = fmt::format("kaoko{}: {}{} {} เหตุ#{}", m.exercise ? " ซ้อม" : "", m.reminder ? "เตือนซ้ำ " : "",
                                       ShortLevel(m.level), v ? v->name_th : m.village, m.incident);
  const std::vector<Button> buttons = code.empty() ? std::vector<Button>{} : ButtonsOf(m.action);
  if (buttons.empty()) {
    return LineTextMessage(head + "\n" + m.text_th);
  }
  const std::string ask = Ask(m);
  std::string text = head + "\n" + ask;
  // The engine's own sentence when it fits in the buttons' 160 characters; the altText (what a chat list and an old
  // phone show) always has it.
  if (Ucs2Length(text + "\n" + m.text_th) <= kButtonsText) text += "\n" + m.text_th;
  json actions = json::array();
  for (const Button& b : buttons) {
    actions.push_back(
        {{"type", "postback"}, {"label", b.label}, {"data", PostbackData(code, b.choice)}, {"displayText", b.label}});
  }
  return json{{"type", "template"},
              {"altText", Clip(head + " " + ask + " " + m.text_th, kAltText)},
              {"template", {{"type", "buttons"}, {"text", Clip(text, kButtonsText)}, {"actions", actions}}}}
      .dump();
}

std::string LineTextMessage(std::string_view text) {
  return json{{"type", "text"}, {"text", Clip(text, kText)}}.dump();
}

std::string PostbackData(std::string_view code, ReplyChoice choice) {
  return fmt::format("c={}&a={}", code, choice == ReplyChoice::kYes ? 1 : 2);
}

std::optional<ParsedReply> ParsePostbackData(std::string_view data) {
  std::optional<std::string> code;
  std::optional<ReplyChoice> choice;
  while (!data.empty()) {
    const auto amp = data.find('&');
    const std::string_view pair = data.substr(0, amp);
    data = amp == std::string_view::npos ? std::string_view() : data.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (key == "c" && !code && value.size() == 4 && value.find_first_not_of("0123456789") == std::string_view::npos) {
      code = std::string(value);
    } else if (key == "a" && !choice && (value == "1" || value == "2")) {
      choice = value == "1" ? ReplyChoice::kYes : ReplyChoice::kNo;
    } else {
      return std::nullopt;
    }
  }
  if (!code || !choice) return std::nullopt;
  return ParsedReply{*choice, *code};
}

std::string LineSignature(std::string_view channel_secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), channel_secret.data(), static_cast<int>(channel_secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool LineSignatureOk(std::string_view channel_secret, std::string_view body, std::string_view signature) {
  if (channel_secret.empty() || signature.empty()) return false;
  const std::string want = LineSignature(channel_secret, body);
  return signature.size() == want.size() && CRYPTO_memcmp(signature.data(), want.data(), want.size()) == 0;
}

std::string LinkCodeIn(std::string_view text) {
  std::string digits = ArabicDigits(text);
  const auto first = digits.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = digits.find_last_not_of(" \t\r\n");
  digits = digits.substr(first, last - first + 1);
  if (digits.size() != 6 || digits.find_first_not_of("0123456789") != std::string::npos) return {};
  return digits;
}

}  // namespace kaoko::delivery
