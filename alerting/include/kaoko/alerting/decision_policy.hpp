// Who may take which decision on an incident: the one statement of the rules (docs/screens.md) that both the engine
// (Engine::OnDecision, which answers with a receipt) and the HTTP API (which refuses with 403 before asking the core)
// follow. Pure: no state, no clock.
#pragma once

#include <optional>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"

namespace kaoko::alerting {

// What the rules need to know of a decision: who takes it, on what incident, at which step.
struct DecisionCase {
  Role role = Role::kWatcher;
  bool local = false;          // the person belongs to the incident's village
  bool station_fault = false;  // the incident is a station fault (IncidentKind::kStation), not a flood
  Stage stage = Stage::kReported;
  DecisionAction action = DecisionAction::kAck;
  std::optional<Level> level;  // the level a declare names
  // The incident came from a flood wave upstream and that village is still at warning or above: the wave is coming
  // whatever the river here shows now.
  bool upstream_coming = false;
};

// Why a decision is refused; kNone: allowed. The first four are about the person (their role and village), the
// others about the incident's step or the decision itself.
enum class DecisionRefusal {
  kNone,
  kStationFaultNeedsTao,  // a station fault, and the person is not a TAO officer (the district neither)
  kNotVillageResponder,   // ack: only a committee member, the headman or the deputy of the incident's village
  kNotHeadman,            // confirm/reject: only the headman or the deputy of the incident's village
  kNotTao,                // declare/all_clear: only a TAO officer or the district above it
  kStationFaultStep,      // confirm, reject or declare on a station fault: only ack and all_clear apply
  kDeclaredNeedsTao,      // reject after the TAO declared: only a TAO officer may end it
  kDeclareWithoutLevel,   // declare without watch, warning or critical
  kUpstreamStillComing,   // reject of a watch from upstream while the upstream village is at warning or above
};

// The rules, checked in the order the receipts report them.
DecisionRefusal JudgeDecision(const DecisionCase& c);

// Whether `r` is about the person (their role or village) rather than the incident's step: what the HTTP API refuses
// itself; the others it leaves to the engine's receipt.
bool IsPersonRefusal(DecisionRefusal r);

// Whether `role` acts for its own village (committee, headman, deputy) in the escalation chain.
bool IsVillageRole(Role role);

}  // namespace kaoko::alerting
