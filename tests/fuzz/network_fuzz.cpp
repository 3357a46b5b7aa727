// Fuzzes kaoko::config::ParseNetwork (the TOML network file a TAO officer edits by hand). Never throws; a network it
// accepts keeps the promises the engine relies on.
#include <cmath>

#include "fuzz_support.hpp"
#include "kaoko/contract/network_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto net = kaoko::config::ParseNetwork(kaoko::fuzz::AsText(data, size), "fuzz.toml");
  if (!net) {
    KAOKO_FUZZ_CHECK(!net.error().reason.empty());
    return 0;
  }
  KAOKO_FUZZ_CHECK(!net->villages.empty());
  KAOKO_FUZZ_CHECK(net->escalation.reminder_interval.count() > 0);
  for (const auto& s : net->stations) {
    KAOKO_FUZZ_CHECK(net->FindVillage(s.village) != nullptr);
    KAOKO_FUZZ_CHECK(s.watch.cm < s.warning.cm && s.warning.cm < s.critical.cm);
    KAOKO_FUZZ_CHECK(s.min_level_cm < s.max_level_cm);
    KAOKO_FUZZ_CHECK(s.persistence_readings >= 1);
  }
  for (const auto& p : net->people) {
    if (!p.village.empty()) KAOKO_FUZZ_CHECK(net->FindVillage(p.village) != nullptr);
  }
  return 0;
}
