// Fuzzes kaoko::server::DecodeStationTrack (one station's evaluation state as stored in SQLite). What it accepts must
// encode and decode again to the same text. The decoded track then evaluates the next reading after a restart
// (alerting::ApplyReading), since the decoder promises that a track it accepts cannot make the engine index past its
// buffers or overflow: the windows must come out in the layout the engine keeps, and the track must still encode
// and decode to itself.
#include <algorithm>

#include "fuzz_support.hpp"
#include "kaoko/alerting/station_monitor.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/ingest/engine_codec.hpp"

using namespace kaoko;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto track = server::DecodeStationTrack(fuzz::AsText(data, size));
  if (!track) {
    KAOKO_FUZZ_CHECK(!track.error().reason.empty());
    return 0;
  }
  KAOKO_FUZZ_CHECK(track->track.rain_bucket.size() == track->track.rain_mm.size());
  const std::string once = server::EncodeStationTrack(track->station, track->track);
  auto again = server::DecodeStationTrack(once);
  KAOKO_FUZZ_CHECK(again.ok());
  KAOKO_FUZZ_CHECK(server::EncodeStationTrack(again->station, again->track) == once);

  // The next reading after a restart, through the station monitor as the engine would run it.
  static const alerting::Station station = [] {
    alerting::Station s;
    s.id = "kaoko-bridge";
    s.village = "kaoko";
    s.watch.cm = 250;
    s.warning.cm = 300;
    s.critical.cm = 350;
    return s;
  }();
  const alerting::TimePoint now = *wire::ParseTime("2026-11-27T04:15:00Z");
  alerting::Reading reading;
  reading.station = station.id;
  reading.seq = track->track.latest_seq + 1;
  reading.ts = now;
  reading.level_cm = 320;
  reading.rain_mm = 4.2;
  reading.battery_v = 3.9;
  alerting::StationTrack& t = track->track;
  (void)alerting::ApplyReading(station, alerting::HealthPolicy{}, alerting::RainPolicy{}, alerting::MonitorOptions{}, t,
                               reading, now, true);
  KAOKO_FUZZ_CHECK(t.recent.size() <= alerting::StationTrack::kRecentCapacity);
  KAOKO_FUZZ_CHECK(t.recent_head == 0 && t.recent_count == t.recent.size());
  KAOKO_FUZZ_CHECK(t.rain_bucket.size() == t.rain_mm.size());
  KAOKO_FUZZ_CHECK(std::is_sorted(t.rain_bucket.begin(), t.rain_bucket.end()));
  const std::string after = server::EncodeStationTrack(track->station, t);
  auto after_again = server::DecodeStationTrack(after);
  KAOKO_FUZZ_CHECK(after_again.ok());
  KAOKO_FUZZ_CHECK(server::EncodeStationTrack(after_again->station, after_again->track) == after);
  return 0;
}
