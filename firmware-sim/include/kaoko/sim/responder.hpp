// A responder: a person of the escalation chain as kaoko-sim plays them — a village committee member (กรรมการ
// หมู่บ้าน), a headman (ผู้ใหญ่บ้าน) or deputy (ผู้ช่วยผู้ใหญ่บ้าน), or a TAO disaster officer (เจ้าหน้าที่ อบต.).
// Each reads their own notifications (`.../notify/{user}`), their receipts, and the alert state of the villages they
// may see; when a notification asks them to act (`action_needed` ack / confirm / declare) they answer some minutes
// later in SIMULATED time (seeded, uniform in the role's range) with a decision on `.../decision/{user}`:
//   committee  ack                       "รับทราบ กำลังแจ้งเตือนลูกบ้าน"
//   headman    confirm, or reject when they go and look and see no water at their village or upstream
//   deputy     the same, when asked
//   tao        declare the incident's level (again when the level rises), or the all-clear when the river is calm
//              at the village and upstream; optionally the all-clear for what it declared once the river has been
//              normal for `all_clear_after`.
// Before answering, a person looks at the village's alert state: an incident that a colleague already moved on (a
// second committee member after the first ack, a second officer after the declaration) or that is closed gets no
// answer. A responder listed as silent reads everything and never answers (to exercise the deadlines). Of the TAO
// officers one is on duty and answers; the others only read (two officers declaring the same thing helps nobody).
//
// Pure: simulated time and the river's state (`sees_water`) in, decision payloads out. Not thread-safe.
//
//   Responder r(config, seed, first_id);
//   r.OnMessage(topic, payload, now);                  // every message on r.Subscriptions()
//   for (auto& d : r.Advance(now, sees_water)) publish(d.topic, d.payload);
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/sim/scenario.hpp"
#include "kaoko/sim/time.hpp"
#include "kaoko/sim/transport.hpp"

namespace kaoko::sim {

struct ResponderConfig {
  std::string tambon;
  std::string user;
  alerting::Role role = alerting::Role::kCommittee;
  std::string village;     // home village; empty for a TAO officer
  double min_minutes = 2;  // answer delay, uniform in [min, max] simulated minutes
  double max_minutes = 8;
  bool silent = false;         // reads everything, never answers
  bool off_duty = false;       // a TAO officer who is not on duty: reads everything, never answers
  Seconds all_clear_after{0};  // TAO: all-clear for a declared incident after the river is calm this long; 0 = never
  // TAO: villages whose incidents are left to their people (kaoko-sim --humans): their asks are read, never answered.
  std::vector<std::string> left_to_people;
};

// The configuration for `person` from the scenario's [responders] table: the role's delay range, silence, all-clear.
ResponderConfig ResponderConfigFor(const alerting::Person& person, const std::string& tambon,
                                   const ResponderBehaviour& behaviour);

// A decision ready to send.
struct DecisionOut {
  SimTime at;           // its ts
  std::string id;       // "d-0003"
  std::string topic;    // kaoko/v1/{tambon}/{village}/decision/{user}
  std::string payload;  // contract JSON
  std::int64_t incident = 0;
  std::string village;
  alerting::DecisionAction action = alerting::DecisionAction::kAck;
  std::optional<alerting::Level> level;
};

struct ResponderStats {
  std::uint64_t notifications = 0;  // notifications received
  std::uint64_t asked = 0;          // of those, asking for an action (reminders included)
  std::uint64_t scheduled = 0;      // answers planned
  std::uint64_t decisions = 0;      // decisions made
  std::uint64_t skipped = 0;        // planned answers dropped because the incident had moved on or closed
  std::uint64_t receipts = 0;
  std::uint64_t refused = 0;         // receipts with ok = false
  std::uint64_t ignored_silent = 0;  // asks a silent or off-duty responder let pass
  std::string last_refusal;          // "d-0003: <error>"
};

// Sends the decisions waiting in `outbox` through `link` (QoS 1, not retained), oldest first, while the link takes
// them; what it refuses stays for the next call (a phone without signal keeps its answer). Returns those sent.
std::vector<DecisionOut> SendDue(std::deque<DecisionOut>& outbox, Transport& link);

class Responder {
 public:
  // `first_id` is the number of the next decision id (kept across runs by the owner, so ids stay unique).
  Responder(ResponderConfig config, std::uint64_t seed, std::uint64_t first_id);

  // The topics to subscribe to: own notify (TAO: every village's), own receipts, and the alert states it may read.
  std::vector<std::string> Subscriptions() const;
  // A message on one of those topics, received at simulated time `now`. Returns false when it is not one the
  // responder understands (wrong topic, malformed JSON); nothing changes then.
  bool OnMessage(std::string_view topic, std::string_view payload, SimTime now);
  // The decisions due by `now`. `sees_water(village)` is what the person finds when they go and look: true when the
  // river is up at that village or upstream of it.
  std::vector<DecisionOut> Advance(SimTime now, const std::function<bool(const std::string&)>& sees_water);

  std::uint64_t NextId() const { return next_id_; }
  const ResponderConfig& Config() const { return config_; }
  const ResponderStats& Stats() const { return stats_; }
  std::size_t Pending() const { return pending_.size(); }

 private:
  struct Plan {
    std::int64_t incident = 0;
    std::string village;
    alerting::ActionNeeded action = alerting::ActionNeeded::kNone;
    alerting::Level level = alerting::Level::kWatch;
    SimTime due;
  };
  struct AlertSeen {
    std::optional<std::int64_t> incident;
    std::string status;
    alerting::Level level = alerting::Level::kNormal;
  };
  struct Declared {
    std::string village;
    std::optional<SimTime> calm_since;
  };

  bool StillWanted(const Plan& p) const;
  DecisionOut Make(SimTime at, const Plan& p, alerting::DecisionAction action, std::optional<alerting::Level> level,
                   std::string note);
  Seconds Delay();

  ResponderConfig config_;
  std::mt19937_64 rng_;
  std::uint64_t next_id_;
  std::vector<Plan> pending_;
  // What this person already answered: (incident, action) → the level answered (declare answers again higher).
  std::map<std::pair<std::int64_t, alerting::ActionNeeded>, alerting::Level> answered_;
  std::map<std::string, AlertSeen> alerts_;    // by village
  std::map<std::int64_t, Declared> declared_;  // TAO: incidents this officer declared
  ResponderStats stats_;
};

}  // namespace kaoko::sim
