// Private helpers for the words and times a person reads: Thai local clock times, CAP times, level names.
#pragma once

#include <string>

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

}  // namespace kaoko::alerting::text
