#include "kaoko/sim/firmware.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kaoko::sim {

std::string StationTopic(const std::string& tambon, const std::string& village, const std::string& station,
                         const char* leaf) {
  return fmt::format("kaoko/v1/{}/{}/station/{}/{}", tambon, village, station, leaf);
}
std::string ReportTopic(const std::string& tambon, const std::string& village, const std::string& user) {
  return fmt::format("kaoko/v1/{}/{}/report/{}", tambon, village, user);
}
std::string ReceiptTopic(const std::string& tambon, const std::string& village, const std::string& user) {
  return fmt::format("kaoko/v1/{}/{}/receipt/{}", tambon, village, user);
}

namespace {

// Open-circuit voltage of a 1S Li-ion cell against its state of charge.
double CellVolts(double soc) {
  static constexpr std::pair<double, double> kCurve[] = {{0.0, 3.00},  {0.05, 3.30}, {0.10, 3.45}, {0.20, 3.60},
                                                         {0.50, 3.75}, {0.80, 3.95}, {0.95, 4.10}, {1.0, 4.20}};
  soc = std::clamp(soc, 0.0, 1.0);
  for (std::size_t i = 0; i + 1 < std::size(kCurve); ++i) {
    if (soc <= kCurve[i + 1].first) {
      double f = (soc - kCurve[i].first) / (kCurve[i + 1].first - kCurve[i].first);
      return kCurve[i].second + f * (kCurve[i + 1].second - kCurve[i].second);
    }
  }
  return kCurve[std::size(kCurve) - 1].second;
}

constexpr double kBrownOutSoc = 0.05;  // ≈ 3.3 V: the regulator gives up
constexpr double kRestartSoc = 0.15;   // the station boots again once the panel has brought it back here
constexpr double kTipMm = 0.2;         // tipping-bucket resolution

}  // namespace

StationFirmware::StationFirmware(FirmwareConfig config, ReadingStore store, std::uint64_t seed, SimTime boot)
    : config_(std::move(config)),
      store_(std::move(store)),
      rng_(seed),
      boot_(boot),
      clock_(boot),
      next_wake_(boot),
      charge_wh_(config_.battery_wh * std::clamp(config_.initial_charge, 0.0, 1.0)),
      timeout_(config_.ack_timeout) {
  reading_topic_ = StationTopic(config_.tambon, config_.village, config_.station, "reading");
  status_topic_ = StationTopic(config_.tambon, config_.village, config_.station, "status");
  ack_topic_ = StationTopic(config_.tambon, config_.village, config_.station, "ack");
  if (config_.fast_interval.count() <= 0) config_.fast_interval = Seconds(60);
  if (config_.interval < config_.fast_interval) config_.interval = config_.fast_interval;
}

double StationFirmware::Hours(SimTime t) const { return static_cast<double>((t - boot_).count()) / 3600.0; }

const StationFault* StationFirmware::ActiveFault(FaultKind kind, double hours) const {
  for (const StationFault& f : config_.faults) {
    if (f.kind == kind && hours >= f.from_hours && hours < f.to_hours) return &f;
  }
  return nullptr;
}

double StationFirmware::BatteryVolts() const { return CellVolts(charge_wh_ / config_.battery_wh); }

std::string StationFirmware::OnlinePayload(SimTime now) const {
  return fmt::format(R"({{"state":"online","ts":"{}","fw":"{}"}})", FormatRfc3339(now), config_.fw);
}
std::string StationFirmware::OfflinePayload() const {
  return fmt::format(R"({{"state":"offline","fw":"{}"}})", config_.fw);
}

void StationFirmware::UpdatePower(SimTime at, double dt, const Environment& env, bool link_up) {
  if (dt <= 0) return;
  double hours = Hours(at);
  const StationFault* drain = ActiveFault(FaultKind::kBatteryDrain, hours);
  // Solar: a half sine from 06:00 to 18:00 local time, dimmed by rain clouds.
  double local_h =
      std::fmod(static_cast<double>(at.time_since_epoch().count()) / 3600.0 + config_.utc_offset_hours, 24.0);
  double sun = (local_h > 6 && local_h < 18) ? std::sin((local_h - 6) / 12 * std::numbers::pi) : 0.0;
  double clouds = env.rain_mm_h > 5 ? 0.15 : env.rain_mm_h > 0.5 ? 0.35 : 1.0;
  double panel = drain ? 0.0 : config_.panel_w * 0.7 * sun * clouds;
  double load = (powered_ ? config_.sleep_w + (link_up ? config_.radio_w : 0.0) : 0.002) * (drain ? drain->value : 1);
  charge_wh_ = std::clamp(charge_wh_ + (panel - load) * dt / 3600.0, 0.0, config_.battery_wh);
}

double StationFirmware::MeasureLevel(SimTime at, double true_level) {
  double hours = Hours(at);
  std::normal_distribution<double> noise(0.0, config_.noise_cm);
  double distance = config_.mount_cm - true_level + noise(rng_);
  if (const StationFault* f = ActiveFault(FaultKind::kDrift, hours)) {
    distance -= f->value * (hours - f->from_hours);  // a drifting sensor reads the water ever higher (or lower)
  }
  distance = std::max(distance, config_.blanking_cm);
  distance = std::round(distance);  // the sensor reports whole centimetres
  if (ActiveFault(FaultKind::kStuck, hours)) {
    if (!stuck_distance_) stuck_distance_ = distance;
    distance = *stuck_distance_;
  } else {
    stuck_distance_.reset();
  }
  double level = config_.mount_cm - distance;
  if (const StationFault* f = ActiveFault(FaultKind::kSpike, hours)) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (u(rng_) < f->probability) level += f->value;
  }
  return level;
}

