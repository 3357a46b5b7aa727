#include "kaoko/alerting/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "kaoko/alerting/cap.hpp"
#include "kaoko/alerting/decision_policy.hpp"
#include "text.hpp"

namespace kaoko::alerting {
namespace {

constexpr std::size_t kMaxSources = 16;

void PushUnique(std::vector<std::int64_t>& v, std::int64_t id) {
  if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
}

void PushUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::string ActionTh(ActionNeeded a) {
  switch (a) {
    case ActionNeeded::kAck:
      return "กรุณากดรับทราบ";
    case ActionNeeded::kConfirm:
      return "กรุณายืนยันหรือปฏิเสธ";
    case ActionNeeded::kDeclare:
      return "กรุณาประกาศระดับเตือนภัยหรือยุติเหตุการณ์";
    case ActionNeeded::kNone:
      return "";
  }
  return "";
}

std::string ActionEn(ActionNeeded a) {
  switch (a) {
    case ActionNeeded::kAck:
      return "please acknowledge";
    case ActionNeeded::kConfirm:
      return "please confirm or reject";
    case ActionNeeded::kDeclare:
      return "please declare the official level or give the all-clear";
    case ActionNeeded::kNone:
      return "";
  }
  return "";
}

void RefreshHeadline(Incident& inc, const Village* v) {
  const std::string vth = v ? v->name_th : inc.village;
  const std::string ven = v ? v->name_en : inc.village;
  const char* pre_th = inc.exercise ? "[ฝึกซ้อม] " : "";
  const char* pre_en = inc.exercise ? "[EXERCISE] " : "";
  if (inc.kind == IncidentKind::kStation) {
    inc.headline_th = fmt::format("{}สถานีขัดข้อง {}: {}", pre_th, vth, inc.detail_th);
    inc.headline_en = fmt::format("{}Station fault, {}: {}", pre_en, ven, inc.detail_en);
    return;
  }
  const char* declared_th = inc.declared_level ? " (อบต. ประกาศ)" : "";
  const char* declared_en = inc.declared_level ? " (declared by the TAO)" : "";
  inc.headline_th = fmt::format("{}{}{} {}: {}", pre_th, ThaiName(inc.level), declared_th, vth, inc.detail_th);
  inc.headline_en = fmt::format("{}{}{}, {}: {}", pre_en, text::LevelTitle(inc.level), declared_en, ven, inc.detail_en);
}

}  // namespace

const char* ToString(StationHealth health) {
  switch (health) {
    case StationHealth::kOk:
      return "ok";
    case StationHealth::kStale:
      return "stale";
    case StationHealth::kOffline:
      return "offline";
    case StationHealth::kSuspect:
      return "suspect";
  }
  return "ok";
}

Engine::Engine(const Network& network, EngineOptions options) : network_(&network), options_(options) {
  for (const Village& v : network.villages) villages_[v.id];
  tracks_.reserve(network.stations.size());
  for (std::size_t i = 0; i < network.stations.size(); ++i) {
    const Station& s = network.stations[i];
    villages_[s.village].stations.push_back(static_cast<std::uint32_t>(i));
    tracks_.push_back(NewStationTrack(s));
  }
  for (auto& [id, vp] : villages_) vp.stations.shrink_to_fit();
  station_dirty_.assign(tracks_.size(), 0);
  unsaved_readings_.assign(tracks_.size(), 0);
  saved_latest_ms_.assign(tracks_.size(), std::numeric_limits<std::int64_t>::min());
  for (const Person& p : network.people) {
    people_[p.id] = &p;
    if (p.role == Role::kTao) {
      tao_.push_back(&p);
      continue;
    }
    if (p.role == Role::kDistrict) {
      district_.push_back(&p);
      continue;
    }
    VillagePeople& vp = villages_[p.village];
    vp.everyone.push_back(&p);
    if (p.role == Role::kCommittee) vp.committee.push_back(&p);
    if (p.role == Role::kHeadman) vp.headmen.push_back(&p);
    if (p.role == Role::kDeputy) vp.deputies.push_back(&p);
  }
}

// ------------------------------------------------------------------------------------------------ small helpers

const Engine::VillagePeople* Engine::PeopleOf(std::string_view village) const {
  auto it = villages_.find(std::string(village));
  return it == villages_.end() ? nullptr : &it->second;
}

Incident* Engine::Open(std::int64_t id) {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second;
}

void Engine::MarkStationDirty(std::size_t index) {
  if (!(station_dirty_[index] & 1)) dirty_station_list_.push_back(static_cast<std::uint32_t>(index));
  if (!(station_dirty_[index] & 2)) touched_station_list_.push_back(static_cast<std::uint32_t>(index));
  station_dirty_[index] = 3;
}

void Engine::MarkStationTouched(std::size_t index) {
  if (!(station_dirty_[index] & 2)) {
    station_dirty_[index] |= 2;
    touched_station_list_.push_back(static_cast<std::uint32_t>(index));
  }
}

std::optional<TimePoint> Engine::StationDeadline(const StationTrack& t) const {
  // A run of late readings ends when the station has been quiet a minute (EndBacklog).
  if (t.backlog_count > 0 && t.last_heard) return *t.last_heard + kBacklogQuiet;
  if (t.silenced_until) return t.silenced_until;
  if (t.problems & kProblemOffline) return std::nullopt;
  if (t.last_heard) return *t.last_heard + network_->health.offline_after;
  if (t.watching_since) return *t.watching_since + network_->health.offline_after;
  return std::nullopt;
}

void Engine::LowerStationDeadline(std::optional<TimePoint> t) {
  if (t && *t < station_deadline_) station_deadline_ = *t;
}

void Engine::SetMoving(std::size_t index, bool moving) {
  (void)index;
  moving_count_ += moving ? 1 : -1;
}

bool Engine::Silenced(const StationTrack& t, TimePoint now) const {
  return t.silenced_until && now < *t.silenced_until;
}

void Engine::Touch(Incident& inc, TimePoint now, Effects& fx) {
  inc.updated = now;
  ++inc.revision;
  PushUnique(fx.incidents_changed, inc.id);
  PushUnique(dirty_incidents_, inc.id);
  if (inc.kind == IncidentKind::kFlood) fx.cap_changed = true;
}

void Engine::Log(Incident& inc, TimePoint now, std::string kind, std::string actor, std::string via, std::string th,
                 std::string en, Effects& fx) {
  fx.timeline.push_back(
      TimelineEvent{inc.id, now, std::move(kind), std::move(actor), std::move(via), std::move(th), std::move(en)});
}

Incident& Engine::NewIncident(IncidentKind kind, const std::string& village, Level level, std::string origin,
                              bool exercise, TimePoint now, Effects& fx) {
  const std::int64_t id = next_incident_++;
  Incident& inc = open_[id];
  inc.id = id;
  inc.kind = kind;
  inc.village = village;
  inc.origin = std::move(origin);
  inc.level = level;
  inc.exercise = exercise;
  inc.opened = now;
  Touch(inc, now, fx);
  return inc;
}

void Engine::Notify(Incident& inc, const std::string& user, ActionNeeded action, std::optional<TimePoint> deadline,
                    std::string th, std::string en, bool reminder, TimePoint now, Effects& fx, bool logged) {
  Notification n;
  n.user = user;
  n.village = inc.village;
  n.id = fmt::format("n-{}", next_notification_++);
  n.incident = inc.id;
  n.level = inc.level;
  n.action_needed = action;
  n.deadline = deadline;
  n.reminder = reminder;
  n.exercise = inc.exercise;
  const std::string when_th = deadline ? fmt::format(" ภายใน {} น.", text::ThaiClock(*deadline)) : "";
  const std::string when_en = deadline ? fmt::format(" by {} (Thai time)", text::ThaiClock(*deadline)) : "";
  const char* again_th = reminder ? "เตือนซ้ำ: " : "";
  const char* again_en = reminder ? "Reminder: " : "";
  const std::string act_th = action == ActionNeeded::kNone ? "" : " — " + ActionTh(action) + when_th;
  const std::string act_en = action == ActionNeeded::kNone ? "" : " — " + ActionEn(action) + when_en;
  const std::string why_th = th.empty() ? "" : " " + th;
  const std::string why_en = en.empty() ? "" : " " + en;
  n.text_th = fmt::format("{}{}{}{} (เหตุการณ์ #{})", again_th, inc.headline_th, why_th, act_th, inc.id);
  n.text_en = fmt::format("{}{}{}{} (incident #{})", again_en, inc.headline_en, why_en, act_en, inc.id);
  if (logged)
    Log(inc, now, reminder ? "reminder" : "notification", "kaoko", "kaoko",
        fmt::format("{} ถึง {} ({})", n.id, user, ToString(action)),
        fmt::format("{} to {} (action: {}){}", n.id, user, ToString(action),
                    deadline ? fmt::format(", deadline {}", FormatUtc(*deadline)) : ""),
        fx);
  fx.notifications.push_back(std::move(n));
}

void Engine::AskPeople(Incident& inc, const std::vector<const Person*>& people, ActionNeeded action,
                       std::optional<TimePoint> deadline, TimePoint now, Effects& fx, std::string_view why_th,
                       std::string_view why_en) {
  for (const Person* p : people) {
    auto it = std::find_if(inc.asks.begin(), inc.asks.end(),
                           [&](const Ask& a) { return a.open && a.user == p->id && a.action == action; });
    if (it == inc.asks.end()) {
      inc.asks.push_back(Ask{p->id, action, now, now + network_->escalation.reminder_interval, 0, true});
    }
    Notify(inc, p->id, action, deadline, std::string(why_th), std::string(why_en), false, now, fx);
  }
  Touch(inc, now, fx);
}

void Engine::CloseAsks(Incident& inc, ActionNeeded action) {
  for (Ask& a : inc.asks) {
    if (a.action == action) a.open = false;
  }
}

void Engine::EnterStage(Incident& inc, Stage stage, std::string actor, std::string why_th, std::string why_en,
                        TimePoint now, Effects& fx) {
  inc.stage = stage;
  Log(inc, now, "stage", std::move(actor), "kaoko", fmt::format("ขั้น {}: {}", ToString(stage), why_th),
      fmt::format("stage {}: {}", ToString(stage), why_en), fx);
  Touch(inc, now, fx);
  if (inc.kind == IncidentKind::kFlood) PublishAlert(inc.village, now, fx);
}

void Engine::AskCommittee(Incident& inc, TimePoint from, TimePoint now, Effects& fx) {
  inc.stage_deadline = from + network_->escalation.committee_ack;
  const VillagePeople* vp = PeopleOf(inc.village);
  if (vp) AskPeople(inc, vp->committee, ActionNeeded::kAck, inc.stage_deadline, now, fx);
}

void Engine::AskHeadman(Incident& inc, TimePoint from, TimePoint now, Effects& fx) {
  inc.stage_deadline = from + network_->escalation.headman_confirm;
  inc.deputy_at = from + network_->escalation.deputy_after;
  const VillagePeople* vp = PeopleOf(inc.village);
  if (!vp) return;
  // A village without a headman asks its deputy at once.
  AskPeople(inc, vp->headmen.empty() ? vp->deputies : vp->headmen, ActionNeeded::kConfirm, inc.stage_deadline, now, fx);
}

void Engine::EscalateToTao(Incident& inc, TimePoint from, std::string_view why_th, std::string_view why_en,
                           TimePoint now, Effects& fx) {
  EnterStage(inc, Stage::kEscalated, "kaoko", std::string(why_th), std::string(why_en), now, fx);
  inc.stage_deadline = from + network_->escalation.tao_declare;
  AskPeople(inc, tao_, ActionNeeded::kDeclare, inc.stage_deadline, now, fx, why_th, why_en);
}

void Engine::InformVillage(Incident& inc, std::string th, std::string en, TimePoint now, Effects& fx) {
  const VillagePeople* vp = PeopleOf(inc.village);
  if (vp) {
    for (const Person* p : vp->everyone) Notify(inc, p->id, ActionNeeded::kNone, std::nullopt, th, en, false, now, fx);
  }
}

void Engine::SetSiren(Incident& inc, bool on, TimePoint now, Effects& fx) {
  if (inc.exercise) {
    // A drill never sounds a real siren: the loudspeaker gets on=false with exercise=true.
    if (inc.siren_on == on) return;
    inc.siren_on = on;
    fx.sirens.push_back(Siren{inc.village, false, inc.level, inc.id, true});
    Log(inc, now, "siren", "kaoko", "kaoko", on ? "ฝึกซ้อม: ไม่เปิดไซเรนจริง" : "ฝึกซ้อม: จบการจำลองไซเรน",
        on ? "exercise: the siren would sound now (no real siren)" : "exercise: simulated siren off", fx);
    Touch(inc, now, fx);
    AnnounceToDevices(inc, on, now, fx);  // the village's towers and sirens (tower_watch.cpp)
    return;
  }
  Siren& cur = sirens_[inc.village];
  const bool same = cur.on == on && (!on || (cur.level == inc.level && cur.incident == inc.id));
  inc.siren_on = on;
  if (same) return;
  cur = Siren{inc.village, on, on ? inc.level : Level::kNormal, inc.id, false};
  dirty_villages_.push_back(inc.village);
  fx.sirens.push_back(cur);
  Log(inc, now, "siren", "kaoko", "kaoko", on ? fmt::format("เปิดไซเรน ({})", ThaiName(inc.level)) : "ปิดไซเรน",
      on ? fmt::format("siren on ({})", ToString(inc.level)) : "siren off", fx);
  Touch(inc, now, fx);
  AnnounceToDevices(inc, on, now, fx);  // the village's towers and sirens (tower_watch.cpp)
}

bool Engine::VillageWaterUp(const std::string& village) const {
  const VillagePeople* vp = PeopleOf(village);
  if (!vp) return false;
  for (std::size_t i : vp->stations) {
    const StationTrack& t = tracks_[i];
    // A silenced station is under maintenance: what it says does not count either way.
    if (t.silenced_until && t.latest_ts && *t.latest_ts < *t.silenced_until) continue;
    if (t.level >= Level::kWatch || t.fast_rise) return true;
  }
  return false;
}

void Engine::RefreshNormalSince(const std::string& village, TimePoint now) {
  auto it = village_flood_.find(village);
  if (it == village_flood_.end()) return;
  Incident* inc = Open(it->second);
  if (!inc) return;
  const bool up = VillageWaterUp(village);
  if (up && inc->normal_since) {
    inc->normal_since.reset();
    PushUnique(dirty_incidents_, inc->id);
  } else if (!up && !inc->normal_since) {
    inc->normal_since = now;
    PushUnique(dirty_incidents_, inc->id);
  }
}

namespace {
AlertState NormalAlert(const Network& net, const std::string& village, TimePoint since, Stage status) {
  AlertState a;
  a.village = village;
  a.level = Level::kNormal;
  a.status = status;
  a.since = since;
  a.updated = since;
  const Village* v = net.FindVillage(village);
  a.headline_th = fmt::format("{} {}", ThaiName(Level::kNormal), v ? v->name_th : village);
  a.headline_en = fmt::format("Normal, {}", v ? v->name_en : village);
  return a;
}
}  // namespace

void Engine::PublishAlert(const std::string& village, TimePoint now, Effects& fx) {
  const Incident* inc = nullptr;
  if (auto it = village_flood_.find(village); it != village_flood_.end()) inc = Open(it->second);
  if (!inc) {
    if (auto it = village_drill_.find(village); it != village_drill_.end()) inc = Open(it->second);
  }
  auto prev = alerts_.find(village);
  AlertState a;
  if (inc) {
    a.village = village;
    a.level = inc->level;
    a.incident = inc->id;
    a.status = inc->stage;
    a.since = inc->opened;
    a.updated = now;
    a.headline_th = inc->headline_th;
    a.headline_en = inc->headline_en;
    a.exercise = inc->exercise;
    if (const Village* up = network_->FindVillage(inc->upstream_village)) {
      a.upstream_village = up->id;
      a.upstream_name_th = up->name_th;
      a.upstream_name_en = up->name_en;
      if (auto it = alerts_.find(up->id); it != alerts_.end()) a.upstream_level = it->second.level;
      a.expected_arrival = inc->expected_arrival;
    }
    if (inc->tao_overdue) a.tao_overdue_since = inc->tao_overdue_since;
    a.district_notified_at = inc->district_notified_at;
  } else {
    Stage status = Stage::kResolved;
    TimePoint since = now;
    if (prev != alerts_.end()) {
      if (prev->second.level == Level::kNormal) since = prev->second.since;
      status = prev->second.status;  // Close sets it to the closing stage before calling here
    }
    a = NormalAlert(*network_, village, since, status);
    a.updated = now;
  }
  if (prev != alerts_.end()) {
    const AlertState& p = prev->second;
    if (p.level == a.level && p.incident == a.incident && p.status == a.status && p.exercise == a.exercise &&
        p.headline_th == a.headline_th && p.headline_en == a.headline_en && p.upstream_village == a.upstream_village &&
        p.upstream_level == a.upstream_level && p.expected_arrival == a.expected_arrival &&
        p.tao_overdue_since == a.tao_overdue_since && p.district_notified_at == a.district_notified_at) {
      return;
    }
  }
  const bool level_changed = prev == alerts_.end() || prev->second.level != a.level;
  alerts_[village] = a;
  PushUnique(dirty_villages_, village);
  // One state per village in one set of effects: the last one computed is the one that holds.
  auto same =
      std::find_if(fx.alerts.begin(), fx.alerts.end(), [&](const AlertState& x) { return x.village == village; });
  if (same != fx.alerts.end()) {
    *same = std::move(a);
  } else {
    fx.alerts.push_back(std::move(a));
  }
  if (level_changed) PublishDownstream(village, now, fx);
}

// The villages whose open incident came from `village`'s flood wave show its level: published again when it changes.
// Only villages further down the river, so this ends.
void Engine::PublishDownstream(const std::string& village, TimePoint now, Effects& fx) {
  const int idx = network_->VillageIndex(village);
  if (idx < 0) return;
  for (std::size_t j = static_cast<std::size_t>(idx) + 1; j < network_->villages.size(); ++j) {
    const std::string& down = network_->villages[j].id;
    auto it = alerts_.find(down);
    if (it != alerts_.end() && it->second.upstream_village == village) PublishAlert(down, now, fx);
  }
}

// ------------------------------------------------------------------------------------------------ the chain

Incident& Engine::Trigger(const std::string& village, Level level, TriggerSource source, std::string detail_th,
                          std::string detail_en, std::string via, std::string station, TimePoint now, Effects& fx) {
  const Village* v = network_->FindVillage(village);
  Incident* inc = nullptr;
  if (auto it = village_flood_.find(village); it != village_flood_.end()) inc = Open(it->second);
  const std::string log_kind = source.kind == "upstream" ? "upstream" : "trigger";
  if (!inc) {
    inc = &NewIncident(IncidentKind::kFlood, village, level, source.kind, false, now, fx);
    village_flood_[village] = inc->id;
    inc->station = station;
    inc->detail_th = detail_th;
    inc->detail_en = detail_en;
    RefreshHeadline(*inc, v);
    Log(*inc, now, log_kind, source.id, via, inc->headline_th, inc->headline_en, fx);
    EnterStage(*inc, Stage::kReported, "kaoko", "แจ้งกรรมการหมู่บ้าน", "the village committee is notified", now, fx);
    AskCommittee(*inc, now, now, fx);
  } else {
    // Inhibition: while the village is at critical, lesser triggers are logged but notify nobody.
    const bool inhibited = inc->level == Level::kCritical && level < Level::kCritical;
    Log(*inc, now, inhibited ? "inhibited" : log_kind, source.id, via,
        fmt::format("{}: {}", ThaiName(level), detail_th),
        fmt::format("{}: {}{}", ToString(level), detail_en, inhibited ? " (inhibited by critical)" : ""), fx);
    if (level > inc->level) {
      inc->level = level;
      inc->station = station.empty() ? inc->station : station;
      inc->detail_th = detail_th;
      inc->detail_en = detail_en;
      RefreshHeadline(*inc, v);
      Touch(*inc, now, fx);
      // The people who still have to act hear the new level at once.
      for (std::size_t i = 0; !quiet_raise_ && i < inc->asks.size(); ++i) {
        const Ask a = inc->asks[i];
        if (!a.open) continue;
        Notify(*inc, a.user, a.action, inc->stage_deadline, "ระดับสูงขึ้น", "level raised", false, now, fx);
      }
      if (inc->stage == Stage::kDeclared) {
        AskPeople(*inc, tao_, ActionNeeded::kDeclare, std::nullopt, now, fx, "ระดับสูงขึ้นหลังการประกาศ",
                  "the level rose after the declaration");
      }
    } else {
      Touch(*inc, now, fx);
    }
  }

  // Corroboration: a station and a watcher, or two different watchers, agreeing within the window.
  const auto window = network_->escalation.corroboration_window;
  bool corroborated = false;
  for (const TriggerSource& s : inc->sources) {
    const auto gap = s.ts > source.ts ? s.ts - source.ts : source.ts - s.ts;
    if (gap > window) continue;
    if (source.kind == "watcher" && (s.kind == "station" || (s.kind == "watcher" && s.id != source.id))) {
      corroborated = true;
    }
    if (source.kind == "station" && s.kind == "watcher") corroborated = true;
  }
  if (corroborated) {
    ++inc->corroborations;
    Log(*inc, now, "corroboration", source.id, via, "มีแหล่งข้อมูลอิสระยืนยันตรงกัน",
        fmt::format("independent sources agree ({} corroborations)", inc->corroborations), fx);
    Touch(*inc, now, fx);
  }
  if (inc->sources.size() >= kMaxSources) inc->sources.erase(inc->sources.begin());
  inc->sources.push_back(std::move(source));

  // A new trigger restarts the auto-resolve clock.
  inc->normal_since.reset();
  if (!VillageWaterUp(village)) inc->normal_since = now;

  if (level == Level::kCritical && inc->sources.back().kind == "station") StationCritical(*inc, now, fx);
  WarnDownstream(*inc, now, fx);
  PublishAlert(village, now, fx);
  return *inc;
}

void Engine::StationCritical(Incident& inc, TimePoint now, Effects& fx) {
  if (inc.station_critical) return;
  inc.station_critical = true;
  Log(inc, now, "escalation", "kaoko", "kaoko", "ระดับน้ำถึงขั้นวิกฤต: แจ้ง อบต. และทั้งหมู่บ้านทันที",
      "critical level: the TAO and the whole village are told at once, in parallel with the chain", fx);
  SetSiren(inc, true, now, fx);
  if (inc.stage == Stage::kReported || inc.stage == Stage::kAwaitingConfirmation || inc.stage == Stage::kConfirmed) {
    if (inc.confirmed_by.empty()) inc.unconfirmed = true;
    // The chain goes on beside: the committee and the headman are still asked and reminded.
    if (const VillagePeople* vp = PeopleOf(inc.village)) {
      AskPeople(inc, vp->headmen.empty() ? vp->deputies : vp->headmen, ActionNeeded::kConfirm, std::nullopt, now, fx);
    }
    EscalateToTao(inc, now, "ระดับน้ำวิกฤต", "critical level at a station", now, fx);
  } else if (inc.stage == Stage::kDeclared) {
    AskPeople(inc, tao_, ActionNeeded::kDeclare, std::nullopt, now, fx, "ระดับน้ำวิกฤตหลังการประกาศ",
              "critical level after the declaration");
  }
  InformVillage(inc, "อพยพไปที่สูงทันที", "move to high ground now", now, fx);
  Touch(inc, now, fx);
}

// Whether an incident is credible enough to warn other villages: a station saw it, two independent sources agree,
// the headman confirmed it, or the TAO declared it. A single watcher's unconfirmed report is not: a false alarm must
// not put every village downstream on watch ("a suspect reading never opens a flood alert on its own").
static bool CredibleForDownstream(const Incident& inc) {
  if (inc.declared_level || !inc.confirmed_by.empty() || inc.corroborations > 0) return true;
  for (const TriggerSource& s : inc.sources) {
    if (s.kind == "station") return true;
  }
  return false;
}

void Engine::WarnDownstream(Incident& inc, TimePoint now, Effects& fx) {
  if (inc.exercise || inc.upstream_warned || inc.kind != IncidentKind::kFlood || inc.level < Level::kWarning) return;
  if (!CredibleForDownstream(inc)) return;
  const int idx = network_->VillageIndex(inc.village);
  if (idx < 0) return;
  inc.upstream_warned = true;
  Touch(inc, now, fx);
  const Village& up = network_->villages[static_cast<std::size_t>(idx)];
  Seconds travel{0};
  for (std::size_t j = static_cast<std::size_t>(idx) + 1; j < network_->villages.size(); ++j) {
    travel += network_->villages[j - 1].travel_to_next;
    const Village& down = network_->villages[j];
    const TimePoint arrival = now + travel;
    const std::string clock = text::ThaiClock(arrival);
    Incident& d =
        Trigger(down.id, Level::kWatch, TriggerSource{"upstream", up.id, now, Level::kWatch},
                fmt::format("น้ำหลากจาก{} คาดว่าถึงประมาณ {} น. (อีก {})", up.name_th, clock, text::DurationTh(travel)),
                fmt::format("flood wave from {} expected about {} Thai time (in {})", up.name_en, clock,
                            text::DurationEn(travel)),
                "kaoko", "", now, fx);
    if (!d.expected_arrival || arrival < *d.expected_arrival) {
      d.expected_arrival = arrival;
      d.upstream_village = up.id;
      Touch(d, now, fx);
      PublishAlert(down.id, now, fx);
    }
    Log(inc, now, "upstream", "kaoko", "kaoko",
        fmt::format("เตือน{} (เหตุการณ์ #{}) น้ำคาดว่าถึงประมาณ {} น.", down.name_th, d.id, clock),
        fmt::format("warned {} (incident #{}), arrival expected about {} Thai time ({})", down.name_en, d.id, clock,
                    FormatUtc(arrival)),
        fx);
  }
}

void Engine::Close(Incident& inc, Stage stage, std::string actor, std::string via, std::string why_th,
                   std::string why_en, TimePoint now, Effects& fx) {
  assert(!IsClosed(inc.stage));
  std::vector<std::string> tell;
  for (const Ask& a : inc.asks) PushUnique(tell, a.user);
  for (const TriggerSource& s : inc.sources) {
    if (s.kind == "watcher") PushUnique(tell, s.id);
  }
  for (Ask& a : inc.asks) a.open = false;
  inc.stage_deadline.reset();
  inc.deputy_at.reset();
  if (inc.siren_on) SetSiren(inc, false, now, fx);
  inc.closed = now;
  Log(inc, now, "stage", actor, via, fmt::format("ขั้น {}: {}", ToString(stage), why_th),
      fmt::format("stage {}: {}", ToString(stage), why_en), fx);
  inc.stage = stage;
  Touch(inc, now, fx);
  for (const std::string& u : tell) {
    Notify(inc, u, ActionNeeded::kNone, std::nullopt, why_th, why_en, false, now, fx);
  }
  const std::int64_t id = inc.id;
  const std::string village = inc.village;
  const bool flood = inc.kind == IncidentKind::kFlood;
  if (flood) {
    if (auto it = village_flood_.find(village); it != village_flood_.end() && it->second == id) {
      village_flood_.erase(it);
    }
    if (auto it = village_drill_.find(village); it != village_drill_.end() && it->second == id) {
      village_drill_.erase(it);
    }
  } else if (auto idx = StationIndex(inc.station); idx != kNoStation) {
    tracks_[idx].health_incident.reset();
    MarkStationDirty(idx);
  }
  auto node = open_.extract(id);
  closed_.insert(std::move(node));
  if (flood) cap_farewell_.push_back(id);  // its last CAP message (Cancel or all-clear) goes out once (cap.hpp)
  while (closed_.size() > options_.closed_capacity) closed_.erase(closed_.begin());
  if (flood) {
    // The village shows normal with the closing stage, unless another incident (a drill) is still open.
    auto prev = alerts_.find(village);
    if (prev != alerts_.end() && prev->second.incident == id) {
      prev->second.status = stage;
      prev->second.level = Level::kNormal;
      prev->second.incident.reset();
      prev->second.since = now;
      prev->second.headline_th.clear();
    }
    PublishAlert(village, now, fx);
    PublishDownstream(village, now, fx);
  }
}

// ------------------------------------------------------------------------------------------------ inputs

namespace {
// What a restart cannot rebuild by replaying the readings stored since a station's last saved state: when any of it
// changes, the state is saved in the same batch.
struct Decisive {
  Level threshold_level;
  Level level;
  Level triggered_level;
  bool fast_rise;
  bool rain_watch;
  unsigned problems;
  std::optional<TimePoint> silenced_until;
  std::optional<TimePoint> watching_since;
  std::optional<std::int64_t> health_incident;
  bool operator==(const Decisive&) const = default;
};

Decisive DecisiveOf(const StationTrack& t) {
  return Decisive{t.threshold_level, t.level,          t.triggered_level, t.fast_rise,      t.rain_watch,
                  t.problems,        t.silenced_until, t.watching_since,  t.health_incident};
}

void Restore(StationTrack& t, const Decisive& d) {
  t.threshold_level = d.threshold_level;
  t.level = d.level;
  t.triggered_level = d.triggered_level;
  t.fast_rise = d.fast_rise;
  t.rain_watch = d.rain_watch;
  t.problems = d.problems;
  t.silenced_until = d.silenced_until;
  t.watching_since = d.watching_since;
  t.health_incident = d.health_incident;
}

std::int64_t Millis(TimePoint t) { return t.time_since_epoch().count(); }

// What a station's rise says, in Thai and English: the landmark of the level it reached (or the level in cm under
// the first threshold), the fast rise and the heavy rain when they are part of it. `cm`: the reading, when one
// raised it (none when a station's maintenance ended with the water still up: its last accepted reading then).
std::pair<std::string, std::string> RiseText(const Station& station, const StationTrack& track,
                                             std::optional<double> cm) {
  if (!cm && track.accepted_cm) cm = *track.accepted_cm;
  const std::string cm_th = cm ? fmt::format(" ({:.0f} ซม.)", *cm) : "";
  const std::string cm_en = cm ? fmt::format(" ({:.0f} cm)", *cm) : "";
  std::pair<std::string, std::string> d;
  if (ThresholdOf(station, track.threshold_level)) {
    d.first = fmt::format("น้ำถึง{} ที่{}{}", station.landmark_th(track.threshold_level), station.name_th(), cm_th);
    d.second = fmt::format("water at {} at {}{}", station.landmark_en(track.threshold_level), station.name_en(), cm_en);
  } else {
    d.first = fmt::format("ระดับน้ำที่{}{}", station.name_th(), cm_th);
    d.second = fmt::format("water at {}{}", station.name_en(), cm_en);
  }
  if (track.fast_rise) {
    d.first += fmt::format(" น้ำขึ้นเร็ว {:.0f} ซม./ชม.", track.rise_cm_per_hour);
    d.second += fmt::format(", rising fast ({:.0f} cm/h)", track.rise_cm_per_hour);
  }
  if (track.rain_watch) {
    d.first += fmt::format(" ฝนตกหนัก {:.0f} มม. ใน 1 ชม. / {:.0f} มม. ใน 24 ชม.", track.rain_1h_mm, track.rain_24h_mm);
    d.second += fmt::format(", heavy rain ({:.0f} mm in 1 h, {:.0f} mm in 24 h)", track.rain_1h_mm, track.rain_24h_mm);
  }
  return d;
}
}  // namespace

// Where a station's count of unsaved readings starts after its first save: its own phase in [0, save_every_readings).
// Stations read in step (each one reading per round, as a network started together or a bench's round-robin load
// does) would otherwise all reach their periodic save in the same batch: at 31,000 readings/s over 150,000 stations
// that was a burst of 150,000 state rows every 64 rounds, which held ingest up for seconds, and the backlog never
// drained (docs/benchmarks.md). With a phase each, a round holds about 1/save_every_readings of the saves; a station
// still saves at least every save_every_readings readings.
std::uint32_t Engine::SavePhase(std::size_t idx) const {
  const std::uint32_t n = options_.save_every_readings;
  return n == 0 ? 0 : static_cast<std::uint32_t>(idx % n);
}

Effects Engine::OnReading(const Reading& reading, TimePoint now) {
  const std::size_t idx = StationIndex(reading.station);
  if (idx == kNoStation) return {};
  return OnReading(idx, reading, now);
}

Effects Engine::OnReading(std::size_t idx, const Reading& reading, TimePoint now) {
  Effects fx;
  if (idx >= tracks_.size() || network_->stations[idx].id != reading.station) {
    idx = StationIndex(reading.station);
    if (idx == kNoStation) return fx;
  }
  StationTrack& track = tracks_[idx];
  const Decisive before = DecisiveOf(track);
  // A reading below the highest seq so far, or older than the newest (late), cannot be told apart from the others in
  // storage by a replay: save the state it leaves (Replay then only sees readings newer by seq and by ts).
  const bool in_sequence = !track.latest_ts || reading.seq > track.max_seq;
  const MonitorResult res = Evaluate(idx, reading, now, fx);
  ++unsaved_readings_[idx];
  const bool save =
      res.out_of_order || res.at_arrival || !in_sequence || !(DecisiveOf(track) == before) || track.backlog_count > 0 ||
      unsaved_readings_[idx] >= options_.save_every_readings ||
      saved_latest_ms_[idx] == std::numeric_limits<std::int64_t>::min() ||
      (track.latest_ts && Millis(*track.latest_ts) - saved_latest_ms_[idx] >=
                              std::chrono::duration_cast<std::chrono::milliseconds>(options_.save_every).count());
  if (save) {
    MarkStationDirty(idx);
  } else {
    MarkStationTouched(idx);
  }
  LowerStationDeadline(StationDeadline(track));
  return fx;
}

MonitorResult Engine::Evaluate(std::size_t idx, const Reading& reading, TimePoint now, Effects& fx) {
  const Station& station = network_->stations[idx];
  StationTrack& track = tracks_[idx];
  const bool was_moving = track.moving;
  const bool others_moving = moving_count_ - (was_moving ? 1 : 0) > 0;
  const MonitorResult res =
      ApplyReading(station, network_->health, network_->rain, options_.monitor, track, reading, now, others_moving);
  if (track.moving != was_moving) SetMoving(idx, track.moving);
  if (res.problems_after != res.problems_before) HealthChanged(idx, res.problems_before, now, fx);
  // Late: measured long before now (a clock that cannot be trusted is evaluated at arrival, so never late).
  const HealthPolicy& h = network_->health;
  const bool late = !res.at_arrival && now - reading.ts > h.late_after;
  const bool backlog = late && now - reading.ts > h.backlog_after;
  NoteLate(idx, reading, late, now, fx);
  if (Silenced(track, now)) return res;  // under maintenance: its readings raise nothing
  // A backlog's level is history: it pages nobody as new (the next reading that is not as old raises it).
  if (track.level > track.triggered_level && !backlog) {
    track.triggered_level = track.level;
    auto [d_th, d_en] = RiseText(station, track, reading.level_cm);
    if (late) {
      auto [m_th, m_en] = text::MeasuredText(reading.ts, now);
      d_th += m_th;
      d_en += m_en;
    }
    const Level level = track.level;
    quiet_raise_ = late;
    (void)Trigger(station.village, level, TriggerSource{"station", station.id, reading.ts, level}, std::move(d_th),
                  std::move(d_en), "station", station.id, now, fx);
    quiet_raise_ = false;
  } else if (track.level < track.triggered_level) {
    track.triggered_level = track.level;
  }
  if (res.level_after != res.level_before) RefreshNormalSince(station.village, now);
  return res;
}

void Engine::Replay(const Reading& reading, TimePoint now) {
  const std::size_t idx = StationIndex(reading.station);
  if (idx == kNoStation) return;
  StationTrack& t = tracks_[idx];
  if (t.latest_ts && reading.ts <= *t.latest_ts) return;  // evaluated before the state was saved
  const Decisive saved = DecisiveOf(t);
  const bool was_moving = t.moving;
  const bool others_moving = moving_count_ - (was_moving ? 1 : 0) > 0;
  (void)ApplyReading(network_->stations[idx], network_->health, network_->rain, options_.monitor, t, reading,
                     std::min(reading.ts, now), others_moving);
  Restore(t, saved);
  if (t.moving != was_moving) SetMoving(idx, t.moving);
  ++unsaved_readings_[idx];
  LowerStationDeadline(StationDeadline(t));
}

void Engine::Remember(const std::string& key, const Receipt& receipt) {
  if (options_.seen_capacity == 0) return;
  if (seen_order_.size() < options_.seen_capacity) {
    seen_order_.push_back(key);
  } else {
    seen_.erase(seen_order_[seen_head_]);
    seen_order_[seen_head_] = key;
    seen_head_ = (seen_head_ + 1) % seen_order_.size();
  }
  seen_[key] = receipt;
  new_seen_.push_back(key);
}

Effects Engine::Refuse(const std::string& key, Receipt receipt, Incident* inc, std::string via, TimePoint now) {
  Effects fx;
  receipt.ok = false;
  if (inc) {
    Log(*inc, now, "receipt", receipt.user, std::move(via), fmt::format("ปฏิเสธ {}: {}", receipt.ref, receipt.error),
        fmt::format("refused {}: {}", receipt.ref, receipt.error), fx);
  }
  Remember(key, receipt);
  fx.receipts.push_back(std::move(receipt));
  return fx;
}

Effects Engine::OnReport(const Report& report, TimePoint now) {
  const std::string key = "r|" + report.user + "|" + report.id;
  if (auto it = seen_.find(key); it != seen_.end()) {
    Effects fx;
    fx.receipts.push_back(it->second);
    return fx;
  }
  Receipt rc{report.user, report.village, report.id, false, std::nullopt, ""};
  auto pit = people_.find(report.user);
  const Person* person = pit == people_.end() ? nullptr : pit->second;
  const Village* village = network_->FindVillage(report.village);
  const Station* station = nullptr;
  if (report.station) {
    station = network_->FindStation(*report.station);
  }
  if (!person) {
    rc.error = fmt::format("unknown user {}", report.user);
  } else if (!village) {
    rc.error = fmt::format("unknown village {}", report.village);
  } else if (!IsTambonWide(person->role) && person->village != report.village) {
    rc.error = fmt::format("{} is not a member of {}", report.user, report.village);
  } else if (report.concern == Level::kNormal) {
    rc.error = "concern must be watch, warning or critical";
  } else if (report.station && (!station || station->village != report.village)) {
    rc.error = fmt::format("station {} is not in {}", *report.station, report.village);
  } else if (report.ts > now + network_->health.clock_tolerance) {
    rc.error = FutureReportText(report.ts, now);
  }
  if (!rc.error.empty()) return Refuse(key, rc, nullptr, "mqtt", now);

  std::string d_th = fmt::format("ผู้เฝ้าระวัง {} รายงาน", person->name_th);
  std::string d_en = fmt::format("watcher {} reports", person->name_en);
  if (station && report.level_cm) {
    d_th += fmt::format(" น้ำ {:.0f} ซม. ที่{}", *report.level_cm, station->name_th());
    d_en += fmt::format(" water at {:.0f} cm at {}", *report.level_cm, station->name_en());
    const Level reached = RawLevel(*station, *report.level_cm);
    if (ThresholdOf(*station, reached)) {
      d_th += fmt::format(" (ถึง{})", station->landmark_th(reached));
      d_en += fmt::format(" ({})", station->landmark_en(reached));
    }
  } else {
    d_en += fmt::format(" {}", ToString(report.concern));
  }
  if (report.trend) {
    if (*report.trend == "rising") d_th += " น้ำกำลังขึ้น";
    if (*report.trend == "falling") d_th += " น้ำกำลังลง";
    if (*report.trend == "steady") d_th += " น้ำทรงตัว";
    d_en += fmt::format(", {}", *report.trend);
  }
  if (!report.note.empty()) {
    d_th += fmt::format(": \"{}\"", report.note);
    d_en += fmt::format(": \"{}\"", report.note);
  }
  Effects fx;
  // A late report says when it was seen; one older than the backlog limit is recorded for the TAO and pages nobody.
  if (now - report.ts > network_->health.late_after) {
    auto [m_th, m_en] = text::MeasuredText(report.ts, now, true);
    d_th += m_th;
    d_en += m_en;
  }
  if (now - report.ts > network_->health.backlog_after) {
    rc.ok = true;
    rc.incident = RecordForTao(report.village, "", report.user, fmt::format("รายงานย้อนหลัง: {}", d_th),
                               fmt::format("late report: {}", d_en), now, fx);
    Remember(key, rc);
    fx.receipts.push_back(std::move(rc));
    return fx;
  }
  Incident& inc =
      Trigger(report.village, report.concern, TriggerSource{"watcher", report.user, report.ts, report.concern},
              std::move(d_th), std::move(d_en), "mqtt", station ? station->id : "", now, fx);
  rc.ok = true;
  rc.incident = inc.id;
  Log(inc, now, "receipt", report.user, "mqtt", fmt::format("รับรายงาน {}", report.id),
      fmt::format("report {} received", report.id), fx);
  Remember(key, rc);
  fx.receipts.push_back(std::move(rc));
  return fx;
}

namespace {

// The receipt's words for a refusal of the decision policy (decision_policy.hpp); empty when allowed.
std::string RefusalText(DecisionRefusal r, const Incident& inc, DecisionAction action) {
  switch (r) {
    case DecisionRefusal::kNone:
      return "";
    case DecisionRefusal::kStationFaultNeedsTao:
      switch (action) {
        case DecisionAction::kAck:
          return "only a TAO officer may acknowledge a station fault";
        case DecisionAction::kConfirm:
        case DecisionAction::kReject:
          return RefusalText(DecisionRefusal::kStationFaultStep, inc, action);
        case DecisionAction::kDeclare:
        case DecisionAction::kAllClear:
          return RefusalText(DecisionRefusal::kNotTao, inc, action);
      }
      break;
    case DecisionRefusal::kNotVillageResponder:
      return fmt::format("only a committee member, the headman or the deputy of {} may acknowledge", inc.village);
    case DecisionRefusal::kNotHeadman:
      return fmt::format("only the headman or deputy of {} may {}", inc.village, ToString(action));
    case DecisionRefusal::kNotTao:
      return action == DecisionAction::kDeclare ? "only a TAO officer may declare"
                                                : "only a TAO officer may give the all-clear";
    case DecisionRefusal::kStationFaultStep:
      return fmt::format("incident {} is a station fault; only ack and all_clear apply", inc.id);
    case DecisionRefusal::kDeclaredNeedsTao:
      return fmt::format("the TAO has declared incident {}; only a TAO officer may end it", inc.id);
    case DecisionRefusal::kDeclareWithoutLevel:
      return "declare needs a level: watch, warning or critical (use all_clear to end an incident)";
    case DecisionRefusal::kUpstreamStillComing:
      return "";  // worded by UpstreamRefusal, which knows the upstream village
  }
  return "unknown refusal";
}

}  // namespace

// The alert of the village upstream whose flood wave opened `inc`, while that village is at warning or above; null
// otherwise (and for a drill, which never holds anyone back).
const AlertState* Engine::UpstreamComing(const Incident& inc) const {
  if (inc.exercise || inc.upstream_village.empty()) return nullptr;
  auto it = alerts_.find(inc.upstream_village);
  if (it == alerts_.end() || it->second.level < Level::kWarning) return nullptr;
  return &it->second;
}

std::string Engine::UpstreamRefusal(const AlertState& upstream, const Incident& inc) const {
  const Village* v = network_->FindVillage(upstream.village);
  const std::string name = v ? v->name_en : upstream.village;
  const std::string arrival =
      inc.expected_arrival ? fmt::format(", expected here about {} Thai time", text::ThaiClock(*inc.expected_arrival))
                           : "";
  return fmt::format(
      "the flood wave from {} is still coming: {} is at {}{}; incident {} cannot be rejected while {} stays at "
      "warning or above (acknowledge it and watch the river, or ask the TAO)",
      name, name, ToString(upstream.level), arrival, inc.id, name);
}

Effects Engine::OnDecision(const Decision& d, TimePoint now) {
  const std::string key = "d|" + d.user + "|" + d.id;
  if (auto it = seen_.find(key); it != seen_.end()) {
    Effects fx;
    fx.receipts.push_back(it->second);
    return fx;
  }
  Receipt rc{d.user, d.village, d.id, false, d.incident, ""};
  auto pit = people_.find(d.user);
  const Person* person = pit == people_.end() ? nullptr : pit->second;
  Incident* inc = Open(d.incident);
  if (!person) {
    rc.error = fmt::format("unknown user {}", d.user);
    return Refuse(key, rc, nullptr, d.via, now);
  }
  if (!inc) {
    if (auto c = closed_.find(d.incident); c != closed_.end()) {
      rc.error = fmt::format("incident {} is already {}", d.incident, ToString(c->second.stage));
    } else if (d.incident > 0 && d.incident < next_incident_) {
      rc.error = fmt::format("incident {} is closed", d.incident);
    } else {
      rc.error = fmt::format("incident {} does not exist", d.incident);
    }
    return Refuse(key, rc, nullptr, d.via, now);
  }
  if (inc->village != d.village) {
    rc.error = fmt::format("incident {} belongs to {}, not {}", d.incident, inc->village, d.village);
    return Refuse(key, rc, inc, d.via, now);
  }
  const bool station_fault = inc->kind == IncidentKind::kStation;
  const AlertState* upstream = UpstreamComing(*inc);
  const DecisionRefusal refusal = JudgeDecision({person->role, person->village == inc->village, station_fault,
                                                 inc->stage, d.action, d.level, upstream != nullptr});
  rc.error = refusal == DecisionRefusal::kUpstreamStillComing ? UpstreamRefusal(*upstream, *inc)
                                                              : RefusalText(refusal, *inc, d.action);
  if (!rc.error.empty()) return Refuse(key, rc, inc, d.via, now);

  Effects fx;
  const std::int64_t id = inc->id;
  const std::string note_th = d.note.empty() ? "" : fmt::format(": \"{}\"", d.note);
  Log(*inc, now, "decision", d.user, d.via,
      fmt::format("{} ({}) {}{}{}", person->name_th, ToString(person->role), ToString(d.action),
                  d.level ? fmt::format(" {}", ThaiName(*d.level)) : "", note_th),
      fmt::format("{} ({}) {}{}{}", person->name_en, ToString(person->role), ToString(d.action),
                  d.level ? fmt::format(" {}", ToString(*d.level)) : "", note_th),
      fx);
  // Whoever acts is no longer reminded for that action.
  auto close_mine = [&](ActionNeeded a) {
    for (Ask& ask : inc->asks) {
      if (ask.user == d.user && ask.action == a) ask.open = false;
    }
  };
  const Village* village = network_->FindVillage(inc->village);
  const bool district = person->role == Role::kDistrict;
  switch (d.action) {
    case DecisionAction::kAck:
      if (district) {
        DistrictAck(*inc, d.user, now, fx);
        break;
      }
      close_mine(ActionNeeded::kAck);
      if (inc->acked_by.empty()) inc->acked_by = d.user;
      if (!station_fault && inc->stage == Stage::kReported) {
        CloseAsks(*inc, ActionNeeded::kAck);
        EnterStage(*inc, Stage::kAwaitingConfirmation, d.user, fmt::format("{} รับทราบแล้ว", person->name_th),
                   fmt::format("acknowledged by {}; the headman is asked to confirm", person->name_en), now, fx);
        AskHeadman(*inc, now, now, fx);
      }
      Touch(*inc, now, fx);
      break;
    case DecisionAction::kConfirm:
      inc->confirmed_by = d.user;
      inc->unconfirmed = false;
      CloseAsks(*inc, ActionNeeded::kConfirm);
      CloseAsks(*inc, ActionNeeded::kAck);
      inc->deputy_at.reset();
      if (inc->stage == Stage::kReported || inc->stage == Stage::kAwaitingConfirmation) {
        EnterStage(*inc, Stage::kConfirmed, d.user, fmt::format("{} ยืนยันแล้ว", person->name_th),
                   fmt::format("confirmed by {}", person->name_en), now, fx);
        EscalateToTao(*inc, now, "ผู้ใหญ่บ้านยืนยันแล้ว", "confirmed by the headman", now, fx);
      }
      Touch(*inc, now, fx);
      WarnDownstream(*inc, now, fx);  // a confirmed warning now warns the villages downstream
      break;
    case DecisionAction::kReject:
      inc->rejected_by = d.user;
      CloseAsks(*inc, ActionNeeded::kConfirm);
      CloseAsks(*inc, ActionNeeded::kAck);
      inc->deputy_at.reset();
      if (!inc->exercise && VillageWaterUp(inc->village)) {
        // The stations still show water: a rejection is itself passed to the TAO, whose decision is final.
        inc->rejection_noted = true;
        Log(*inc, now, "escalation", d.user, d.via, "ผู้ใหญ่บ้านปฏิเสธ แต่สถานียังวัดน้ำสูง: ส่ง อบต. ตัดสิน",
            "the headman rejected it but the stations still show the water up: passed to the TAO", fx);
        if (inc->stage == Stage::kReported || inc->stage == Stage::kAwaitingConfirmation ||
            inc->stage == Stage::kConfirmed) {
          EscalateToTao(*inc, now, "ผู้ใหญ่บ้านปฏิเสธ แต่สถานียังวัดน้ำสูง",
                        "the headman rejected it, but the stations still show the water up", now, fx);
        } else {
          for (const Person* p : tao_) {
            Notify(*inc, p->id, ActionNeeded::kDeclare, inc->stage_deadline, "ผู้ใหญ่บ้านปฏิเสธ", "the headman rejected it",
                   false, now, fx);
          }
        }
        Touch(*inc, now, fx);
      } else {
        Close(*inc, Stage::kRejected, d.user, d.via, fmt::format("{} ปฏิเสธ (แจ้งเตือนผิดพลาด)", person->name_th),
              fmt::format("rejected as a false alarm by {}", person->name_en), now, fx);
        inc = nullptr;
      }
      break;
    case DecisionAction::kDeclare: {
      const Level level = *d.level;
      inc->declared_level = level;
      inc->level = level;
      inc->declared_by = d.user;
      inc->tao_overdue = false;
      inc->district_deadline.reset();
      for (Ask& a : inc->asks) a.open = false;
      inc->stage_deadline.reset();
      inc->deputy_at.reset();
      RefreshHeadline(*inc, village);
      EnterStage(
          *inc, Stage::kDeclared, d.user,
          fmt::format("{}ประกาศ{} โดย {}", district ? "อำเภอ" : "อบต. ", ThaiName(level), person->name_th),
          fmt::format("the {} declared {} ({})", district ? "district" : "TAO", ToString(level), person->name_en), now,
          fx);
      SetSiren(*inc, level >= Level::kWarning, now, fx);
      InformVillage(*inc, district ? "อำเภอประกาศอย่างเป็นทางการ" : "อบต. ประกาศอย่างเป็นทางการ",
                    district ? "official declaration by the district" : "official declaration by the TAO", now, fx);
      WarnDownstream(*inc, now, fx);
      PublishAlert(inc->village, now, fx);
      break;
    }
    case DecisionAction::kAllClear:
      if (!station_fault) {
        InformVillage(*inc, district ? "อำเภอประกาศยุติเหตุการณ์" : "อบต. ประกาศยุติเหตุการณ์",
                      district ? "the district gave the all-clear" : "the TAO gave the all-clear", now, fx);
      }
      Close(*inc, Stage::kResolved, d.user, d.via, fmt::format("{} ประกาศยุติเหตุการณ์", person->name_th),
            fmt::format("all-clear given by {}", person->name_en), now, fx);
      inc = nullptr;
      break;
  }
  rc.ok = true;
  rc.incident = id;
  Incident* target = inc ? inc : (closed_.count(id) ? &closed_[id] : nullptr);
  if (target) {
    Log(*target, now, "receipt", d.user, d.via, fmt::format("รับคำสั่ง {}", d.id),
        fmt::format("decision {} accepted", d.id), fx);
  }
  Remember(key, rc);
  fx.receipts.push_back(std::move(rc));
  return fx;
}

Effects Engine::OnStationStatus(const StationStatus& status, TimePoint now) {
  Effects fx;
  const std::size_t idx = StationIndex(status.station);
  if (idx == kNoStation) return fx;
  StationTrack& t = tracks_[idx];
  const unsigned before = t.problems;
  if (status.online) {
    // Connected again: heard from, so the offline timer restarts.
    t.last_heard = t.last_heard ? std::max(*t.last_heard, now) : now;
    t.problems &= ~kProblemOffline;
  } else {
    t.problems |= kProblemOffline;
  }
  MarkStationDirty(idx);
  if (t.problems != before) HealthChanged(idx, before, now, fx);
  LowerStationDeadline(StationDeadline(t));
  return fx;
}

void Engine::HealthChanged(std::size_t idx, unsigned before, TimePoint now, Effects& fx) {
  StationTrack& t = tracks_[idx];
  const Station& s = network_->stations[idx];
  const unsigned after = t.problems;
  if (after == before || Silenced(t, now)) return;
  const unsigned added = after & ~before;
  const unsigned removed = before & ~after;
  Incident* inc = t.health_incident ? Open(*t.health_incident) : nullptr;
  const Village* v = network_->FindVillage(s.village);
  auto describe = [&](Incident& i) {
    i.problems = after;
    const Seconds ahead(t.clock_ahead_s);
    i.detail_th = fmt::format("{}: {}", s.name_th(), ProblemNames(after, true, ahead));
    i.detail_en = fmt::format("{}: {}", s.name_en(), ProblemNames(after, false, ahead));
    RefreshHeadline(i, v);
  };
  if (!inc) {
    if (after == 0) return;
    Incident& n = NewIncident(IncidentKind::kStation, s.village, Level::kNormal, "health", false, now, fx);
    n.station = s.id;
    n.stage = Stage::kEscalated;  // a technician incident goes straight to the TAO
    describe(n);
    t.health_incident = n.id;
    MarkStationDirty(idx);
    Log(n, now, "health", s.id, "station", n.headline_th, n.headline_en, fx);
    for (const Person* p : tao_) {
      Notify(n, p->id, ActionNeeded::kNone, std::nullopt, "สำหรับช่างเทคนิค", "for the technician", false, now, fx);
    }
    return;
  }
  describe(*inc);
  if (added) {
    const Seconds ahead(t.clock_ahead_s);
    Log(*inc, now, "health", s.id, "station", fmt::format("พบปัญหา: {}", ProblemNames(added, true, ahead)),
        fmt::format("new fault: {}", ProblemNames(added, false, ahead)), fx);
    for (const Person* p : tao_) {
      Notify(*inc, p->id, ActionNeeded::kNone, std::nullopt, "", "", false, now, fx);
    }
  }
  if (removed) {
    Log(*inc, now, "health", s.id, "station", fmt::format("กลับมาปกติ: {}", ProblemNames(removed, true)),
        fmt::format("recovered: {}", ProblemNames(removed)), fx);
  }
  Touch(*inc, now, fx);
  if (after == 0) {
    Close(*inc, Stage::kResolved, s.id, "station", "สถานีกลับมาทำงานปกติ", "the station is healthy again", now, fx);
  }
}

// ------------------------------------------------------------------------------------------------ time

void Engine::TimeoutStep(Incident& inc, TimePoint d, TimePoint now, Effects& fx) {
  inc.stage_deadline.reset();
  const std::string at = text::ThaiClock(d);
  switch (inc.stage) {
    case Stage::kReported:
      inc.unconfirmed = true;
      CloseAsks(inc, ActionNeeded::kAck);
      Log(inc, now, "escalation", "kaoko", "kaoko",
          fmt::format("ไม่มีกรรมการรับทราบภายใน {} น.: ส่งต่อผู้ใหญ่บ้าน (ยังไม่ยืนยัน)", at),
          fmt::format("no committee member acknowledged by {}: passed to the headman, unconfirmed", at), fx);
      EnterStage(inc, Stage::kAwaitingConfirmation, "kaoko", "เลยกำหนดเวลา", "deadline passed", now, fx);
      AskHeadman(inc, d, now, fx);
      break;
    case Stage::kAwaitingConfirmation:
    case Stage::kConfirmed:
      if (inc.confirmed_by.empty()) inc.unconfirmed = true;
      CloseAsks(inc, ActionNeeded::kConfirm);
      CloseAsks(inc, ActionNeeded::kAck);
      inc.deputy_at.reset();
      Log(inc, now, "escalation", "kaoko", "kaoko", fmt::format("ผู้ใหญ่บ้านไม่ยืนยันภายใน {} น.: ส่งต่อ อบต. (ยังไม่ยืนยัน)", at),
          fmt::format("the headman did not confirm by {}: passed to the TAO, unconfirmed", at), fx);
      EscalateToTao(inc, d, "ยังไม่มีการยืนยันจากหมู่บ้าน", "not confirmed by the village", now, fx);
      break;
    case Stage::kEscalated:
      // The incident stays open and the TAO is reminded until it acts; the district above it is told (and CAP
      // carries it to the district's systems).
      Log(inc, now, "escalation", "kaoko", "kaoko",
          fmt::format("อบต. ยังไม่ประกาศภายใน {} น.: เตือนซ้ำต่อไป และแจ้งอำเภอ", at),
          fmt::format("the TAO has not declared by {}: reminders continue and the district is told", at), fx);
      TellDistrict(inc, d, now, fx);
      break;
    default:
      break;
  }
  Touch(inc, now, fx);
}

void Engine::AdvanceIncident(Incident& inc, TimePoint now, Effects& fx) {
  if (inc.kind != IncidentKind::kFlood) return;
  // Fire missed steps in time order (a long outage may have passed several), each step's deadline counted from the
  // moment the previous one should have fired.
  if (inc.district_deadline && *inc.district_deadline <= now) DistrictOverdue(inc, now, fx);
  for (int guard = 0; guard < 8; ++guard) {
    const bool deputy_due = inc.deputy_at && *inc.deputy_at <= now;
    const bool step_due = inc.stage_deadline && *inc.stage_deadline <= now;
    if (deputy_due && (!step_due || *inc.deputy_at <= *inc.stage_deadline)) {
      inc.deputy_at.reset();
      if (const VillagePeople* vp = PeopleOf(inc.village)) {
        AskPeople(inc, vp->deputies, ActionNeeded::kConfirm, inc.stage_deadline, now, fx, "ผู้ใหญ่บ้านยังไม่ตอบ",
                  "the headman has not answered");
      }
      continue;
    }
    if (step_due) {
      TimeoutStep(inc, *inc.stage_deadline, now, fx);
      continue;
    }
    break;
  }
  const auto interval = network_->escalation.reminder_interval;
  for (std::size_t i = 0; i < inc.asks.size(); ++i) {
    if (!inc.asks[i].open || inc.asks[i].next_reminder > now) continue;
    Ask& a = inc.asks[i];
    ++a.reminders;
    // After the third reminder they slow down, doubling up to a reminder every 24 intervals (two hours at the usual
    // five minutes): someone who has not answered three times is more likely asleep or out of reach than forgetful,
    // and the chain has moved on past them by its deadlines anyway.
    const int slower = a.reminders < 3 ? 1 : std::min(1 << std::min(a.reminders - 2, 5), 24);
    while (a.next_reminder <= now) a.next_reminder += interval * slower;
    const ActionNeeded action = a.action;
    const std::string user = a.user;
    // The step's deadline only matters to the people of the current step.
    const bool current = (action == ActionNeeded::kAck && inc.stage == Stage::kReported) ||
                         (action == ActionNeeded::kConfirm && inc.stage == Stage::kAwaitingConfirmation) ||
                         (action == ActionNeeded::kDeclare && inc.stage == Stage::kEscalated);
    // The log keeps the first three reminders; after that the ask's count says how many (a TAO reminded twelve times
    // sees 12, not twelve more lines).
    const int count = a.reminders;
    auto pit = people_.find(user);
    const bool district = pit != people_.end() && pit->second->role == Role::kDistrict;
    const std::optional<TimePoint> deadline =
        district ? inc.district_deadline : (current ? inc.stage_deadline : std::nullopt);
    Notify(inc, user, action, deadline, "", "", true, now, fx, count <= 3);
    Touch(inc, now, fx);
  }
  if (inc.stage != Stage::kDeclared && inc.normal_since &&
      now >= *inc.normal_since + network_->escalation.auto_resolve_after) {
    Close(
        inc, Stage::kResolved, "kaoko", "kaoko",
        fmt::format("ระดับน้ำปกติต่อเนื่อง {} จึงปิดเหตุการณ์อัตโนมัติ", text::DurationTh(network_->escalation.auto_resolve_after)),
        fmt::format("the river stayed normal for {}: resolved automatically",
                    text::DurationEn(network_->escalation.auto_resolve_after)),
        now, fx);
  }
}

Effects Engine::Advance(TimePoint now) {
  Effects fx;
  DropCapFarewells(now, fx);
  // The stations are scanned only when one of them may be due (station_deadline_ is a lower bound of their
  // deadlines): with many stations a scan per batch would cost more than the readings.
  const bool scan = stations_unwatched_ || now >= station_deadline_;
  if (scan) {
    station_deadline_ = TimePoint::max();
    stations_unwatched_ = false;
  }
  for (std::size_t i = 0; scan && i < tracks_.size(); ++i) {
    StationTrack& t = tracks_[i];
    if (t.backlog_count > 0 && (!t.last_heard || now - *t.last_heard >= kBacklogQuiet)) EndBacklog(i, now, fx);
    if (t.silenced_until && *t.silenced_until <= now) {
      t.silenced_until.reset();
      MarkStationDirty(i);
      if (t.problems) HealthChanged(i, 0, now, fx);
      if (t.level > t.triggered_level) {
        // Still up after the maintenance: raise it now rather than at the next reading.
        const Station& s = network_->stations[i];
        t.triggered_level = t.level;
        auto [d_th, d_en] = RiseText(s, t, std::nullopt);
        (void)Trigger(s.village, t.level, TriggerSource{"station", s.id, now, t.level}, std::move(d_th),
                      std::move(d_en), "station", s.id, now, fx);
      }
    }
    if (Silenced(t, now)) continue;
    if (!t.watching_since) {
      t.watching_since = now;
      MarkStationDirty(i);
    }
    if (t.problems & kProblemOffline) continue;
    const TimePoint ref = t.last_heard ? *t.last_heard : *t.watching_since;
    if (now - ref >= network_->health.offline_after) {
      const unsigned before = t.problems;
      t.problems |= kProblemOffline;
      MarkStationDirty(i);
      HealthChanged(i, before, now, fx);
    }
  }
  if (scan) {
    for (const StationTrack& t : tracks_) LowerStationDeadline(StationDeadline(t));
  }
  std::vector<std::int64_t> ids;
  ids.reserve(open_.size());
  for (const auto& [id, inc] : open_) ids.push_back(id);
  for (std::int64_t id : ids) {
    if (Incident* inc = Open(id)) AdvanceIncident(*inc, now, fx);
  }
  AdvanceTowers(now, fx);  // device answers overdue (tower_watch.cpp)
  IssueCap();
  return fx;
}

// A closed flood incident stays in the CAP document for the batch it closed in (its Cancel or all-clear is published
// once), and leaves it a second later: the document then no longer lists it.
void Engine::DropCapFarewells(TimePoint now, Effects& fx) {
  const auto before = cap_farewell_.size();
  std::erase_if(cap_farewell_, [&](std::int64_t id) {
    auto it = closed_.find(id);
    return it == closed_.end() || !it->second.closed || now >= *it->second.closed + kCapFarewell;
  });
  if (cap_farewell_.size() != before) fx.cap_changed = true;
}

// Every flood incident changed since its last CAP message gets its next message now: the batch of inputs is done, so
// this revision is the one the document shows (cap.hpp); what came before it is its `references`.
void Engine::IssueCap() {
  auto issue = [&](Incident& inc) {
    if (inc.kind != IncidentKind::kFlood || inc.cap_revision == inc.revision) return;
    inc.cap_previous_revision = inc.cap_revision;
    inc.cap_previous_sent = inc.cap_sent;
    inc.cap_revision = inc.revision;
    inc.cap_sent = inc.updated;
    PushUnique(dirty_incidents_, inc.id);
  };
  for (auto& [id, inc] : open_) issue(inc);
  for (std::int64_t id : cap_farewell_) {
    if (auto it = closed_.find(id); it != closed_.end()) issue(it->second);
  }
}

std::optional<TimePoint> Engine::NextDeadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [id, inc] : open_) {
    if (inc.kind != IncidentKind::kFlood) continue;
    consider(inc.stage_deadline);
    consider(inc.deputy_at);
    consider(inc.district_deadline);
    for (const Ask& a : inc.asks) {
      if (a.open) consider(a.next_reminder);
    }
    if (inc.stage != Stage::kDeclared && inc.normal_since) {
      consider(*inc.normal_since + network_->escalation.auto_resolve_after);
    }
  }
  // The stations' deadlines (silence ends, offline checks), as a lower bound kept up to date by every input.
  if (station_deadline_ != TimePoint::max()) consider(station_deadline_);
  consider(towers_.NextDeadline());  // device answers (tower_watch.cpp)
  for (std::int64_t id : cap_farewell_) {
    if (auto it = closed_.find(id); it != closed_.end() && it->second.closed)
      consider(*it->second.closed + kCapFarewell);
  }
  return next;
}

