// The decision rules (decision_policy.hpp).
#include "kaoko/alerting/decision_policy.hpp"

namespace kaoko::alerting {

bool IsVillageRole(Role role) { return role == Role::kCommittee || role == Role::kHeadman || role == Role::kDeputy; }

DecisionRefusal JudgeDecision(const DecisionCase& c) {
  // The district (above the TAO) may declare and give the all-clear as the TAO would, and acknowledge a flood
  // incident of any village ("seen, on it"); station faults stay the TAO's technicians' business.
  const bool district = c.role == Role::kDistrict;
  const bool tao = c.role == Role::kTao || (district && !c.station_fault);
  const bool headman = c.local && (c.role == Role::kHeadman || c.role == Role::kDeputy);
  if (c.station_fault && !tao) return DecisionRefusal::kStationFaultNeedsTao;
  switch (c.action) {
    case DecisionAction::kAck:
      if (district) return DecisionRefusal::kNone;
      if (!c.station_fault && !(c.local && IsVillageRole(c.role))) return DecisionRefusal::kNotVillageResponder;
      return DecisionRefusal::kNone;
    case DecisionAction::kConfirm:
    case DecisionAction::kReject:
      if (c.station_fault) return DecisionRefusal::kStationFaultStep;
      if (!headman) return DecisionRefusal::kNotHeadman;
      if (c.action == DecisionAction::kReject && c.stage == Stage::kDeclared) return DecisionRefusal::kDeclaredNeedsTao;
      if (c.action == DecisionAction::kReject && c.upstream_coming) return DecisionRefusal::kUpstreamStillComing;
      return DecisionRefusal::kNone;
    case DecisionAction::kDeclare:
      if (!tao) return DecisionRefusal::kNotTao;
      if (c.station_fault) return DecisionRefusal::kStationFaultStep;
      if (!c.level || *c.level == Level::kNormal) return DecisionRefusal::kDeclareWithoutLevel;
      return DecisionRefusal::kNone;
    case DecisionAction::kAllClear:
      return tao ? DecisionRefusal::kNone : DecisionRefusal::kNotTao;
  }
  return DecisionRefusal::kNone;
}

bool IsPersonRefusal(DecisionRefusal r) {
  switch (r) {
    case DecisionRefusal::kStationFaultNeedsTao:
    case DecisionRefusal::kNotVillageResponder:
    case DecisionRefusal::kNotHeadman:
    case DecisionRefusal::kNotTao:
      return true;
    default:
      return false;
  }
}

}  // namespace kaoko::alerting
