#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "kaoko/alerting/cap.hpp"
#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

TEST_CASE("upstream: a warning upstream opens a watch downstream with the expected arrival time", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  (void)feed("kaoko-bridge", 325, T0());
  Effects fx = feed("kaoko-bridge", 325, T0() + 10min);
  const TimePoint now = T0() + 10min;
  auto down = e.Alert("thonhong");
  REQUIRE(down->incident.has_value());
  CHECK(down->level == Level::kWatch);
  const Incident* th = e.FindIncident(*down->incident);
  CHECK(th->origin == "upstream");
  CHECK(th->upstream_village == "kaoko");
  CHECK(*th->expected_arrival == now + 90min);
  CHECK(*e.FindIncident(*e.Alert("nanuea")->incident)->expected_arrival == now + 90min + 75min);
  CHECK(*e.FindIncident(*e.Alert("pakkhlong")->incident)->expected_arrival == now + 90min + 75min + 120min);
  CHECK_FALSE(e.Alert("huaiphan")->incident.has_value());  // upstream of the flood: not warned
  // 04:10Z + 90 min = 05:40Z = 12:40 Thai time, in the committee's notification
  const Notification* n = FindNote(fx, "pranee");
  REQUIRE(n);
  CHECK(n->action_needed == ActionNeeded::kAck);
  CHECK(n->text_th.find("12:40") != std::string::npos);
  CHECK(n->text_en.find("12:40 Thai time (in 1 h 30 min)") != std::string::npos);
  CHECK(CountEventsFor(fx, th->id, "upstream") == 1);
  SECTION("the upstream incident warns only once") {
    fx = feed("kaoko-bridge", 330, T0() + 20min);
    CHECK(fx.notifications.empty());
  }
}

TEST_CASE("upstream: a single watcher's warning warns downstream only once the headman confirms it", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0());
  const std::int64_t id = *fx.receipts[0].incident;
  CHECK_FALSE(e.Alert("thonhong")->incident.has_value());
  SECTION("rejected as a false alarm: no village downstream was ever put on watch") {
    fx = e.OnDecision(MakeDecision("prasert", "d-1", "kaoko", id, DecisionAction::kAck, T0() + 1min), T0() + 1min);
    fx = e.OnDecision(MakeDecision("boonmee", "d-2", "kaoko", id, DecisionAction::kReject, T0() + 2min), T0() + 2min);
    CHECK(e.Alert("kaoko")->level == Level::kNormal);
    for (const char* v : {"thonhong", "nanuea", "pakkhlong"}) CHECK_FALSE(e.Alert(v)->incident.has_value());
  }
  SECTION("confirmed: now the villages downstream are warned") {
    fx = e.OnDecision(MakeDecision("boonmee", "d-3", "kaoko", id, DecisionAction::kConfirm, T0() + 3min), T0() + 3min);
    CHECK(CountEventsFor(fx, id, "upstream") == 3);
    CHECK(e.Alert("thonhong")->level == Level::kWatch);
    CHECK(*e.FindIncident(*e.Alert("thonhong")->incident)->expected_arrival == T0() + 3min + 90min);
  }
}

TEST_CASE("upstream: a downstream village's alert carries the upstream village's level and the expected arrival, live",
          "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  (void)feed("kaoko-bridge", 325, T0());
  (void)feed("kaoko-bridge", 325, T0() + 10min);
  auto down = e.Alert("thonhong");
  REQUIRE(down->incident.has_value());
  CHECK(down->upstream_village == "kaoko");
  CHECK(down->upstream_name_en == "Ban Kao Ko");
  CHECK(down->upstream_level == Level::kWarning);
  REQUIRE(down->expected_arrival.has_value());
  CHECK(*down->expected_arrival == T0() + 10min + 90min);
  CHECK(e.Alert("nanuea")->upstream_village == "kaoko");
  CHECK(e.Alert("kaoko")->upstream_village.empty());  // opened by its own station
  SECTION("the upstream village rising to critical is published again downstream") {
    Effects fx;
    for (int i = 0; i < 4 && e.Alert("kaoko")->level != Level::kCritical; ++i) {
      fx = feed("kaoko-bridge", 410, T0() + 20min + i * 10min);
    }
    REQUIRE(e.Alert("kaoko")->level == Level::kCritical);
    CHECK(e.Alert("thonhong")->upstream_level == Level::kCritical);
    CHECK(e.Alert("pakkhlong")->upstream_level == Level::kCritical);
  }
}

