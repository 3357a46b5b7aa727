// Fuzzes kaoko::wire::ParseReading (a station's reading payload). An accepted reading is within the station's range
// and finite; a refusal always has a reason.
#include <cmath>

#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kaoko::alerting::Station station = [] {
    kaoko::alerting::Station s;
    s.id = "kaoko-bridge";
    s.village = "kaoko";
    s.min_level_cm = -50;
    s.max_level_cm = 1500;
    return s;
  }();
  static const TimePoint now = *ParseTime("2026-11-27T04:15:00Z");
  ReadingParse p = ParseReading(kaoko::fuzz::AsText(data, size), station, now);
  KAOKO_FUZZ_CHECK(p.reading.has_value() != p.refused.has_value());
  if (p.refused) {
    KAOKO_FUZZ_CHECK(!p.refused->error.reason.empty() && !p.refused->error.code.empty());
    return 0;
  }
  const Reading& r = *p.reading;
  KAOKO_FUZZ_CHECK(std::isfinite(r.level_cm) && r.level_cm >= station.min_level_cm &&
                   r.level_cm <= station.max_level_cm);
  KAOKO_FUZZ_CHECK(r.ts <= now + std::chrono::minutes(10));
  KAOKO_FUZZ_CHECK(r.seq <= static_cast<std::uint64_t>(INT64_MAX));
  if (r.rain_mm) KAOKO_FUZZ_CHECK(std::isfinite(*r.rain_mm));
  if (r.battery_v) KAOKO_FUZZ_CHECK(std::isfinite(*r.battery_v));
  (void)FormatTime(r.ts);
  return 0;
}
