// Fuzzes kaoko::wire::ParseReport (a watcher's report) and PeekId, which names a refused report in its receipt. A
// receipt is rendered for every outcome, as the service does.
#include <cmath>

#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kaoko::fuzz::AsText(data, size);
  auto r = ParseReport(text);
  auto id = PeekId(text);
  if (!r) {
    (void)RenderReceipt(id.value_or(""), false, std::nullopt, r.error().reason);
    return 0;
  }
  KAOKO_FUZZ_CHECK(id && *id == r->id);
  KAOKO_FUZZ_CHECK(!r->id.empty() && r->id.size() <= 64);
  KAOKO_FUZZ_CHECK(r->station.has_value() == r->level_cm.has_value());
  if (r->level_cm) KAOKO_FUZZ_CHECK(std::isfinite(*r->level_cm));
  (void)RenderReceipt(r->id, true, 17, "");
  (void)FormatTime(r->ts);
  return 0;
}
