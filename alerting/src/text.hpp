// Private helpers for the words and times a person reads: Thai local clock times, CAP times, level names.
#pragma once

#include <string>
#include <utility>

#include "kaoko/alerting/events.hpp"

namespace kaoko::alerting::text {

// Thailand has one time zone and no daylight saving: ICT = UTC+7.
inline constexpr std::chrono::hours kIctOffset{7};

// "HH:MM" in Thai time, as on a phone in the village.
std::string ThaiClock(TimePoint tp);
// "YYYY-MM-DDTHH:MM:SS+07:00": CAP 1.2 requires an explicit offset and forbids "Z".
std::string CapTime(TimePoint tp);
// "Normal", "Watch", "Warning", "Critical".
const char* LevelTitle(Level level);
// "1 ชม. 30 นาที" / "1 h 30 min".
std::string DurationTh(Seconds d);
std::string DurationEn(Seconds d);
// " — วัดได้เมื่อ 02:10 — 3 ชม. ที่แล้ว" / " — measured at 02:10, 3 h ago": appended to what a late reading (or, with
// `seen`, a late report: "seen at") raises, so that nobody takes old water for the present.
std::pair<std::string, std::string> MeasuredText(TimePoint ts, TimePoint now, bool seen = false);

}  // namespace kaoko::alerting::text
