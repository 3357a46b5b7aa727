#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {

// A watcher report in Ban Kao Ko at T0; returns the incident id.
std::int64_t OpenByReport(Engine& e, Level concern = Level::kWatch, TimePoint at = T0()) {
  Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", concern, at), at);
  REQUIRE(fx.receipts.size() == 1);
  REQUIRE(fx.receipts[0].ok);
  return *fx.receipts[0].incident;
}

Effects Decide(Engine& e, const std::string& user, const std::string& id, std::int64_t incident, DecisionAction a,
               TimePoint at, std::optional<Level> level = std::nullopt, const std::string& village = "kaoko") {
  return e.OnDecision(MakeDecision(user, id, village, incident, a, at, level), at);
}

}  // namespace

TEST_CASE("escalation: a watcher report opens an incident and asks the committee to acknowledge", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0());
  REQUIRE(fx.receipts.size() == 1);
  CHECK(fx.receipts[0].ok);
  CHECK(fx.receipts[0].ref == "r-1");
  const std::int64_t id = *fx.receipts[0].incident;
  const Incident* inc = e.FindIncident(id);
  REQUIRE(inc);
  CHECK(inc->stage == Stage::kReported);
  CHECK(inc->level == Level::kWarning);
  CHECK(CountNotes(fx, "prasert", ActionNeeded::kAck) == 1);
  CHECK(CountNotes(fx, "wanna", ActionNeeded::kAck) == 1);
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 0);
  CHECK(*FindNote(fx, "prasert")->deadline == T0() + 10min);
  CHECK(FindNote(fx, "prasert")->id.rfind("n-", 0) == 0);
  // One watcher's unconfirmed warning is not yet credible enough to put the villages downstream on watch.
  REQUIRE(fx.alerts.size() == 1);
  CHECK(fx.alerts[0].village == "kaoko");
  CHECK(fx.alerts[0].status == Stage::kReported);
  CHECK(fx.alerts[0].incident == id);
  CHECK(fx.cap_changed);
  CHECK(CountEventsFor(fx, id, "trigger") == 1);
  CHECK(CountEventsFor(fx, id, "receipt") == 1);
  CHECK(CountEventsFor(fx, id, "notification") == 2);
  CHECK(CountEventsFor(fx, id, "upstream") == 0);
  CHECK_FALSE(e.Alert("thonhong")->incident.has_value());
  CHECK(std::find(fx.incidents_changed.begin(), fx.incidents_changed.end(), id) != fx.incidents_changed.end());
  CHECK(e.NextDeadline() == T0() + 5min);  // the first reminder

  SECTION("a repeated report id is not applied twice and gets the same receipt") {
    Effects again = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kCritical, T0() + 1min), T0() + 1min);
    REQUIRE(again.receipts.size() == 1);
    CHECK(again.receipts[0].incident == id);
    CHECK(again.notifications.empty());
    CHECK(again.timeline.empty());
    CHECK(e.FindIncident(id)->level == Level::kWarning);
  }
  SECTION("a second report joins the same incident and can raise its level") {
    Effects more = e.OnReport(MakeReport("malee", "r-9", "kaoko", Level::kCritical, T0() + 2min), T0() + 2min);
    CHECK(*more.receipts[0].incident == id);
    CHECK(e.FindIncident(id)->level == Level::kCritical);
    // two watchers agreeing within the window corroborate, and a corroborated warning warns downstream
    CHECK(e.FindIncident(id)->corroborations == 1);
    CHECK(CountEvents(more, "corroboration") == 1);
    CHECK(CountEventsFor(more, id, "upstream") == 3);  // thonhong, nanuea, pakkhlong warned
    CHECK(e.Alert("thonhong")->level == Level::kWatch);
    // a watcher's critical does not go straight to the TAO: only a station's does
    CHECK(e.FindIncident(id)->stage == Stage::kReported);
  }
  SECTION("reports that are not well-formed for kaoko are refused with a reason") {
    Effects bad = e.OnReport(MakeReport("surin", "r-2", "kaoko", Level::kWatch, T0()), T0());
    CHECK_FALSE(bad.receipts[0].ok);
    CHECK(bad.receipts[0].error == "surin is not a member of kaoko");
    bad = e.OnReport(MakeReport("nobody", "r-2", "kaoko", Level::kWatch, T0()), T0());
    CHECK(bad.receipts[0].error == "unknown user nobody");
    bad = e.OnReport(MakeReport("malee", "r-3", "kaoko", Level::kNormal, T0()), T0());
    CHECK(bad.receipts[0].error == "concern must be watch, warning or critical");
    Report r = MakeReport("malee", "r-4", "kaoko", Level::kWatch, T0());
    r.station = "thonhong-bridge";
    bad = e.OnReport(r, T0());
    CHECK(bad.receipts[0].error == "station thonhong-bridge is not in kaoko");
  }
}