void StationFirmware::Wake(SimTime at, const Environment& env) {
  double level = MeasureLevel(at, env.level_cm);
  last_level_ = level;
  recent_.emplace_back(at, level);
  while (!recent_.empty() && at - recent_.front().first > Seconds(1800)) recent_.pop_front();
  // Rise rate over the last ≥ 10 minutes of samples.
  double rate = 0;
  if (recent_.size() >= 2 && at - recent_.front().first >= Seconds(600)) {
    rate = (level - recent_.front().second) / (static_cast<double>((at - recent_.front().first).count()) / 3600.0);
  }
  fast_ = level >= config_.watch_cm || rate >= config_.fast_rise_trigger_cm_per_hour;
  bool due = !published_any_ || fast_ || at - last_published_ >= config_.interval;
  if (!due) return;

  std::uint64_t seq = store_.NextSeq();
  double rain = std::round(rain_since_last_ * 10) / 10;
  std::string payload = fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{:.1f},"rain_mm":{:.1f},"battery_v":{:.2f}}})",
                                    seq, FormatRfc3339(at), level, rain, BatteryVolts());
  store_.Append(seq, std::move(payload));
  charge_wh_ = std::max(0.0, charge_wh_ - config_.joules_per_reading / 3600.0);
  rain_since_last_ = 0;
  last_published_ = at;
  published_any_ = true;
  ++stats_.readings;
}

void StationFirmware::Advance(SimTime now, WallTime wall, const Environment& env, Transport& link) {
  bool link_up = link.IsConnected();
  // Wake-ups happen at their own simulated times; the battery and the rain gauge are integrated between them.
  for (;;) {
    if (clock_ >= next_wake_) {
      double hours = Hours(clock_);
      bool was_powered = powered_;
      double soc = charge_wh_ / config_.battery_wh;
      if (soc < kBrownOutSoc) brownout_ = true;
      if (brownout_ && soc >= kRestartSoc) brownout_ = false;
      powered_ = !brownout_ && !ActiveFault(FaultKind::kOffline, hours);
      if (!powered_ && was_powered && link_up && config_.publish_offline_on_power_loss) {
        link.Publish(status_topic_, OfflinePayload(), 1, true);
      }
      if (powered_) Wake(clock_, env);
      next_wake_ = clock_ + config_.fast_interval;  // the sensor wakes every fast_interval; it publishes less often
    }
    if (clock_ >= now) break;
    SimTime until = std::min(now, next_wake_);
    double dt = static_cast<double>((until - clock_).count());
    UpdatePower(clock_, dt, env, link_up && powered_);
    rain_bucket_mm_ += env.rain_mm_h * dt / 3600.0;
    double tips = std::floor(rain_bucket_mm_ / kTipMm);
    rain_bucket_mm_ -= tips * kTipMm;
    if (powered_) rain_since_last_ += tips * kTipMm;
    clock_ = until;
  }
  Pump(wall, link);
}

void StationFirmware::Pump(WallTime wall, Transport& link) {
  if (!powered_ || !link.IsConnected() || store_.Size() == 0) return;
  const auto& pending = store_.Pending();
  // An ack timeout: readings were sent and nothing has been acknowledged for a while → start again from the oldest.
  bool outstanding = pending.begin()->first < next_send_;
  if (outstanding && wall - waiting_since_ > timeout_) {
    next_send_ = 0;
    ++stats_.timeouts;
    timeout_ = std::min(timeout_ * 2, config_.max_ack_timeout);
    waiting_since_ = wall;
  }
  std::size_t budget = config_.max_sends_per_pump;
  for (auto it = pending.lower_bound(next_send_); it != pending.end() && budget > 0; ++it, --budget) {
    if (!link.Publish(reading_topic_, it->second, 1, false)) break;
    if (pending.begin()->first >= next_send_) waiting_since_ = wall;  // the first outstanding one starts the clock
    next_send_ = it->first + 1;
    if (it->first <= highest_sent_) {
      ++stats_.resent;
    } else {
      ++stats_.sent;
      highest_sent_ = it->first;
    }
  }
}

void StationFirmware::OnConnected(SimTime now, WallTime wall, Transport& link) {
  if (!powered_) return;
  link.Publish(status_topic_, OnlinePayload(now), 1, true);
  next_send_ = 0;  // everything unacked goes again, oldest first
  waiting_since_ = wall;
  timeout_ = config_.ack_timeout;
  Pump(wall, link);
}

void StationFirmware::OnConnectionLost() { next_send_ = 0; }

bool StationFirmware::OnAck(std::string_view payload, WallTime wall) {
  auto ranges = ParseAck(payload);
  if (!ranges) {
    ++stats_.bad_acks;
    return false;
  }
  std::size_t removed = store_.Ack(*ranges);
  stats_.acked += removed;
  if (removed > 0) {
    waiting_since_ = wall;
    timeout_ = config_.ack_timeout;
  }
  return true;
}

FirmwareStats StationFirmware::Stats() const {
  FirmwareStats s = stats_;
  s.dropped = store_.Dropped();
  s.buffered = store_.Size();
  return s;
}

}  // namespace kaoko::sim
