// Text as an SMSC carries it: the GSM 03.38 default alphabet (data_coding 0, one septet per octet as SMPP sends it),
// Latin-1 (data_coding 3), UCS-2 big-endian (data_coding 8), and the user data header of concatenated messages
// (IE 0x00 with an 8-bit reference, IE 0x08 with a 16-bit one). Pure functions; all thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaoko::sim::smsc {

// The SMPP data_coding values the simulator understands.
inline constexpr uint8_t kCodingGsm = 0x00;
inline constexpr uint8_t kCodingLatin1 = 0x03;
inline constexpr uint8_t kCodingUcs2 = 0x08;

// esm_class bits.
inline constexpr uint8_t kEsmUdhi = 0x40;             // short_message starts with a user data header
inline constexpr uint8_t kEsmDeliveryReceipt = 0x04;  // deliver_sm is a delivery receipt

// UTF-8 from `octets` in `data_coding` (0 GSM, 1 IA5/ASCII, 3 Latin-1, 8 UCS-2; anything else is read as Latin-1).
// Characters that cannot be decoded become U+FFFD.
std::string DecodeToUtf8(std::string_view octets, uint8_t data_coding);

// UCS-2 big-endian (UTF-16BE: characters beyond the BMP become surrogate pairs) of UTF-8 text. Invalid UTF-8 octets
// become U+FFFD.
std::string Utf8ToUcs2(std::string_view utf8);

// The number of UTF-16 code units of `utf8` (what counts against the 70 characters of one UCS-2 part).
size_t Utf16Length(std::string_view utf8);

// The concatenation information of a user data header.
struct Concat {
  uint16_t reference = 0;
  uint8_t total = 1;
  uint8_t sequence = 1;
};

// A short message split into its header and its text.
struct UserData {
  std::optional<Concat> concat;  // from IE 0x00 or 0x08 when present
  std::string text;              // the octets after the header
};

// Splits `short_message` when esm_class has the UDHI bit. Returns nothing when the header's length runs past the end.
std::optional<UserData> SplitUserData(std::string_view short_message, uint8_t esm_class);

// The UCS-2 parts of `utf8` as short messages: one part without a header when it fits 70 UTF-16 units, otherwise
// parts of at most 67 units, each behind a header with IE 0x00 (`reference`, total, sequence). A surrogate pair is
// never cut.
std::vector<std::string> SplitUcs2(std::string_view utf8, uint8_t reference);

}  // namespace kaoko::sim::smsc
