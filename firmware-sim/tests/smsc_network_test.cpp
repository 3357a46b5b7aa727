// The simulated operator network (smsc_network.hpp): refusals, inboxes, receipts and replies on a given clock.
#include <catch2/catch.hpp>

#include "kaoko/sim/smsc_network.hpp"
#include "kaoko/sim/smsc_text.hpp"

using namespace kaoko::sim::smsc;
using namespace std::chrono_literals;

namespace {

SmscConfig TestConfig() {
  SmscConfig c;
  c.short_code = "4455";
  c.message_ids = MessageIdStyle::kDecimal;
  c.phones = {
      {"+66810000001", "headman", PhoneBehaviour::kDeliver, 3, 60, 0x45, "ยืนยัน 4821", 30},
      {"+66810000002", "off", PhoneBehaviour::kOff, 3, 60, 0x45, std::nullopt, 30},
      {"+66810000003", "expire", PhoneBehaviour::kExpire, 3, 60, 0x45, std::nullopt, 30},
      {"+66810000009", "barred", PhoneBehaviour::kBarred, 3, 60, 0x45, std::nullopt, 30},
  };
  return c;
}

ShortMessage Submit(const std::string& digits, const std::string& octets, uint8_t esm = 0, uint8_t coding = 8) {
  ShortMessage m;
  m.source = {5, 0, "KAOKO"};
  m.destination = {1, 1, digits};
  m.esm_class = esm;
  m.data_coding = coding;
  m.registered_delivery = 1;
  m.short_message = octets;
  return m;
}

const Time t0 = Time{} + 1000h;

}  // namespace

TEST_CASE("smsc network: a concatenated Thai message is joined, receipted per part, and answered", "[smsc]") {
  Network net(TestConfig(), /*speed=*/1, /*first_message_id=*/100);
  std::string text;
  for (int i = 0; i < 8; ++i) text += "ระดับน้ำสูง ";
  const auto parts = SplitUcs2(text, 9);
  REQUIRE(parts.size() == 2);
  const auto first = net.Submit(Submit("66810000001", parts[0], kEsmUdhi), t0);
  CHECK(first.status == status::kOk);
  CHECK(first.message_id == "100");
  REQUIRE(net.Inbox("+66810000001").size() == 1);
  CHECK_FALSE(net.Inbox("+66810000001")[0].complete);
  const auto second = net.Submit(Submit("66810000001", parts[1], kEsmUdhi), t0 + 1s);
  CHECK(second.message_id == "101");
  const auto inbox = net.Inbox("+66810000001");
  REQUIRE(inbox.size() == 1);
  CHECK(inbox[0].complete);
  CHECK(inbox[0].text == text);
  CHECK(inbox[0].parts_received == 2);
  CHECK(inbox[0].message_ids == std::vector<std::string>{"100", "101"});

  CHECK(net.TakeDue(t0 + 2s).empty());
  const auto receipts = net.TakeDue(t0 + 4s);
  REQUIRE(receipts.size() == 2);
  CHECK(receipts[0].esm_class == kEsmDeliveryReceipt);
  CHECK(receipts[0].receipted_message_id == std::optional<std::string>("100"));
  CHECK(receipts[0].source.digits == "66810000001");
  CHECK(receipts[0].destination.digits == "KAOKO");
  CHECK(receipts[0].short_message.find("id:100 sub:001 dlvrd:001 submit date:") == 0);
  CHECK(receipts[0].short_message.find("stat:DELIVRD err:000") != std::string::npos);

  const auto replies = net.TakeDue(t0 + 31s);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].source.digits == "66810000001");
  CHECK(replies[0].source.ton == 1);
  CHECK(replies[0].destination.digits == "4455");
  CHECK(replies[0].data_coding == kCodingUcs2);
  CHECK(DecodeToUtf8(replies[0].short_message, kCodingUcs2) == "ยืนยัน 4821");
  CHECK_FALSE(net.NextDue());
}

TEST_CASE("smsc network: phones that are off, expire or barred, and a network that refuses everything", "[smsc]") {
  Network net(TestConfig(), /*speed=*/60, /*first_message_id=*/1);
  SECTION("off: accepted, never received, no receipt") {
    CHECK(net.Submit(Submit("66810000002", "hi", 0, 0), t0).status == status::kOk);
    CHECK(net.Inbox("+66810000002").empty());
    CHECK_FALSE(net.NextDue());
  }
  SECTION("expire: stat:EXPIRED after the delay divided by the speed") {
    CHECK(net.Submit(Submit("66810000003", "hi", 0, 0), t0).status == status::kOk);
    CHECK(net.TakeDue(t0 + 999ms).empty());
    const auto due = net.TakeDue(t0 + 1s);
    REQUIRE(due.size() == 1);
    CHECK(due[0].short_message.find("stat:EXPIRED") != std::string::npos);
    CHECK(due[0].message_state == std::optional<uint8_t>(3));
  }
  SECTION("barred: submit_sm_resp ESME_RSUBMITFAIL, no id") {
    const auto out = net.Submit(Submit("66810000009", "hi", 0, 0), t0);
    CHECK(out.status == status::kSubmitFailed);
    CHECK(out.message_id.empty());
    CHECK(out.log.find("barred") != std::string::npos);
    CHECK(net.counters().refused == 1);
  }
  SECTION("refuse everything, then accept again") {
    net.RefuseAll(status::kSystemError);
    CHECK(net.Submit(Submit("66810000001", "hi", 0, 0), t0).status == status::kSystemError);
    net.RefuseAll(std::nullopt);
    CHECK(net.Submit(Submit("66810000001", "hi", 0, 0), t0).status == status::kOk);
  }
  SECTION("a reply on demand, in GSM when it is plain digits") {
    REQUIRE(net.ReplyNow("+66810000001", "1 4821", t0));
    const auto due = net.TakeDue(t0);
    REQUIRE(due.size() == 1);
    CHECK(due[0].data_coding == kCodingGsm);
    CHECK(due[0].short_message == "1 4821");
    CHECK(net.ReplyNow("+66899999999", "", t0).error().code == "unknown_phone");
    CHECK(net.ReplyNow("+66810000002", "", t0).error().code == "no_reply_text");
  }
}

TEST_CASE("smsc network: numbers as an ESME writes them", "[smsc]") {
  CHECK(NormaliseNumber(1, "66812345001") == "+66812345001");
  CHECK(NormaliseNumber(2, "0812345001") == "+66812345001");
  CHECK(NormaliseNumber(0, "0812345001") == "+66812345001");
  CHECK(NormaliseNumber(0, "+66812345001") == "+66812345001");
  CHECK(NormaliseNumber(6, "4455") == "4455");
}

TEST_CASE("smsc network: a phone answers with the code the message asks for, and not to news", "[smsc]") {
  using kaoko::sim::smsc::ReplyTo;
  CHECK(ReplyTo("ยืนยัน 4821", "anything") == std::optional<std::string>("ยืนยัน 4821"));
  CHECK(ReplyTo("1 {code}", "kaoko: เตือนภัย บ้านเก้ากอ เหตุ#3 โปรดยืนยันน้ำท่วม ตอบ 1 0457 ยืนยัน, 2 0457 ไม่ใช่") ==
        std::optional<std::string>("1 0457"));
  CHECK_FALSE(ReplyTo("1 {code}", "kaoko: เฝ้าระวัง บ้านเก้ากอ เหตุ#3 น้ำขึ้น"));
  CHECK_FALSE(ReplyTo("1 {code}", "ตอบ 1 12"));
}