// ------------------------------------------------------------------------------------------------ commands

Effects Engine::Silence(std::string_view station, TimePoint until, std::string_view by_user, TimePoint now) {
  Effects fx;
  auto pit = people_.find(std::string(by_user));
  const std::size_t idx = StationIndex(station);
  if (pit == people_.end() || pit->second->role != Role::kTao) {
    fx.error = "only a TAO officer may silence a station";
    return fx;
  }
  if (idx == kNoStation) {
    fx.error = fmt::format("unknown station {}", station);
    return fx;
  }
  StationTrack& t = tracks_[idx];
  const Station& s = network_->stations[idx];
  MarkStationDirty(idx);
  std::string th;
  std::string en;
  if (until <= now) {
    t.silenced_until.reset();
    LowerStationDeadline(StationDeadline(t));
    th = fmt::format("ยกเลิกการปิดเสียงสถานี {} โดย {}", s.name_th(), by_user);
    en = fmt::format("maintenance of {} ended by {}", s.name_en(), by_user);
  } else {
    t.silenced_until = until;
    LowerStationDeadline(until);
    th = fmt::format("ปิดเสียงสถานี {} เพื่อซ่อมบำรุงถึง {} น. โดย {}", s.name_th(), text::ThaiClock(until), by_user);
    en = fmt::format("{} silenced for maintenance until {} by {}", s.name_en(), FormatUtc(until), by_user);
  }
  if (auto it = village_flood_.find(s.village); it != village_flood_.end()) {
    if (Incident* inc = Open(it->second)) {
      Log(*inc, now, "silence", std::string(by_user), "http", th, en, fx);
      Touch(*inc, now, fx);
    }
  }
  if (t.silenced_until) {
    if (t.health_incident) {
      if (Incident* inc = Open(*t.health_incident)) {
        Log(*inc, now, "silence", std::string(by_user), "http", th, en, fx);
        Close(*inc, Stage::kResolved, std::string(by_user), "http", "ปิดเพื่อซ่อมบำรุง", "silenced for maintenance", now,
              fx);
      }
    }
  } else if (t.problems) {
    HealthChanged(idx, 0, now, fx);
  }
  return fx;
}

