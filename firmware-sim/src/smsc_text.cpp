// GSM 03.38, Latin-1 and UCS-2 text, and concatenation headers (smsc_text.hpp).
#include "kaoko/sim/smsc_text.hpp"

#include <array>

namespace kaoko::sim::smsc {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// GSM 03.38 default alphabet, septet value -> Unicode. 0x1B is the escape to the extension table.
constexpr std::array<char32_t, 128> kGsm = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8,
    0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398,
    0x039E, 0x001B, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026,
    0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033,
    0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1,
    0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D,
    0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A,
    0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074,
    0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0};

char32_t GsmExtension(uint8_t septet) {
  switch (septet) {
    case 0x0A:
      return 0x000C;
    case 0x14:
      return '^';
    case 0x28:
      return '{';
    case 0x29:
      return '}';
    case 0x2F:
      return '\\';
    case 0x3C:
      return '[';
    case 0x3D:
      return '~';
    case 0x3E:
      return ']';
    case 0x40:
      return '|';
    case 0x65:
      return 0x20AC;
    default:
      return kReplacement;
  }
}

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// The code points of UTF-8 text; a malformed sequence becomes U+FFFD and decoding resumes at the next octet.
std::u32string Utf8ToCodePoints(std::string_view s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += b;
      ++i;
      continue;
    }
    const size_t n = (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : 0;
    bool ok = n > 0 && i + n < s.size();
    char32_t c = n == 1 ? (b & 0x1F) : n == 2 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; ok && k <= n; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xC0) != 0x80) ok = false;
      c = (c << 6) | (cont & 0x3F);
    }
    if (!ok) {
      out += kReplacement;
      ++i;
      continue;
    }
    out += c;
    i += n + 1;
  }
  return out;
}

std::u16string CodePointsToUtf16(const std::u32string& cps) {
  std::u16string out;
  for (char32_t c : cps) {
    if (c >= 0x10000) {
      c -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (c >> 10));
      out += static_cast<char16_t>(0xDC00 + (c & 0x3FF));
    } else {
      out += static_cast<char16_t>(c);
    }
  }
  return out;
}

std::string Utf16ToBigEndian(std::u16string_view units) {
  std::string out;
  for (char16_t u : units) {
    out += static_cast<char>(u >> 8);
    out += static_cast<char>(u & 0xFF);
  }
  return out;
}

std::string DecodeUcs2(std::string_view octets) {
  std::string out;
  for (size_t i = 0; i + 1 < octets.size(); i += 2) {
    char32_t u = (static_cast<unsigned char>(octets[i]) << 8) | static_cast<unsigned char>(octets[i + 1]);
    if (u >= 0xD800 && u < 0xDC00 && i + 3 < octets.size()) {
      const char32_t low = (static_cast<unsigned char>(octets[i + 2]) << 8) | static_cast<unsigned char>(octets[i + 3]);
      if (low >= 0xDC00 && low < 0xE000) {
        u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    AppendUtf8(out, u);
  }
  if (octets.size() % 2 != 0) AppendUtf8(out, kReplacement);
  return out;
}

std::string DecodeGsm(std::string_view octets) {
  std::string out;
  for (size_t i = 0; i < octets.size(); ++i) {
    const uint8_t septet = static_cast<uint8_t>(octets[i]) & 0x7F;
    if (septet == 0x1B && i + 1 < octets.size()) {
      AppendUtf8(out, GsmExtension(static_cast<uint8_t>(octets[++i]) & 0x7F));
    } else {
      AppendUtf8(out, kGsm[septet]);
    }
  }
  return out;
}

}  // namespace

std::string DecodeToUtf8(std::string_view octets, uint8_t data_coding) {
  switch (data_coding) {
    case kCodingGsm:
      return DecodeGsm(octets);
    case kCodingUcs2:
      return DecodeUcs2(octets);
    default: {
      std::string out;
      for (char c : octets) AppendUtf8(out, static_cast<unsigned char>(c));
      return out;
    }
  }
}

std::string Utf8ToUcs2(std::string_view utf8) { return Utf16ToBigEndian(CodePointsToUtf16(Utf8ToCodePoints(utf8))); }

size_t Utf16Length(std::string_view utf8) { return CodePointsToUtf16(Utf8ToCodePoints(utf8)).size(); }

std::optional<UserData> SplitUserData(std::string_view short_message, uint8_t esm_class) {
  UserData data;
  if ((esm_class & kEsmUdhi) == 0) {
    data.text = std::string(short_message);
    return data;
  }
  if (short_message.empty()) return std::nullopt;
  const size_t udhl = static_cast<unsigned char>(short_message[0]);
  if (1 + udhl > short_message.size()) return std::nullopt;
  const std::string_view header = short_message.substr(1, udhl);
  for (size_t i = 0; i + 1 < header.size();) {
    const auto iei = static_cast<unsigned char>(header[i]);
    const size_t len = static_cast<unsigned char>(header[i + 1]);
    if (i + 2 + len > header.size()) return std::nullopt;
    const auto at = [&](size_t k) { return static_cast<unsigned char>(header[i + 2 + k]); };
    if (iei == 0x00 && len == 3) data.concat = Concat{at(0), at(1), at(2)};
    if (iei == 0x08 && len == 4) data.concat = Concat{static_cast<uint16_t>((at(0) << 8) | at(1)), at(2), at(3)};
    i += 2 + len;
  }
  data.text = std::string(short_message.substr(1 + udhl));
  return data;
}

std::vector<std::string> SplitUcs2(std::string_view utf8, uint8_t reference) {
  const std::u16string units = CodePointsToUtf16(Utf8ToCodePoints(utf8));
  if (units.size() <= 70) return {Utf16ToBigEndian(units)};
  std::vector<std::u16string_view> pieces;
  const std::u16string_view all(units);
  for (size_t at = 0; at < all.size();) {
    size_t n = std::min<size_t>(67, all.size() - at);
    if (at + n < all.size() && all[at + n - 1] >= 0xD800 && all[at + n - 1] < 0xDC00) --n;  // keep a pair whole
    pieces.push_back(all.substr(at, n));
    at += n;
  }
  std::vector<std::string> parts;
  for (size_t k = 0; k < pieces.size(); ++k) {
    std::string part = {
        0x05, 0x00, 0x03, static_cast<char>(reference), static_cast<char>(pieces.size()), static_cast<char>(k + 1)};
    parts.push_back(part + Utf16ToBigEndian(pieces[k]));
  }
  return parts;
}

}  // namespace kaoko::sim::smsc
