// Fuzzes kaoko::wire::ParseDecision (a committee member's, headman's or TAO officer's decision) and PeekId.
#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kaoko::fuzz::AsText(data, size);
  auto d = ParseDecision(text);
  auto id = PeekId(text);
  if (!d) {
    (void)RenderReceipt(id.value_or(""), false, std::nullopt, d.error().reason);
    return 0;
  }
  KAOKO_FUZZ_CHECK(id && *id == d->id);
  KAOKO_FUZZ_CHECK(d->incident > 0);
  if (d->action == DecisionAction::kDeclare) {
    KAOKO_FUZZ_CHECK(d->level && *d->level != kaoko::alerting::Level::kNormal);
  }
  (void)RenderReceipt(d->id, true, d->incident, "");
  return 0;
}
