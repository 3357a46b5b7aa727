// What kaoko says by SMS (sms_text.hpp).
#include "kaoko/delivery/sms_text.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <chrono>
#include <vector>

namespace kaoko::delivery {

std::string ThaiClock(alerting::TimePoint t) {
  const auto local = std::chrono::floor<std::chrono::minutes>(t + std::chrono::hours(7));
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::hh_mm_ss hms(local - day);
  return fmt::format("{:02}:{:02}", hms.hours().count(), hms.minutes().count());
}

const char* ShortLevel(alerting::Level level) {
  switch (level) {
    case alerting::Level::kWatch:
      return "เฝ้าระวัง";
    case alerting::Level::kWarning:
      return "เตือนภัย";
    case alerting::Level::kCritical:
      return "วิกฤต-อพยพ";
    case alerting::Level::kNormal:
      break;
  }
  return "ปกติ";
}

std::string ArabicDigits(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xE0 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xB9) {
      const auto d = static_cast<unsigned char>(text[i + 2]);
      if (d >= 0x90 && d <= 0x99) {
        out += static_cast<char>('0' + (d - 0x90));
        i += 2;
        continue;
      }
    }
    out += static_cast<char>(c);
  }
  return out;
}

namespace {

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '.' || c == ':' || c == '-' || c == '#') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::optional<ReplyChoice> ChoiceWord(std::string_view w) {
  static constexpr std::array<std::string_view, 6> kYes = {"1", "ยืนยัน", "รับทราบ", "ประกาศ", "ตกลง", "ใช่"};
  static constexpr std::array<std::string_view, 4> kNo = {"2", "ไม่ใช่", "ปฏิเสธ", "ไม่"};
  for (auto y : kYes) {
    if (w == y) return ReplyChoice::kYes;
  }
  for (auto n : kNo) {
    if (w == n) return ReplyChoice::kNo;
  }
  return std::nullopt;
}

}  // namespace

std::size_t Ucs2Length(std::string_view utf8) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;  // beyond the BMP: a surrogate pair
  }
  return n;
}

int SmsParts(std::string_view utf8) {
  const std::size_t n = Ucs2Length(utf8);
  if (n <= 70) return 1;
  return static_cast<int>((n + 66) / 67);
}

std::string SmsText(const store::DeliveryMessage& m, std::string_view code, const alerting::Network& network) {
  const alerting::Village* v = network.FindVillage(m.village);
  const std::string where = v ? v->name_th : m.village;
  std::string text = fmt::format("kaoko{}: {}{} {} เหตุ#{}", m.exercise ? " ซ้อม" : "", m.reminder ? "เตือนซ้ำ " : "",
                                 ShortLevel(m.level), where, m.incident);
  const std::string by = m.deadline ? fmt::format(" ภายใน {}", ThaiClock(*m.deadline)) : "";
  switch (m.action) {
    case alerting::ActionNeeded::kAck:
      text += fmt::format(" โปรดรับทราบ{} ตอบ 1 {}", by, code);
      break;
    case alerting::ActionNeeded::kConfirm:
      text += fmt::format(" โปรดยืนยันน้ำท่วม{} ตอบ 1 {} ยืนยัน, 2 {} ไม่ใช่", by, code, code);
      break;
    case alerting::ActionNeeded::kDeclare:
      text += fmt::format(" โปรดประกาศเตือนภัย{} ตอบ 1 {} ประกาศ, 2 {} ไม่ประกาศ", by, code, code);
      break;
    case alerting::ActionNeeded::kNone: {
      // Information: the engine's own sentence when it fits, else the line above says the essentials.
      std::string full = text + " " + m.text_th;
      if (SmsParts(full) <= kMaxSmsParts) text = std::move(full);
      break;
    }
  }
  return text;
}