Effects Engine::StartDrill(std::string_view village, std::string_view by_user, TimePoint now, Level level) {
  Effects fx;
  auto pit = people_.find(std::string(by_user));
  const Person* person = pit == people_.end() ? nullptr : pit->second;
  const Village* v = network_->FindVillage(village);
  const std::string vid(village);
  if (!person) {
    fx.error = fmt::format("unknown user {}", by_user);
  } else if (!v) {
    fx.error = fmt::format("unknown village {}", village);
  } else if (!(person->role == Role::kTao || (person->role == Role::kHeadman && person->village == vid))) {
    fx.error = fmt::format("only a TAO officer or the headman of {} may start a drill", village);
  } else if (level == Level::kNormal) {
    fx.error = "a drill needs a level: watch, warning or critical";
  } else if (auto it = village_drill_.find(vid); it != village_drill_.end()) {
    fx.error = fmt::format("a drill is already running in {} (incident {})", village, it->second);
  }
  if (fx.error) return fx;
  Incident& inc = NewIncident(IncidentKind::kFlood, vid, level, "drill", true, now, fx);
  village_drill_[vid] = inc.id;
  inc.detail_th = fmt::format("การฝึกซ้อม เริ่มโดย {}", person->name_th);
  inc.detail_en = fmt::format("exercise started by {}", person->name_en);
  RefreshHeadline(inc, v);
  inc.sources.push_back(TriggerSource{"drill", person->id, now, level});
  inc.normal_since = now;  // a forgotten drill ends itself after auto_resolve_after
  Log(inc, now, "trigger", person->id, "http", inc.headline_th, inc.headline_en, fx);
  EnterStage(inc, Stage::kReported, "kaoko", "แจ้งกรรมการหมู่บ้าน (ฝึกซ้อม)", "the village committee is notified (exercise)",
             now, fx);
  AskCommittee(inc, now, now, fx);
  if (level == Level::kCritical) StationCritical(inc, now, fx);
  PublishAlert(vid, now, fx);
  return fx;
}

