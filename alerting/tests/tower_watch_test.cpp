// The village's towers and sirens as devices (tower_watch.hpp): every siren change is announced to them, each one
// must say that it sounded within its answer time, and the timeline and the TAO learn who did not.
#include <catch2/catch.hpp>

#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {

Device MakeDevice(std::string id, std::string village, DeviceKind kind, int answer_seconds = 60) {
  Device d;
  d.id = std::move(id);
  d.village = std::move(village);
  d.kind = kind;
  d.name_th = "หอกระจายข่าว";
  d.name_en = "tower";
  d.answer_after = std::chrono::seconds(answer_seconds);
  return d;
}

// Ton Hong with a tower in Ban Kao Ko and in Ban Thon Hong, and a siren in Ban Kao Ko that answers within 30 s.
Network WithDevices() {
  Network net = TonHong();
  net.devices = {MakeDevice("tower-kaoko", "kaoko", DeviceKind::kTower),
                 MakeDevice("siren-kaoko", "kaoko", DeviceKind::kSiren, 30),
                 MakeDevice("tower-thonhong", "thonhong", DeviceKind::kTower)};
  return net;
}

// Kao Ko bridge at critical at T0 + 10 min: the siren goes on. Returns the effects of the second reading.
Effects Critical(Engine& e) {
  Feeder feed{e};
  (void)feed("kaoko-bridge", 400, T0());
  return feed("kaoko-bridge", 401, T0() + 10min);
}
TimePoint SirenAt() { return T0() + 10min; }

DeviceSounded Sounded(std::string device, std::string announce, TimePoint ts, bool ok = true, std::string note = "",
                      std::string village = "kaoko") {
  return DeviceSounded{std::move(device), std::move(village), std::move(announce), ts, ok, std::move(note)};
}

const TimelineEvent* FindEvent(const Effects& fx, std::string_view kind, std::string_view actor) {
  for (const TimelineEvent& e : fx.timeline) {
    if (e.kind == kind && e.actor == actor) return &e;
  }
  return nullptr;
}

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("towers: a siren change is announced to the village's devices, each expected by its deadline",
          "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  Effects fx = Critical(e);
  REQUIRE(fx.sirens.size() == 1);
  REQUIRE(fx.announcements.size() == 1);
  const Announcement& a = fx.announcements[0];
  const std::int64_t id = e.Alert("kaoko")->incident.value();
  CHECK(a.village == "kaoko");
  CHECK(a.id == "a-1");
  CHECK(a.incident == id);
  CHECK(a.on);
  CHECK(a.level == Level::kCritical);
  CHECK(a.play == Play::kEvacuate);
  CHECK(a.ts == SirenAt());
  CHECK_FALSE(a.exercise);
  CHECK(Contains(a.text_th, "บ้านเก้ากอ"));
  CHECK(Contains(a.text_en, "Ban Kao Ko"));
  // No person's name in what every loudspeaker reads out.
  for (const Person& p : net.people) {
    CHECK_FALSE(Contains(a.text_th, p.name_th));
    CHECK_FALSE(Contains(a.text_en, p.name_en));
  }
  CHECK(CountEventsFor(fx, id, "tower") == 1);  // "announcement a-1 (evacuate) to tower-kaoko, siren-kaoko"
  // The siren answers within 30 s, the tower within 60 s: the engine wakes for the first.
  CHECK(e.NextDeadline() <= SirenAt() + 30s);
  // A village without devices still gets the announcement (retained for any loudspeaker), and owes no answer.
  CHECK(e.ExportVillage("huaiphan").towers.empty());
  CHECK(e.ExportVillage("kaoko").towers.size() == 2);
}