wire::DecisionMsg ReplyDecision(const store::ReplyCode& code, ReplyChoice choice, std::string_view via,
                                std::string_view note, alerting::TimePoint now) {
  wire::DecisionMsg d;
  d.id = fmt::format("{}-{}-{}", via, code.incident, code.code);
  d.ts = now;
  d.incident = code.incident;
  if (choice == ReplyChoice::kNo) {
    d.action = alerting::DecisionAction::kReject;
  } else if (code.action == alerting::ActionNeeded::kConfirm) {
    d.action = alerting::DecisionAction::kConfirm;
  } else if (code.action == alerting::ActionNeeded::kDeclare) {
    d.action = alerting::DecisionAction::kDeclare;
    d.level = code.level;
  } else {
    d.action = alerting::DecisionAction::kAck;
  }
  d.note = std::string(note);
  return d;
}

std::optional<ParsedReply> ParseReply(std::string_view raw) {
  const std::vector<std::string> words = Words(ArabicDigits(raw));
  ParsedReply r;
  if (words.size() == 1 && words[0].size() == 5 && AllDigits(words[0]) && (words[0][0] == '1' || words[0][0] == '2')) {
    r.choice = words[0][0] == '1' ? ReplyChoice::kYes : ReplyChoice::kNo;  // "14821": the space left out
    r.code = words[0].substr(1);
    return r;
  }
  if (words.size() != 2) return std::nullopt;
  // Either order: "1 4821" or "4821 ยืนยัน".
  for (int first = 0; first < 2; ++first) {
    const std::string& c = words[static_cast<std::size_t>(first)];
    const std::string& k = words[static_cast<std::size_t>(1 - first)];
    auto choice = ChoiceWord(c);
    if (choice && k.size() == 4 && AllDigits(k)) {
      r.choice = *choice;
      r.code = k;
      return r;
    }
  }
  return std::nullopt;
}

std::string NormalizeNumber(std::string_view number) {
  std::string digits;
  for (char c : number) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  if (digits.size() == 10 && digits[0] == '0') digits = "66" + digits.substr(1);
  if (digits.size() != 11 || digits.compare(0, 2, "66") != 0) return {};
  return "+" + digits;
}

namespace answer {
std::string UnknownNumber() { return "kaoko: หมายเลขนี้ไม่ได้ลงทะเบียนไว้ โปรดติดต่อ อบต."; }
std::string Unreadable() { return "kaoko: อ่านคำตอบไม่ได้ โปรดตอบตามข้อความ เช่น 1 4821"; }
std::string WrongCode(std::string_view code) { return fmt::format("kaoko: รหัส {} ไม่ถูกต้อง", code); }
std::string UsedCode(std::string_view code) { return fmt::format("kaoko: รหัส {} ใช้ไปแล้ว", code); }
std::string Refused(std::string_view why_en) {
  // The engine's reasons are English; a villager gets the gist in Thai, the log keeps the reason.
  if (why_en.find("already") != std::string_view::npos || why_en.find("has declared") != std::string_view::npos)
    return "kaoko: ไม่ได้บันทึก ขั้นตอนนี้ผ่านไปแล้ว";
  if (why_en.rfind("only ", 0) == 0) return "kaoko: ไม่ได้บันทึก ท่านไม่มีสิทธิ์ในขั้นตอนนี้";
  return "kaoko: ไม่ได้บันทึก โปรดลองใหม่หรือโทรแจ้ง อบต.";
}
std::string Accepted(alerting::ActionNeeded step, ReplyChoice choice, std::int64_t incident) {
  if (choice == ReplyChoice::kNo) return fmt::format("kaoko: บันทึกแล้ว ไม่ใช่เหตุ#{} ขอบคุณ", incident);
  switch (step) {
    case alerting::ActionNeeded::kConfirm:
      return fmt::format("kaoko: บันทึกแล้ว ยืนยันเหตุ#{} ขอบคุณ", incident);
    case alerting::ActionNeeded::kDeclare:
      return fmt::format("kaoko: บันทึกแล้ว ประกาศเหตุ#{} ขอบคุณ", incident);
    default:
      return fmt::format("kaoko: บันทึกแล้ว รับทราบเหตุ#{} ขอบคุณ", incident);
  }
}
}  // namespace answer

}  // namespace kaoko::delivery
