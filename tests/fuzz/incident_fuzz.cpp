// Fuzzes kaoko::server::DecodeIncident (an open incident as stored in SQLite: a corrupt or hand-edited row must be
// refused, never crash the restart). What it accepts must encode and decode again to the same text, and render as the
// HTTP API's public JSON.
#include "fuzz_support.hpp"
#include "kaoko/ingest/engine_codec.hpp"

using namespace kaoko::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto incident = DecodeIncident(kaoko::fuzz::AsText(data, size));
  if (!incident) {
    KAOKO_FUZZ_CHECK(!incident.error().reason.empty());
    return 0;
  }
  const std::string once = EncodeIncident(*incident);
  auto again = DecodeIncident(once);
  KAOKO_FUZZ_CHECK(again.ok());
  KAOKO_FUZZ_CHECK(EncodeIncident(*again) == once);
  (void)IncidentPublicJson(*incident).dump();
  return 0;
}