TEST_CASE("upstream: a downstream headman's reject is refused while the upstream village is at warning or above",
          "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  (void)feed("kaoko-bridge", 325, T0());
  (void)feed("kaoko-bridge", 325, T0() + 10min);
  const std::int64_t up = *e.Alert("kaoko")->incident;
  const std::int64_t id = *e.Alert("thonhong")->incident;
  // The dry river at Thon Hong: its headman sees nothing yet.
  Effects fx = e.OnDecision(MakeDecision("kittisak", "d-1", "thonhong", id, DecisionAction::kReject, T0() + 15min),
                            T0() + 15min);
  REQUIRE(fx.receipts.size() == 1);
  CHECK_FALSE(fx.receipts[0].ok);
  INFO(fx.receipts[0].error);
  CHECK(fx.receipts[0].error.find("Ban Kao Ko") != std::string::npos);
  CHECK(fx.receipts[0].error.find("warning") != std::string::npos);
  CHECK(fx.receipts[0].error.find("still coming") != std::string::npos);
  REQUIRE(e.FindIncident(id));
  CHECK(e.FindIncident(id)->stage != Stage::kRejected);
  CHECK(e.Alert("thonhong")->level == Level::kWatch);
  SECTION("the headman may still acknowledge it") {
    fx =
        e.OnDecision(MakeDecision("kittisak", "d-2", "thonhong", id, DecisionAction::kAck, T0() + 16min), T0() + 16min);
    CHECK(fx.receipts[0].ok);
  }
  SECTION("once the upstream incident is over, the reject is taken") {
    fx = e.OnDecision(MakeDecision("officer-niran", "d-3", "kaoko", up, DecisionAction::kAllClear, T0() + 20min),
                      T0() + 20min);
    REQUIRE(fx.receipts[0].ok);
    CHECK(e.Alert("kaoko")->level == Level::kNormal);
    CHECK(e.Alert("thonhong")->upstream_level == Level::kNormal);
    fx = e.OnDecision(MakeDecision("kittisak", "d-4", "thonhong", id, DecisionAction::kReject, T0() + 21min),
                      T0() + 21min);
    CHECK(fx.receipts[0].ok);
    CHECK(e.Alert("thonhong")->level == Level::kNormal);
  }
}

TEST_CASE("health: station faults open a technician incident for the TAO, not a flood alert", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  SECTION("offline by Last Will, healthy again on the next reading") {
    Effects fx = e.OnStationStatus(StationStatus{"kaoko-temple", false, T0()}, T0());
    REQUIRE(e.OpenIncidents().size() == 1);
    const Incident* inc = e.OpenIncidents()[0];
    CHECK(inc->kind == IncidentKind::kStation);
    CHECK(inc->station == "kaoko-temple");
    CHECK((inc->problems & kProblemOffline));
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kNone) == 1);
    CHECK(CountNotes(fx, "prasert", ActionNeeded::kNone) == 0);
    CHECK(fx.alerts.empty());
    CHECK_FALSE(fx.cap_changed);
    CHECK(e.Health("kaoko-temple", T0()) == StationHealth::kOffline);
    const std::int64_t id = inc->id;
    fx = feed("kaoko-temple", 100, T0() + 1min);
    CHECK(e.FindIncident(id)->stage == Stage::kResolved);
    CHECK(e.Health("kaoko-temple", T0() + 1min) == StationHealth::kOk);
  }
  SECTION("offline when no reading comes for offline_after, to the second") {
    (void)e.Advance(T0());
    (void)feed("kaoko-temple", 100, T0());
    (void)e.Advance(T0() + 30min - 1s);
    CHECK(e.FindStationTrack("kaoko-temple")->problems == 0);
    (void)e.Advance(T0() + 30min);
    CHECK((e.FindStationTrack("kaoko-temple")->problems & kProblemOffline));
    CHECK(e.FindStationTrack("kaoko-temple")->health_incident.has_value());
  }
  SECTION("a spike is suspect: a technician incident, and no flood level") {
    (void)feed("kaoko-bridge", 200, T0());
    (void)feed("kaoko-bridge", 200, T0() + 10min);
    Effects fx = feed("kaoko-bridge", 420, T0() + 20min);
    CHECK(e.FindStationTrack("kaoko-bridge")->level == Level::kNormal);
    CHECK_FALSE(e.Alert("kaoko")->incident.has_value());
    REQUIRE(e.OpenIncidents().size() == 1);
    CHECK(e.OpenIncidents()[0]->kind == IncidentKind::kStation);
    CHECK((e.OpenIncidents()[0]->problems & kProblemSpike));
    CHECK(e.Health("kaoko-bridge", T0() + 20min) == StationHealth::kSuspect);
  }
  SECTION("stuck while another station moves") {
    for (int i = 0; i < 12; ++i) {
      (void)feed("kaoko-temple", 100 + i, T0() + std::chrono::minutes(10 * i));
      (void)feed("kaoko-bridge", 180, T0() + std::chrono::minutes(10 * i) + 1min);
    }
    const StationTrack* t = e.FindStationTrack("kaoko-bridge");
    CHECK((t->problems & kProblemStuck));
    CHECK(t->health_incident.has_value());
  }
  SECTION("low battery") {
    Reading r = MakeReading("kaoko-temple", 1, T0(), 100);
    r.battery_v = 3.3;
    (void)e.OnReading(r, T0());
    REQUIRE(e.OpenIncidents().size() == 1);
    CHECK(e.OpenIncidents()[0]->headline_en.find("low battery") != std::string::npos);
  }
}