TEST_CASE("escalation: every step of the chain with people acting in time", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  const std::int64_t id = OpenByReport(e);

  Effects fx = Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0() + 3min);
  REQUIRE(fx.receipts.size() == 1);
  CHECK(fx.receipts[0].ok);
  CHECK(e.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
  CHECK(e.FindIncident(id)->acked_by == "prasert");
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 1);
  CHECK(*FindNote(fx, "boonmee")->deadline == T0() + 3min + 15min);
  CHECK(fx.alerts.at(0).status == Stage::kAwaitingConfirmation);
  // wanna no longer needs to acknowledge: no reminder for her at +5 min
  fx = e.Advance(T0() + 5min);
  CHECK(CountNotes(fx, "wanna", ActionNeeded::kAck) == 0);

  fx = Decide(e, "boonmee", "d-2", id, DecisionAction::kConfirm, T0() + 6min);
  CHECK(fx.receipts[0].ok);
  const Incident* inc = e.FindIncident(id);
  CHECK(inc->stage == Stage::kEscalated);
  CHECK(inc->confirmed_by == "boonmee");
  CHECK_FALSE(inc->unconfirmed);
  CHECK(CountEvents(fx, "stage") == 2);  // confirmed, then escalated
  CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
  CHECK(CountNotes(fx, "officer-pim", ActionNeeded::kDeclare) == 1);
  CHECK(*FindNote(fx, "officer-pim")->deadline == T0() + 6min + 20min);
  CHECK(fx.alerts.back().status == Stage::kEscalated);

  fx = Decide(e, "officer-niran", "d-3", id, DecisionAction::kDeclare, T0() + 10min, Level::kWarning);
  CHECK(fx.receipts[0].ok);
  inc = e.FindIncident(id);
  CHECK(inc->stage == Stage::kDeclared);
  CHECK(inc->declared_level == Level::kWarning);
  REQUIRE(fx.sirens.size() == 1);
  CHECK(fx.sirens[0].on);
  CHECK_FALSE(fx.sirens[0].exercise);
  CHECK(fx.sirens[0].village == "kaoko");
  CHECK(CountNotes(fx, "somchai", ActionNeeded::kNone) == 1);  // the whole village hears the declaration
  CHECK(e.Alert("kaoko")->status == Stage::kDeclared);
  CHECK(e.Alert("kaoko")->headline_en.find("declared by the TAO") != std::string::npos);
  // nothing is pending any more for this incident except the downstream watches it opened
  fx = e.Advance(T0() + 40min);
  CHECK(CountNotesFor(fx, id, "officer-niran", ActionNeeded::kDeclare) == 0);

  fx = Decide(e, "officer-pim", "d-4", id, DecisionAction::kAllClear, T0() + 3h);
  CHECK(fx.receipts[0].ok);
  inc = e.FindIncident(id);
  REQUIRE(inc);
  CHECK(inc->stage == Stage::kResolved);
  REQUIRE(fx.sirens.size() == 1);
  CHECK_FALSE(fx.sirens[0].on);
  auto alert = e.Alert("kaoko");
  CHECK(alert->level == Level::kNormal);
  CHECK_FALSE(alert->incident.has_value());
  CHECK(alert->status == Stage::kResolved);

  SECTION("a decision on the closed incident is refused") {
    fx = Decide(e, "officer-pim", "d-5", id, DecisionAction::kAllClear, T0() + 4h);
    CHECK_FALSE(fx.receipts[0].ok);
    CHECK(fx.receipts[0].error == fmt::format("incident {} is already resolved", id));
  }
}