TEST_CASE("towers: sounded in time is on the timeline with the Thai time, and nothing is due any more",
          "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  (void)Critical(e);
  const std::int64_t id = e.Alert("kaoko")->incident.value();
  // 04:10:20 UTC is 11:10 in Thailand.
  Effects fx = e.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt() + 20s), SirenAt() + 21s);
  CHECK_FALSE(fx.error);
  const TimelineEvent* ev = FindEvent(fx, "tower", "tower-kaoko");
  REQUIRE(ev);
  CHECK(ev->incident == id);
  CHECK(ev->via == "mqtt");
  CHECK(Contains(ev->text_th, "หอกระจายข่าวบ้านเก้ากอ ดังแล้วเวลา 11:10 น."));
  CHECK(Contains(ev->text_en, "the tower in Ban Kao Ko sounded at 11:10 Thai time"));
  CHECK(fx.notifications.empty());
  fx = e.OnDeviceSounded(Sounded("siren-kaoko", "a-1", SirenAt() + 5s), SirenAt() + 6s);
  REQUIRE(FindEvent(fx, "tower", "siren-kaoko"));
  CHECK(Contains(FindEvent(fx, "tower", "siren-kaoko")->text_en, "the siren in Ban Kao Ko sounded at"));

  SECTION("a repeat of the answer (QoS 1) is recorded once") {
    Effects again = e.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt() + 20s), SirenAt() + 30s);
    CHECK(again.Empty());
  }
  SECTION("the deadline passes without a word: both answered") {
    Effects later = e.Advance(SirenAt() + 61s);
    CHECK(CountEvents(later, "tower") == 0);
    CHECK(CountNotes(later, "officer-niran", ActionNeeded::kNone) == 0);
    CHECK(e.ExportVillage("kaoko").towers.empty());  // settled, and forgotten
  }
}

TEST_CASE("towers: a silent tower is on the timeline at its deadline and the TAO officers are told",
          "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  (void)Critical(e);
  const std::int64_t id = e.Alert("kaoko")->incident.value();
  (void)e.OnDeviceSounded(Sounded("siren-kaoko", "a-1", SirenAt() + 5s), SirenAt() + 6s);

  Effects before = e.Advance(SirenAt() + 59s);
  CHECK(CountEvents(before, "tower") == 0);
  REQUIRE(e.NextDeadline());
  CHECK(*e.NextDeadline() <= SirenAt() + 60s);

  Effects fx = e.Advance(SirenAt() + 60s);
  const TimelineEvent* ev = FindEvent(fx, "tower", "tower-kaoko");
  REQUIRE(ev);
  CHECK(ev->incident == id);
  CHECK(Contains(ev->text_th, "หอกระจายข่าวบ้านเก้ากอ ไม่ตอบภายใน 60 วินาที"));
  CHECK(Contains(ev->text_en, "the tower in Ban Kao Ko did not answer within 60 s"));
  for (const char* officer : {"officer-niran", "officer-pim"}) {
    INFO(officer);
    REQUIRE(CountNotesFor(fx, id, officer, ActionNeeded::kNone) == 1);
    CHECK(Contains(FindNote(fx, officer)->text_en, "did not answer within 60 s"));
    CHECK(Contains(FindNote(fx, officer)->text_th, "ไม่ตอบภายใน 60 วินาที"));
  }
  CHECK(CountNotes(fx, "boonmee", ActionNeeded::kNone) == 0);  // the village is not told its tower failed
  CHECK_FALSE(FindEvent(fx, "tower", "siren-kaoko"));          // the siren answered

  SECTION("told once") {
    Effects again = e.Advance(SirenAt() + 10min);
    CHECK_FALSE(FindEvent(again, "tower", "tower-kaoko"));
  }
  SECTION("a late answer is recorded as late") {
    Effects late = e.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt() + 3min), SirenAt() + 3min);
    CHECK_FALSE(late.error);
    const TimelineEvent* l = FindEvent(late, "tower", "tower-kaoko");
    REQUIRE(l);
    CHECK(Contains(l->text_en, "the tower in Ban Kao Ko sounded late, at 11:13 Thai time"));
    CHECK(Contains(l->text_th, "ดังช้า เวลา 11:13 น."));
  }
  SECTION("an answer after the deadline but before Advance is late too") {
    Engine fresh(net);
    (void)Critical(fresh);
    Effects late = fresh.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt() + 70s), SirenAt() + 70s);
    REQUIRE(FindEvent(late, "tower", "tower-kaoko"));
    CHECK(Contains(FindEvent(late, "tower", "tower-kaoko")->text_en, "sounded late"));
  }
  SECTION("a missed announcement is forgotten after a while; an answer then is refused") {
    (void)e.Advance(SirenAt() + 60s + TowerWatch::kKeepMissed);
    Effects gone = e.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt()), SirenAt() + 7h);
    REQUIRE(gone.error);
    CHECK(Contains(*gone.error, "a-1"));
  }
}