TEST_CASE("silence: a station under maintenance raises nothing", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Feeder feed{e};
  Effects fx = e.Silence("kaoko-bridge", T0() + 2h, "boonmee", T0());
  CHECK(fx.error == std::string("only a TAO officer may silence a station"));
  fx = e.Silence("kaoko-bridge", T0() + 2h, "officer-niran", T0());
  CHECK_FALSE(fx.error);
  Reading r = MakeReading("kaoko-bridge", 1, T0() + 1min, 410);
  r.battery_v = 3.0;
  (void)e.OnReading(r, T0() + 1min);
  (void)feed("kaoko-bridge", 410, T0() + 11min);
  CHECK(e.FindStationTrack("kaoko-bridge")->level == Level::kCritical);  // still evaluated, for the dashboard
  CHECK(e.OpenIncidents().empty());
  CHECK(e.Alert("kaoko")->level == Level::kNormal);
  (void)e.Advance(T0() + 2h - 1s);
  CHECK(e.OpenIncidents().empty());
  SECTION("when the silence ends, what is still true is raised") {
    fx = e.Advance(T0() + 2h);
    CHECK(e.Alert("kaoko")->level == Level::kCritical);
    CHECK(e.FindStationTrack("kaoko-bridge")->health_incident.has_value());
    // Said as a reading would have said it: the landmark, the station and its last level.
    const Incident* flood = nullptr;
    for (const Incident* i : e.OpenIncidents()) {
      if (i->kind == IncidentKind::kFlood) flood = i;
    }
    REQUIRE(flood != nullptr);
    CHECK(flood->detail_th == "น้ำถึงลานวัด ที่สะพานบ้านเก้ากอ (410 ซม.)");
    CHECK(flood->detail_en == "water at the temple yard at Kao Ko bridge (410 cm)");
  }
}