TEST_CASE("escalation: deadlines fire to the second and move the incident up unconfirmed", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  const std::int64_t id = OpenByReport(e);

  SECTION("committee silent: 1 s before nothing, at the deadline the headman is asked") {
    Effects fx = e.Advance(T0() + 10min - 1s);
    CHECK(e.FindIncident(id)->stage == Stage::kReported);
    CHECK(CountEvents(fx, "escalation") == 0);
    fx = e.Advance(T0() + 10min);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kAwaitingConfirmation);
    CHECK(inc->unconfirmed);
    CHECK(CountEvents(fx, "escalation") == 1);
    CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 1);
    CHECK(*FindNote(fx, "boonmee")->deadline == T0() + 25min);
  }

  SECTION("escalation: headman silent past the deadline goes to the TAO unconfirmed") {
    (void)Decide(e, "wanna", "d-1", id, DecisionAction::kAck, T0() + 1min);
    Effects fx = e.Advance(T0() + 16min - 1s);
    CHECK(e.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
    fx = e.Advance(T0() + 16min);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kEscalated);
    CHECK(inc->unconfirmed);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
    CHECK(e.Alert("kaoko")->status == Stage::kEscalated);
    // the headman's step is over: no more reminders for him
    fx = e.Advance(T0() + 30min);
    CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 0);
    // a late confirmation is still recorded and clears the flag
    fx = Decide(e, "boonmee", "d-2", id, DecisionAction::kConfirm, T0() + 31min);
    CHECK(fx.receipts[0].ok);
    CHECK_FALSE(e.FindIncident(id)->unconfirmed);
    CHECK(e.FindIncident(id)->stage == Stage::kEscalated);
  }

  SECTION("the deputy is asked after deputy_after, to the second") {
    (void)Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0());
    Effects fx = e.Advance(T0() + 10min - 1s);
    CHECK(CountNotes(fx, "suda", ActionNeeded::kConfirm) == 0);
    fx = e.Advance(T0() + 10min);
    CHECK(CountNotes(fx, "suda", ActionNeeded::kConfirm) == 1);
    CHECK(*FindNote(fx, "suda")->deadline == T0() + 15min);
    // the deputy may answer for the headman
    fx = Decide(e, "suda", "d-2", id, DecisionAction::kConfirm, T0() + 11min);
    CHECK(fx.receipts[0].ok);
    CHECK(e.FindIncident(id)->stage == Stage::kEscalated);
  }

  SECTION("TAO silent past its deadline: marked overdue, reminded until it acts") {
    (void)Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0());
    (void)Decide(e, "boonmee", "d-2", id, DecisionAction::kConfirm, T0());
    Effects fx = e.Advance(T0() + 20min - 1s);
    CHECK_FALSE(e.FindIncident(id)->tao_overdue);
    fx = e.Advance(T0() + 20min);
    CHECK(e.FindIncident(id)->tao_overdue);
    CHECK(CountEvents(fx, "escalation") == 1);
    fx = e.Advance(T0() + 25min);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
    // The third reminder (the first came at 19:59, the second at 20:00): after it they slow down (reach_test.cpp,
    // "reminders"), ten minutes to the fourth.
    fx = e.Advance(T0() + 30min);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 0);
    fx = e.Advance(T0() + 35min);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
  }

  SECTION("a restart after a long outage fires every missed step in order") {
    Effects fx = e.Advance(T0() + 2h);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kEscalated);
    CHECK(inc->tao_overdue);
    CHECK(CountEvents(fx, "escalation") == 3);
  }
}

TEST_CASE("escalation: silent people are reminded every reminder_interval while their step lasts", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  const std::int64_t id = OpenByReport(e);
  Effects fx = e.Advance(T0() + 5min - 1s);
  CHECK(fx.notifications.empty());
  fx = e.Advance(T0() + 5min);
  CHECK(CountNotes(fx, "prasert", ActionNeeded::kAck) == 1);
  CHECK(CountNotes(fx, "wanna", ActionNeeded::kAck) == 1);
  CHECK(FindNote(fx, "prasert")->reminder);
  CHECK(FindNote(fx, "prasert")->text_en.rfind("Reminder:", 0) == 0);
  CHECK(CountEvents(fx, "reminder") == 2);
  // a person who acts is not reminded again (the ack moves the step on for everyone)
  (void)Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0() + 6min);
  fx = e.Advance(T0() + 11min);
  CHECK(CountNotes(fx, "prasert", ActionNeeded::kAck) == 0);
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 1);  // asked at 6, reminded at 11
  fx = e.Advance(T0() + 16min);
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 1);  // and again at 16
  CHECK(e.FindIncident(id)->asks.size() >= 4);
}

