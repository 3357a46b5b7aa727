// The SMS path end to end: the real Kannel (bearerbox + smsbox) in front of kaoko-smsc, as the product will use it
// in front of an operator's SMSC. What is checked is what the product relies on: the exact Thai text on the phone,
// delivery reports on the dlr-url (8 accepted by the SMSC, then 1 delivered, 2 failed or 16 refused by the SMSC),
// replies on the sms-service get-url in UTF-8, and Kannel binding again after the SMSC goes away.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "kaoko/testing/harness.hpp"
#include "sms_support.hpp"

using kaoko::testing::Recorded;
using kaoko::testing::SmsRig;
using kaoko::testing::WaitFor;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPhones = R"(
[smsc]
system_id = "kaoko"
password = "secret"
short_code = "4455"
message_ids = "hex"

[[phone]]
number = "+66812345001"
name = "headman"
does = "deliver"
receipt_after_s = 1

[[phone]]
number = "+66812345002"
name = "deputy"
does = "deliver"
receipt_after_s = 1
reply = "ยืนยัน 4821"
reply_after_s = 1

[[phone]]
number = "+66812345003"
name = "switched off, expires"
does = "expire"
expire_after_s = 1

[[phone]]
number = "+66812345009"
name = "barred"
does = "barred"
refuse_status = 0x45
)";

// 121 Thai characters: two UCS-2 parts (67 + 54).
const std::string kLongThai =
    "แจ้งเตือนน้ำท่วม บ้านต้นหงส์: ระดับน้ำลำน้ำยมสูงถึงขั้นอพยพแล้ว "
    "โปรดย้ายคนและสัตว์เลี้ยงขึ้นที่สูงทันที ตอบ 1 เพื่อยืนยัน";

std::vector<Recorded> Reports(SmsRig& rig, const std::string& tag) {
  std::vector<Recorded> out;
  for (auto& r : rig.http().Requests("/dlr")) {
    if (r.query["tag"] == tag) out.push_back(r);
  }
  return out;
}

// Report types are bits, and Kannel may set more than one: for stat:EXPIRED Kannel 1.4.5 reports 34 (2, failed, with
// 32), so the product tests bits, as this does.
bool HasBit(const std::vector<Recorded>& reports, int bit) {
  for (const auto& r : reports) {
    if (std::stoi(r.query.at("type")) & bit) return true;
  }
  return false;
}

// Waits (bounded) until a report with `bit` for `tag` has come.
bool WaitForReport(SmsRig& rig, const std::string& tag, int bit, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return HasBit(Reports(rig, tag), bit); }, timeout);
}

std::map<std::string, std::string> Sms(const std::string& to, const std::string& text, SmsRig& rig,
                                       const std::string& tag) {
  return {{"to", to},           {"text", text},     {"coding", "2"},
          {"charset", "UTF-8"}, {"dlr-mask", "31"}, {"dlr-url", rig.DlrUrl(tag)}};
}

}  // namespace

TEST_CASE("sms: a long Thai alert through the real Kannel reaches the phone whole, reported accepted then delivered",
          "[sms][integration]") {
  SmsRig rig({kPhones, "0x03", "", 0});
  for (pid_t pid : {rig.bearerbox().pid(), rig.smsbox().pid()}) {
    const auto addresses = kaoko::testing::ListeningAddresses(pid);
    CHECK_FALSE(addresses.empty());
    for (const auto& a : addresses) CHECK(a.rfind("127.0.0.1:", 0) == 0);
  }
  REQUIRE(kaoko::testing::Utf8Length(kLongThai) > 70);

  const auto [status, body] = rig.SendSms(Sms("+66812345001", kLongThai, rig, "alert-1"));
  REQUIRE(status == 202);
  CHECK(body.find("Accepted") != std::string::npos);

  const auto inbox = rig.WaitForMessage("+66812345001", 1, 20s);
  REQUIRE_FALSE(inbox.is_null());
  const auto& message = inbox["messages"][0];
  CHECK(message["text"] == kLongThai);
  CHECK(message["parts"] == 2);
  CHECK(message["data_coding"] == 8);
  CHECK(message["from"] == "KAOKO");

  REQUIRE(WaitForReport(rig, "alert-1", 1, 20s));
  const auto reports = Reports(rig, "alert-1");
  INFO(rig.http().Dump());
  REQUIRE(reports.size() >= 2);
  CHECK(reports.front().query.at("type") == "8");  // accepted by the SMSC, before the handset's report
  for (const auto& r : reports) CHECK(r.query.at("to") == "+66812345001");
  // The delivered report is the receipt of the first part (Kannel asks for a receipt on that part only).
  const auto first_id = message["message_ids"][0].get<std::string>();
  bool matched = false;
  for (const auto& r : reports) {
    if (r.query.at("type") == "1") matched = r.query.at("reply").find("id:" + first_id + " ") == 0;
  }
  CHECK(matched);
}