// ------------------------------------------------------------------------------------------------ reads

std::optional<AlertState> Engine::Alert(std::string_view village) const {
  const std::string id(village);
  if (!network_->FindVillage(id)) return std::nullopt;
  if (auto it = alerts_.find(id); it != alerts_.end()) return it->second;
  return NormalAlert(*network_, id, TimePoint{}, Stage::kResolved);
}

std::vector<AlertState> Engine::Alerts() const {
  std::vector<AlertState> out;
  out.reserve(network_->villages.size());
  for (const Village& v : network_->villages) out.push_back(*Alert(v.id));
  return out;
}

const Incident* Engine::FindIncident(std::int64_t id) const {
  if (auto it = open_.find(id); it != open_.end()) return &it->second;
  if (auto it = closed_.find(id); it != closed_.end()) return &it->second;
  return nullptr;
}

std::vector<const Incident*> Engine::OpenIncidents() const {
  std::vector<const Incident*> out;
  out.reserve(open_.size());
  for (auto it = open_.rbegin(); it != open_.rend(); ++it) out.push_back(&it->second);
  return out;
}

const StationTrack* Engine::FindStationTrack(std::string_view station) const {
  const std::size_t idx = StationIndex(station);
  return idx == kNoStation ? nullptr : &tracks_[idx];
}