TEST_CASE("escalation: wrong role or wrong village is refused with a reason, for each action", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  const std::int64_t id = OpenByReport(e);
  auto refused = [&](const std::string& user, DecisionAction a, std::optional<Level> level = std::nullopt,
                     const std::string& village = "kaoko", std::int64_t incident = 0) {
    static int n = 0;
    Effects fx = Decide(e, user, fmt::format("x-{}", ++n), incident ? incident : id, a, T0() + 1min, level, village);
    REQUIRE(fx.receipts.size() == 1);
    CHECK_FALSE(fx.receipts[0].ok);
    CHECK(fx.notifications.empty());
    return fx.receipts[0].error;
  };
  CHECK(refused("somchai", DecisionAction::kAck) ==
        "only a committee member, the headman or the deputy of kaoko may acknowledge");
  CHECK(refused("kanya", DecisionAction::kAck) ==
        "only a committee member, the headman or the deputy of kaoko may acknowledge");
  CHECK(refused("officer-niran", DecisionAction::kAck) ==
        "only a committee member, the headman or the deputy of kaoko may acknowledge");
  CHECK(refused("prasert", DecisionAction::kConfirm) == "only the headman or deputy of kaoko may confirm");
  CHECK(refused("chaiwat", DecisionAction::kConfirm) == "only the headman or deputy of kaoko may confirm");
  CHECK(refused("somchai", DecisionAction::kReject) == "only the headman or deputy of kaoko may reject");
  CHECK(refused("boonmee", DecisionAction::kDeclare, Level::kWarning) == "only a TAO officer may declare");
  CHECK(refused("officer-niran", DecisionAction::kDeclare) ==
        "declare needs a level: watch, warning or critical (use all_clear to end an incident)");
  CHECK(refused("boonmee", DecisionAction::kAllClear) == "only a TAO officer may give the all-clear");
  CHECK(refused("kittisak", DecisionAction::kConfirm, std::nullopt, "thonhong") ==
        fmt::format("incident {} belongs to kaoko, not thonhong", id));
  CHECK(refused("boonmee", DecisionAction::kConfirm, std::nullopt, "kaoko", 999) == "incident 999 does not exist");
  CHECK(refused("ghost", DecisionAction::kAck) == "unknown user ghost");
  CHECK(e.FindIncident(id)->stage == Stage::kReported);

  SECTION("a repeated decision id gets the same receipt and is not applied twice") {
    Effects a = Decide(e, "prasert", "d-7", id, DecisionAction::kAck, T0() + 2min);
    CHECK(a.receipts[0].ok);
    Effects b = Decide(e, "prasert", "d-7", id, DecisionAction::kAck, T0() + 3min);
    REQUIRE(b.receipts.size() == 1);
    CHECK(b.receipts[0].ok);
    CHECK(b.notifications.empty());
    CHECK(b.timeline.empty());
  }
}

TEST_CASE("escalation: the headman's rejection ends a false alarm, unless the stations show water", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};

  SECTION("stations normal: rejected and closed, the village back to normal") {
    const std::int64_t id = OpenByReport(e);
    Effects fx = Decide(e, "boonmee", "d-1", id, DecisionAction::kReject, T0() + 2min);
    CHECK(fx.receipts[0].ok);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kRejected);
    CHECK(inc->rejected_by == "boonmee");
    CHECK(CountNotes(fx, "somchai", ActionNeeded::kNone) == 1);  // the watcher learns why
    CHECK(e.Alert("kaoko")->level == Level::kNormal);
    CHECK(e.Alert("kaoko")->status == Stage::kRejected);
    CHECK(e.OpenIncidents().empty());
  }

  SECTION("rejection while a station is above watch goes to the TAO") {
    (void)feed("kaoko-bridge", 260, T0() - 20min);
    (void)feed("kaoko-bridge", 262, T0() - 10min);
    const std::int64_t id = e.Alert("kaoko")->incident.value();
    Effects fx = Decide(e, "boonmee", "d-1", id, DecisionAction::kReject, T0());
    CHECK(fx.receipts[0].ok);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kEscalated);
    CHECK(inc->rejection_noted);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
    CHECK(CountEvents(fx, "escalation") == 1);
    // and the TAO's decision is final
    fx = Decide(e, "officer-niran", "d-2", id, DecisionAction::kAllClear, T0() + 5min);
    CHECK(e.FindIncident(id)->stage == Stage::kResolved);
  }

  SECTION("after the TAO declared, the headman can no longer reject") {
    const std::int64_t id = OpenByReport(e);
    (void)Decide(e, "officer-niran", "d-1", id, DecisionAction::kDeclare, T0() + 1min, Level::kWatch);
    Effects fx = Decide(e, "boonmee", "d-2", id, DecisionAction::kReject, T0() + 2min);
    CHECK_FALSE(fx.receipts[0].ok);
    CHECK(fx.receipts[0].error == fmt::format("the TAO has declared incident {}; only a TAO officer may end it", id));
    CHECK(fx.sirens.empty());
  }
}