TEST_CASE("drill: the whole chain runs on an exercise incident and no real siren sounds", "[alerting]") {
  Network net = TonHong();
  Engine e(net);
  Effects fx = e.StartDrill("kaoko", "somchai", T0());
  CHECK(fx.error == std::string("only a TAO officer or the headman of kaoko may start a drill"));
  fx = e.StartDrill("kaoko", "officer-niran", T0(), Level::kCritical);
  REQUIRE_FALSE(fx.error);
  REQUIRE(e.OpenIncidents().size() == 1);
  const Incident* inc = e.OpenIncidents()[0];
  CHECK(inc->exercise);
  CHECK(inc->headline_th.rfind("[ฝึกซ้อม]", 0) == 0);
  CHECK(inc->stage == Stage::kEscalated);  // a critical drill exercises the station-critical path
  REQUIRE_FALSE(fx.sirens.empty());
  for (const Siren& s : fx.sirens) {
    CHECK_FALSE(s.on);
    CHECK(s.exercise);
  }
  CHECK(CountNotes(fx, "prasert", ActionNeeded::kAck) == 1);
  for (const Notification& n : fx.notifications) CHECK(n.exercise);
  CHECK(e.Alert("kaoko")->exercise);
  CHECK(e.Cap(T0()).find("<status>Exercise</status>") != std::string::npos);
  // no downstream warning from a drill
  CHECK_FALSE(e.Alert("thonhong")->incident.has_value());
  const std::int64_t id = inc->id;
  fx = e.OnDecision(
      MakeDecision("officer-pim", "d-1", "kaoko", id, DecisionAction::kDeclare, T0() + 1min, Level::kCritical),
      T0() + 1min);
  CHECK(fx.receipts[0].ok);
  for (const Siren& s : fx.sirens) CHECK_FALSE(s.on);
  fx = e.OnDecision(MakeDecision("officer-pim", "d-2", "kaoko", id, DecisionAction::kAllClear, T0() + 2min),
                    T0() + 2min);
  CHECK(e.FindIncident(id)->stage == Stage::kResolved);
  CHECK_FALSE(e.Alert("kaoko")->exercise);
  SECTION("a real incident during a drill takes the village alert") {
    fx = e.StartDrill("kaoko", "boonmee", T0() + 3min);
    REQUIRE_FALSE(fx.error);
    (void)e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0() + 4min), T0() + 4min);
    CHECK_FALSE(e.Alert("kaoko")->exercise);
    CHECK(e.Cap(T0() + 4min).find("<status>Actual</status>") != std::string::npos);
  }
}

TEST_CASE("state: export mid-chain, import into a new engine, deadlines resume", "[alerting]") {
  Network net = TonHong();
  EngineState saved;
  std::int64_t id = 0;
  {
    Engine e(net);
    Effects fx = e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0()), T0());
    id = *fx.receipts[0].incident;
    (void)e.OnDecision(MakeDecision("prasert", "d-1", "kaoko", id, DecisionAction::kAck, T0() + 2min), T0() + 2min);
    CHECK(e.DirtyIncidents() == std::vector<std::int64_t>{id});
    saved = e.ExportState();
  }
  Engine e2(net);
  e2.ImportState(saved);
  REQUIRE(e2.FindIncident(id));
  CHECK(e2.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
  CHECK(e2.NextDeadline() == T0() + 2min + 5min);
  SECTION("the headman's deadline fires on the new engine") {
    Effects fx = e2.Advance(T0() + 17min - 1s);
    CHECK(e2.FindIncident(id)->stage == Stage::kAwaitingConfirmation);
    fx = e2.Advance(T0() + 17min);
    CHECK(e2.FindIncident(id)->stage == Stage::kEscalated);
    CHECK(e2.FindIncident(id)->unconfirmed);
    CHECK(CountNotes(fx, "officer-niran", ActionNeeded::kDeclare) == 1);
  }
  SECTION("a deadline that passed while the service was down fires on the first Advance") {
    Effects fx = e2.Advance(T0() + 1h);
    CHECK(e2.FindIncident(id)->stage == Stage::kEscalated);
  }
  SECTION("idempotency survives the restart") {
    Effects fx =
        e2.OnDecision(MakeDecision("prasert", "d-1", "kaoko", id, DecisionAction::kAck, T0() + 3min), T0() + 3min);
    CHECK(fx.receipts[0].ok);
    CHECK(fx.timeline.empty());
  }
  SECTION("notification ids stay unique across the restart") {
    Effects fx = e2.Advance(T0() + 17min);
    for (const Notification& n : fx.notifications) CHECK(std::stoi(n.id.substr(2)) >= saved.next_notification);
  }
}

