// The decision rules (decision_policy.hpp): who may take which decision at which step.
#include <catch2/catch.hpp>

#include "kaoko/alerting/decision_policy.hpp"

using namespace kaoko::alerting;

namespace {
DecisionRefusal Judge(Role role, bool local, DecisionAction action, bool station_fault = false,
                      Stage stage = Stage::kReported, std::optional<Level> level = std::nullopt) {
  return JudgeDecision({role, local, station_fault, stage, action, level});
}
}  // namespace

TEST_CASE("decision policy: a village's own committee, headman and deputy acknowledge its floods", "[alerting]") {
  for (Role r : {Role::kCommittee, Role::kHeadman, Role::kDeputy}) {
    CHECK(Judge(r, true, DecisionAction::kAck) == DecisionRefusal::kNone);
    CHECK(Judge(r, false, DecisionAction::kAck) == DecisionRefusal::kNotVillageResponder);
  }
  CHECK(Judge(Role::kWatcher, true, DecisionAction::kAck) == DecisionRefusal::kNotVillageResponder);
  CHECK(Judge(Role::kTao, false, DecisionAction::kAck) == DecisionRefusal::kNotVillageResponder);
}

TEST_CASE("decision policy: only the village's headman or deputy confirms or rejects", "[alerting]") {
  for (auto a : {DecisionAction::kConfirm, DecisionAction::kReject}) {
    CHECK(Judge(Role::kHeadman, true, a) == DecisionRefusal::kNone);
    CHECK(Judge(Role::kDeputy, true, a) == DecisionRefusal::kNone);
    CHECK(Judge(Role::kHeadman, false, a) == DecisionRefusal::kNotHeadman);
    CHECK(Judge(Role::kCommittee, true, a) == DecisionRefusal::kNotHeadman);
    CHECK(Judge(Role::kTao, false, a) == DecisionRefusal::kNotHeadman);
  }
  CHECK(Judge(Role::kHeadman, true, DecisionAction::kReject, false, Stage::kDeclared) ==
        DecisionRefusal::kDeclaredNeedsTao);
  CHECK(Judge(Role::kHeadman, true, DecisionAction::kConfirm, false, Stage::kDeclared) == DecisionRefusal::kNone);
}

TEST_CASE("decision policy: only a TAO officer declares (with a level) and gives the all-clear", "[alerting]") {
  CHECK(Judge(Role::kTao, false, DecisionAction::kDeclare, false, Stage::kConfirmed, Level::kWarning) ==
        DecisionRefusal::kNone);
  CHECK(Judge(Role::kTao, false, DecisionAction::kDeclare) == DecisionRefusal::kDeclareWithoutLevel);
  CHECK(Judge(Role::kTao, false, DecisionAction::kDeclare, false, Stage::kConfirmed, Level::kNormal) ==
        DecisionRefusal::kDeclareWithoutLevel);
  CHECK(Judge(Role::kHeadman, true, DecisionAction::kDeclare, false, Stage::kConfirmed, Level::kWarning) ==
        DecisionRefusal::kNotTao);
  CHECK(Judge(Role::kTao, false, DecisionAction::kAllClear) == DecisionRefusal::kNone);
  CHECK(Judge(Role::kHeadman, true, DecisionAction::kAllClear) == DecisionRefusal::kNotTao);
}

TEST_CASE("decision policy: a station fault is the TAO's, and takes only ack and all_clear", "[alerting]") {
  for (auto a : {DecisionAction::kAck, DecisionAction::kConfirm, DecisionAction::kReject, DecisionAction::kDeclare,
                 DecisionAction::kAllClear}) {
    CHECK(Judge(Role::kHeadman, true, a, true) == DecisionRefusal::kStationFaultNeedsTao);
  }
  CHECK(Judge(Role::kTao, false, DecisionAction::kAck, true) == DecisionRefusal::kNone);
  CHECK(Judge(Role::kTao, false, DecisionAction::kAllClear, true) == DecisionRefusal::kNone);
  CHECK(Judge(Role::kTao, false, DecisionAction::kConfirm, true) == DecisionRefusal::kStationFaultStep);
  CHECK(Judge(Role::kTao, false, DecisionAction::kDeclare, true, Stage::kReported, Level::kWarning) ==
        DecisionRefusal::kStationFaultStep);
}

TEST_CASE("decision policy: the person's refusals are told from the step's", "[alerting]") {
  CHECK(IsPersonRefusal(DecisionRefusal::kStationFaultNeedsTao));
  CHECK(IsPersonRefusal(DecisionRefusal::kNotVillageResponder));
  CHECK(IsPersonRefusal(DecisionRefusal::kNotHeadman));
  CHECK(IsPersonRefusal(DecisionRefusal::kNotTao));
  CHECK_FALSE(IsPersonRefusal(DecisionRefusal::kNone));
  CHECK_FALSE(IsPersonRefusal(DecisionRefusal::kStationFaultStep));
  CHECK_FALSE(IsPersonRefusal(DecisionRefusal::kDeclaredNeedsTao));
  CHECK_FALSE(IsPersonRefusal(DecisionRefusal::kDeclareWithoutLevel));
}

TEST_CASE("decision policy: a reject waits while the flood wave upstream is still coming", "[alerting]") {
  DecisionCase c{Role::kHeadman, true, false, Stage::kReported, DecisionAction::kReject, std::nullopt, true};
  CHECK(JudgeDecision(c) == DecisionRefusal::kUpstreamStillComing);
  CHECK_FALSE(IsPersonRefusal(DecisionRefusal::kUpstreamStillComing));  // the engine's receipt words it
  c.action = DecisionAction::kConfirm;
  CHECK(JudgeDecision(c) == DecisionRefusal::kNone);
  c.action = DecisionAction::kAck;
  CHECK(JudgeDecision(c) == DecisionRefusal::kNone);
  c.action = DecisionAction::kReject;
  c.upstream_coming = false;
  CHECK(JudgeDecision(c) == DecisionRefusal::kNone);
  c.upstream_coming = true;
  c.role = Role::kCommittee;  // not the headman: that refusal comes first
  CHECK(JudgeDecision(c) == DecisionRefusal::kNotHeadman);
}

TEST_CASE("decision policy: the district above the TAO acknowledges, declares and gives the all-clear",
          "[alerting][district]") {
  // "Seen, on it" on a flood of any village, at any step.
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kAck) == DecisionRefusal::kNone);
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kAck, false, Stage::kEscalated) == DecisionRefusal::kNone);
  // Declare and all-clear as the TAO would, a level still needed.
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kDeclare, false, Stage::kEscalated, Level::kWarning) ==
        DecisionRefusal::kNone);
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kDeclare, false, Stage::kEscalated) ==
        DecisionRefusal::kDeclareWithoutLevel);
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kAllClear) == DecisionRefusal::kNone);
  // The village's own steps stay the village's.
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kConfirm) == DecisionRefusal::kNotHeadman);
  CHECK(Judge(Role::kDistrict, false, DecisionAction::kReject) == DecisionRefusal::kNotHeadman);
  // Station faults are the TAO's technicians'.
  for (auto a : {DecisionAction::kAck, DecisionAction::kAllClear}) {
    CHECK(Judge(Role::kDistrict, false, a, true) == DecisionRefusal::kStationFaultNeedsTao);
  }
  CHECK(IsPersonRefusal(Judge(Role::kDistrict, false, DecisionAction::kConfirm)));
}