TEST_CASE("escalation: a station at critical goes straight to the TAO and sounds the village siren", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  Effects fx = feed("kaoko-bridge", 400, T0());
  CHECK(fx.notifications.empty());  // one reading short of persistence
  fx = feed("kaoko-bridge", 401, T0() + 10min);
  const std::int64_t id = e.Alert("kaoko")->incident.value();
  const Incident* inc = e.FindIncident(id);
  CHECK(inc->level == Level::kCritical);
  CHECK(inc->stage == Stage::kEscalated);
  CHECK(inc->unconfirmed);
  CHECK(inc->station_critical);
  REQUIRE(fx.sirens.size() == 1);
  CHECK(fx.sirens[0].on);
  CHECK(fx.sirens[0].level == Level::kCritical);
  CHECK_FALSE(fx.sirens[0].exercise);
  CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
  CHECK(CountNotes(fx, "somchai", ActionNeeded::kNone) == 1);  // the whole village, at once
  // in parallel, the chain still asks the committee and the headman
  CHECK(CountNotes(fx, "prasert", ActionNeeded::kAck) == 1);
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kConfirm) == 1);
  CHECK(inc->headline_th.find("ลานวัด") != std::string::npos);
  CHECK(inc->headline_en.find("the temple yard") != std::string::npos);

  SECTION("a critical inhibits lesser noise in the village") {
    Effects more = e.OnReport(MakeReport("malee", "r-5", "kaoko", Level::kWatch, T0() + 12min), T0() + 12min);
    CHECK(more.receipts[0].ok);
    CHECK(CountEvents(more, "inhibited") == 1);
    CHECK(more.notifications.empty());
    CHECK(CountEvents(more, "corroboration") == 1);  // it still agrees with the station
  }
  SECTION("falling water does not lower the incident; the TAO's all-clear ends it") {
    (void)feed("kaoko-bridge", 300, T0() + 20min);
    CHECK(e.FindIncident(id)->level == Level::kCritical);
    Effects end = Decide(e, "officer-pim", "d-1", id, DecisionAction::kAllClear, T0() + 30min);
    REQUIRE(end.sirens.size() == 1);
    CHECK_FALSE(end.sirens[0].on);
  }
}

TEST_CASE("escalation: an undeclared incident resolves itself after the river stays normal", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  SECTION("a watcher report with the stations normal") {
    const std::int64_t id = OpenByReport(e, Level::kWatch);
    (void)Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0());
    (void)Decide(e, "boonmee", "d-2", id, DecisionAction::kConfirm, T0());
    (void)e.Advance(T0() + 6h - 1s);
    CHECK(e.FindIncident(id)->stage == Stage::kEscalated);
    Effects fx = e.Advance(T0() + 6h);
    CHECK(e.FindIncident(id)->stage == Stage::kResolved);
    CHECK(fx.alerts.at(0).level == Level::kNormal);
  }
  SECTION("the clock starts when the station falls back, not at the trigger") {
    (void)feed("kaoko-bridge", 260, T0());
    (void)feed("kaoko-bridge", 260, T0() + 10min);
    const std::int64_t id = e.Alert("kaoko")->incident.value();
    (void)feed("kaoko-bridge", 200, T0() + 2h);
    (void)e.Advance(T0() + 2h + 6h - 1s);
    CHECK(e.FindIncident(id)->stage != Stage::kResolved);
    (void)e.Advance(T0() + 2h + 6h);
    CHECK(e.FindIncident(id)->stage == Stage::kResolved);
  }
  SECTION("a declared incident never resolves by itself") {
    const std::int64_t id = OpenByReport(e, Level::kWatch);
    (void)Decide(e, "officer-niran", "d-1", id, DecisionAction::kDeclare, T0(), Level::kWatch);
    (void)e.Advance(T0() + 24h);
    CHECK(e.FindIncident(id)->stage == Stage::kDeclared);
  }
}
