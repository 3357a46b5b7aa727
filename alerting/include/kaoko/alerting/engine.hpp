// The alerting engine: turns readings, watcher reports, decisions and the passing of time into incidents that walk
// the escalation chain (watcher or station → committee → headman → TAO), and returns the effects the server must
// carry out. Pure logic: no I/O, no clock (every call is given `now`), no threads.
//
//   Engine engine(network);
//   Effects fx = engine.OnReading(reading, now);    // carry out fx: store timeline, publish alerts, notify...
//   fx = engine.Advance(now);                        // call when NextDeadline() is due (or every second), and
//                                                    // after each batch of inputs: it issues their CAP messages
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/alerting/state.hpp"
#include "kaoko/alerting/station_monitor.hpp"
#include "kaoko/alerting/tower_watch.hpp"

namespace kaoko::alerting {

struct EngineOptions {
  MonitorOptions monitor;
  // Reports and decisions remembered for idempotency (the server dedups too; this makes the engine safe alone).
  std::size_t seen_capacity = 4096;
  // Closed incidents kept in memory, so that a late decision on one gets "is already resolved" not "unknown".
  std::size_t closed_capacity = 256;
  // A station with no reading for this many reading intervals is shown as "stale" (before offline_after).
  int stale_intervals = 3;
  // A station's evaluation state is saved (DirtyStationPositions) when something a restart could not rebuild
  // changes — its level, what it triggered, its faults, a silence, a late or out-of-sequence reading, a status
  // message — and otherwise after this many readings or this much reading time, whichever comes first. A restart
  // replays the stored readings since (Replay), so these bound the replay. (Each station's count starts at its own
  // phase after its first save, so that stations reading in step do not all reach their periodic save at once.)
  std::uint32_t save_every_readings = 64;
  Seconds save_every{std::chrono::hours(3)};
};

// Health of a station as the HTTP API shows it.
enum class StationHealth { kOk, kStale, kOffline, kSuspect };
// "ok" | "stale" | "offline" | "suspect"
const char* ToString(StationHealth health);
// The health Engine::Health reports, from a track's fault bits and when it was last heard: offline, suspect (another
// fault), stale (nothing heard for stale_intervals reading intervals) or ok. Pure; thread-safe.
StationHealth HealthOf(unsigned problems, const std::optional<TimePoint>& last_heard, const Station& station,
                       int stale_intervals, TimePoint now);

// Thread safety: an Engine is not thread-safe; one owner thread calls everything (the server's strand). Every
// method is O(1) amortised per input except Advance / NextDeadline / the read accessors, which are linear in open
// incidents and stations. Nothing throws on bad input: refusals are receipts (or Effects::error).
class Engine {
 public:
  // `network` must outlive the engine.
  explicit Engine(const Network& network, EngineOptions options = {});

  // A stored, validated reading. Returns the effects (usually none). Unknown stations are ignored.
  [[nodiscard]] Effects OnReading(const Reading& reading, TimePoint now);
  // The same, for a caller that already has the station's position in Network::stations (Network::StationIndex):
  // no second look-up. A position that is not reading.station's is looked up again.
  [[nodiscard]] Effects OnReading(std::size_t station_index, const Reading& reading, TimePoint now);
  // A watcher report. Returns exactly one receipt (the same one again for a repeated user+id) and the incident's
  // effects.
  [[nodiscard]] Effects OnReport(const Report& report, TimePoint now);
  // A decision. Returns exactly one receipt; wrong role, wrong village, unknown or closed incident are refused with
  // a plain English reason.
  [[nodiscard]] Effects OnDecision(const Decision& decision, TimePoint now);
  // A station's retained status (offline = its Last Will).
  [[nodiscard]] Effects OnStationStatus(const StationStatus& status, TimePoint now);
  // The delivery room found `user`, asked to `action` on `incident`, not reached on any channel within the network's
  // DeliveryPolicy::not_reached (no phone's receipt, no page shown, nothing acted on); `also_unreached` are the others
  // found so for the same step. The chain moves on now instead of waiting for the deadline, and the log says why: a
  // headman not reached → the deputy is asked at once; everyone of the step not reached → the step times out now
  // (committee → headman, headman and deputy → the TAO). Nothing when the person has acted or the step has passed
  // (engine_reach.cpp). `every_channel_failed`: found before the wait was over, because every delivery to the person
  // failed (the log says so instead of naming the wait).
  [[nodiscard]] Effects OnUnreached(std::int64_t incident, const std::string& user, ActionNeeded action,
                                    const std::vector<std::string>& also_unreached, TimePoint now,
                                    bool every_channel_failed = false);
  // Fires every deadline, reminder, offline check, silence end and auto-resolve due at or before `now`.
  [[nodiscard]] Effects Advance(TimePoint now);
  // Puts a station under maintenance until `until` (until <= now lifts it): its readings raise nothing and its
  // faults open no incident; an open fault incident is resolved. Only a TAO officer may; else Effects::error.
  [[nodiscard]] Effects Silence(std::string_view station, TimePoint until, std::string_view by_user, TimePoint now);
  // Starts a drill: a synthetic incident marked exercise that walks the whole chain; no real siren ever sounds.
  // A TAO officer or the village's headman may; else Effects::error.
  [[nodiscard]] Effects StartDrill(std::string_view village, std::string_view by_user, TimePoint now,
                                   Level level = Level::kWarning);

