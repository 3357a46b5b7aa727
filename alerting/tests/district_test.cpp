// The district above the TAO (issue 24, item 5): when the TAO misses its deadline the district is told once, with
// the village, the level and since when the TAO is silent; it has its own deadline and reminders (slower after the
// third, counted rather than logged); it may acknowledge ("seen, on it"), declare and give the all-clear.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "kaoko/alerting/decision_policy.hpp"
#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;
using namespace std::chrono_literals;

namespace {

// Ton Hong with the district's disaster officer and the district chief's office above the TAO.
Network WithDistrict() {
  Network n = TonHong();
  n.people.push_back(MakePerson("amphoe-dpm", "ปลัดอำเภอฝ่ายป้องกัน", "District disaster officer", Role::kDistrict, ""));
  n.people.push_back(MakePerson("amphoe-chief", "นายอำเภอพรหมคีรี", "Phrom Khiri district chief", Role::kDistrict, ""));
  n.escalation.district_act = 30min;
  return n;
}

Effects Decide(Engine& e, const std::string& user, const std::string& id, std::int64_t incident, DecisionAction a,
               TimePoint at, std::optional<Level> level = std::nullopt) {
  return e.OnDecision(MakeDecision(user, id, "kaoko", incident, a, at, level), at);
}

// A warning reported in Ban Kao Ko at T0, acknowledged and confirmed at once: the TAO is asked, due at T0 + 20 min.
std::int64_t EscalatedAtT0(Engine& e) {
  Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0());
  REQUIRE(fx.receipts.size() == 1);
  const std::int64_t id = *fx.receipts[0].incident;
  REQUIRE(Decide(e, "prasert", "d-1", id, DecisionAction::kAck, T0()).receipts[0].ok);
  REQUIRE(Decide(e, "boonmee", "d-2", id, DecisionAction::kConfirm, T0()).receipts[0].ok);
  REQUIRE(e.FindIncident(id)->stage == Stage::kEscalated);
  return id;
}

// Only incident `id`'s: the confirmed warning also opens watches downstream, whose chains reach the district too.
int FirstNotes(const Effects& fx, std::int64_t id, std::string_view user) {
  int n = 0;
  for (const Notification& note : fx.notifications) n += note.incident == id && note.user == user && !note.reminder;
  return n;
}

int Reminders(const Effects& fx, std::int64_t id, std::string_view user) {
  int n = 0;
  for (const Notification& note : fx.notifications) n += note.incident == id && note.user == user && note.reminder;
  return n;
}

int ReminderLinesFor(const Effects& fx, std::int64_t id, std::string_view user) {
  int n = 0;
  for (const TimelineEvent& t : fx.timeline) {
    n += t.incident == id && t.kind == "reminder" && t.text_en.find(user) != std::string::npos;
  }
  return n;
}

