// The chain acting on who was really reached (Engine::OnUnreached, engine.hpp; docs/delivery.md "Not reached"):
// a person asked to act whom no channel reached is passed over early, not waited for until the step's deadline.
#include <fmt/format.h>

#include <algorithm>

#include "kaoko/alerting/engine.hpp"
#include "text.hpp"

namespace kaoko::alerting {
namespace {

const char* RoleTh(Role role) {
  switch (role) {
    case Role::kWatcher:
      return "ผู้เฝ้าระวัง";
    case Role::kCommittee:
      return "กรรมการหมู่บ้าน";
    case Role::kHeadman:
      return "ผู้ใหญ่บ้าน";
    case Role::kDeputy:
      return "ผู้ช่วยผู้ใหญ่บ้าน";
    case Role::kTao:
      return "เจ้าหน้าที่ อบต.";
    case Role::kDistrict:
      return "อำเภอ";
  }
  return "";
}

// Whether `action` is what the incident's current step waits for.
bool CurrentStep(const Incident& inc, ActionNeeded action) {
  return (action == ActionNeeded::kAck && inc.stage == Stage::kReported) ||
         (action == ActionNeeded::kConfirm &&
          (inc.stage == Stage::kAwaitingConfirmation || inc.stage == Stage::kConfirmed)) ||
         (action == ActionNeeded::kDeclare && inc.stage == Stage::kEscalated);
}

}  // namespace

Effects Engine::OnUnreached(std::int64_t incident, const std::string& user, ActionNeeded action,
                            const std::vector<std::string>& also_unreached, TimePoint now, bool every_channel_failed) {
  Effects fx;
  Incident* inc = Open(incident);
  auto pit = people_.find(user);
  if (!inc || inc->kind != IncidentKind::kFlood || pit == people_.end() || !CurrentStep(*inc, action)) return fx;
  const Person& person = *pit->second;
  auto asked = [&](const Ask& a) { return a.open && a.action == action; };
  if (std::none_of(inc->asks.begin(), inc->asks.end(), [&](const Ask& a) { return asked(a) && a.user == user; })) {
    return fx;  // they acted, or were never asked this
  }
  const Seconds within = network_->delivery.not_reached;
  if (every_channel_failed) {
    Log(*inc, now, "reach", "kaoko", "kaoko",
        fmt::format("ติดต่อ {} ({}) ไม่ได้: ส่งไม่สำเร็จทุกช่องทาง", person.name_th, RoleTh(person.role)),
        fmt::format("{} ({}) could not be reached: every channel failed", person.name_en, ToString(person.role)), fx);
  } else {
    Log(*inc, now, "reach", "kaoko", "kaoko",
        fmt::format("ติดต่อ {} ({}) ไม่ได้ทุกช่องทางภายใน {}", person.name_th, RoleTh(person.role), text::DurationTh(within)),
        fmt::format("{} ({}) was not reached on any channel within {}", person.name_en, ToString(person.role),
                    text::DurationEn(within)),
        fx);
  }
  Touch(*inc, now, fx);
  if (person.role == Role::kDistrict) return fx;  // logged; the district's reminders go on, the chain is not theirs

  // A headman not reached: the deputy is asked now, and gets their own chance to be reached.
  const VillagePeople* vp = PeopleOf(inc->village);
  if (action == ActionNeeded::kConfirm && person.role == Role::kHeadman && inc->deputy_at && vp &&
      !vp->deputies.empty()) {
    inc->deputy_at.reset();
    Log(*inc, now, "escalation", "kaoko", "kaoko", "ติดต่อผู้ใหญ่บ้านไม่ได้: ขอให้ผู้ช่วยผู้ใหญ่บ้านยืนยันทันที",
        "the headman could not be reached: the deputy is asked now", fx);
    AskPeople(*inc, vp->deputies, ActionNeeded::kConfirm, inc->stage_deadline, now, fx, "ผู้ใหญ่บ้านติดต่อไม่ได้",
              "the headman could not be reached");
    return fx;
  }

  // Everyone this step waits for was found not reached: the step ends now, as its deadline would end it.
  std::vector<std::string> unreached = also_unreached;
  unreached.push_back(user);
  const bool everyone = std::all_of(inc->asks.begin(), inc->asks.end(), [&](const Ask& a) {
    return !asked(a) || std::find(unreached.begin(), unreached.end(), a.user) != unreached.end();
  });
  if (!everyone) return fx;
  switch (inc->stage) {
    case Stage::kReported:
      inc->unconfirmed = true;
      inc->stage_deadline.reset();
      CloseAsks(*inc, ActionNeeded::kAck);
      Log(*inc, now, "escalation", "kaoko", "kaoko", "ติดต่อกรรมการไม่ได้สักคน: ส่งต่อผู้ใหญ่บ้านทันที (ยังไม่ยืนยัน)",
          "no committee member could be reached: passed to the headman now, unconfirmed", fx);
      EnterStage(*inc, Stage::kAwaitingConfirmation, "kaoko", "ติดต่อกรรมการไม่ได้", "the committee could not be reached",
                 now, fx);
      AskHeadman(*inc, now, now, fx);
      break;
    case Stage::kAwaitingConfirmation:
    case Stage::kConfirmed:
      if (inc->confirmed_by.empty()) inc->unconfirmed = true;
      inc->stage_deadline.reset();
      inc->deputy_at.reset();
      CloseAsks(*inc, ActionNeeded::kConfirm);
      CloseAsks(*inc, ActionNeeded::kAck);
      Log(*inc, now, "escalation", "kaoko", "kaoko", "ติดต่อผู้ใหญ่บ้านและผู้ช่วยไม่ได้: ส่งต่อ อบต. ทันที (ยังไม่ยืนยัน)",
          "neither the headman nor the deputy could be reached: passed to the TAO now, unconfirmed", fx);
      EscalateToTao(*inc, now, "ติดต่อหมู่บ้านไม่ได้", "the village could not be reached", now, fx);
      break;
    case Stage::kEscalated:
      // The TAO's reminders go on; the district above it is told now, as the TAO's deadline would tell it.
      Log(*inc, now, "escalation", "kaoko", "kaoko", "ติดต่อเจ้าหน้าที่ อบต. ไม่ได้สักคน: แจ้งอำเภอ",
          "no TAO officer could be reached: the district is told", fx);
      TellDistrict(*inc, now, now, fx);  // a new revision: stored, and a new CAP message (an Update that says so)
      break;
    default:
      break;
  }
  return fx;
}

void Engine::TellDistrict(Incident& inc, TimePoint since, TimePoint now, Effects& fx) {
  inc.tao_overdue = true;
  if (!inc.tao_overdue_since) inc.tao_overdue_since = since;
  Touch(inc, now, fx);
  if (inc.district_notified_at) return;  // told once; its reminders carry on
  if (district_.empty()) {
    PublishAlert(inc.village, now, fx);  // the alert says since when the TAO is overdue
    Log(inc, now, "district", "kaoko", "kaoko", "ไม่มีอำเภอในไฟล์เครือข่าย: ไม่มีผู้ใดเหนือ อบต. ใน kaoko (CAP ยังส่งต่อ)",
        "no district in the network file: nobody above the TAO inside kaoko (CAP still carries it)", fx);
    return;
  }
  // Silent since the TAO was first asked to declare this incident (its deadline counts from there).
  TimePoint silent = *inc.tao_overdue_since;
  for (const Ask& a : inc.asks) {
    auto p = people_.find(a.user);
    if (a.action == ActionNeeded::kDeclare && p != people_.end() && p->second->role == Role::kTao && a.asked < silent)
      silent = a.asked;
  }
  inc.district_notified_at = now;
  inc.district_deadline = now + network_->escalation.district_act;
  PublishAlert(inc.village, now, fx);  // since when the TAO is overdue, and when the district was told
  const std::string since_th = text::ThaiClock(silent);
  const std::string due_th = text::ThaiClock(*inc.tao_overdue_since);
  Log(inc, now, "escalation", "kaoko", "kaoko",
      fmt::format("แจ้งอำเภอ: อบต. ไม่ตอบตั้งแต่ {} น. (เลยกำหนด {} น.)", since_th, due_th),
      fmt::format("the district is told: the TAO has been silent since {} (Thai time), past its deadline of {}",
                  since_th, due_th),
      fx);
  AskPeople(inc, district_, ActionNeeded::kDeclare, inc.district_deadline, now, fx,
            fmt::format("อบต. ไม่ตอบตั้งแต่ {} น. เลยกำหนด {} น.: ขออำเภอสั่งการ", since_th, due_th),
            fmt::format("the TAO has been silent since {} (Thai time), past its deadline of {}: the district is asked "
                        "to act",
                        since_th, due_th));
}

void Engine::DistrictAck(Incident& inc, const std::string& user, TimePoint now, Effects& fx) {
  // "Seen, on it": the district's reminders stop and its deadline is met; the chain below is not moved.
  for (Ask& ask : inc.asks) {
    auto p = people_.find(ask.user);
    if (p != people_.end() && p->second->role == Role::kDistrict) ask.open = false;
  }
  if (inc.district_acked_by.empty()) inc.district_acked_by = user;
  inc.district_deadline.reset();
  Touch(inc, now, fx);
}

void Engine::DistrictOverdue(Incident& inc, TimePoint now, Effects& fx) {
  const std::string at = text::ThaiClock(*inc.district_deadline);
  inc.district_deadline.reset();
  inc.district_overdue = true;
  Log(inc, now, "escalation", "kaoko", "kaoko", fmt::format("อำเภอยังไม่ตอบภายใน {} น.: เตือนซ้ำต่อไป", at),
      fmt::format("the district has not answered by {}: reminders continue", at), fx);
  Touch(inc, now, fx);
}

}  // namespace kaoko::alerting