TEST_CASE("towers: a device that could not play is recorded with its note and the TAO is told", "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  (void)Critical(e);
  const std::int64_t id = e.Alert("kaoko")->incident.value();
  Effects fx =
      e.OnDeviceSounded(Sounded("tower-kaoko", "a-1", SirenAt() + 10s, false, "ฟิวส์เครื่องขยายเสียงขาด"), SirenAt() + 10s);
  CHECK_FALSE(fx.error);
  const TimelineEvent* ev = FindEvent(fx, "tower", "tower-kaoko");
  REQUIRE(ev);
  CHECK(Contains(ev->text_th, "เล่นประกาศ a-1 ไม่ได้: ฟิวส์เครื่องขยายเสียงขาด"));
  CHECK(Contains(ev->text_en, "the tower in Ban Kao Ko could not play announcement a-1: ฟิวส์เครื่องขยายเสียงขาด"));
  CHECK(CountNotesFor(fx, id, "officer-niran", ActionNeeded::kNone) == 1);
  // It answered: its deadline does not also report it silent.
  Effects later = e.Advance(SirenAt() + 61s);
  CHECK_FALSE(FindEvent(later, "tower", "tower-kaoko"));
}

TEST_CASE("towers: unknown device, wrong village and unknown announcement are refused", "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  (void)Critical(e);
  Effects unknown = e.OnDeviceSounded(Sounded("tower-nowhere", "a-1", SirenAt()), SirenAt() + 1s);
  REQUIRE(unknown.error);
  CHECK(Contains(*unknown.error, "not in the network file"));
  CHECK(unknown.timeline.empty());
  Effects wrong = e.OnDeviceSounded(Sounded("tower-thonhong", "a-1", SirenAt(), true, "", "kaoko"), SirenAt() + 1s);
  REQUIRE(wrong.error);
  CHECK(Contains(*wrong.error, "belongs to village 'thonhong'"));
  // Thon Hong's tower was not sent Kao Ko's announcement.
  Effects other = e.OnDeviceSounded(Sounded("tower-thonhong", "a-1", SirenAt(), true, "", "thonhong"), SirenAt() + 1s);
  REQUIRE(other.error);
  Effects never = e.OnDeviceSounded(Sounded("tower-kaoko", "a-99", SirenAt()), SirenAt() + 1s);
  REQUIRE(never.error);
  CHECK(never.timeline.empty());
}

TEST_CASE("towers: a drill is announced as a drill and never turns a real siren on", "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  Effects fx = e.StartDrill("kaoko", "officer-niran", T0(), Level::kCritical);
  REQUIRE(fx.sirens.size() == 1);
  CHECK_FALSE(fx.sirens[0].on);
  CHECK(fx.sirens[0].exercise);
  REQUIRE(fx.announcements.size() == 1);
  const Announcement& a = fx.announcements[0];
  CHECK(a.play == Play::kDrill);
  CHECK(a.exercise);
  CHECK_FALSE(a.on);
  CHECK(Contains(a.text_th, "[ฝึกซ้อม]"));
  CHECK(Contains(a.text_en, "[EXERCISE]"));
  CHECK_FALSE(Contains(a.text_th, "นิรันดร์"));  // the drill's own headline names who started it; the tower must not
  const std::int64_t drill = a.incident;

  SECTION("a drill's silent tower is reported too, as an exercise") {
    Effects late = e.Advance(T0() + 60s);
    REQUIRE(FindEvent(late, "tower", "tower-kaoko"));
    const Notification* n = FindNote(late, "officer-pim");
    REQUIRE(n);
    CHECK(n->exercise);
    CHECK(n->incident == drill);
  }
  SECTION("the drill's end is an all-clear, still an exercise") {
    Effects end = e.OnDecision(
        MakeDecision("officer-niran", "d-9", "kaoko", drill, DecisionAction::kAllClear, T0() + 5min), T0() + 5min);
    REQUIRE(end.announcements.size() == 1);
    CHECK(end.announcements[0].play == Play::kAllClear);
    CHECK(end.announcements[0].exercise);
    CHECK_FALSE(end.announcements[0].on);
    CHECK(end.announcements[0].id == "a-2");
  }
}