  // ---- the village's towers and sirens (tower_watch.hpp; defined in tower_watch.cpp)
  // A device's answer to an announcement, recorded on the announcement's incident: sounded in time, sounded late, or
  // could not play (the TAO is told). A repeat gives no effects. An unknown device, a device of another village, or
  // an announcement it was not sent (or that was forgotten) is refused: Effects::error, and no receipt.
  [[nodiscard]] Effects OnDeviceSounded(const DeviceSounded& sounded, TimePoint now);

  // ---- read access for the HTTP API (valid until the next mutating call)
  // The alert state of every village, in river order.
  std::vector<AlertState> Alerts() const;
  // The alert state of one village; nullopt for an unknown village.
  std::optional<AlertState> Alert(std::string_view village) const;
  // An open or recently closed incident; nullptr when unknown (or closed long ago: the server has it stored).
  const Incident* FindIncident(std::int64_t id) const;
  // Open incidents, newest first.
  std::vector<const Incident*> OpenIncidents() const;
  // Evaluation state of a station (level, latest reading, problems); nullptr for an unknown station.
  const StationTrack* FindStationTrack(std::string_view station) const;
  // The same by the station's position in Network::stations (as TouchedStations and DirtyStationPositions give
  // them): no look-up of the id. nullptr past the end.
  const StationTrack* TrackAt(std::size_t position) const {
    return position < tracks_.size() ? &tracks_[position] : nullptr;
  }
  // Health of a station at `now` (suspect = a fault other than offline).
  StationHealth Health(std::string_view station, TimePoint now) const;
  // The tambon's CAP 1.2 document for the active flood incidents, and for a second after it closed each one that
  // closed (its Cancel or all-clear; see cap.hpp for the choices). Each incident's message is issued by Advance.
  // `max_bytes` bounds it (RenderCapBounded: the most severe that fit, and a note); 0 = the whole document.
  // `whole`: this same state's whole document, when the caller rendered it already (not rendered again).
  std::string Cap(TimePoint now, std::size_t max_bytes = 0, std::size_t* omitted = nullptr,
                  const std::string* whole = nullptr) const;
  // The earliest time Advance has something to do; nullopt when nothing is pending.
  std::optional<TimePoint> NextDeadline() const;

  // ---- durable state
  EngineState ExportState() const;
  // ExportState without incidents and stations (they are stored one row each): every village's alert and siren, and
  // the remembered messages.
  EngineState ExportMeta() const;
  // Only next_incident and next_notification: the part of the meta not stored row by row (ExportVillage, NewSeen).
  EngineState ExportCounters() const;
  // One village's alert state and siren as the engine holds them (none when it never had one).
  EngineState ExportVillage(std::string_view village) const;
  // Replaces all state (call before any other input). Stations unknown to the network are dropped; network
  // stations missing from `state` start fresh.
  void ImportState(EngineState state);
  // Re-evaluates a stored reading that arrived after the station's saved state (ImportState): rebuilds the windows and
  // counters it moved, raises nothing, and leaves what the saved state decided (levels, faults, triggers) as saved.
  // Readings at or before the station's newest evaluated one are skipped; give them in the order they arrived (by
  // seq, above the saved max_seq). `now` caps the time the station counts as last heard.
  void Replay(const Reading& reading, TimePoint now);
  // Stations whose state must be saved and incidents changed since the last ClearDirty() (closed incidents included),
  // for incremental saves. A station is listed when something a restart could not rebuild changed, or when
  // EngineOptions::save_every_readings / save_every have passed since its last save.
  // As positions in Network::stations.
  const std::vector<std::uint32_t>& DirtyStationPositions() const { return dirty_station_list_; }
  std::vector<std::int64_t> DirtyIncidents() const;
  // Indexes (in Network::stations) of every station whose track changed at all since the last ClearDirty(), the
  // dirty ones included: what a view of the stations must redraw.
  const std::vector<std::uint32_t>& TouchedStations() const { return touched_station_list_; }
  // Villages whose alert state or siren changed, and messages remembered (for duplicate detection), since the last
  // ClearDirty(): saved row by row, so that a batch's save does not grow with the network.
  std::vector<std::string> DirtyVillages() const;
  std::vector<SeenMessage> NewSeen() const;
  void ClearDirty();

