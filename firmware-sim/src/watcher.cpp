#include "kaoko/sim/watcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace kaoko::sim {

using alerting::Level;

std::string ThaiNote(Level concern, const std::string& trend, const std::string& landmark_th) {
  std::string place = landmark_th.empty() ? std::string("ระดับเตือน") : landmark_th;
  switch (concern) {
    case Level::kCritical:
      if (trend == "rising") return fmt::format("น้ำขึ้นเร็วมาก ท่วม{}แล้ว ต้องอพยพ", place);
      return fmt::format("น้ำท่วมถึง{} ระดับวิกฤต", place);
    case Level::kWarning:
      if (trend == "rising") return fmt::format("น้ำขึ้นเร็ว ถึง{}แล้ว", place);
      if (trend == "falling") return fmt::format("น้ำเริ่มลด แต่ยังสูงถึง{}", place);
      return fmt::format("น้ำทรงตัว อยู่ที่{}", place);
    case Level::kWatch:
      if (trend == "rising") return fmt::format("น้ำขึ้น ถึง{}แล้ว เฝ้าดูต่อ", place);
      if (trend == "falling") return fmt::format("น้ำลดลงแล้ว ยังอยู่ที่{}", place);
      return fmt::format("น้ำอยู่ที่{} เฝ้าดูอยู่", place);
    case Level::kNormal:
      break;
  }
  return "น้ำปกติ";
}

Watcher::Watcher(WatcherConfig config, std::uint64_t seed, std::uint64_t first_id, SimTime start)
    : config_(std::move(config)), rng_(seed), next_id_(std::max<std::uint64_t>(first_id, 1)), start_(start) {
  std::uniform_real_distribution<double> first(0.0, config_.behaviour.check_minutes);
  next_look_ = start + Seconds(static_cast<long long>(first(rng_) * 60));
  event_done_.assign(config_.events.size(), false);
}

Level Watcher::Judge(double level) const {
  const auto& s = config_.station;
  if (level >= s.critical.cm) return Level::kCritical;
  if (level >= s.warning.cm) return Level::kWarning;
  if (level >= s.watch.cm) return Level::kWatch;
  return Level::kNormal;
}

Report Watcher::Make(SimTime at, double level_cm, const std::string& trend, Level concern, std::string note,
                     bool scripted, bool wrong) {
  Report r;
  r.at = at;
  r.id = fmt::format("r-{:04}", next_id_++);
  r.topic = fmt::format("kaoko/v1/{}/{}/report/{}", config_.tambon, config_.village, config_.user);
  r.scripted = scripted;
  r.wrong = wrong;
  if (note.empty()) {
    note = ThaiNote(concern, trend, std::string(config_.station.landmark_th(concern)));
  }
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["ts"] = FormatRfc3339(at);
  j["station"] = config_.station.id;
  j["level_cm"] = level_cm;
  if (!trend.empty()) j["trend"] = trend;
  j["concern"] = concern == Level::kNormal ? "watch" : alerting::ToString(concern);
  j["note"] = note;
  r.payload = j.dump();
  return r;
}

std::vector<Report> Watcher::Advance(SimTime now, double true_level) {
  const WatcherBehaviour& b = config_.behaviour;
  // Scripted reports go out at their time, whatever the river shows.
  for (std::size_t i = 0; i < config_.events.size(); ++i) {
    const WatcherEvent& e = config_.events[i];
    SimTime at = start_ + Seconds(static_cast<long long>(e.at_hours * 3600));
    if (event_done_[i] || at > now) continue;
    event_done_[i] = true;
    double level = e.level_cm.value_or(std::round(true_level / 5) * 5);
    Level concern = alerting::ParseLevel(e.concern).value_or(Level::kWatch);
    outbox_.push_back(Make(at, level, e.trend, concern, e.note, true, false));
  }
  if (b.enabled && now >= next_look_) {
    SimTime look = next_look_;
    double gauge = std::round(true_level / 5) * 5;  // painted marks every 5 cm
    std::string trend;
    double rate = 0;
    if (last_look_ && look - last_look_->first <= Seconds(3 * 3600)) {
      double diff = gauge - last_look_->second;
      rate = diff / (static_cast<double>((look - last_look_->first).count()) / 3600.0);
      trend = diff > 5 ? "rising" : diff < -5 ? "falling" : "steady";
    }
    last_look_ = {look, gauge};
    Level concern = Judge(gauge);
    bool concerned = concern != Level::kNormal || rate > config_.station.fast_rise_cm_per_hour;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (concerned || b.report_when_calm) {
      bool wrong = u(rng_) < b.wrong_probability;
      if (wrong)
        concern = concern == Level::kCritical ? Level::kWarning : static_cast<Level>(static_cast<int>(concern) + 1);
      if (concern == Level::kNormal) concern = Level::kWatch;
      double delay = b.delay_min_minutes + u(rng_) * (b.delay_max_minutes - b.delay_min_minutes);
      outbox_.push_back(
          Make(look + Seconds(static_cast<long long>(delay * 60)), gauge, trend, concern, "", false, wrong));
    }
    double every = concerned ? b.concerned_check_minutes : b.check_minutes;
    next_look_ = look + Seconds(static_cast<long long>(every * 60 * (0.8 + 0.4 * u(rng_))));
    if (next_look_ <= now) next_look_ = now + Seconds(60);
  }
  std::sort(outbox_.begin(), outbox_.end(), [](const Report& a, const Report& b) { return a.at < b.at; });
  std::vector<Report> due;
  while (!outbox_.empty() && outbox_.front().at <= now) {
    due.push_back(std::move(outbox_.front()));
    outbox_.pop_front();
  }
  return due;
}

}  // namespace kaoko::sim
