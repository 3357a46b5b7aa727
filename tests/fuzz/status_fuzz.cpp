// Fuzzes kaoko::wire::ParseStatus (a station's retained status payload).
#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = kaoko::wire::ParseStatus(kaoko::fuzz::AsText(data, size));
  if (!s)
    KAOKO_FUZZ_CHECK(!s.error().reason.empty());
  else if (s->ts)
    (void)kaoko::wire::FormatTime(*s->ts);
  return 0;
}
