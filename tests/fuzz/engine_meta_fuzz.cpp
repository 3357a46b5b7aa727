// Fuzzes kaoko::server::DecodeEngineMeta (the rest of the engine state stored in SQLite). On refusal the target state
// must be untouched; what it accepts must encode and decode again to the same text.
#include "fuzz_support.hpp"
#include "kaoko/ingest/engine_codec.hpp"

using namespace kaoko;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  alerting::EngineState state;
  state.next_incident = 4242;
  state.next_notification = 99;
  state.alerts.resize(1);
  auto ok = server::DecodeEngineMeta(fuzz::AsText(data, size), state);
  if (!ok) {
    KAOKO_FUZZ_CHECK(!ok.error().reason.empty());
    KAOKO_FUZZ_CHECK(state.next_incident == 4242 && state.next_notification == 99 && state.alerts.size() == 1);
    return 0;
  }
  const std::string once = server::EncodeEngineMeta(state);
  alerting::EngineState back;
  auto again = server::DecodeEngineMeta(once, back);
  KAOKO_FUZZ_CHECK(again.ok());
  KAOKO_FUZZ_CHECK(server::EncodeEngineMeta(back) == once);
  return 0;
}
