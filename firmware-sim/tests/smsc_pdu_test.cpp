// SMPP PDUs through libsmpp34 (smsc_pdu.hpp): what kaoko-smsc writes reads back the same.
#include <catch2/catch.hpp>

#include "kaoko/sim/smsc_pdu.hpp"

using namespace kaoko::sim::smsc;

TEST_CASE("smsc pdu: bind, submit_sm and deliver_sm round trips", "[smsc]") {
  SECTION("bind_transceiver") {
    const std::string pdu = EncodeBind(7, Bind{command::kBindTransceiver, "kaoko", "secret", "VMA", 0x34});
    const Header h = ReadHeader(pdu);
    CHECK(h.length == pdu.size());
    CHECK(h.command_id == command::kBindTransceiver);
    CHECK(h.sequence == 7);
    const auto bind = DecodeBind(pdu);
    REQUIRE(bind);
    CHECK(bind->system_id == "kaoko");
    CHECK(bind->password == "secret");
    CHECK(bind->system_type == "VMA");
  }
  SECTION("submit_sm with a header and UCS-2") {
    ShortMessage m;
    m.source = {5, 0, "KAOKO"};
    m.destination = {1, 1, "66812345001"};
    m.esm_class = 0x40;
    m.data_coding = 8;
    m.registered_delivery = 1;
    m.short_message = std::string("\x05\x00\x03\x01\x02\x01\x0E\x22", 8);
    const auto back = DecodeSubmitSm(EncodeSubmitSm(3, m));
    REQUIRE(back);
    CHECK(back->source.digits == "KAOKO");
    CHECK(back->destination.ton == 1);
    CHECK(back->destination.digits == "66812345001");
    CHECK(back->esm_class == 0x40);
    CHECK(back->data_coding == 8);
    CHECK(back->registered_delivery == 1);
    CHECK(back->short_message == m.short_message);
  }
  SECTION("a receipt keeps receipted_message_id and message_state") {
    ShortMessage r;
    r.source = {1, 1, "66812345001"};
    r.destination = {0, 0, "4455"};
    r.esm_class = 0x04;
    r.short_message = "id:1a2b sub:001 dlvrd:001 stat:DELIVRD";
    r.receipted_message_id = "1a2b";
    r.message_state = 2;
    const auto back = DecodeDeliverSm(EncodeDeliverSm(9, r));
    REQUIRE(back);
    CHECK(back->receipted_message_id == std::optional<std::string>("1a2b"));
    CHECK(back->message_state == std::optional<uint8_t>(2));
    CHECK(back->short_message == r.short_message);
  }
  SECTION("responses and header-only PDUs") {
    const std::string resp = EncodeSubmitSmResp(status::kSubmitFailed, 4, "");
    CHECK(ReadHeader(resp).status == 0x45);
    CHECK(ReadHeader(resp).command_id == command::kSubmitSmResp);
    const std::string nack = EncodeHeaderOnly(command::kGenericNack, status::kInvalidCommandId, 11);
    CHECK(nack.size() == 16);
    CHECK(ReadHeader(nack).command_id == command::kGenericNack);
    CHECK(ReadHeader(nack).sequence == 11);
    CHECK(StatusName(0x45) == "ESME_RSUBMITFAIL");
  }
  SECTION("a truncated submit_sm is an error, not a crash") {
    ShortMessage m;
    m.destination = {1, 1, "66812345001"};
    m.short_message = "hello";
    std::string pdu = EncodeSubmitSm(1, m);
    pdu.resize(pdu.size() - 8);
    CHECK_FALSE(DecodeSubmitSm(pdu));
  }
}