StationHealth HealthOf(unsigned problems, const std::optional<TimePoint>& last_heard, const Station& station,
                       int stale_intervals, TimePoint now) {
  if (problems & kProblemOffline) return StationHealth::kOffline;
  if (problems) return StationHealth::kSuspect;
  const auto stale_after = station.interval * stale_intervals;
  if (!last_heard || now - *last_heard > stale_after) return StationHealth::kStale;
  return StationHealth::kOk;
}

StationHealth Engine::Health(std::string_view station, TimePoint now) const {
  const std::size_t idx = StationIndex(station);
  if (idx == kNoStation) return StationHealth::kOffline;
  const StationTrack& t = tracks_[idx];
  return HealthOf(t.problems, t.last_heard, network_->stations[idx], options_.stale_intervals, now);
}

std::string Engine::Cap(TimePoint now, std::size_t max_bytes, std::size_t* omitted, const std::string* whole) const {
  std::vector<const Incident*> real;
  std::vector<const Incident*> drills;
  for (const auto& [id, inc] : open_) {
    if (inc.kind != IncidentKind::kFlood) continue;
    (inc.exercise ? drills : real).push_back(&inc);
  }
  for (std::int64_t id : cap_farewell_) {
    if (auto it = closed_.find(id); it != closed_.end()) (it->second.exercise ? drills : real).push_back(&it->second);
  }
  return RenderCapBounded(*network_, real.empty() ? drills : real, now, max_bytes, omitted, whole);
}

