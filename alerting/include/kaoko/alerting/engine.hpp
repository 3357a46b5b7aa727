// The alerting engine: turns readings, watcher reports, decisions and the passing of time into incidents that walk
// the escalation chain (watcher or station → committee → headman → TAO), and returns the effects the server must
// carry out. Pure logic: no I/O, no clock (every call is given `now`), no threads.
//
//   Engine engine(network);
//   Effects fx = engine.OnReading(reading, now);    // carry out fx: store timeline, publish alerts, notify...
//   fx = engine.Advance(now);                        // call when NextDeadline() is due (or every second)
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

namespace kaoko::alerting {

struct EngineOptions {
  MonitorOptions monitor;
  // Reports and decisions remembered for idempotency (the server dedups too; this makes the engine safe alone).
  std::size_t seen_capacity = 4096;
  // Closed incidents kept in memory, so that a late decision on one gets "is already resolved" not "unknown".
  std::size_t closed_capacity = 256;
  // A station with no reading for this many reading intervals is shown as "stale" (before offline_after).
  int stale_intervals = 3;
};

// Health of a station as the HTTP API shows it.
enum class StationHealth { kOk, kStale, kOffline, kSuspect };
// "ok" | "stale" | "offline" | "suspect"
const char* ToString(StationHealth health);

// Thread safety: an Engine is not thread-safe; one owner thread calls everything (the server's strand). Every
// method is O(1) amortised per input except Advance / NextDeadline / the read accessors, which are linear in open
// incidents and stations. Nothing throws on bad input: refusals are receipts (or Effects::error).
class Engine {
 public:
  // `network` must outlive the engine.
  explicit Engine(const Network& network, EngineOptions options = {});

  // A stored, validated reading. Returns the effects (usually none). Unknown stations are ignored.
  [[nodiscard]] Effects OnReading(const Reading& reading, TimePoint now);
  // A watcher report. Returns exactly one receipt (the same one again for a repeated user+id) and the incident's
  // effects.
  [[nodiscard]] Effects OnReport(const Report& report, TimePoint now);
  // A decision. Returns exactly one receipt; wrong role, wrong village, unknown or closed incident are refused with
  // a plain English reason.
  [[nodiscard]] Effects OnDecision(const Decision& decision, TimePoint now);
  // A station's retained status (offline = its Last Will).
  [[nodiscard]] Effects OnStationStatus(const StationStatus& status, TimePoint now);
  // Fires every deadline, reminder, offline check, silence end and auto-resolve due at or before `now`.
  [[nodiscard]] Effects Advance(TimePoint now);
  // Puts a station under maintenance until `until` (until <= now lifts it): its readings raise nothing and its
  // faults open no incident; an open fault incident is resolved. Only a TAO officer may; else Effects::error.
  [[nodiscard]] Effects Silence(std::string_view station, TimePoint until, std::string_view by_user, TimePoint now);
  // Starts a drill: a synthetic incident marked exercise that walks the whole chain; no real siren ever sounds.
  // A TAO officer or the village's headman may; else Effects::error.
  [[nodiscard]] Effects StartDrill(std::string_view village, std::string_view by_user, TimePoint now,
                                   Level level = Level::kWarning);

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
  // Health of a station at `now` (suspect = a fault other than offline).
  StationHealth Health(std::string_view station, TimePoint now) const;
  // The tambon's CAP 1.2 document for the active flood incidents (see cap.hpp for the choices).
  std::string Cap(TimePoint now) const;
  // The earliest time Advance has something to do; nullopt when nothing is pending.
  std::optional<TimePoint> NextDeadline() const;

  // ---- durable state
  EngineState ExportState() const;
  // Replaces all state (call before any other input). Stations unknown to the network are dropped; network
  // stations missing from `state` start fresh.
  void ImportState(EngineState state);
  // Stations and incidents changed since the last ClearDirty() (closed incidents included), for incremental saves.
  std::vector<std::string> DirtyStations() const;
  std::vector<std::int64_t> DirtyIncidents() const;
  void ClearDirty();

 private:
  struct VillagePeople {
    std::vector<const Person*> committee;
    std::vector<const Person*> headmen;
    std::vector<const Person*> deputies;
    std::vector<const Person*> everyone;
    std::vector<std::size_t> stations;  // indexes into network_->stations
  };

