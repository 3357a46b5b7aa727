// Station clocks and late data (issue 24, items 1 and 2): a station whose clock was reset or runs ahead is `suspect`
// with the problem named, and its water is evaluated by arrival time; a reading evaluated long after it was measured
// says so in what it raises, and a backlog older than the backlog limit pages nobody as new, but the TAO is told once.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {

// kaoko-bridge: watch 250, warning 320, critical 400 (test_network.hpp); persistence 2 readings. The water goes from
// 240 to 330 cm: under the spike limit (150 cm a reading), a fast rise.
constexpr const char* kBridge = "kaoko-bridge";

const Incident* HealthIncident(const Engine& e, const std::string& station) {
  for (const Incident* i : e.OpenIncidents()) {
    if (i->kind == IncidentKind::kStation && i->station == station) return i;
  }
  return nullptr;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

int CountNotesOfKind(const Effects& fx, ActionNeeded action) {
  int n = 0;
  for (const Notification& x : fx.notifications) n += x.action_needed == action ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("clock: a station whose clock jumps backwards is suspect (clock reset) and still alerts by arrival time",
          "[alerting][clock]") {
  Network net = TonHong();
  Engine e(net);
  std::uint64_t seq = 1;
  TimePoint now = T0();
  for (int i = 0; i < 3; ++i, now += 10min) (void)e.OnReading(MakeReading(kBridge, seq++, now, 240), now);
  CHECK(e.Health(kBridge, now - 10min) == StationHealth::kOk);
  // The RTC lost its time in a power cut: seq goes on, ts starts again at 2000-01-01.
  const TimePoint reset = TimePoint{std::chrono::sys_days{std::chrono::year{2000} / 1 / 1}};
  Effects all;
  for (int i = 0; i < 4; ++i, now += 10min) {
    Effects fx = e.OnReading(MakeReading(kBridge, seq++, reset + i * 10min, 330), now);
    for (auto& n : fx.notifications) all.notifications.push_back(n);
    for (auto& t : fx.timeline) all.timeline.push_back(t);
  }
  const TimePoint last = now - 10min;
  // Heard but its time cannot be trusted: never ok.
  CHECK(e.Health(kBridge, last) == StationHealth::kSuspect);
  const StationTrack* t = e.FindStationTrack(kBridge);
  REQUIRE(t);
  CHECK(Has(ProblemNames(t->problems), "clock reset"));
  CHECK(Has(ProblemNames(t->problems, true), "นาฬิกาสถานีถูกรีเซ็ต"));
  // A technician incident names it, for the TAO.
  const Incident* h = HealthIncident(e, kBridge);
  REQUIRE(h);
  CHECK(Has(h->detail_en, "clock reset"));
  CHECK(Has(h->headline_th, "นาฬิกาสถานีถูกรีเซ็ต"));
  // The water rose to warning (330 cm): evaluated as measured at arrival, so the village is alerted.
  REQUIRE(e.Alert("kaoko")->incident.has_value());
  CHECK(e.Alert("kaoko")->level >= Level::kWarning);
  CHECK(t->level >= Level::kWarning);
  CHECK(CountNotesOfKind(all, ActionNeeded::kAck) >= 1);

  SECTION("the clock set right again: after a few readings the problem clears") {
    for (int i = 0; i < 3; ++i, now += 10min) (void)e.OnReading(MakeReading(kBridge, seq++, now, 330), now);
    CHECK_FALSE(Has(ProblemNames(e.FindStationTrack(kBridge)->problems), "clock"));
    CHECK(e.Health(kBridge, now - 10min) == StationHealth::kOk);
    CHECK(HealthIncident(e, kBridge) == nullptr);
  }
}

TEST_CASE("clock: a station whose clock runs 2 h ahead is suspect (clock ahead 2 h), its readings used, not offline",
          "[alerting][clock]") {
  Network net = TonHong();
  Engine e(net);
  std::uint64_t seq = 1;
  TimePoint now = T0();
  Effects last;
  for (int i = 0; i < 6; ++i, now += 10min) {
    last = e.OnReading(MakeReading(kBridge, seq++, now + 2h, i < 3 ? 240.0 : 330.0), now);
    last = e.Advance(now);
  }
  now -= 10min;
  CHECK(e.Health(kBridge, now) == StationHealth::kSuspect);
  const Incident* h = HealthIncident(e, kBridge);
  REQUIRE(h);
  CHECK(Has(h->detail_en, "clock ahead 2 h"));
  CHECK(Has(h->detail_th, "นาฬิกาสถานีเร็วไป 2 ชม."));
  CHECK_FALSE((h->problems & kProblemOffline));
  // Its readings were evaluated (at arrival): the warning reached the village.
  CHECK(e.Alert("kaoko")->level >= Level::kWarning);
  // An hour later with nothing more heard the station is offline as any silent one; heard it is not.
  (void)e.Advance(now + 20min);
  CHECK(e.Health(kBridge, now + 20min) == StationHealth::kSuspect);
}

TEST_CASE("late: a reading measured hours ago says when it was measured in what it raises", "[alerting][late]") {
  Network net = TonHong();
  Engine e(net);
  // A station silent since 01:00Z (08:00 Thai) flushes readings measured 45 and 40 minutes ago at 04:00Z.
  const TimePoint now = T0();
  (void)e.OnReading(MakeReading(kBridge, 1, now - 3h, 240), now - 3h);
  Effects fx1 = e.OnReading(MakeReading(kBridge, 2, now - 45min, 330), now);
  Effects fx2 = e.OnReading(MakeReading(kBridge, 3, now - 40min, 332), now);
  REQUIRE(e.Alert("kaoko")->incident.has_value());
  const Incident* inc = e.FindIncident(*e.Alert("kaoko")->incident);
  // 03:20Z = 10:20 Thai time, 40 minutes ago.
  CHECK(Has(inc->headline_th, "วัดได้เมื่อ 10:20"));
  CHECK(Has(inc->headline_en, "measured at 10:20"));
  CHECK(Has(inc->headline_en, "40 min ago"));
  const Notification* n = FindNote(fx2, "prasert");
  REQUIRE(n);
  CHECK(Has(n->text_en, "measured at 10:20"));
  CHECK(Has(n->text_th, "วัดได้เมื่อ 10:20"));
  CHECK(CountEvents(fx2, "trigger") == 1);
  for (const TimelineEvent& ev : fx2.timeline) {
    if (ev.kind == "trigger") CHECK(Has(ev.text_en, "measured at 10:20"));
  }
}

TEST_CASE("backlog: two hours of readings after an outage page the committee at most once, and say when measured",
          "[alerting][late]") {
  Network net = TonHong();
  Engine e(net);
  TimePoint now = T0();
  (void)e.OnReading(MakeReading(kBridge, 1, now, 240), now);
  // Out from 04:10Z to 06:00Z; the water rose at 04:30Z and stayed up. Flushed at 06:10Z, one a second: the first
  // readings older than the backlog limit (2 h), the rest late.
  const TimePoint flush = now + 2h;
  Effects all;
  std::uint64_t seq = 2;
  for (TimePoint ts = now + 10min; ts <= flush; ts += 10min) {
    const TimePoint arrival = flush + 10min + std::chrono::seconds(seq);
    Effects fx = e.OnReading(MakeReading(kBridge, seq++, ts, ts >= now + 30min ? 330.0 : 240.0), arrival);
    for (auto& n : fx.notifications) all.notifications.push_back(n);
    for (auto& t : fx.timeline) all.timeline.push_back(t);
  }
  // One page for the committee member, naming when the water was measured.
  CHECK(CountNotes(all, "prasert", ActionNeeded::kAck) == 1);
  const Notification* n = FindNote(all, "prasert");
  REQUIRE(n);
  CHECK(Has(n->text_en, "measured at"));
  CHECK(e.Alert("kaoko")->level >= Level::kWarning);
}

TEST_CASE("backlog: readings all older than the backlog limit page nobody as new, and the TAO sees one line",
          "[alerting][late]") {
  Network net = TonHong();
  Engine e(net);
  TimePoint now = T0();
  (void)e.OnReading(MakeReading(kBridge, 1, now, 240), now);
  // Silent for 5 hours; the buffer of 04:10Z..06:00Z (the water high) arrives at 09:00Z; then the live reading, low.
  const TimePoint arrival = now + 5h;
  Effects all;
  std::uint64_t seq = 2;
  int sent = 0;
  for (TimePoint ts = now + 10min; ts <= now + 2h; ts += 10min, ++sent) {
    Effects fx = e.OnReading(MakeReading(kBridge, seq++, ts, 330), arrival);
    for (auto& x : fx.notifications) all.notifications.push_back(x);
    for (auto& t : fx.timeline) all.timeline.push_back(t);
  }
  Effects fx = e.OnReading(MakeReading(kBridge, seq++, arrival, 200), arrival + 1min);
  for (auto& x : fx.notifications) all.notifications.push_back(x);
  for (auto& t : fx.timeline) all.timeline.push_back(t);
  fx = e.Advance(arrival + 2min);
  for (auto& t : fx.timeline) all.timeline.push_back(t);
  // Nobody paged as new: no flood incident, no ask.
  CHECK(CountNotesOfKind(all, ActionNeeded::kAck) == 0);
  CHECK(CountNotesOfKind(all, ActionNeeded::kConfirm) == 0);
  CHECK_FALSE(e.Alert("kaoko")->incident.has_value());
  // The history was evaluated all the same: the rate and level moved through it (now low again).
  CHECK(e.FindStationTrack(kBridge)->level == Level::kNormal);
  // The TAO sees the backlog once.
  int lines = 0;
  for (const TimelineEvent& ev : all.timeline) {
    if (ev.kind != "backlog") continue;
    ++lines;
    CHECK(Has(ev.text_en, fmt::format("sent {} readings", sent)));
    CHECK(Has(ev.text_en, "from 11:10 to 13:00"));
    CHECK(Has(ev.text_th, "ย้อนหลัง"));
  }
  CHECK(lines == 1);
}

TEST_CASE("late: a watcher report from the future is refused with a receipt that says so, an old one pages nobody",
          "[alerting][late]") {
  Network net = TonHong();
  Engine e(net);
  const TimePoint now = T0();
  Effects fx = e.OnReport(MakeReport("somchai", "r-f", "kaoko", Level::kWarning, now + 1h), now);
  REQUIRE(fx.receipts.size() == 1);
  CHECK_FALSE(fx.receipts[0].ok);
  CHECK(Has(fx.receipts[0].error, "ahead of kaoko's clock"));
  CHECK_FALSE(e.Alert("kaoko")->incident.has_value());
  SECTION("a report seen three hours ago is recorded, pages nobody as new") {
    fx = e.OnReport(MakeReport("somchai", "r-old", "kaoko", Level::kWarning, now - 3h), now);
    REQUIRE(fx.receipts.size() == 1);
    CHECK(fx.receipts[0].ok);
    CHECK(CountNotesOfKind(fx, ActionNeeded::kAck) == 0);
    CHECK_FALSE(e.Alert("kaoko")->incident.has_value());
  }
  SECTION("a report seen 40 minutes ago pages, and says when") {
    fx = e.OnReport(MakeReport("somchai", "r-late", "kaoko", Level::kWarning, now - 40min), now);
    REQUIRE(fx.receipts.size() == 1);
    CHECK(fx.receipts[0].ok);
    const Notification* n = FindNote(fx, "prasert");
    REQUIRE(n);
    CHECK(Has(n->text_en, "at 10:20"));
  }
}