TEST_CASE("sms: a barred number, a phone that stays off and an SMSC refusing everything give failed reports",
          "[sms][integration]") {
  SmsRig rig({kPhones, "0x03", "", 0});
  SECTION("barred: submit_sm_resp ESME_RSUBMITFAIL is report 16 with the SMSC's status") {
    REQUIRE(rig.SendSms(Sms("+66812345009", "ทดสอบ", rig, "barred")).first == 202);
    REQUIRE(WaitForReport(rig, "barred", 16, 20s));
    const auto reports = Reports(rig, "barred");
    CHECK(reports.size() == 1);
    CHECK(reports[0].query.at("reply").rfind("NACK/0x00000045/", 0) == 0);
    CHECK(rig.Control("inbox +66812345009")["messages"].empty());
  }
  SECTION("switched off: accepted (8), then stat:EXPIRED is a report with bit 2 (failed)") {
    REQUIRE(rig.SendSms(Sms("+66812345003", "ทดสอบ", rig, "off")).first == 202);
    REQUIRE(WaitForReport(rig, "off", 2, 20s));
    const auto reports = Reports(rig, "off");
    CHECK(reports.front().query.at("type") == "8");
    CHECK(reports.back().query.at("reply").find("stat:EXPIRED") != std::string::npos);
    CHECK((std::stoi(reports.back().query.at("type")) & 1) == 0);
    CHECK(rig.Control("inbox +66812345003")["messages"].empty());
  }
  SECTION("refusing everything, then accepting again") {
    REQUIRE(rig.Control("refuse 0x45")["ok"] == true);
    REQUIRE(rig.SendSms(Sms("+66812345001", "ทดสอบ", rig, "refused")).first == 202);
    REQUIRE(WaitForReport(rig, "refused", 16, 20s));
    CHECK(rig.Control("inbox +66812345001")["messages"].empty());
    REQUIRE(rig.Control("refuse off")["ok"] == true);
    REQUIRE(rig.SendSms(Sms("+66812345001", "ทดสอบอีกครั้ง", rig, "again")).first == 202);
    REQUIRE(WaitForReport(rig, "again", 1, 20s));
    CHECK(rig.WaitForMessage("+66812345001", 1, 5s)["messages"][0]["text"] == "ทดสอบอีกครั้ง");
  }
}

TEST_CASE("sms: a phone's Thai reply reaches the sms-service get-url in UTF-8 with the sender's number",
          "[sms][integration]") {
  SmsRig rig({kPhones, "0x03", "", 0});
  const auto replies = [&] { return rig.http().Requests("/mo"); };
  SECTION("the scripted reply, a human delay after the alert") {
    REQUIRE(rig.SendSms(Sms("+66812345002", "น้ำท่วม ตอบ 4821", rig, "ask")).first == 202);
    REQUIRE(WaitFor([&] { return !replies().empty(); }, 20s));
    auto mo = replies()[0];
    INFO(rig.http().Dump());
    CHECK(mo.query["from"] == "+66812345002");
    CHECK(mo.query["to"] == "4455");
    CHECK(mo.query["text"] == "ยืนยัน 4821");
    CHECK(mo.query["charset"] == "UTF-8");
    CHECK(mo.query["smsc"] == "sim");
  }
  SECTION("a reply now from the control port, in digits") {
    REQUIRE(rig.Control("reply +66812345002 1 4821")["ok"] == true);
    REQUIRE(WaitFor([&] { return !replies().empty(); }, 20s));
    auto mo = replies()[0];
    CHECK(mo.query["from"] == "+66812345002");
    CHECK(mo.query["text"] == "1 4821");
  }
}

TEST_CASE("sms: kaoko-smsc killed or the link dropped: Kannel binds again and the next messages arrive",
          "[sms][integration]") {
  SmsRig rig({kPhones, "0x03", "", 0});
  REQUIRE(rig.SendSms(Sms("+66812345001", "ก่อน", rig, "before")).first == 202);
  REQUIRE(WaitForReport(rig, "before", 1, 20s));

  SECTION("SIGKILL and restart; a message sent while it is down waits in Kannel") {
    rig.KillSmsc();
    REQUIRE(rig.SendSms(Sms("+66812345001", "ระหว่างดับ", rig, "during")).first == 202);
    rig.StartSmsc();
    REQUIRE(WaitFor([&] { return rig.KannelBound(); }, 30s));
    REQUIRE(rig.SendSms(Sms("+66812345001", "หลังเริ่มใหม่", rig, "after")).first == 202);
    REQUIRE(WaitForReport(rig, "after", 1, 20s));
    REQUIRE(WaitForReport(rig, "during", 1, 20s));
    const auto inbox = rig.WaitForMessage("+66812345001", 2, 5s);
    REQUIRE_FALSE(inbox.is_null());
    std::set<std::string> texts;
    for (const auto& m : inbox["messages"]) texts.insert(m["text"].get<std::string>());
    CHECK(texts == std::set<std::string>{"ระหว่างดับ", "หลังเริ่มใหม่"});
  }
  SECTION("the link dropped and binds refused for 2 s") {
    REQUIRE(rig.Control("drop 2")["dropped"] == 1);
    REQUIRE(WaitFor([&] { return rig.KannelBound(); }, 30s));
    REQUIRE(rig.SendSms(Sms("+66812345001", "หลังหลุด", rig, "dropped")).first == 202);
    REQUIRE(WaitForReport(rig, "dropped", 1, 20s));
    CHECK(rig.WaitForMessage("+66812345001", 2, 5s)["messages"][1]["text"] == "หลังหลุด");
  }
}
