#include <catch2/catch.hpp>

#include "kaoko/alerting/station_monitor.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {

// One station evaluated alone (others_moving controls the stuck rule).
struct Bench {
  Network net = TonHong();
  Station station = net.stations[1];  // kaoko-bridge: 250 / 320 / 400, persistence 2 or 10 min, hysteresis 10
  MonitorOptions options;
  StationTrack track = NewStationTrack(station);
  std::uint64_t seq = 1;
  MonitorResult Feed(double cm, TimePoint ts, std::optional<double> rain = std::nullopt,
                     std::optional<double> battery = std::nullopt, bool others_moving = false) {
    Reading r = MakeReading(station.id, seq++, ts, cm);
    r.rain_mm = rain;
    r.battery_v = battery;
    return ApplyReading(station, net.health, net.rain, options, track, r, ts, others_moving);
  }
};

}  // namespace

TEST_CASE("levels: a reading exactly at the threshold enters after persistence", "[alerting]") {
  Bench b;
  SECTION("equal to the threshold counts as over it (>= enters)") {
    b.Feed(250, T0());
    REQUIRE(b.track.level == Level::kNormal);  // one reading short of persistence_readings = 2
    b.Feed(250, T0() + 1min);
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("just under the threshold never enters") {
    b.Feed(249.9, T0());
    b.Feed(249.9, T0() + 10min);
    b.Feed(249.9, T0() + 20min);
    REQUIRE(b.track.level == Level::kNormal);
  }
  SECTION("a reading under the threshold restarts the run") {
    b.Feed(260, T0());
    b.Feed(240, T0() + 1min);
    b.Feed(260, T0() + 2min);
    REQUIRE(b.track.level == Level::kNormal);
    b.Feed(260, T0() + 3min);
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("persistence by time: over for persistence_time between first and latest reading") {
    b.station.persistence_readings = 5;
    b.Feed(255, T0());
    b.Feed(255, T0() + 9min + 59s);
    REQUIRE(b.track.level == Level::kNormal);  // 1 s short of 10 min, 2 of 5 readings
    b.Feed(255, T0() + 10min);
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("a high reading can enter warning and critical directly") {
    b.Feed(400, T0());
    b.Feed(400, T0() + 1min);
    REQUIRE(b.track.level == Level::kCritical);
    REQUIRE(b.track.threshold_level == Level::kCritical);
  }
}

TEST_CASE("levels: hysteresis leaves a level only below threshold minus the margin", "[alerting]") {
  Bench b;
  b.Feed(330, T0());
  b.Feed(330, T0() + 10min);
  REQUIRE(b.track.level == Level::kWarning);
  SECTION("inside the margin stays") {
    b.Feed(315, T0() + 20min);
    REQUIRE(b.track.level == Level::kWarning);
  }
  SECTION("exactly threshold - hysteresis stays") {
    b.Feed(310, T0() + 20min);
    REQUIRE(b.track.level == Level::kWarning);
  }
  SECTION("below the margin leaves, to the level the reading still holds") {
    b.Feed(309.9, T0() + 20min);
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("a big fall drops through several levels at once") {
    b.Feed(200, T0() + 20min);
    REQUIRE(b.track.level == Level::kNormal);
  }
}

TEST_CASE("levels: a fast rise lifts the level by one", "[alerting]") {
  Bench b;
  SECTION("60 cm/h measured over exactly the minimum span lifts normal to watch") {
    b.Feed(200, T0());
    b.Feed(210, T0() + 10min);  // a span of exactly fast_rise_min_span counts
    REQUIRE(b.track.fast_rise);
    REQUIRE(b.track.rise_cm_per_hour == Approx(60));
    b.Feed(220, T0() + 20min);
    REQUIRE(b.track.fast_rise);
    REQUIRE(b.track.threshold_level == Level::kNormal);
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("exactly the configured rate is not over it") {
    b.Feed(200, T0());
    b.Feed(205, T0() + 10min);
    b.Feed(210, T0() + 20min);  // 30 cm/h
    REQUIRE_FALSE(b.track.fast_rise);
    REQUIRE(b.track.level == Level::kNormal);
  }
  SECTION("two readings closer than the minimum span are not a rate") {
    b.Feed(200, T0());
    b.Feed(230, T0() + 5min);  // 360 cm/h over 5 minutes: sensor noise, not a rate
    REQUIRE_FALSE(b.track.fast_rise);
  }
  SECTION("fast rise on top of warning gives critical") {
    b.Feed(325, T0());
    b.Feed(330, T0() + 10min);
    b.Feed(345, T0() + 20min);  // 60 cm/h
    REQUIRE(b.track.threshold_level == Level::kWarning);
    REQUIRE(b.track.level == Level::kCritical);
  }
}

TEST_CASE("levels: a fast rise is measured over the window, however often a station reads", "[alerting]") {
  Bench b;
  const auto t0 = T0();
  SECTION("a reading every 10 s rising at 60 cm/h is a fast rise once 10 minutes have passed") {
    // A station that reads every 10 s sends 60 readings in the minimum span: the rate's base must still be there.
    for (int s = 0; s <= 20 * 60; s += 10) {
      b.Feed(200 + s / 60.0, t0 + std::chrono::seconds(s));
      if (s < 10 * 60) REQUIRE_FALSE(b.track.fast_rise);
    }
    REQUIRE(b.track.fast_rise);
    REQUIRE(b.track.rise_cm_per_hour == Approx(60));
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("a rate that is fast only over the last minutes of a dense hour is judged over the hour") {
    // Level for 50 minutes, then 20 cm in 10 minutes: 120 cm/h over those 10 minutes, but 20 cm/h over the hour
    // (the window), under the 30 cm/h of the station: not a fast rise.
    for (int s = 0; s <= 50 * 60; s += 10) b.Feed(200 + (s / 10 % 2) * 0.5, t0 + std::chrono::seconds(s));
    for (int s = 10; s <= 10 * 60; s += 10) b.Feed(200 + s / 30.0, t0 + 50min + std::chrono::seconds(s));
    REQUIRE(b.track.rise_cm_per_hour == Approx(20).margin(2.5));
    REQUIRE_FALSE(b.track.fast_rise);
  }
  SECTION("the ring keeps at most kRecentCapacity readings, spread over the window") {
    for (int s = 0; s <= 2 * 3600; s += 5) b.Feed(200 + (s / 5 % 2) * 0.5, t0 + std::chrono::seconds(s));
    REQUIRE(b.track.recent.size() <= StationTrack::kRecentCapacity);
    REQUIRE(b.track.recent.size() >= StationTrack::kRecentCapacity - 1);
    const auto newest = t0 + std::chrono::seconds(2 * 3600);
    REQUIRE(newest - b.track.recent.front().ts <= b.options.fast_rise_window);
    REQUIRE(newest - b.track.recent.front().ts >= b.options.fast_rise_window - b.options.fast_rise_window / 7);
  }
}

TEST_CASE("levels: a ring saved by an earlier kaoko (32 slots with a head) is thinned, its oldest base kept",
          "[alerting]") {
  Bench b;
  const auto t0 = T0();
  // 32 readings a minute apart, rising 1 cm a minute, written as a ring whose oldest is in slot 5.
  b.track.recent.resize(32);
  for (std::size_t k = 0; k < 32; ++k) {
    b.track.recent[(5 + k) % 32] = RecentReading{t0 + std::chrono::minutes(k), 200.0 + static_cast<double>(k)};
  }
  b.track.recent_head = 5;
  b.track.recent_count = 32;
  b.track.latest_ts = t0 + 31min;
  b.track.accepted_cm = 231;
  NormalizeWindows(b.track);
  REQUIRE(b.track.recent.size() == StationTrack::kRecentCapacity);
  REQUIRE(b.track.recent.capacity() == StationTrack::kRecentCapacity);  // no room kept for the 24 dropped
  REQUIRE(b.track.recent_head == 0);
  REQUIRE(b.track.recent_count == StationTrack::kRecentCapacity);
  REQUIRE(b.track.recent.front().ts == t0);  // the base
  REQUIRE(b.track.recent.front().level_cm == 200);
  REQUIRE(b.track.recent.back().ts >= t0 + 28min);
  for (std::size_t k = 1; k < b.track.recent.size(); ++k) {
    const auto gap = b.track.recent[k].ts - b.track.recent[k - 1].ts;
    REQUIRE(gap >= 2min);  // spread over the 31 minutes, not bunched
    REQUIRE(gap <= 8min);
    REQUIRE(b.track.recent[k].level_cm ==
            Approx(200 + std::chrono::duration<double, std::ratio<60>>(b.track.recent[k].ts - t0).count()));
  }
  // The next reading is measured from the oldest (40 cm in 40 minutes = 60 cm/h: fast). It is more than 8.6 minutes
  // after the newest kept, so it is kept too: the full ring is thinned again, the base still the oldest.
  b.Feed(240, t0 + 40min);
  REQUIRE(b.track.rise_cm_per_hour == Approx(60));
  REQUIRE(b.track.fast_rise);
  REQUIRE(b.track.recent.size() == StationTrack::kRecentCapacity);
  REQUIRE(b.track.recent.front().ts == t0);
  REQUIRE(b.track.recent.back().ts == t0 + 40min);
}

TEST_CASE("levels: rain over 1 h or 24 h raises watch", "[alerting]") {
  Bench b;
  SECTION("35 mm within the hour") {
    b.Feed(100, T0(), 20.0);
    REQUIRE(b.track.level == Level::kNormal);
    b.Feed(100, T0() + 30min, 15.0);
    REQUIRE(b.track.rain_1h_mm == Approx(35));
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("34.9 mm is not enough") {
    b.Feed(100, T0(), 20.0);
    b.Feed(100, T0() + 30min, 14.9);
    REQUIRE(b.track.level == Level::kNormal);
  }
  SECTION("100 mm over a day, in small amounts") {
    for (int i = 0; i < 20; ++i) b.Feed(100, T0() + std::chrono::hours(i), 5.0);
    REQUIRE(b.track.rain_24h_mm == Approx(100));
    REQUIRE(b.track.level == Level::kWatch);
  }
  SECTION("rain older than a day no longer counts") {
    b.Feed(100, T0(), 30.0);
    b.Feed(100, T0() + 25h, 1.0);
    REQUIRE(b.track.rain_24h_mm == Approx(1));
  }
}

TEST_CASE("levels: late and out-of-order readings never roll the level back", "[alerting]") {
  Bench b;
  b.Feed(330, T0() + 20min);
  b.Feed(330, T0() + 30min);
  REQUIRE(b.track.level == Level::kWarning);
  SECTION("an old low reading is stored but changes nothing") {
    MonitorResult r = b.Feed(100, T0() + 10min);
    REQUIRE(r.out_of_order);
    REQUIRE_FALSE(r.evaluated);
    REQUIRE(b.track.level == Level::kWarning);
    REQUIRE(*b.track.latest_ts == T0() + 30min);
  }
  SECTION("a repeat of the newest reading changes nothing") {
    MonitorResult r = b.Feed(330, T0() + 30min);
    REQUIRE(r.out_of_order);
    REQUIRE(b.track.over_count[1] == 2);
  }
  SECTION("a newer reading is evaluated by its own time") {
    MonitorResult r = b.Feed(250, T0() + 40min);
    REQUIRE(r.evaluated);
    REQUIRE(b.track.level == Level::kWatch);
  }
}

TEST_CASE("health: spike, stuck and low battery", "[alerting]") {
  Bench b;
  SECTION("a jump over spike_cm_per_reading is suspect and raises nothing") {
    b.Feed(200, T0());
    b.Feed(200, T0() + 10min);
    MonitorResult r = b.Feed(420, T0() + 20min);
    REQUIRE(r.suspect);
    REQUIRE(b.track.level == Level::kNormal);
    REQUIRE((b.track.problems & kProblemSpike));
    // the next plausible reading is compared with the last plausible one, not with the spike
    r = b.Feed(201, T0() + 30min);
    REQUIRE_FALSE(r.suspect);
    b.Feed(202, T0() + 40min);
    REQUIRE((b.track.problems & kProblemSpike));
    b.Feed(203, T0() + 50min);
    REQUIRE_FALSE((b.track.problems & kProblemSpike));  // three good readings clear it
  }
  SECTION("a jump of exactly spike_cm_per_reading is plausible") {
    b.Feed(200, T0());
    MonitorResult r = b.Feed(350, T0() + 10min);
    REQUIRE_FALSE(r.suspect);
  }
  SECTION("three agreeing suspect readings become the new baseline") {
    b.Feed(100, T0());
    REQUIRE(b.Feed(300, T0() + 10min).suspect);
    REQUIRE(b.Feed(301, T0() + 20min).suspect);
    MonitorResult r = b.Feed(302, T0() + 30min);
    REQUIRE_FALSE(r.suspect);
    REQUIRE(r.evaluated);
    REQUIRE_FALSE(b.track.fast_rise);  // the old level is not taken for a rise
  }
  SECTION("the same value stuck_readings times while others move is stuck") {
    for (int i = 0; i < 11; ++i) b.Feed(180, T0() + std::chrono::minutes(10 * i), {}, {}, true);
    REQUIRE_FALSE((b.track.problems & kProblemStuck));  // one reading short
    b.Feed(180, T0() + 110min, {}, {}, true);
    REQUIRE((b.track.problems & kProblemStuck));
    b.Feed(181, T0() + 120min, {}, {}, true);
    REQUIRE_FALSE((b.track.problems & kProblemStuck));
  }
  SECTION("a flat river everywhere is not stuck") {
    for (int i = 0; i < 20; ++i) b.Feed(180, T0() + std::chrono::minutes(10 * i), {}, {}, false);
    REQUIRE_FALSE((b.track.problems & kProblemStuck));
  }
  SECTION("low battery with hysteresis") {
    b.Feed(100, T0(), {}, 3.39);
    REQUIRE((b.track.problems & kProblemLowBattery));
    b.Feed(100, T0() + 10min, {}, 3.45);
    REQUIRE((b.track.problems & kProblemLowBattery));  // under low + 0.1
    b.Feed(100, T0() + 20min, {}, 3.5);
    REQUIRE_FALSE((b.track.problems & kProblemLowBattery));
    b.Feed(100, T0() + 30min, {}, 3.4);
    REQUIRE_FALSE((b.track.problems & kProblemLowBattery));  // exactly the limit is not low
  }
}

TEST_CASE("monitor: a track's Maybe reads, writes and compares as std::optional does", "[alerting]") {
  using std::chrono::milliseconds;
  const TimePoint t0{milliseconds(1'764'000'000'000)};
  Maybe<TimePoint> when;
  REQUIRE_FALSE(when.has_value());
  REQUIRE_FALSE(static_cast<bool>(when));
  REQUIRE(when == std::nullopt);
  REQUIRE(when < t0);  // none is less than any value, as with std::optional
  REQUIRE(when.value_or(t0) == t0);
  REQUIRE_THROWS_AS(when.value(), std::bad_optional_access);
  REQUIRE(std::optional<TimePoint>(when) == std::nullopt);

  when = t0;
  REQUIRE(when.has_value());
  REQUIRE(*when == t0);
  REQUIRE(when == t0);
  REQUIRE(when > t0 - milliseconds(1));
  REQUIRE(when <= t0);
  REQUIRE(when->time_since_epoch() == t0.time_since_epoch());
  REQUIRE(std::optional<TimePoint>(when) == t0);
  REQUIRE(when != Maybe<TimePoint>());
  when = std::nullopt;
  REQUIRE_FALSE(when.has_value());
  when = std::optional<TimePoint>(t0 + milliseconds(5));
  REQUIRE(when == t0 + milliseconds(5));
  when.reset();
  REQUIRE(when == Maybe<TimePoint>());

  // A double's none is a NaN, which no reading carries (ingest refuses non-finite numbers); 0 is a value.
  Maybe<double> cm;
  REQUIRE_FALSE(cm.has_value());
  cm = 0.0;
  REQUIRE(cm.has_value());
  REQUIRE(cm == 0.0);
  cm = -12.5;
  REQUIRE(cm < 0.0);
  REQUIRE(Maybe<double>() < cm);
  REQUIRE(Maybe<double>() == Maybe<double>());

  Maybe<std::int64_t> incident;
  REQUIRE_FALSE(incident.has_value());
  incident = 0;
  REQUIRE(incident.has_value());
  REQUIRE(incident.value() == 0);

  // Eight of them in a track for each of up to 150,000 stations: each as wide as its value.
  STATIC_REQUIRE(sizeof(Maybe<TimePoint>) == sizeof(TimePoint));
  STATIC_REQUIRE(sizeof(Maybe<double>) == sizeof(double));
}
