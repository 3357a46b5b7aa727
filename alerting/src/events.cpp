#include "kaoko/alerting/events.hpp"

#include <fmt/format.h>

#include "kaoko/alerting/state.hpp"
#include "text.hpp"

namespace kaoko::alerting {

const char* ToString(DecisionAction action) {
  switch (action) {
    case DecisionAction::kAck:
      return "ack";
    case DecisionAction::kConfirm:
      return "confirm";
    case DecisionAction::kReject:
      return "reject";
    case DecisionAction::kDeclare:
      return "declare";
    case DecisionAction::kAllClear:
      return "all_clear";
  }
  return "ack";
}

std::optional<DecisionAction> ParseDecisionAction(std::string_view text) {
  if (text == "ack") return DecisionAction::kAck;
  if (text == "confirm") return DecisionAction::kConfirm;
  if (text == "reject") return DecisionAction::kReject;
  if (text == "declare") return DecisionAction::kDeclare;
  if (text == "all_clear") return DecisionAction::kAllClear;
  return std::nullopt;
}

const char* ToString(Stage stage) {
  switch (stage) {
    case Stage::kReported:
      return "reported";
    case Stage::kAwaitingConfirmation:
      return "awaiting_confirmation";
    case Stage::kConfirmed:
      return "confirmed";
    case Stage::kEscalated:
      return "escalated";
    case Stage::kDeclared:
      return "declared";
    case Stage::kRejected:
      return "rejected";
    case Stage::kResolved:
      return "resolved";
  }
  return "reported";
}

std::optional<Stage> ParseStage(std::string_view text) {
  for (Stage s : {Stage::kReported, Stage::kAwaitingConfirmation, Stage::kConfirmed, Stage::kEscalated,
                  Stage::kDeclared, Stage::kRejected, Stage::kResolved}) {
    if (text == ToString(s)) return s;
  }
  return std::nullopt;
}

bool IsClosed(Stage stage) { return stage == Stage::kRejected || stage == Stage::kResolved; }

const char* ToString(ActionNeeded action) {
  switch (action) {
    case ActionNeeded::kNone:
      return "none";
    case ActionNeeded::kAck:
      return "ack";
    case ActionNeeded::kConfirm:
      return "confirm";
    case ActionNeeded::kDeclare:
      return "declare";
  }
  return "none";
}

std::optional<ActionNeeded> ParseActionNeeded(std::string_view text) {
  for (ActionNeeded a : {ActionNeeded::kNone, ActionNeeded::kAck, ActionNeeded::kConfirm, ActionNeeded::kDeclare}) {
    if (text == ToString(a)) return a;
  }
  return std::nullopt;
}

const char* ToString(IncidentKind kind) { return kind == IncidentKind::kFlood ? "flood" : "station"; }

std::string ProblemNames(unsigned problems, bool thai, Seconds clock_ahead) {
  std::string out;
  auto add = [&](unsigned bit, const char* en, const char* th) {
    if (!(problems & bit)) return;
    if (!out.empty()) out += ", ";
    out += thai ? th : en;
  };
  add(kProblemOffline, "offline", "ขาดการติดต่อ");
  add(kProblemStuck, "stuck at one value", "ค่าค้าง");
  add(kProblemSpike, "impossible jump", "ค่ากระโดดผิดปกติ");
  add(kProblemLowBattery, "low battery", "แบตเตอรี่ต่ำ");
  add(kProblemClockReset, "clock reset", "นาฬิกาสถานีถูกรีเซ็ต");
  if (problems & kProblemClockAhead) {
    if (!out.empty()) out += ", ";
    const bool amount = clock_ahead >= std::chrono::minutes(1);
    out += thai ? "นาฬิกาสถานีเร็วไป" : "clock ahead";
    if (amount) out += " " + (thai ? text::DurationTh(clock_ahead) : text::DurationEn(clock_ahead));
  }
  return out;
}

namespace {
struct Civil {
  int year;
  unsigned month, day;
  long hours, minutes, seconds;
};
Civil ToCivil(TimePoint tp) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(tp);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          static_cast<long>(hms.hours().count()),
          static_cast<long>(hms.minutes().count()),
          static_cast<long>(hms.seconds().count())};
}
}  // namespace

std::string FormatUtc(TimePoint tp) {
  const Civil c = ToCivil(tp);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hours, c.minutes, c.seconds);
}

namespace text {

std::string ThaiClock(TimePoint tp) {
  const Civil c = ToCivil(tp + kIctOffset);
  return fmt::format("{:02}:{:02}", c.hours, c.minutes);
}

std::string CapTime(TimePoint tp) {
  const Civil c = ToCivil(tp + kIctOffset);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+07:00", c.year, c.month, c.day, c.hours, c.minutes,
                     c.seconds);
}

const char* LevelTitle(Level level) {
  switch (level) {
    case Level::kNormal:
      return "Normal";
    case Level::kWatch:
      return "Watch";
    case Level::kWarning:
      return "Warning";
    case Level::kCritical:
      return "Critical";
  }
  return "Normal";
}

std::string DurationTh(Seconds d) {
  const auto h = d.count() / 3600;
  const auto m = (d.count() % 3600) / 60;
  if (h == 0) return fmt::format("{} นาที", m);
  if (m == 0) return fmt::format("{} ชม.", h);
  return fmt::format("{} ชม. {} นาที", h, m);
}

std::string DurationEn(Seconds d) {
  const auto h = d.count() / 3600;
  const auto m = (d.count() % 3600) / 60;
  if (h == 0) return fmt::format("{} min", m);
  if (m == 0) return fmt::format("{} h", h);
  return fmt::format("{} h {} min", h, m);
}

}  // namespace text
std::string FutureReportText(TimePoint ts, TimePoint now) {
  const auto ahead = std::chrono::round<std::chrono::minutes>(ts - now);
  return fmt::format("report ts {} is {} ahead of kaoko's clock ({}): is the phone's clock wrong?", FormatUtc(ts),
                     text::DurationEn(ahead), FormatUtc(now));
}

std::pair<std::string, std::string> text::MeasuredText(TimePoint ts, TimePoint now, bool seen) {
  const auto ago = std::chrono::round<std::chrono::minutes>(now - ts);
  return {fmt::format(" — {}เมื่อ {} — {} ที่แล้ว", seen ? "เห็น" : "วัดได้", ThaiClock(ts), DurationTh(ago)),
          fmt::format(" — {} at {}, {} ago", seen ? "seen" : "measured", ThaiClock(ts), DurationEn(ago))};
}

}  // namespace kaoko::alerting