TEST_CASE("cap: bounded for MQTT, the most severe incidents are kept and the note says how many are left out",
          "[alerting]") {
  Network net = TonHong();
  std::vector<Incident> all(90);
  std::vector<const Incident*> ptrs;
  for (std::size_t i = 0; i < all.size(); ++i) {
    Incident& inc = all[i];
    inc.id = static_cast<std::int64_t>(i + 1);
    inc.village = net.villages[i % net.villages.size()].id;
    inc.level = i % 9 == 0 ? Level::kCritical : i % 3 == 0 ? Level::kWarning : Level::kWatch;
    inc.opened = inc.updated = T0() + std::chrono::minutes(static_cast<int>(i));
    inc.detail_th = "น้ำขึ้น";
    ptrs.push_back(&inc);
  }
  const std::string whole = RenderCap(net, ptrs, T0() + 2h);
  std::size_t omitted = 99;
  CHECK(RenderCapBounded(net, ptrs, T0() + 2h, 0, &omitted) == whole);
  CHECK(omitted == 0);
  CHECK(RenderCapBounded(net, ptrs, T0() + 2h, whole.size(), &omitted) == whole);
  CHECK(omitted == 0);

  const std::size_t bound = whole.size() / 4;
  const std::string part = RenderCapBounded(net, ptrs, T0() + 2h, bound, &omitted);
  REQUIRE(part.size() <= bound);
  REQUIRE(omitted > 0);
  REQUIRE(omitted < all.size());
  // Given the whole document the caller already rendered, the same bounded one (and the whole one when it fits).
  std::size_t omitted_again = 0;
  CHECK(RenderCapBounded(net, ptrs, T0() + 2h, bound, &omitted_again, &whole) == part);
  CHECK(omitted_again == omitted);
  CHECK(RenderCapBounded(net, ptrs, T0() + 2h, whole.size(), &omitted_again, &whole) == whole);
  CHECK(omitted_again == 0);
  auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  const std::size_t kept = all.size() - omitted;
  CHECK(count(part, "<info>") == 2 * kept);
  CHECK(count(part, "<note>") == 1);
  CHECK(part.find(fmt::format("Only the {} most severe of {} active alerts", kept, all.size())) != std::string::npos);
  CHECK(part.find("GET /api/v1/cap") != std::string::npos);
  // Every critical incident (10 of them) fits in a quarter, and is kept; a watch is left out before any warning.
  CHECK(count(part, "<severity>Extreme</severity>") == 2 * 10);
  CHECK(count(part, "<severity>Minor</severity>") == 0);
  CHECK(part.find("</alert>") != std::string::npos);

  // Even a bound too small for one incident never turns into an all-clear.
  const std::string tiny = RenderCapBounded(net, ptrs, T0() + 2h, 100, &omitted);
  CHECK(omitted == all.size() - 1);
  CHECK(count(tiny, "<severity>Extreme</severity>") == 2);
  CHECK(tiny.find("No active flood alerts") == std::string::npos);
}

TEST_CASE("cap: the tambon document maps levels and confirmation and escapes text", "[alerting]") {
  Network net = TonHong();
  CHECK(XmlEscape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  SECTION("no incident: a minimal valid alert") {
    const std::string xml = RenderCap(net, {}, T0());
    CHECK(xml.find("<info>") == std::string::npos);
    CHECK(xml.find("<sent>2026-11-27T11:00:00+07:00</sent>") != std::string::npos);
    CHECK(xml.find("<sender>kaoko@tonhong</sender>") != std::string::npos);
  }
  SECTION("an unconfirmed watcher report is Possible; declared is Observed") {
    Engine e(net);
    Report r = MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0());
    r.note = "น้ำขึ้น <เร็ว> & แรง";
    Effects fx = e.OnReport(r, T0());
    const std::int64_t id = *fx.receipts[0].incident;
    std::string xml = e.Cap(T0());
    CHECK(xml.find("<certainty>Possible</certainty>") != std::string::npos);
    CHECK(xml.find("&lt;เร็ว&gt; &amp; แรง") != std::string::npos);
    CHECK(xml.find("<language>th-TH</language>") < xml.find("<language>en-US</language>"));
    const std::string before = xml.substr(xml.find("<identifier>"), 40);
    CHECK(e.Cap(T0()) == xml);  // the same state renders the same document
    (void)e.OnDecision(
        MakeDecision("officer-niran", "d-1", "kaoko", id, DecisionAction::kDeclare, T0() + 1min, Level::kCritical),
        T0() + 1min);
    xml = e.Cap(T0() + 1min);
    CHECK(xml.find("<certainty>Observed</certainty>") != std::string::npos);
    CHECK(xml.find("<severity>Extreme</severity>") != std::string::npos);
    CHECK(xml.find("<urgency>Immediate</urgency>") != std::string::npos);
    CHECK(xml.find("<responseType>Evacuate</responseType>") != std::string::npos);
    CHECK(xml.substr(xml.find("<identifier>"), 40) != before);
  }
}