  Incident* Open(std::int64_t id);
  Incident& NewIncident(IncidentKind kind, const std::string& village, Level level, std::string origin, bool exercise,
                        TimePoint now, Effects& fx);
  void Touch(Incident& inc, TimePoint now, Effects& fx);
  void Log(Incident& inc, TimePoint now, std::string kind, std::string actor, std::string via, std::string th,
           std::string en, Effects& fx);
  void Notify(Incident& inc, const std::string& user, ActionNeeded action, std::optional<TimePoint> deadline,
              std::string th, std::string en, bool reminder, TimePoint now, Effects& fx);
  void AskPeople(Incident& inc, const std::vector<const Person*>& people, ActionNeeded action,
                 std::optional<TimePoint> deadline, TimePoint now, Effects& fx, std::string_view why_th = {},
                 std::string_view why_en = {});
  void CloseAsks(Incident& inc, ActionNeeded action);
  void EnterStage(Incident& inc, Stage stage, std::string actor, std::string why_th, std::string why_en,
                  TimePoint now, Effects& fx);
  void AskCommittee(Incident& inc, TimePoint deadline_from, TimePoint now, Effects& fx);
  void AskHeadman(Incident& inc, TimePoint from, TimePoint now, Effects& fx);
  void EscalateToTao(Incident& inc, TimePoint from, std::string_view why_th, std::string_view why_en, TimePoint now,
                     Effects& fx);
  void InformVillage(Incident& inc, std::string th, std::string en, TimePoint now, Effects& fx);
  Incident& Trigger(const std::string& village, Level level, TriggerSource source, std::string headline_th,
                    std::string headline_en, std::string via, std::string station, TimePoint now, Effects& fx);
  void StationCritical(Incident& inc, TimePoint now, Effects& fx);
  void WarnDownstream(Incident& inc, TimePoint now, Effects& fx);
  void SetSiren(Incident& inc, bool on, TimePoint now, Effects& fx);
  void Close(Incident& inc, Stage stage, std::string actor, std::string via, std::string why_th, std::string why_en,
             TimePoint now, Effects& fx);
  void PublishAlert(const std::string& village, TimePoint now, Effects& fx);
  bool VillageWaterUp(const std::string& village) const;
  void RefreshNormalSince(const std::string& village, TimePoint now);
  void AdvanceIncident(Incident& inc, TimePoint now, Effects& fx);
  void TimeoutStep(Incident& inc, TimePoint deadline, TimePoint now, Effects& fx);
  void HealthChanged(std::size_t station_index, unsigned before, TimePoint now, Effects& fx);
  void MarkStationDirty(std::size_t index);
  void SetMoving(std::size_t index, bool moving);
  bool Silenced(const StationTrack& t, TimePoint now) const;
  Effects Refuse(const std::string& key, Receipt receipt, Incident* inc, std::string via, TimePoint now);
  void Remember(const std::string& key, const Receipt& receipt);
  const VillagePeople* PeopleOf(std::string_view village) const;

  const Network* network_;
  EngineOptions options_;
  std::unordered_map<std::string, std::size_t> station_index_;
  std::unordered_map<std::string, VillagePeople> villages_;
  std::unordered_map<std::string, const Person*> people_;
  std::vector<const Person*> tao_;

  std::vector<StationTrack> tracks_;  // parallel to network_->stations
  std::vector<char> station_dirty_;
  std::vector<std::size_t> dirty_station_list_;
  int moving_count_ = 0;

  std::map<std::int64_t, Incident> open_;
  std::map<std::int64_t, Incident> closed_;
  std::unordered_map<std::string, std::int64_t> village_flood_;  // open real flood incident per village
  std::unordered_map<std::string, std::int64_t> village_drill_;  // open drill per village
  std::unordered_map<std::string, AlertState> alerts_;
  std::unordered_map<std::string, Siren> sirens_;
  std::vector<std::int64_t> dirty_incidents_;

  std::unordered_map<std::string, Receipt> seen_;
  std::vector<std::string> seen_order_;  // ring, oldest at seen_head_
  std::size_t seen_head_ = 0;

  std::int64_t next_incident_ = 1;
  std::int64_t next_notification_ = 1;
};

}  // namespace kaoko::alerting
