// What kaoko says by SMS, without a gateway: every text fits in two UCS-2 parts for the shipped network's longest
// names, a reply is read in Thai or digits, and the answers are short.
#include "kaoko/delivery/sms_text.hpp"

#include <catch2/catch.hpp>

#include "kaoko/contract/network_file.hpp"

using namespace kaoko;
using delivery::ParseReply;
using delivery::ReplyChoice;

namespace {

alerting::TimePoint At(int hour, int minute) {
  using namespace std::chrono;
  return alerting::TimePoint(sys_days(year(2026) / 12 / 7) + hours(hour) + minutes(minute));
}

}  // namespace

TEST_CASE("sms text: parts are counted in UCS-2, 70 in one and 67 a part after", "[sms]") {
  CHECK(delivery::Ucs2Length("ยืนยัน 4821") == 11);
  CHECK(delivery::SmsParts(std::string(70, 'a')) == 1);
  CHECK(delivery::SmsParts(std::string(71, 'a')) == 2);
  CHECK(delivery::SmsParts(std::string(134, 'a')) == 2);
  CHECK(delivery::SmsParts(std::string(135, 'a')) == 3);
  std::string thai;
  for (int i = 0; i < 70; ++i) thai += "ก";
  CHECK(delivery::SmsParts(thai) == 1);
  CHECK(delivery::SmsParts(thai + "ก") == 2);
}

TEST_CASE("sms text: every message fits in two parts for every village of the shipped network", "[sms]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  std::size_t longest = 0;
  for (const auto& v : net->villages) {
    for (auto action : {alerting::ActionNeeded::kNone, alerting::ActionNeeded::kAck, alerting::ActionNeeded::kConfirm,
                        alerting::ActionNeeded::kDeclare}) {
      for (bool flags : {false, true}) {
        store::DeliveryMessage m;
        m.notification = "n-123456";
        m.incident = 123456;
        m.village = v.id;
        m.level = alerting::Level::kCritical;
        m.action = action;
        m.deadline = At(19, 45);
        m.reminder = flags;
        m.exercise = flags;
        // The engine's longest sentences name the station and its landmark: the text must still fit.
        for (const auto& s : net->stations) {
          const std::string sentence = std::string("น้ำที่ ") + std::string(s.name_th()) + " ถึง " +
                                       std::string(s.landmark_th(alerting::Level::kCritical));
          if (sentence.size() > m.text_th.size()) m.text_th = sentence;
        }
        const std::string text = delivery::SmsText(m, "4821", *net);
        INFO(text);
        CHECK(delivery::SmsParts(text) <= delivery::kMaxSmsParts);
        CHECK(text.find(v.name_th) != std::string::npos);
        if (action != alerting::ActionNeeded::kNone) CHECK(text.find("ตอบ 1 4821") != std::string::npos);
        if (action == alerting::ActionNeeded::kConfirm) CHECK(text.find("2 4821 ไม่ใช่") != std::string::npos);
        longest = std::max(longest, delivery::Ucs2Length(text));
      }
    }
  }
  CHECK(longest > 70);  // the test really met two-part texts
}

TEST_CASE("sms text: the deadline is in Thailand's time and a drill says so", "[sms]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  store::DeliveryMessage m;
  m.incident = 12;
  m.village = net->villages.front().id;
  m.level = alerting::Level::kWarning;
  m.action = alerting::ActionNeeded::kConfirm;
  m.deadline = At(19, 30);  // 02:30 on the 8th in Thailand
  m.exercise = true;
  const std::string text = delivery::SmsText(m, "0042", *net);
  CHECK(text.find("ภายใน 02:30") != std::string::npos);
  CHECK(text.find("ซ้อม") != std::string::npos);
  CHECK(text.find("เหตุ#12") != std::string::npos);
}

TEST_CASE("sms reply: Thai words, digits of either script, and the space left out are all read", "[sms]") {
  struct Case {
    const char* text;
    ReplyChoice choice;
  };
  for (const Case& c :
       {Case{"1 4821", ReplyChoice::kYes}, Case{"ยืนยัน 4821", ReplyChoice::kYes},
        Case{" ยืนยัน   4821 ", ReplyChoice::kYes}, Case{"๑ ๔๘๒๑", ReplyChoice::kYes}, Case{"14821", ReplyChoice::kYes},
        Case{"รับทราบ 4821", ReplyChoice::kYes}, Case{"4821 ยืนยัน", ReplyChoice::kYes}, Case{"2 4821", ReplyChoice::kNo},
        Case{"ไม่ใช่ 4821", ReplyChoice::kNo}, Case{"ปฏิเสธ ๔๘๒๑", ReplyChoice::kNo}, Case{"24821", ReplyChoice::kNo}}) {
    INFO(c.text);
    auto r = ParseReply(c.text);
    REQUIRE(r);
    CHECK(r->code == "4821");
    CHECK(r->choice == c.choice);
  }
  for (const char* bad : {"", "4821", "1", "3 4821", "1 482", "1 48215", "ok 4821", "1 4821 2", "34821", "hello"}) {
    INFO(bad);
    CHECK_FALSE(ParseReply(bad));
  }
}

TEST_CASE("sms reply: numbers in every form the network gives are read as +66, others are not", "[sms]") {
  CHECK(delivery::NormalizeNumber("+66812345001") == "+66812345001");
  CHECK(delivery::NormalizeNumber("66812345001") == "+66812345001");
  CHECK(delivery::NormalizeNumber("0812345001") == "+66812345001");
  CHECK(delivery::NormalizeNumber("+1 555 0100").empty());
  CHECK(delivery::NormalizeNumber("").empty());
}

TEST_CASE("sms reply: every answer is Thai and fits in one part", "[sms]") {
  namespace a = delivery::answer;
  for (const std::string& text :
       {a::UnknownNumber(), a::Unreadable(), a::WrongCode("4821"), a::UsedCode("4821"),
        a::Refused("incident 12 is already confirmed"), a::Refused("only the headman or deputy of kaoko may confirm"),
        a::Refused("something else"), a::Accepted(alerting::ActionNeeded::kConfirm, ReplyChoice::kYes, 123456),
        a::Accepted(alerting::ActionNeeded::kConfirm, ReplyChoice::kNo, 123456),
        a::Accepted(alerting::ActionNeeded::kDeclare, ReplyChoice::kYes, 123456)}) {
    INFO(text);
    CHECK(delivery::SmsParts(text) == 1);
    CHECK(delivery::Ucs2Length(text) < text.size());  // Thai (multi-octet) text
  }
  CHECK(a::Refused("incident 12 is already confirmed") != a::Refused("only the headman of kaoko may confirm"));
}