TEST_CASE("towers: the TAO's declaration and all-clear are announced with what to play", "[alerting][towers]") {
  Network net = WithDevices();
  Engine e(net);
  Effects r = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0());
  const std::int64_t id = *r.receipts[0].incident;
  CHECK(r.announcements.empty());  // no siren yet
  Effects d = e.OnDecision(
      MakeDecision("officer-niran", "d-1", "kaoko", id, DecisionAction::kDeclare, T0() + 1min, Level::kWarning),
      T0() + 1min);
  REQUIRE(d.announcements.size() == 1);
  CHECK(d.announcements[0].play == Play::kWarning);
  CHECK(d.announcements[0].on);
  Effects w = e.OnDecision(
      MakeDecision("officer-niran", "d-2", "kaoko", id, DecisionAction::kDeclare, T0() + 2min, Level::kWatch),
      T0() + 2min);
  REQUIRE(w.announcements.size() == 1);
  CHECK(w.announcements[0].play == Play::kWatch);  // siren off, but the incident goes on: not an all-clear
  CHECK_FALSE(w.announcements[0].on);
  (void)e.OnDecision(
      MakeDecision("officer-niran", "d-3", "kaoko", id, DecisionAction::kDeclare, T0() + 3min, Level::kCritical),
      T0() + 3min);
  Effects end = e.OnDecision(MakeDecision("officer-niran", "d-4", "kaoko", id, DecisionAction::kAllClear, T0() + 4min),
                             T0() + 4min);
  REQUIRE(end.announcements.size() == 1);
  CHECK(end.announcements[0].play == Play::kAllClear);
  CHECK(end.announcements[0].level == Level::kNormal);
  // The incident is closed, and its devices' answers are still recorded on it.
  Effects ans = e.OnDeviceSounded(Sounded("tower-kaoko", end.announcements[0].id, T0() + 4min + 3s), T0() + 4min + 3s);
  CHECK_FALSE(ans.error);
  REQUIRE(FindEvent(ans, "tower", "tower-kaoko"));
  CHECK(FindEvent(ans, "tower", "tower-kaoko")->incident == id);
}

TEST_CASE("towers: what is awaited survives a restart (ExportState / ImportState)", "[alerting][towers]") {
  Network net = WithDevices();
  Engine before(net);
  (void)Critical(before);
  EngineState saved = before.ExportState();
  REQUIRE(saved.towers.size() == 2);
  CHECK(saved.next_announcement == 2);

  Engine after(net);
  after.ImportState(saved);
  REQUIRE(after.NextDeadline());
  Effects fx = after.Advance(SirenAt() + 60s);
  CHECK(FindEvent(fx, "tower", "tower-kaoko"));
  CHECK(FindEvent(fx, "tower", "siren-kaoko"));
  CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kNone) == 2);
  // The counter goes on: no announcement id is used twice.
  Effects off = after.OnDecision(MakeDecision("officer-niran", "d-1", "kaoko", before.Alert("kaoko")->incident.value(),
                                              DecisionAction::kAllClear, SirenAt() + 2min),
                                 SirenAt() + 2min);
  REQUIRE(off.announcements.size() == 1);
  CHECK(off.announcements[0].id == "a-2");
}
