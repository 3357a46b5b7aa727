// One river-level station's firmware, as the real box on a bridge would run it: an ultrasonic distance sensor
// (level = mount height − distance, with noise and 1 cm steps), a tipping-bucket rain gauge, a solar-charged
// battery, readings every `interval` and every `fast_interval` while the river stands above `watch` or rises fast,
// `seq` kept across reboots, QoS 1, a retained `online` status (the Last Will says `offline`), and a store-and-forward
// buffer on disk that keeps each reading until kaoko's end-to-end ack covers it and sends the rest again, in seq
// order, after a reconnect or an ack timeout.
//
// Pure logic over a Transport: simulated time and a monotonic wall time are passed in; nothing here reads a clock,
// starts a thread or touches a socket. Not thread-safe: its owner calls it from one thread.
//
//   StationFirmware fw(config, *ReadingStore::Open(dir, id, 20000), seed, start);
//   fw.OnConnected(now, wall, link);           // when the link comes up
//   fw.Advance(now, wall, {level_cm, rain_mm_h}, link);   // every model step
//   fw.OnAck(payload, wall);                    // for each message on .../ack
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/sim/scenario.hpp"
#include "kaoko/sim/store.hpp"
#include "kaoko/sim/time.hpp"
#include "kaoko/sim/transport.hpp"

namespace kaoko::sim {

using WallTime = std::chrono::steady_clock::time_point;

struct FirmwareConfig {
  std::string tambon;
  std::string village;
  std::string station;
  double watch_cm = 200;
  double fast_rise_trigger_cm_per_hour = 15;  // rising faster than this → fast interval
  Seconds interval{600};
  Seconds fast_interval{60};
  double mount_cm = 600;    // sensor height above the gauge datum
  double blanking_cm = 25;  // the sensor cannot see closer than this
  double noise_cm = 0.6;
  std::chrono::milliseconds ack_timeout{30000};       // no ack progress this long → send the unacked again
  std::chrono::milliseconds max_ack_timeout{300000};  // the timeout doubles after each fruitless round up to this
  std::size_t max_sends_per_pump = 500;
  std::string fw = "kaoko-sim/0.1";
  std::vector<StationFault> faults;  // this station's faults from the scenario
  // Battery and panel.
  double battery_wh = 10;
  double initial_charge = 0.75;               // state of charge 0..1
  double panel_w = 2.0;                       // at noon in full sun
  double sleep_w = 0.05;                      // always drawn
  double radio_w = 0.03;                      // drawn while the link is up
  double joules_per_reading = 2;              // wake, ping, publish
  double utc_offset_hours = 7;                // solar day in Thailand (ICT)
  bool publish_offline_on_power_loss = true;  // send the Will's payload ourselves (see docs/firmware-sim.md)
};

struct Environment {
  double level_cm = 0;   // true water level at the station
  double rain_mm_h = 0;  // rain intensity over the station
};

struct FirmwareStats {
  std::uint64_t readings = 0;  // taken
  std::uint64_t sent = 0;      // first sends
  std::uint64_t resent = 0;    // sends of a seq sent before
  std::uint64_t acked = 0;     // readings an ack removed from the buffer
  std::uint64_t dropped = 0;   // readings the full buffer dropped
  std::uint64_t bad_acks = 0;  // malformed ack payloads (ignored)
  std::uint64_t timeouts = 0;  // ack timeouts that started a resend
  std::size_t buffered = 0;    // unacked readings now
};

class StationFirmware {
 public:
  // `boot` is the simulated time the station starts; its first reading is taken then.
  StationFirmware(FirmwareConfig config, ReadingStore store, std::uint64_t seed, SimTime boot);

  // Runs the station up to simulated time `now`: takes each reading that is due at its own time, charges and
  // drains the battery, and sends what is due through `link`. `env` is the river at `now`.
  void Advance(SimTime now, WallTime wall, const Environment& env, Transport& link);
  // Sends what is due (new readings; everything unacked after a timeout) without advancing simulated time.
  void Pump(WallTime wall, Transport& link);
  // The link came up: publishes the retained `online` status and sends every unacked reading again, in seq order.
  void OnConnected(SimTime now, WallTime wall, Transport& link);
  void OnConnectionLost();
  // A message on the station's ack topic. Returns false (and counts it; the caller logs it) when it is malformed;
  // a malformed ack changes nothing.
  bool OnAck(std::string_view payload, WallTime wall);

  // False while an `offline` fault or a flat battery keeps the station down; its owner then drops the link.
  bool Powered() const { return powered_; }
  bool FastMode() const { return fast_; }
  double BatteryVolts() const;
  double LastLevelCm() const { return last_level_; }
  std::size_t Buffered() const { return store_.Size(); }
  const ReadingStore& Store() const { return store_; }
  FirmwareStats Stats() const;
  const FirmwareConfig& Config() const { return config_; }

  const std::string& ReadingTopic() const { return reading_topic_; }
  const std::string& StatusTopic() const { return status_topic_; }
  const std::string& AckTopic() const { return ack_topic_; }
  // Status payloads; the offline one is the Last Will.
  std::string OnlinePayload(SimTime now) const;
  std::string OfflinePayload() const;

 private:
  void Wake(SimTime at, const Environment& env);  // one sensor wake-up at `at`
  void UpdatePower(SimTime at, double dt_seconds, const Environment& env, bool link_up);
  double MeasureLevel(SimTime at, double true_level);
  const StationFault* ActiveFault(FaultKind kind, double hours) const;
  double Hours(SimTime t) const;

  FirmwareConfig config_;
  ReadingStore store_;
  std::mt19937_64 rng_;
  SimTime boot_;
  SimTime clock_;  // simulated time the station has been advanced to
  SimTime next_wake_;
  SimTime last_published_{};
  bool published_any_ = false;
  bool powered_ = true;
  bool brownout_ = false;
  bool fast_ = false;
  double charge_wh_;
  double rain_bucket_mm_ = 0;   // rain not yet a full tip
  double rain_since_last_ = 0;  // mm tipped since the last published reading
  double last_level_ = 0;
  std::deque<std::pair<SimTime, double>> recent_;  // measured levels of the last half hour, for the rise rate
  std::optional<double> stuck_distance_;
  std::string reading_topic_, status_topic_, ack_topic_;
  // Sending: readings below next_send_ have been sent in this round and wait for an ack.
  std::uint64_t next_send_ = 0;
  std::uint64_t highest_sent_ = 0;
  WallTime waiting_since_{};
  std::chrono::milliseconds timeout_;
  FirmwareStats stats_;
};

}  // namespace kaoko::sim