 private:
  struct VillagePeople {
    std::vector<const Person*> committee;
    std::vector<const Person*> headmen;
    std::vector<const Person*> deputies;
    std::vector<const Person*> everyone;
    std::vector<std::uint32_t> stations;  // indexes into network_->stations
  };

  Incident* Open(std::int64_t id);
  Incident& NewIncident(IncidentKind kind, const std::string& village, Level level, std::string origin, bool exercise,
                        TimePoint now, Effects& fx);
  void Touch(Incident& inc, TimePoint now, Effects& fx);
  void Log(Incident& inc, TimePoint now, std::string kind, std::string actor, std::string via, std::string th,
           std::string en, Effects& fx);
  void Notify(Incident& inc, const std::string& user, ActionNeeded action, std::optional<TimePoint> deadline,
              std::string th, std::string en, bool reminder, TimePoint now, Effects& fx, bool logged = true);
  void AskPeople(Incident& inc, const std::vector<const Person*>& people, ActionNeeded action,
                 std::optional<TimePoint> deadline, TimePoint now, Effects& fx, std::string_view why_th = {},
                 std::string_view why_en = {});
  void CloseAsks(Incident& inc, ActionNeeded action);
  void EnterStage(Incident& inc, Stage stage, std::string actor, std::string why_th, std::string why_en, TimePoint now,
                  Effects& fx);
  void AskCommittee(Incident& inc, TimePoint deadline_from, TimePoint now, Effects& fx);
  void AskHeadman(Incident& inc, TimePoint from, TimePoint now, Effects& fx);
  void EscalateToTao(Incident& inc, TimePoint from, std::string_view why_th, std::string_view why_en, TimePoint now,
                     Effects& fx);
  void InformVillage(Incident& inc, std::string th, std::string en, TimePoint now, Effects& fx);
  // The TAO is overdue since `since` (its deadline passed, or no officer could be reached): marks it, and tells the
  // district once, with its own deadline (EscalationPolicy::district_act) and the usual reminders (engine_reach.cpp).
  void TellDistrict(Incident& inc, TimePoint since, TimePoint now, Effects& fx);
  // A district person's ack ("seen, on it"): the district's asks close and its deadline is met; the stage stays.
  void DistrictAck(Incident& inc, const std::string& user, TimePoint now, Effects& fx);
  // The district's deadline passed without an answer: marked and logged once; the reminders go on.
  void DistrictOverdue(Incident& inc, TimePoint now, Effects& fx);
  Incident& Trigger(const std::string& village, Level level, TriggerSource source, std::string headline_th,
                    std::string headline_en, std::string via, std::string station, TimePoint now, Effects& fx);
  void StationCritical(Incident& inc, TimePoint now, Effects& fx);
  void WarnDownstream(Incident& inc, TimePoint now, Effects& fx);
  void SetSiren(Incident& inc, bool on, TimePoint now, Effects& fx);
  void Close(Incident& inc, Stage stage, std::string actor, std::string via, std::string why_th, std::string why_en,
             TimePoint now, Effects& fx);
  void PublishAlert(const std::string& village, TimePoint now, Effects& fx);
  void DropCapFarewells(TimePoint now, Effects& fx);
  void IssueCap();
  const AlertState* UpstreamComing(const Incident& inc) const;
  std::string UpstreamRefusal(const AlertState& upstream, const Incident& inc) const;
  void PublishDownstream(const std::string& village, TimePoint now, Effects& fx);
  bool VillageWaterUp(const std::string& village) const;
  void RefreshNormalSince(const std::string& village, TimePoint now);
  void AdvanceIncident(Incident& inc, TimePoint now, Effects& fx);
  void TimeoutStep(Incident& inc, TimePoint deadline, TimePoint now, Effects& fx);
  void HealthChanged(std::size_t station_index, unsigned before, TimePoint now, Effects& fx);
  MonitorResult Evaluate(std::size_t index, const Reading& reading, TimePoint now, Effects& fx);

