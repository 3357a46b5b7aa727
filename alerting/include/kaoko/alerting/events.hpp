// The values that flow into and out of the alerting engine: what the world tells it (readings, watcher reports,
// decisions, station status) and what it asks the server to do (publish an alert state, notify a person, switch a
// siren, send a receipt, write the incident log). Plain values with no behaviour, so that the server can translate
// them to and from the wire contract (docs/protocol.md) without the engine knowing about JSON or MQTT.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/alerting/network.hpp"

namespace kaoko::alerting {

// Every time in the engine is a UTC wall-clock time in milliseconds, given by the caller: nothing here calls now().
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// ------------------------------------------------------------------------------------------------ inputs

// A station's reading, already validated (range, identifiers) and stored by the server.
struct Reading {
  std::string station;
  std::uint64_t seq = 0;
  TimePoint ts{};  // when it was measured (may be late or out of order)
  double level_cm = 0;
  std::optional<double> rain_mm;  // rain since the previous reading
  std::optional<double> battery_v;
};

// A watcher's report from the `report/{user}` topic. `village` is the topic's village.
struct Report {
  std::string user;
  std::string id;
  TimePoint ts{};
  std::string village;
  std::optional<std::string> station;
  std::optional<double> level_cm;
  std::optional<std::string> trend;  // "rising" | "steady" | "falling"
  Level concern = Level::kWatch;
  std::string note;
};

enum class DecisionAction { kAck, kConfirm, kReject, kDeclare, kAllClear };
// Wire names: "ack", "confirm", "reject", "declare", "all_clear".
const char* ToString(DecisionAction action);
// Parses a wire name; nullopt for anything else.
std::optional<DecisionAction> ParseDecisionAction(std::string_view text);

// A decision from the `decision/{user}` topic or the HTTP API. `village` is the topic's village (for HTTP: the
// incident's village, as the server looked it up).
struct Decision {
  std::string user;
  std::string id;
  TimePoint ts{};
  std::string village;
  std::int64_t incident = 0;
  DecisionAction action = DecisionAction::kAck;
  std::optional<Level> level;  // required for declare
  std::string note;
  std::string via;  // "mqtt" | "http"
};

// The retained `status` topic of a station: online, or offline (its Last Will).
struct StationStatus {
  std::string station;
  bool online = true;
  TimePoint ts{};
};

// What a village's tower or siren answers on `device/{id}/sounded` (tower_watch.hpp). `village` is the topic's.
struct DeviceSounded {
  std::string device;
  std::string village;
  std::string announce;  // the announcement's id ("a-12")
  TimePoint ts{};        // when the device says it played
  bool ok = true;        // false: it could not play, and `note` says why
  std::string note;
};

// ------------------------------------------------------------------------------------------------ incident stage

// The stage of an incident along the escalation chain (the `status` of the alert state).
enum class Stage { kReported, kAwaitingConfirmation, kConfirmed, kEscalated, kDeclared, kRejected, kResolved };
// Wire names: "reported", "awaiting_confirmation", "confirmed", "escalated", "declared", "rejected", "resolved".
const char* ToString(Stage stage);
std::optional<Stage> ParseStage(std::string_view text);
// True for the two final stages (rejected, resolved).
bool IsClosed(Stage stage);

// What a notification asks its reader to do.
enum class ActionNeeded { kNone, kAck, kConfirm, kDeclare };
// Wire names: "none", "ack", "confirm", "declare".
const char* ToString(ActionNeeded action);
std::optional<ActionNeeded> ParseActionNeeded(std::string_view text);

// ------------------------------------------------------------------------------------------------ outputs

// The retained per-village alert (`{village}/alert`). With level normal, `incident` is empty and `status` is the
// final stage of the last incident (resolved when there never was one).
struct AlertState {
  std::string village;
  Level level = Level::kNormal;
  std::optional<std::int64_t> incident;
  Stage status = Stage::kResolved;
  TimePoint since{};    // when the incident opened (or the village became normal)
  TimePoint updated{};  // when this state was computed
  std::string headline_th;
  std::string headline_en;
  bool exercise = false;  // the incident shown is a drill
  // The incident was opened by a flood wave from upstream: that village, its alert level now (published again here
  // whenever it changes, so every screen shows it live) and when the wave should arrive.
  std::string upstream_village;
  std::string upstream_name_th;
  std::string upstream_name_en;
  Level upstream_level = Level::kNormal;
  std::optional<TimePoint> expected_arrival;
  // Above the TAO (Incident): since when the TAO is overdue (only while it is), and when the district was told.
  std::optional<TimePoint> tao_overdue_since;
  std::optional<TimePoint> district_notified_at;
};

// One message for one person (`{village}/notify/{user}`). Repeated as a reminder until the person acts or the
// incident moves past their step.
struct Notification {
  std::string user;
  std::string village;
  std::string id;  // "n-<number>", unique across restarts (the counter is in EngineState)
  std::int64_t incident = 0;
  Level level = Level::kNormal;
  ActionNeeded action_needed = ActionNeeded::kNone;
  std::optional<TimePoint> deadline;
  std::string text_th;
  std::string text_en;
  bool reminder = false;
  bool exercise = false;
};

// A siren / village loudspeaker command (`{village}/siren`, retained).
// A drill NEVER turns a real siren on: for an exercise `on` is always false and `exercise` is true, so a
// loudspeaker may play a drill announcement but no siren sounds.
struct Siren {
  std::string village;
  bool on = false;
  Level level = Level::kNormal;
  std::optional<std::int64_t> incident;
  bool exercise = false;
};

// What a village's towers and sirens are told to play.
enum class Play { kEvacuate, kWarning, kWatch, kAllClear, kDrill };
// Wire names: "evacuate", "warning", "watch", "all_clear", "drill".
const char* ToString(Play play);
std::optional<Play> ParsePlay(std::string_view text);

// An announcement for the towers and sirens of a village (`{village}/announce`, retained), made with every siren
// change. Its texts carry no personal data. A drill's has play kDrill (kAllClear when it ends), `exercise` true and
// `on` false, as its Siren: no real siren sounds.
struct Announcement {
  std::string village;
  std::string id;  // "a-<number>", unique across restarts (the counter is in EngineState)
  std::int64_t incident = 0;
  Level level = Level::kNormal;
  bool on = false;
  Play play = Play::kAllClear;
  std::string text_th;
  std::string text_en;
  TimePoint ts{};
  bool exercise = false;
};

// The answer to one report or decision (`{village}/receipt/{user}`): exactly one per message handled.
struct Receipt {
  std::string user;
  std::string village;
  std::string ref;  // the report's or decision's id
  bool ok = false;
  std::optional<std::int64_t> incident;
  std::string error;  // plain English reason when !ok
};

// One entry of an incident's log. `kind` is one of: trigger, notification, reminder, receipt, decision, stage,
// escalation, corroboration, upstream, health, siren, tower, silence, inhibited.
struct TimelineEvent {
  std::int64_t incident = 0;
  TimePoint ts{};
  std::string kind;
  std::string actor;  // a user, a station id, or "kaoko"
  std::string via;    // "mqtt" | "http" | "station" | "kaoko"
  std::string text_th;
  std::string text_en;
};

// Everything one engine call asks the server to carry out, in the order it should happen: write the timeline and
// the changed incidents first (so nothing is announced that is not stored), then publish alerts, sirens,
// notifications and receipts, then the CAP document when `cap_changed`.
struct Effects {
  std::vector<AlertState> alerts;
  std::vector<Notification> notifications;
  std::vector<Siren> sirens;
  std::vector<Announcement> announcements;  // published after the sirens, to the villages' devices
  std::vector<Receipt> receipts;
  std::vector<TimelineEvent> timeline;
  std::vector<std::int64_t> incidents_changed;  // ids to persist (read them with Engine::FindIncident)
  bool cap_changed = false;
  // Set when a command without a receipt (Silence, StartDrill) was refused; plain English.
  std::optional<std::string> error;

  bool Empty() const {
    return alerts.empty() && notifications.empty() && sirens.empty() && announcements.empty() && receipts.empty() &&
           timeline.empty() && incidents_changed.empty() && !cap_changed && !error;
  }
};

// The refusal of a report dated `ts`, ahead of kaoko's clock at `now` ("report ts ... is 1 h ahead of kaoko's
// clock ...: is the phone's clock wrong?"). Thread-safe.
std::string FutureReportText(TimePoint ts, TimePoint now);

// RFC 3339 in UTC with seconds, e.g. "2026-11-27T04:15:00Z". Thread-safe.
std::string FormatUtc(TimePoint tp);

}  // namespace kaoko::alerting