const Ask* AskOf(const Incident& inc, std::string_view user) {
  for (const Ask& a : inc.asks) {
    if (a.user == user) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("district: a silent TAO reaches the district once, with the village, the level and since when",
          "[alerting][district]") {
  Network net = WithDistrict();
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  Effects fx = e.Advance(T0() + 20min - 1s);
  CHECK(FirstNotes(fx, id, "amphoe-dpm") == 0);
  CHECK_FALSE(e.FindIncident(id)->district_notified_at);

  fx = e.Advance(T0() + 20min);
  const Incident* inc = e.FindIncident(id);
  REQUIRE(inc);
  CHECK(inc->tao_overdue);
  CHECK(inc->tao_overdue_since == T0() + 20min);
  CHECK(inc->district_notified_at == T0() + 20min);
  CHECK(inc->district_deadline == T0() + 50min);
  CHECK(fx.cap_changed);
  // The village's alert says since when the TAO is overdue and when the district was told.
  REQUIRE_FALSE(fx.alerts.empty());
  CHECK(fx.alerts.back().village == "kaoko");
  CHECK(fx.alerts.back().tao_overdue_since == T0() + 20min);
  CHECK(fx.alerts.back().district_notified_at == T0() + 20min);
  CHECK(e.Alert("kaoko")->tao_overdue_since == T0() + 20min);
  for (const std::string user : {"amphoe-dpm", "amphoe-chief"}) {
    INFO(user);
    CHECK(FirstNotes(fx, id, user) == 1);
    const Notification* n = nullptr;
    for (const Notification& note : fx.notifications) {
      if (!n && note.incident == id && note.user == user) n = &note;
    }
    REQUIRE(n);
    CHECK(n->action_needed == ActionNeeded::kDeclare);
    CHECK(n->deadline == T0() + 50min);
    CHECK(n->level == Level::kWarning);
    // Thai first: which village, the level, and since when the TAO is silent (asked at 11:00 Thai time, due 11:20).
    CHECK(n->text_th.find("บ้านเก้ากอ") != std::string::npos);
    CHECK(n->text_th.find(ThaiName(Level::kWarning)) != std::string::npos);
    CHECK(n->text_th.find("อบต. ไม่ตอบตั้งแต่ 11:00 น.") != std::string::npos);
    CHECK(n->text_en.find("Ban Kao Ko") != std::string::npos);
    CHECK(n->text_en.find("the TAO has been silent since 11:00") != std::string::npos);
  }
  CHECK(e.NextDeadline() <= T0() + 25min);

  // Once: later deadlines and reminders do not tell the district again as new.
  fx = e.Advance(T0() + 24min);
  CHECK(FirstNotes(fx, id, "amphoe-dpm") == 0);
  CHECK(e.FindIncident(id)->district_notified_at == T0() + 20min);
}

TEST_CASE("district: its reminders slow down after the third and are counted, not logged line by line",
          "[alerting][district]") {
  Network net = WithDistrict();
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  (void)e.Advance(T0() + 20min);
  // Asked at 20: reminded at 25, 30, 35, then ten minutes later (45), then twenty (65).
  int reminders = 0;
  int lines = 0;
  std::vector<int> at;
  for (int m = 21; m <= 70; ++m) {
    Effects fx = e.Advance(T0() + std::chrono::minutes(m));
    const int r = Reminders(fx, id, "amphoe-dpm");
    if (r) at.push_back(m);
    reminders += r;
    lines += ReminderLinesFor(fx, id, "amphoe-dpm");
    for (const Notification& n : fx.notifications) {
      // The district's deadline until it passes; none after (it is overdue, docs/district.md).
      if (n.incident == id && n.user == "amphoe-dpm")
        CHECK(n.deadline == (m < 50 ? std::optional(T0() + 50min) : std::nullopt));
    }
  }
  CHECK(at == std::vector<int>{25, 30, 35, 45, 65});
  CHECK(reminders == 5);
  CHECK(lines == 3);  // the first three; after that the ask's counter says how many
  const Ask* a = AskOf(*e.FindIncident(id), "amphoe-dpm");
  REQUIRE(a);
  CHECK(a->reminders == 5);
  CHECK(a->open);
}

TEST_CASE("district: its own deadline passes: marked overdue and logged once, the reminders go on",
          "[alerting][district]") {
  Network net = WithDistrict();
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  (void)e.Advance(T0() + 20min);
  Effects fx = e.Advance(T0() + 50min - 1s);
  CHECK_FALSE(e.FindIncident(id)->district_overdue);
  fx = e.Advance(T0() + 50min);
  CHECK(e.FindIncident(id)->district_overdue);
  CHECK_FALSE(e.FindIncident(id)->district_deadline);
  int logged = 0;
  for (const TimelineEvent& t : fx.timeline) {
    logged += t.incident == id && t.text_en.find("the district has not answered") != std::string::npos;
  }
  CHECK(logged == 1);
  fx = e.Advance(T0() + 3h);
  CHECK(Reminders(fx, id, "amphoe-dpm") == 1);
  for (const TimelineEvent& t : fx.timeline) {
    if (t.incident == id) CHECK(t.text_en.find("the district has not answered") == std::string::npos);
  }
}

TEST_CASE("district: a district person acknowledges, declares or gives the all-clear as the TAO would",
          "[alerting][district]") {
  Network net = WithDistrict();
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  (void)e.Advance(T0() + 20min);

  SECTION("ack: seen, on it: the district's reminders stop, the chain below is not moved") {
    Effects fx = Decide(e, "amphoe-dpm", "a-1", id, DecisionAction::kAck, T0() + 22min);
    REQUIRE(fx.receipts.size() == 1);
    CHECK(fx.receipts[0].ok);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->district_acked_by == "amphoe-dpm");
    CHECK_FALSE(inc->district_deadline);
    CHECK(inc->stage == Stage::kEscalated);
    CHECK(inc->tao_overdue);
    fx = e.Advance(T0() + 2h);
    CHECK(Reminders(fx, id, "amphoe-dpm") == 0);
    CHECK(Reminders(fx, id, "amphoe-chief") == 0);
    CHECK_FALSE(e.FindIncident(id)->district_overdue);
    CHECK(Reminders(fx, id, "officer-niran") >= 1);  // the TAO is still asked
  }
  SECTION("declare: the incident is declared, the village told, every reminder stops") {
    Effects fx = Decide(e, "amphoe-chief", "a-2", id, DecisionAction::kDeclare, T0() + 25min, Level::kWarning);
    REQUIRE(fx.receipts.size() == 1);
    CHECK(fx.receipts[0].ok);
    const Incident* inc = e.FindIncident(id);
    CHECK(inc->stage == Stage::kDeclared);
    CHECK(inc->declared_by == "amphoe-chief");
    CHECK_FALSE(inc->tao_overdue);
    CHECK_FALSE(inc->district_deadline);
    CHECK(inc->district_notified_at == T0() + 20min);  // the history stays
    fx = e.Advance(T0() + 3h);
    CHECK(Reminders(fx, id, "amphoe-dpm") == 0);
    CHECK(Reminders(fx, id, "officer-niran") == 0);
  }
  SECTION("all_clear ends it") {
    Effects fx = Decide(e, "amphoe-dpm", "a-3", id, DecisionAction::kAllClear, T0() + 25min);
    REQUIRE(fx.receipts.size() == 1);
    CHECK(fx.receipts[0].ok);
    CHECK(e.FindIncident(id)->stage == Stage::kResolved);
  }
  SECTION("confirm stays the headman's") {
    Effects fx = Decide(e, "amphoe-dpm", "a-4", id, DecisionAction::kConfirm, T0() + 25min);
    REQUIRE(fx.receipts.size() == 1);
    CHECK_FALSE(fx.receipts[0].ok);
  }
}

TEST_CASE("district: no TAO officer reachable tells the district at once", "[alerting][district]") {
  Network net = WithDistrict();
  net.delivery.not_reached = 5min;
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  Effects fx = e.OnUnreached(id, "officer-niran", ActionNeeded::kDeclare, {"officer-pim"}, T0() + 6min);
  const Incident* inc = e.FindIncident(id);
  CHECK(inc->tao_overdue);
  CHECK(inc->tao_overdue_since == T0() + 6min);
  CHECK(inc->district_notified_at == T0() + 6min);
  CHECK(FirstNotes(fx, id, "amphoe-dpm") == 1);
  // The TAO's own deadline passing later does not tell the district a second time.
  fx = e.Advance(T0() + 20min);
  CHECK(FirstNotes(fx, id, "amphoe-dpm") == 0);
  CHECK(e.FindIncident(id)->tao_overdue_since == T0() + 6min);
  // A district person not reached is logged; nothing below moves.
  fx = e.OnUnreached(id, "amphoe-dpm", ActionNeeded::kDeclare, {}, T0() + 26min);
  CHECK(e.FindIncident(id)->stage == Stage::kEscalated);
}

TEST_CASE("district: a network without a district keeps working and says nobody is above the TAO",
          "[alerting][district]") {
  Network net = TonHong();
  Engine e(net);
  const std::int64_t id = EscalatedAtT0(e);
  Effects fx = e.Advance(T0() + 20min);
  const Incident* inc = e.FindIncident(id);
  CHECK(inc->tao_overdue);
  CHECK(inc->tao_overdue_since == T0() + 20min);
  CHECK_FALSE(inc->district_notified_at);
  CHECK_FALSE(inc->district_deadline);
  CHECK(CountEventsFor(fx, id, "district") == 1);
  fx = e.Advance(T0() + 25min);
  CHECK(CountEventsFor(fx, id, "district") == 0);
}
