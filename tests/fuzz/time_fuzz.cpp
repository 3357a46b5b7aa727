// Fuzzes kaoko::wire::ParseTime (RFC 3339 in every payload's "ts" and in HTTP query strings). A time it accepts in
// years 1-9999 must format (FormatTime) and parse back to the same millisecond.
#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto t = ParseTime(kaoko::fuzz::AsText(data, size));
  if (!t) return 0;
  // 0000-01-01T00:00:00+23:59 is accepted and lies before year 1, which RFC 3339 cannot write; only check the rest.
  using namespace std::chrono;
  const auto year = static_cast<int>(year_month_day(floor<days>(*t)).year());
  if (year < 1 || year > 9999) return 0;
  const std::string text = FormatTime(*t);
  auto back = ParseTime(text);
  KAOKO_FUZZ_CHECK(back.ok());
  KAOKO_FUZZ_CHECK(*back == *t);
  return 0;
}