// ------------------------------------------------------------------------------------------------ state

EngineState Engine::ExportMeta() const {
  EngineState s;
  s.next_incident = next_incident_;
  s.next_notification = next_notification_;
  towers_.Export(s);  // tower_watch.cpp
  for (const Village& v : network_->villages) {
    if (auto it = alerts_.find(v.id); it != alerts_.end()) s.alerts.push_back(it->second);
    if (auto it = sirens_.find(v.id); it != sirens_.end()) s.sirens.push_back(it->second);
  }
  const std::size_t n = seen_order_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::string& key = seen_order_[(seen_head_ + k) % n];
    if (auto it = seen_.find(key); it != seen_.end()) s.seen.push_back(SeenMessage{key, it->second});
  }
  return s;
}

EngineState Engine::ExportCounters() const {
  EngineState s;
  s.next_incident = next_incident_;
  s.next_notification = next_notification_;
  s.next_announcement = towers_.next_announcement();  // tower_watch.cpp
  return s;
}

EngineState Engine::ExportVillage(std::string_view village) const {
  EngineState s;
  const std::string id(village);
  if (auto it = alerts_.find(id); it != alerts_.end()) s.alerts.push_back(it->second);
  if (auto it = sirens_.find(id); it != sirens_.end()) s.sirens.push_back(it->second);
  towers_.ExportVillage(id, s);  // tower_watch.cpp
  return s;
}

