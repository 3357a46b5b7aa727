// The chain acting on who was really reached (Engine::OnUnreached): a headman no channel reached is passed over for
// his deputy at once; a step whose every person was not reached ends now; a person who acted, or a step that has
// passed, changes nothing.
#include <catch2/catch.hpp>

#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;
using namespace std::chrono_literals;

namespace {

std::int64_t OpenByReport(Engine& e, TimePoint at = T0()) {
  Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, at), at);
  REQUIRE(fx.receipts.size() == 1);
  return *fx.receipts[0].incident;
}

void Ack(Engine& e, std::int64_t id, TimePoint at) {
  Effects fx = e.OnDecision(MakeDecision("prasert", "d-ack", "kaoko", id, DecisionAction::kAck, at), at);
  REQUIRE(fx.receipts.size() == 1);
  REQUIRE(fx.receipts[0].ok);
}

int Logged(const Effects& fx, const std::string& kind, const std::string& needle) {
  int n = 0;
  for (const auto& t : fx.timeline) n += t.kind == kind && t.text_en.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("reach: a headman no channel reached is passed over for the deputy at once, with the reason",
          "[alerting][reach]") {
  Network net = TonHong();
  net.delivery.not_reached = 5min;
  Engine e(net);
  const auto id = OpenByReport(e);
  Ack(e, id, T0() + 1min);
  REQUIRE(e.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
  const TimePoint t = T0() + 6min;  // the deputy would otherwise be asked at T0 + 1 + 10 min
  Effects fx = e.OnUnreached(id, "boonmee", ActionNeeded::kConfirm, {}, t);
  CHECK(Logged(fx, "reach", "was not reached on any channel within 5 min") == 1);
  CHECK(Logged(fx, "escalation", "the deputy is asked now") == 1);
  CHECK(CountNotes(fx, "suda", ActionNeeded::kConfirm) == 1);
  const Incident* inc = e.FindIncident(id);
  CHECK(inc->stage == Stage::kAwaitingConfirmation);  // the headman may still confirm
  CHECK_FALSE(inc->deputy_at);
  // The deputy's usual turn does not ask her a second time.
  Effects later = e.Advance(T0() + 12min);
  CHECK(Logged(later, "notification", "to suda") == 0);  // reminders only
  CHECK(Logged(later, "reminder", "to suda") == 1);
  // Told again (a restart of the delivery room): nothing new.
  Effects again = e.OnUnreached(id, "boonmee", ActionNeeded::kConfirm, {}, t + 1s);
  CHECK(CountNotes(again, "suda", ActionNeeded::kConfirm) == 0);
  CHECK(Logged(again, "escalation", "deputy") == 0);

  SECTION("the deputy not reached either: the TAO is asked now, unconfirmed") {
    Effects fx2 = e.OnUnreached(id, "suda", ActionNeeded::kConfirm, {"boonmee"}, T0() + 12min);
    CHECK(Logged(fx2, "escalation", "neither the headman nor the deputy could be reached") == 1);
    CHECK(e.FindIncident(id)->stage == Stage::kEscalated);
    CHECK(e.FindIncident(id)->unconfirmed);
    CHECK(CountNotes(fx2, "officer-niran", ActionNeeded::kDeclare) == 1);
  }
  SECTION("the headman confirms after all: a late report of the deputy changes nothing") {
    Effects ok =
        e.OnDecision(MakeDecision("boonmee", "d-c", "kaoko", id, DecisionAction::kConfirm, T0() + 7min), T0() + 7min);
    REQUIRE(ok.receipts[0].ok);
    Effects none = e.OnUnreached(id, "suda", ActionNeeded::kConfirm, {"boonmee"}, T0() + 12min);
    CHECK(none.timeline.empty());
    CHECK_FALSE(e.FindIncident(id)->unconfirmed);  // confirmed by the headman, not passed over
  }
}

TEST_CASE("reach: a committee none of whom was reached passes the incident to the headman now", "[alerting][reach]") {
  Network net = TonHong();
  Engine e(net);
  const auto id = OpenByReport(e);
  Effects one = e.OnUnreached(id, "prasert", ActionNeeded::kAck, {}, T0() + 5min);
  CHECK(Logged(one, "reach", "(committee) was not reached on any channel") == 1);
  CHECK(e.FindIncident(id)->stage == Stage::kReported);  // wanna may still be reached
  Effects both = e.OnUnreached(id, "wanna", ActionNeeded::kAck, {"prasert"}, T0() + 5min);
  CHECK(Logged(both, "escalation", "no committee member could be reached") == 1);
  CHECK(e.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
  CHECK(e.FindIncident(id)->unconfirmed);
  CHECK(CountNotes(both, "boonmee", ActionNeeded::kConfirm) == 1);
}

TEST_CASE("reach: a person who acted, a step already passed, or an unknown incident changes nothing",
          "[alerting][reach]") {
  Network net = TonHong();
  Engine e(net);
  const auto id = OpenByReport(e);
  Ack(e, id, T0() + 1min);
  CHECK(e.OnUnreached(id, "prasert", ActionNeeded::kAck, {}, T0() + 5min).timeline.empty());  // the step passed
  CHECK(e.OnUnreached(id, "nobody", ActionNeeded::kConfirm, {}, T0() + 5min).timeline.empty());
  CHECK(e.OnUnreached(9999, "boonmee", ActionNeeded::kConfirm, {}, T0() + 5min).timeline.empty());
  CHECK(e.OnUnreached(id, "officer-niran", ActionNeeded::kDeclare, {}, T0() + 5min).timeline.empty());
}

TEST_CASE("reach: a headman whose every channel failed is passed over at once, and the log says why",
          "[alerting][reach]") {
  Network net = TonHong();
  net.delivery.not_reached = 5min;
  Engine e(net);
  const auto id = OpenByReport(e);
  Ack(e, id, T0() + 1min);
  // A minute after he was asked: long before the wait, the SMS was refused and LINE failed.
  Effects fx = e.OnUnreached(id, "boonmee", ActionNeeded::kConfirm, {}, T0() + 2min, /*every_channel_failed=*/true);
  CHECK(Logged(fx, "reach", "could not be reached: every channel failed") == 1);
  CHECK(Logged(fx, "reach", "within") == 0);
  CHECK(Logged(fx, "escalation", "the deputy is asked now") == 1);
  CHECK(CountNotes(fx, "suda", ActionNeeded::kConfirm) == 1);
}

TEST_CASE(
    "reminders: every interval three times, then slower, doubling up to two hours, the log keeps three lines "
    "and the count says the rest",
    "[alerting][reach]") {
  Network net = TonHong();
  Engine e(net);
  const auto id = OpenByReport(e);
  Ack(e, id, T0());
  // Nobody confirms: the incident reaches the TAO at T0 + 15 min; from then on the TAO is reminded every 5 min,
  // then slower.
  std::vector<TimePoint> reminded;
  int logged = 0;
  // (Within the six hours after which an incident of a river that stayed normal resolves by itself.)
  for (TimePoint t = T0(); t <= T0() + 5h + 30min; t += 1min) {
    Effects fx = e.Advance(t);
    for (const auto& n : fx.notifications) {
      if (n.user == "officer-niran" && n.reminder) reminded.push_back(t);
    }
    logged += Logged(fx, "reminder", "to officer-niran");
  }
  REQUIRE(reminded.size() >= 6);
  const auto gap = [&](std::size_t i) { return reminded[i] - reminded[i - 1]; };
  CHECK(gap(1) == 5min);
  CHECK(gap(2) == 5min);
  CHECK(gap(3) == 10min);
  CHECK(gap(4) == 20min);
  CHECK(gap(5) == 40min);
  CHECK(gap(6) == 80min);
  CHECK(gap(7) == 2h);          // the slowest
  CHECK(reminded.size() == 8);  // 5 h 15 min of silence: 8 reminders, not 63
  CHECK(logged == 3);
  int count = 0;
  for (const auto& a : e.FindIncident(id)->asks) {
    if (a.user == "officer-niran" && a.action == ActionNeeded::kDeclare) count = std::max(count, a.reminders);
  }
  CHECK(count == 8);
}
