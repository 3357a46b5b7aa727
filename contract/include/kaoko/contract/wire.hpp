// The wire contract v1 (docs/protocol.md): MQTT topic names and JSON payloads, parsed and validated into plain values,
// and the payloads kaoko publishes, rendered. Every refusal carries a specific reason for the user (receipt, log) and
// a short code for the counters. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::wire {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

inline constexpr std::size_t kMaxPayloadBytes = 4096;
inline constexpr std::size_t kMaxNoteChars = 500;

// Parses RFC 3339 ("2026-11-27T04:15:00Z", fractional seconds and numeric offsets allowed) into UTC milliseconds.
Result<TimePoint> ParseTime(std::string_view text);
// Formats UTC as RFC 3339 with a Z, milliseconds only when they are not zero.
std::string FormatTime(TimePoint t);

enum class TopicKind {
  kReading,
  kStatus,
  kAck,
  kReport,
  kDecision,
  kReceipt,
  kAlert,
  kNotify,
  kSiren,
  kCap,
  // kaoko's additions (docs/protocol.md, "The tower and the siren"): {village}/announce and a device's own topics,
  // {village}/device/{device}/sounded and …/status.
  kAnnounce,
  kDeviceSounded,
  kDeviceStatus,
};

// A contract topic taken apart: kaoko/v1/{tambon}/{village}/station/{station}/reading and so on.
struct Topic {
  TopicKind kind = TopicKind::kReading;
  std::string tambon;
  std::string village;  // empty for the tambon's cap
  std::string name;     // the station, the user or the device; empty where the topic has none
};
// Returns the parsed topic, or an error naming the part that is wrong.
Result<Topic> ParseTopic(std::string_view topic);

std::string ReadingTopic(std::string_view tambon, std::string_view village, std::string_view station);
std::string StatusTopic(std::string_view tambon, std::string_view village, std::string_view station);
std::string AckTopic(std::string_view tambon, std::string_view village, std::string_view station);
std::string ReportTopic(std::string_view tambon, std::string_view village, std::string_view user);
std::string DecisionTopic(std::string_view tambon, std::string_view village, std::string_view user);
std::string ReceiptTopic(std::string_view tambon, std::string_view village, std::string_view user);
std::string AlertTopic(std::string_view tambon, std::string_view village);
std::string NotifyTopic(std::string_view tambon, std::string_view village, std::string_view user);
std::string SirenTopic(std::string_view tambon, std::string_view village);
std::string CapTopic(std::string_view tambon);
std::string AnnounceTopic(std::string_view tambon, std::string_view village);
std::string SoundedTopic(std::string_view tambon, std::string_view village, std::string_view device);
std::string DeviceStatusTopic(std::string_view tambon, std::string_view village, std::string_view device);

// A station's reading: one type from the payload to the engine and the store (alerting/events.hpp). Parsed from the
// payload with the station's id (the topic's) filled in.
using alerting::Reading;

// A reading's payload. When the payload is well-formed enough to carry a `seq` but still refused (a value out of
// range, say), `seq_if_known` is set so that the refusal can be recorded against the station and acknowledged.
struct ReadingError {
  Error error;
  std::optional<std::uint64_t> seq_if_known;
  std::optional<TimePoint> ts_if_known;
};
struct ReadingParse {
  std::optional<Reading> reading;
  std::optional<ReadingError> refused;
};
// Parses and validates a reading against the station's physical range. `now` bounds `ts` from above: a station
// whose clock runs more than `max_future` ahead is refused with a reason that says so.
// A plain payload (what stations send) is read in one pass without allocating; anything else, and every refusal, goes
// through the reference parser below, so the two always agree.
ReadingParse ParseReading(std::string_view payload, const alerting::Station& station, TimePoint now,
                          std::chrono::milliseconds max_future = std::chrono::minutes(10));
// The reference parser (a full JSON DOM): the same answer as ParseReading for every input, only slower. For tests.
ReadingParse ParseReadingDom(std::string_view payload, const alerting::Station& station, TimePoint now,
                             std::chrono::milliseconds max_future = std::chrono::minutes(10));

struct StatusMsg {
  bool online = false;
  std::optional<TimePoint> ts;
  std::string fw;
};
Result<StatusMsg> ParseStatus(std::string_view payload);

enum class Trend { kRising, kSteady, kFalling };
const char* ToString(Trend trend);

struct ReportMsg {
  std::string id;
  TimePoint ts{};
  alerting::Level concern = alerting::Level::kWatch;
  std::optional<std::string> station;
  std::optional<double> level_cm;
  std::optional<Trend> trend;
  std::string note;
  std::optional<double> lat;
  std::optional<double> lon;
};
// A watcher report; the error names the field that is wrong.
Result<ReportMsg> ParseReport(std::string_view payload);

using alerting::DecisionAction;  // the contract's actions are the engine's

struct DecisionMsg {
  std::string id;
  TimePoint ts{};
  std::int64_t incident = 0;
  DecisionAction action = DecisionAction::kAck;
  std::optional<alerting::Level> level;  // required with declare
  std::string note;
};
Result<DecisionMsg> ParseDecision(std::string_view payload);
// A decision from the web API (POST /api/v1/incidents/{id}/decisions): the payload as on MQTT, but the id, the time
// and the incident may be left out and are taken from `defaults`; an incident given must be defaults.incident.
struct DecisionDefaults {
  std::int64_t incident = 0;
  std::string id;
  TimePoint ts{};
};
Result<DecisionMsg> ParseWebDecision(std::string_view body, const DecisionDefaults& defaults);

// An announcement to a village's towers and sirens, as kaoko renders it (RenderAnnouncement); `village` is left
// empty (it is the topic's). For devices and tests: the error names the field that is wrong.
Result<alerting::Announcement> ParseAnnouncement(std::string_view payload);

// A device's answer to an announcement: {"announce":"a-12","ts":…,"ok":true,"note":"…"} (`note` optional, at most
// kMaxNoteChars; with ok false it says why the device could not play).
struct SoundedMsg {
  std::string announce;
  TimePoint ts{};
  bool ok = true;
  std::string note;
};
Result<SoundedMsg> ParseSounded(std::string_view payload);
std::string RenderSounded(const SoundedMsg& msg);

// The `id` of a report or decision, if the payload is JSON with a string id: a receipt for a refused message still
// names what it refers to ("ref"), so a phone can match it.
std::optional<std::string> PeekId(std::string_view payload);

// {"stored": [[a, b], …]} from ranges that are already sorted and merged.
std::string RenderAck(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges);
// {"ref": …, "ok": true, "incident": …} / {"ref": …, "ok": false, "error": …}
std::string RenderReceipt(std::string_view ref, bool ok, std::optional<std::int64_t> incident, std::string_view error);

// Sorted, merged inclusive ranges from a set of sequence numbers (the input need not be sorted; repeats are fine).
std::vector<std::pair<std::uint64_t, std::uint64_t>> ToRanges(std::vector<std::uint64_t> seqs);

}  // namespace kaoko::wire