std::vector<std::string> Engine::DirtyVillages() const {
  std::vector<std::string> out = dirty_villages_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<SeenMessage> Engine::NewSeen() const {
  std::vector<SeenMessage> out;
  for (const std::string& key : new_seen_) {
    if (auto it = seen_.find(key); it != seen_.end()) out.push_back(SeenMessage{key, it->second});
  }
  return out;
}

EngineState Engine::ExportState() const {
  EngineState s;
  s.next_incident = next_incident_;
  s.next_notification = next_notification_;
  towers_.Export(s);  // tower_watch.cpp
  for (const auto& [id, inc] : open_) s.incidents.push_back(inc);
  s.stations.reserve(tracks_.size());
  for (std::size_t i = 0; i < tracks_.size(); ++i) s.stations.push_back({network_->stations[i].id, tracks_[i]});
  for (const Village& v : network_->villages) {
    if (auto it = alerts_.find(v.id); it != alerts_.end()) s.alerts.push_back(it->second);
    if (auto it = sirens_.find(v.id); it != sirens_.end()) s.sirens.push_back(it->second);
  }
  const std::size_t n = seen_order_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::string& key = seen_order_[(seen_head_ + k) % n];
    if (auto it = seen_.find(key); it != seen_.end()) s.seen.push_back(SeenMessage{key, it->second});
  }
  return s;
}

