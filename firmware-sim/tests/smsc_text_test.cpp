// kaoko-smsc's text codings and concatenation headers (smsc_text.hpp).
#include <catch2/catch.hpp>

#include "kaoko/sim/smsc_text.hpp"

using namespace kaoko::sim::smsc;

TEST_CASE("smsc text: UCS-2 round trip of Thai, and GSM and Latin-1 decoding", "[smsc]") {
  const std::string thai = "ยืนยัน 4821";
  const std::string ucs2 = Utf8ToUcs2(thai);
  CHECK(ucs2.size() == 2 * Utf16Length(thai));
  CHECK(ucs2.substr(0, 2) == std::string("\x0E\x22", 2));  // ย U+0E22
  CHECK(DecodeToUtf8(ucs2, kCodingUcs2) == thai);
  CHECK(DecodeToUtf8(Utf8ToUcs2("rain 🌧"), kCodingUcs2) == "rain 🌧");  // a surrogate pair
  SECTION("GSM 03.38 with the extension table") {
    // '@' is septet 0x00 and 0x40 is '¡': GSM is not ASCII.
    CHECK(DecodeToUtf8(std::string("Hello \x00 \x1B\x65 \x02 \x40", 14), kCodingGsm) == "Hello @ € $ ¡");
  }
  SECTION("Latin-1") { CHECK(DecodeToUtf8("caf\xE9", kCodingLatin1) == "café"); }
  SECTION("broken UTF-8 becomes U+FFFD") { CHECK(DecodeToUtf8(Utf8ToUcs2("a\xFF"), kCodingUcs2) == "a\xEF\xBF\xBD"); }
}

TEST_CASE("smsc text: user data headers with 8-bit and 16-bit references", "[smsc]") {
  const auto eight = SplitUserData(std::string("\x05\x00\x03\x2A\x02\x01hi", 8), kEsmUdhi);
  REQUIRE(eight);
  REQUIRE(eight->concat);
  CHECK(eight->concat->reference == 0x2A);
  CHECK(eight->concat->total == 2);
  CHECK(eight->concat->sequence == 1);
  CHECK(eight->text == "hi");
  const auto sixteen = SplitUserData(std::string("\x06\x08\x04\x12\x34\x03\x02ok", 9), kEsmUdhi);
  REQUIRE(sixteen);
  REQUIRE(sixteen->concat);
  CHECK(sixteen->concat->reference == 0x1234);
  CHECK(sixteen->concat->total == 3);
  CHECK(sixteen->concat->sequence == 2);
  CHECK(sixteen->text == "ok");
  CHECK_FALSE(SplitUserData(std::string("\x09\x00\x03", 3), kEsmUdhi));  // header longer than the message
  CHECK(SplitUserData("plain", 0)->text == "plain");
}

TEST_CASE("smsc text: a long Thai text splits into 67-character UCS-2 parts", "[smsc]") {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "น้ำท่วมสูง ";  // 11 characters each, 110 in all
  CHECK(SplitUcs2("สั้น", 7).size() == 1);
  const auto parts = SplitUcs2(text, 7);
  REQUIRE(parts.size() == 2);
  std::string joined;
  for (size_t k = 0; k < parts.size(); ++k) {
    const auto data = SplitUserData(parts[k], kEsmUdhi);
    REQUIRE(data);
    REQUIRE(data->concat);
    CHECK(data->concat->sequence == k + 1);
    CHECK(data->concat->total == 2);
    CHECK(data->text.size() <= 134);
    joined += data->text;
  }
  CHECK(DecodeToUtf8(joined, kCodingUcs2) == text);
}