  // ---- late data (engine_clock.cpp)
  // Counts a late reading into the station's run of them, or ends the run with an on-time one (`late` false).
  void NoteLate(std::size_t index, const Reading& reading, bool late, TimePoint now, Effects& fx);
  // Ends a station's run of late readings: a backlog (two or more, or any older than backlog_after) is told to the
  // TAO in one timeline line ("station X sent 40 readings measured from 02:10 to 04:00 after an outage").
  void EndBacklog(std::size_t index, TimePoint now, Effects& fx);
  // A line for the TAO about late data that pages nobody: on the village's open flood incident, else the station's
  // fault incident, else a record of its own (opened and closed at once, so that it is in the history). Returns the
  // incident's id.
  std::int64_t RecordForTao(const std::string& village, const std::string& station, const std::string& actor,
                            std::string th, std::string en, TimePoint now, Effects& fx);
  void MarkStationDirty(std::size_t index);
  std::uint32_t SavePhase(std::size_t index) const;
  void MarkStationTouched(std::size_t index);
  void LowerStationDeadline(std::optional<TimePoint> t);
  std::optional<TimePoint> StationDeadline(const StationTrack& t) const;
  void SetMoving(std::size_t index, bool moving);
  bool Silenced(const StationTrack& t, TimePoint now) const;
  Effects Refuse(const std::string& key, Receipt receipt, Incident* inc, std::string via, TimePoint now);
  void Remember(const std::string& key, const Receipt& receipt);
  const VillagePeople* PeopleOf(std::string_view village) const;

  // ---- the village's towers and sirens (tower_watch.cpp)
  // The announcement of a siren change (`on`: what SetSiren was asked), and the answers its devices now owe.
  void AnnounceToDevices(Incident& inc, bool on, TimePoint now, Effects& fx);
  // Deadlines of device answers that passed: the timeline says so and the TAO is told.
  void AdvanceTowers(TimePoint now, Effects& fx);
  // An open incident, or one closed recently (closed_); nullptr otherwise.
  Incident* OpenOrClosed(std::int64_t id);

  const Network* network_;
  EngineOptions options_;
  // Position of a station in tracks_, or kNoStation: the network's own index (Network::StationIndex), not a second
  // one (150,000 station ids in a hash map cost about 10 MB).
  static constexpr std::size_t kNoStation = static_cast<std::size_t>(-1);
  std::size_t StationIndex(std::string_view station) const {
    const int i = network_->StationIndex(station);
    return i < 0 ? kNoStation : static_cast<std::size_t>(i);
  }
  std::unordered_map<std::string, VillagePeople> villages_;
  std::unordered_map<std::string, const Person*> people_;
  std::vector<const Person*> tao_;
  std::vector<const Person*> district_;  // the people above the TAO (Role::kDistrict); may be none

  std::vector<StationTrack> tracks_;               // parallel to network_->stations
  std::vector<char> station_dirty_;                // 1: to be saved; 2: touched only
  std::vector<std::uint32_t> dirty_station_list_;  // positions in network_->stations (four bytes: 150,000 of them)
  std::vector<std::uint32_t> touched_station_list_;
  std::vector<std::uint32_t> unsaved_readings_;  // readings evaluated since the station's state was last saved
  std::vector<std::int64_t> saved_latest_ms_;    // its newest reading's ts (ms) when last saved; INT64_MIN: never
  // No station has anything for Advance to do before this (a lower bound; Advance scans the stations only from it).
  TimePoint station_deadline_ = TimePoint::max();
  // Some station has not been looked at by Advance yet (it starts watching for silence from then).
  bool stations_unwatched_ = true;
  int moving_count_ = 0;

  std::map<std::int64_t, Incident> open_;
  std::map<std::int64_t, Incident> closed_;
  // Closed flood incidents still in the CAP document: their last message goes out once (DropCapFarewells).
  std::vector<std::int64_t> cap_farewell_;
  static constexpr Seconds kCapFarewell{1};
  // A run of late readings is over when the station has sent nothing for this long.
  static constexpr Seconds kBacklogQuiet{60};
  std::unordered_map<std::string, std::int64_t> village_flood_;  // open real flood incident per village
  std::unordered_map<std::string, std::int64_t> village_drill_;  // open drill per village
  std::unordered_map<std::string, AlertState> alerts_;
  std::unordered_map<std::string, Siren> sirens_;
  std::vector<std::int64_t> dirty_incidents_;
  std::vector<std::string> dirty_villages_;  // may repeat; DirtyVillages() sorts them out
  std::vector<std::string> new_seen_;        // keys, in the order remembered

  std::unordered_map<std::string, Receipt> seen_;
  std::vector<std::string> seen_order_;  // ring, oldest at seen_head_
  std::size_t seen_head_ = 0;

  std::int64_t next_incident_ = 1;
  std::int64_t next_notification_ = 1;

  TowerWatch towers_;  // the answers the villages' devices owe (tower_watch.hpp)
  // Set while a late reading triggers: a level it raises updates the incident without asking its people again (a
  // backlog flushed at once would otherwise page them once per level it passed through).
  bool quiet_raise_ = false;
};

}  // namespace kaoko::alerting