void Engine::ImportState(EngineState state) {
  next_incident_ = std::max<std::int64_t>(state.next_incident, 1);
  next_notification_ = std::max<std::int64_t>(state.next_notification, 1);
  open_.clear();
  closed_.clear();
  cap_farewell_.clear();
  village_flood_.clear();
  village_drill_.clear();
  for (Incident& inc : state.incidents) {
    next_incident_ = std::max(next_incident_, inc.id + 1);
    if (inc.kind == IncidentKind::kFlood && !IsClosed(inc.stage)) {
      (inc.exercise ? village_drill_ : village_flood_)[inc.village] = inc.id;
    }
    const std::int64_t id = inc.id;
    open_[id] = std::move(inc);
  }
  for (std::size_t i = 0; i < tracks_.size(); ++i) tracks_[i] = NewStationTrack(network_->stations[i]);
  unsaved_readings_.assign(tracks_.size(), 0);
  saved_latest_ms_.assign(tracks_.size(), std::numeric_limits<std::int64_t>::min());
  for (SavedTrack& saved : state.stations) {
    const std::size_t idx = StationIndex(saved.station);
    if (idx == kNoStation) continue;
    StationTrack& dst = tracks_[idx];
    dst = std::move(saved.track);
    NormalizeWindows(dst);  // a state saved by an earlier kaoko: its fixed ring and rain slots
    if (dst.max_seq < dst.latest_seq) dst.max_seq = dst.latest_seq;
    if (dst.health_incident && !open_.count(*dst.health_incident)) dst.health_incident.reset();
    if (dst.latest_ts) saved_latest_ms_[idx] = Millis(*dst.latest_ts);
    unsaved_readings_[idx] = SavePhase(idx);  // saved states all come back at once: each station at its own phase
  }
  station_deadline_ = TimePoint::max();
  for (const StationTrack& t : tracks_) LowerStationDeadline(StationDeadline(t));
  stations_unwatched_ = true;
  moving_count_ = 0;
  for (const StationTrack& t : tracks_) moving_count_ += t.moving ? 1 : 0;
  alerts_.clear();
  for (AlertState& a : state.alerts) alerts_[a.village] = std::move(a);
  sirens_.clear();
  for (Siren& s : state.sirens) sirens_[s.village] = std::move(s);
  seen_.clear();
  seen_order_.clear();
  seen_head_ = 0;
  for (SeenMessage& m : state.seen) Remember(m.key, m.receipt);
  towers_.Import(state);  // tower_watch.cpp
  ClearDirty();
}

std::vector<std::int64_t> Engine::DirtyIncidents() const { return dirty_incidents_; }

void Engine::ClearDirty() {
  for (std::size_t i : dirty_station_list_) {
    // The first save of a station starts its count at its phase (SavePhase); every later one at zero.
    unsaved_readings_[i] = saved_latest_ms_[i] == std::numeric_limits<std::int64_t>::min() ? SavePhase(i) : 0;
    const StationTrack& t = tracks_[i];
    saved_latest_ms_[i] = t.latest_ts ? Millis(*t.latest_ts) : std::numeric_limits<std::int64_t>::min();
  }
  for (std::size_t i : touched_station_list_) station_dirty_[i] = 0;
  dirty_station_list_.clear();
  touched_station_list_.clear();
  dirty_incidents_.clear();
  dirty_villages_.clear();
  new_seen_.clear();
}

}  // namespace kaoko::alerting
