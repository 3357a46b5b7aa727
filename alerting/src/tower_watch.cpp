// The village's towers and sirens (tower_watch.hpp): the TowerWatch bookkeeping, and the Engine's side of it — the
// announcement made with every siren change, the answers recorded on the incident's timeline, and the deadlines that
// tell the TAO when a device stayed silent.
#include "kaoko/alerting/tower_watch.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "kaoko/alerting/engine.hpp"
#include "text.hpp"

namespace kaoko::alerting {

// ------------------------------------------------------------------------------------------------ wire names

const char* ToString(Play play) {
  switch (play) {
    case Play::kEvacuate:
      return "evacuate";
    case Play::kWarning:
      return "warning";
    case Play::kWatch:
      return "watch";
    case Play::kAllClear:
      return "all_clear";
    case Play::kDrill:
      return "drill";
  }
  return "all_clear";
}

std::optional<Play> ParsePlay(std::string_view text) {
  for (Play p : {Play::kEvacuate, Play::kWarning, Play::kWatch, Play::kAllClear, Play::kDrill}) {
    if (text == ToString(p)) return p;
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------------------------ TowerWatch

void TowerWatch::Expect(const Announcement& a, const std::string& device, TimePoint deadline) {
  const auto mine = [&](const TowerExpectation& e) { return e.device == device; };
  if (static_cast<std::size_t>(std::count_if(expected_.begin(), expected_.end(), mine)) >= kMaxPerDevice) {
    expected_.erase(std::find_if(expected_.begin(), expected_.end(), mine));
  }
  expected_.push_back(TowerExpectation{device, a.village, a.id, a.incident, a.exercise, a.ts, deadline, false, false});
}

TowerExpectation* TowerWatch::Find(std::string_view device, std::string_view announce) {
  auto it = std::find_if(expected_.begin(), expected_.end(),
                         [&](const TowerExpectation& e) { return e.device == device && e.announce == announce; });
  return it == expected_.end() ? nullptr : &*it;
}

std::vector<TowerExpectation> TowerWatch::TakeDue(TimePoint now) {
  std::vector<TowerExpectation> due;
  for (TowerExpectation& e : expected_) {
    if (e.answered || e.missed || e.deadline > now) continue;
    e.missed = true;
    due.push_back(e);
  }
  return due;
}

std::vector<std::string> TowerWatch::Prune(TimePoint now) {
  std::vector<std::string> villages;
  std::erase_if(expected_, [&](const TowerExpectation& e) {
    const bool settled = (e.answered && e.deadline <= now) || (e.missed && e.deadline + kKeepMissed <= now);
    if (settled && std::find(villages.begin(), villages.end(), e.village) == villages.end()) {
      villages.push_back(e.village);
    }
    return settled;
  });
  return villages;
}

std::optional<TimePoint> TowerWatch::NextDeadline() const {
  std::optional<TimePoint> next;
  for (const TowerExpectation& e : expected_) {
    // An answered one is only waiting to be forgotten (Prune, at its deadline), a missed one for a late answer:
    // neither needs Advance at a given time, and Advance prunes whenever it runs.
    if (e.answered || e.missed) continue;
    if (!next || e.deadline < *next) next = e.deadline;
  }
  return next;
}

void TowerWatch::Export(EngineState& state) const {
  state.next_announcement = next_announcement_;
  state.towers = expected_;
}

void TowerWatch::ExportVillage(std::string_view village, EngineState& state) const {
  for (const TowerExpectation& e : expected_) {
    if (e.village == village) state.towers.push_back(e);
  }
}

void TowerWatch::Import(const EngineState& state) {
  next_announcement_ = std::max<std::int64_t>(state.next_announcement, 1);
  expected_ = state.towers;
  std::stable_sort(expected_.begin(), expected_.end(),
                   [](const TowerExpectation& a, const TowerExpectation& b) { return a.sent < b.sent; });
}

// ------------------------------------------------------------------------------------------------ the engine's side

namespace {

// What a village's devices play for a siren change. A drill plays "drill" and, when it ends, "all_clear" (both marked
// exercise, and neither turns a real siren on). Off while the incident is still open at watch (the TAO declared watch
// after a warning) plays "watch"; otherwise off is the all-clear.
Play PlayFor(const Incident& inc, bool on) {
  if (inc.exercise) return on ? Play::kDrill : Play::kAllClear;
  if (!on) return inc.level == Level::kWatch ? Play::kWatch : Play::kAllClear;
  switch (inc.level) {
    case Level::kCritical:
      return Play::kEvacuate;
    case Level::kWarning:
      return Play::kWarning;
    default:
      return Play::kWatch;
  }
}

// What the loudspeaker says: the level, the village and what to do. Never a person's name (the incident's own texts
// may carry the name of who started a drill or reported), since the announce topic is read by every device.
std::pair<std::string, std::string> AnnouncementText(Play play, const Village* v, bool exercise) {
  const std::string th = v ? v->name_th : "";
  const std::string en = v ? v->name_en : "";
  const char* pre_th = exercise ? "[ฝึกซ้อม] " : "";
  const char* pre_en = exercise ? "[EXERCISE] " : "";
  switch (play) {
    case Play::kEvacuate:
      return {fmt::format("เตือนภัยรุนแรง — อพยพ {}: อพยพไปที่สูงทันที", th),
              fmt::format("Critical, {}: move to high ground now", en)};
    case Play::kWarning:
      return {fmt::format("เตือนภัย {}: เตรียมพร้อมอพยพ ขนของขึ้นที่สูง", th),
              fmt::format("Warning, {}: get ready to leave, move belongings up", en)};
    case Play::kWatch:
      return {fmt::format("เฝ้าระวัง {}: ติดตามระดับน้ำและประกาศของหมู่บ้าน", th),
              fmt::format("Watch, {}: follow the river and the village's announcements", en)};
    case Play::kDrill:
      return {fmt::format("{}การฝึกซ้อมอพยพ {}: นี่เป็นการฝึกซ้อม ไม่ใช่เหตุจริง", pre_th, th),
              fmt::format("{}Evacuation drill, {}: this is a drill, not a real flood", pre_en, en)};
    case Play::kAllClear:
      break;
  }
  return {fmt::format("{}ยุติเหตุการณ์ {}: กลับสู่ภาวะปกติ", pre_th, th),
          fmt::format("{}All clear, {}: back to normal", pre_en, en)};
}

// "หอกระจายข่าวบ้านเก้ากอ" / "the tower in Ban Kao Ko" (the siren likewise).
std::pair<std::string, std::string> DeviceWords(const Device* d, const Village* v) {
  const std::string th = v ? v->name_th : (d ? d->village : "");
  const std::string en = v ? v->name_en : (d ? d->village : "");
  if (d && d->kind == DeviceKind::kSiren) return {"ไซเรน" + th, "the siren in " + en};
  return {"หอกระจายข่าว" + th, "the tower in " + en};
}

}  // namespace

Incident* Engine::OpenOrClosed(std::int64_t id) {
  if (Incident* inc = Open(id)) return inc;
  auto it = closed_.find(id);
  return it == closed_.end() ? nullptr : &it->second;
}

void Engine::AnnounceToDevices(Incident& inc, bool on, TimePoint now, Effects& fx) {
  const Village* v = network_->FindVillage(inc.village);
  Announcement a;
  a.village = inc.village;
  a.id = towers_.NextId();
  a.incident = inc.id;
  a.exercise = inc.exercise;
  a.on = on && !inc.exercise;
  a.play = PlayFor(inc, on);
  a.level = (on || a.play == Play::kWatch) ? inc.level : Level::kNormal;
  std::tie(a.text_th, a.text_en) = AnnouncementText(a.play, v, inc.exercise);
  a.ts = now;
  std::vector<std::string> names;
  for (const Device& d : network_->devices) {
    if (d.village != inc.village) continue;
    towers_.Expect(a, d.id, now + d.answer_after);
    names.push_back(d.id);
  }
  if (!names.empty()) {
    dirty_villages_.push_back(inc.village);
    Log(inc, now, "tower", "kaoko", "kaoko",
        fmt::format("ประกาศ {} ({}) ถึง {} รอคำตอบ", a.id, ToString(a.play), fmt::join(names, ", ")),
        fmt::format("announcement {} ({}) to {}; each must answer that it sounded", a.id, ToString(a.play),
                    fmt::join(names, ", ")),
        fx);
  }
  fx.announcements.push_back(std::move(a));
}

void Engine::AdvanceTowers(TimePoint now, Effects& fx) {
  for (const TowerExpectation& e : towers_.TakeDue(now)) {
    dirty_villages_.push_back(e.village);
    const Device* d = network_->FindDevice(e.device);
    const auto [who_th, who_en] = DeviceWords(d, network_->FindVillage(e.village));
    const auto wait = std::chrono::duration_cast<Seconds>(e.deadline - e.sent).count();
    const std::string th = fmt::format("{} ไม่ตอบภายใน {} วินาที (ประกาศ {})", who_th, wait, e.announce);
    const std::string en = fmt::format("{} did not answer within {} s (announcement {})", who_en, wait, e.announce);
    Incident* inc = OpenOrClosed(e.incident);
    if (!inc) {
      // Closed long ago and no longer in memory: the timeline row still belongs to it.
      fx.timeline.push_back(TimelineEvent{e.incident, now, "tower", e.device, "kaoko", th, en});
      continue;
    }
    Log(*inc, now, "tower", e.device, "kaoko", th, en, fx);
    for (const Person* p : tao_) Notify(*inc, p->id, ActionNeeded::kNone, std::nullopt, th, en, false, now, fx);
  }
  for (std::string& village : towers_.Prune(now)) dirty_villages_.push_back(std::move(village));
}

Effects Engine::OnDeviceSounded(const DeviceSounded& s, TimePoint now) {
  Effects fx;
  const Device* d = network_->FindDevice(s.device);
  if (!d) {
    fx.error = fmt::format("device '{}' is not in the network file", s.device);
    return fx;
  }
  if (d->village != s.village) {
    fx.error = fmt::format("device '{}' belongs to village '{}', not '{}'", s.device, d->village, s.village);
    return fx;
  }
  TowerExpectation* e = towers_.Find(s.device, s.announce);
  if (!e) {
    fx.error = fmt::format("device '{}' answered announcement '{}', which it was not sent or was forgotten", s.device,
                           s.announce);
    return fx;
  }
  if (e->answered) return fx;  // a repeat (a QoS 1 redelivery): recorded once
  e->answered = true;
  dirty_villages_.push_back(e->village);
  // Late is judged by when kaoko got the answer; the time it names is the device's own.
  const bool late = e->missed || now > e->deadline;
  const auto [who_th, who_en] = DeviceWords(d, network_->FindVillage(e->village));
  const std::string at = text::ThaiClock(s.ts);
  std::string th;
  std::string en;
  if (!s.ok) {
    const std::string note = s.note.empty() ? std::string("-") : s.note;
    th = fmt::format("{} เล่นประกาศ {} ไม่ได้{}: {}", who_th, e->announce, late ? " (ตอบช้า)" : "", note);
    en = fmt::format("{} could not play announcement {}{}: {}", who_en, e->announce, late ? " (answered late)" : "",
                     note);
  } else if (late) {
    th = fmt::format("{} ดังช้า เวลา {} น. (ประกาศ {})", who_th, at, e->announce);
    en = fmt::format("{} sounded late, at {} Thai time (announcement {})", who_en, at, e->announce);
  } else {
    th = fmt::format("{} ดังแล้วเวลา {} น. (ประกาศ {})", who_th, at, e->announce);
    en = fmt::format("{} sounded at {} Thai time (announcement {})", who_en, at, e->announce);
  }
  Incident* inc = OpenOrClosed(e->incident);
  if (!inc) {
    fx.timeline.push_back(TimelineEvent{e->incident, now, "tower", s.device, "mqtt", th, en});
    return fx;
  }
  Log(*inc, now, "tower", s.device, "mqtt", th, en, fx);
  if (!s.ok) {
    // A loudspeaker that could not play is a village not warned: the TAO must know, as for a silent one.
    for (const Person* p : tao_) Notify(*inc, p->id, ActionNeeded::kNone, std::nullopt, th, en, false, now, fx);
  }
  return fx;
}

}  // namespace kaoko::alerting