TEST_CASE("state: stations read in step reach their periodic save at different rounds, each within the bound",
          "[alerting]") {
  Network net = TonHong();
  for (int i = 0; i < 60; ++i) {
    net.stations.push_back(MakeStation(fmt::format("load-{:02}", i), "kaoko", "สถานีทดสอบ", "Test gauge",
                                       Th(900, "ก", "a"), Th(950, "ข", "b"), Th(990, "ค", "c")));
  }
  net.BuildIndex();
  const std::size_t stations = net.stations.size();
  EngineOptions options;
  options.save_every_readings = 16;
  options.save_every = std::chrono::hours(24 * 365);
  Engine engine(net, options);
  std::map<std::string, int> last_save;  // round of each station's last save
  std::size_t most_in_a_round = 0;
  for (int round = 1; round <= 60; ++round) {
    for (const Station& s : net.stations) {
      // A steady level, alternating by half a centimetre (never stuck, never a fast rise), far below watch.
      auto fx = engine.OnReading(
          MakeReading(s.id, static_cast<std::uint64_t>(round), T0() + round * 1min, 100 + 0.5 * (round % 2)),
          T0() + round * 1min);
      REQUIRE(fx.alerts.empty());
    }
    // The stations to save, by position, each once; each one's track by position is its track by id.
    const auto& positions = engine.DirtyStationPositions();
    std::vector<std::string> saved;
    for (std::uint32_t i : positions) {
      REQUIRE(i < net.stations.size());
      saved.push_back(net.stations[i].id);
      REQUIRE(engine.TrackAt(i) != nullptr);
      REQUIRE(engine.TrackAt(i) == engine.FindStationTrack(net.stations[i].id));
    }
    REQUIRE(std::set<std::string>(saved.begin(), saved.end()).size() == saved.size());
    REQUIRE(engine.TrackAt(net.stations.size()) == nullptr);
    if (round == 1) {
      REQUIRE(saved.size() == stations);  // a station's first reading is always saved
    } else {
      most_in_a_round = std::max(most_in_a_round, saved.size());
    }
    for (const auto& id : saved) last_save[id] = round;
    for (const Station& s : net.stations) {
      INFO(s.id << " in round " << round);
      REQUIRE(round - last_save[s.id] < 16);  // never more than save_every_readings readings unsaved
    }
    engine.ClearDirty();
  }
  // In step, every station would save in the same round, once every 16 (all 65 at once); each at its own phase, a
  // round holds about a sixteenth of them.
  REQUIRE(most_in_a_round <= stations / 4);
  REQUIRE(most_in_a_round > 0);
}

TEST_CASE(
    "engine: a reading given with its station's position is evaluated as without, and a wrong position is looked up",
    "[alerting]") {
  Network net = TonHong();
  net.BuildIndex();
  const auto bridge = static_cast<std::size_t>(net.StationIndex("kaoko-bridge"));
  REQUIRE(bridge != 0);
  for (std::size_t given : {bridge, std::size_t{0}, net.stations.size() + 5}) {
    INFO("position given: " << given);
    Engine by_id(net), by_position(net);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
      const Reading r = MakeReading("kaoko-bridge", seq, T0() + seq * 5min, 255 + static_cast<double>(seq));
      const Effects a = by_id.OnReading(r, T0() + seq * 5min);
      const Effects b = by_position.OnReading(given, r, T0() + seq * 5min);
      REQUIRE(a.alerts.size() == b.alerts.size());
    }
    REQUIRE(by_position.Alert("kaoko")->level == Level::kWatch);
    REQUIRE(by_position.FindStationTrack("kaoko-bridge")->max_seq == 3);
    REQUIRE(by_position.FindStationTrack(net.stations[0].id)->max_seq == 0);  // the station at 0 saw nothing
  }
  Engine engine(net);
  REQUIRE(engine.OnReading(bridge, MakeReading("ghost", 1, T0(), 900), T0()).Empty());  // unknown: ignored
}
