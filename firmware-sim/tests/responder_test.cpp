#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>

#include "kaoko/sim/responder.hpp"
#include "kaoko/sim/scenario_file.hpp"
#include "kaoko/sim/simulation.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;
using namespace std::chrono_literals;
using kaoko::alerting::DecisionAction;
using kaoko::alerting::Level;
using json = nlohmann::json;

namespace {
const SimTime kStart = ParseRfc3339("2026-11-27T00:00:00Z").value();

ResponderConfig For(const std::string& user, ResponderBehaviour b = {}) {
  static const auto net = testing::TonHong();
  const auto* p = net.FindPerson(user);
  REQUIRE(p != nullptr);
  return ResponderConfigFor(*p, net.tambon, b);
}

std::string Notify(std::int64_t incident, const std::string& level, const std::string& action, int n = 1,
                   bool reminder = false) {
  json j{{"id", fmt::format("n-{}", n)},       {"incident", incident}, {"level", level}, {"action_needed", action},
         {"deadline", "2026-11-27T01:00:00Z"}, {"text_th", "…"},       {"text_en", "…"}};
  if (reminder) j["reminder"] = true;
  return j.dump();
}

std::string Alert(const std::string& village, std::optional<std::int64_t> incident, const std::string& level,
                  const std::string& status) {
  json j{{"village", village},
         {"level", level},
         {"incident", incident ? json(*incident) : json(nullptr)},
         {"status", status},
         {"since", "2026-11-27T00:00:00Z"},
         {"updated", "2026-11-27T00:00:00Z"}};
  return j.dump();
}

// Runs the responder minute by minute for `span` and collects its decisions.
std::vector<DecisionOut> Run(Responder& r, SimTime from, std::chrono::minutes span, bool water) {
  std::vector<DecisionOut> out;
  auto sees = [water](const std::string&) { return water; };
  for (SimTime t = from; t <= from + span; t += 60s) {
    for (auto& d : r.Advance(t, sees)) out.push_back(std::move(d));
  }
  return out;
}

const std::string kKaokoNotify = "kaoko/v1/tonhong/kaoko/notify/";
}  // namespace

TEST_CASE("responder: a committee member acknowledges after a human delay with a contract decision",
          "[unit][responder]") {
  Responder r(For("prasert"), 42, 3);
  CHECK(r.Subscriptions() == std::vector<std::string>{"kaoko/v1/tonhong/kaoko/notify/prasert",
                                                      "kaoko/v1/tonhong/kaoko/receipt/prasert",
                                                      "kaoko/v1/tonhong/kaoko/alert"});
  REQUIRE(r.OnMessage(kKaokoNotify + "prasert", Notify(17, "watch", "ack"), kStart));
  // Not before the role's shortest delay (2 minutes).
  CHECK(Run(r, kStart, 1min, true).empty());
  auto got = Run(r, kStart + 2min, 10min, true);
  REQUIRE(got.size() == 1);
  const DecisionOut& d = got[0];
  CHECK(d.topic == "kaoko/v1/tonhong/kaoko/decision/prasert");
  CHECK(d.id == "d-0003");
  CHECK(d.at >= kStart + 2min);
  CHECK(d.at <= kStart + 8min);
  auto j = json::parse(d.payload);
  CHECK(j["id"] == "d-0003");
  CHECK(j["incident"] == 17);
  CHECK(j["action"] == "ack");
  CHECK(j["level"] == "watch");
  CHECK(j["ts"] == FormatRfc3339(d.at));
  CHECK(j["note"].get<std::string>().find("รับทราบ") != std::string::npos);
  CHECK(r.NextId() == 4);

  SECTION("reminders and repeats of an answered ask get no second answer") {
    r.OnMessage(kKaokoNotify + "prasert", Notify(17, "watch", "ack", 2, true), kStart + 15min);
    r.OnMessage(kKaokoNotify + "prasert", Notify(17, "warning", "ack", 3), kStart + 16min);
    CHECK(Run(r, kStart + 15min, 60min, true).empty());
  }
  SECTION("a notification that asks nothing is only read") {
    r.OnMessage(kKaokoNotify + "prasert", Notify(18, "critical", "none"), kStart + 15min);
    CHECK(Run(r, kStart + 15min, 60min, true).empty());
    CHECK(r.Stats().notifications == 2);
    CHECK(r.Stats().asked == 1);
  }
}

TEST_CASE("responder: a reminder while an answer is planned does not double it", "[unit][responder]") {
  Responder r(For("wanna"), 7, 1);
  r.OnMessage(kKaokoNotify + "wanna", Notify(5, "watch", "ack"), kStart);
  r.OnMessage(kKaokoNotify + "wanna", Notify(5, "warning", "ack", 2), kStart + 1min);  // level raised
  auto got = Run(r, kStart, 30min, true);
  REQUIRE(got.size() == 1);
  CHECK(json::parse(got[0].payload)["level"] == "warning");
}

TEST_CASE("responder: an ack a colleague already gave is not given again", "[unit][responder]") {
  Responder r(For("wanna"), 7, 1);
  r.OnMessage(kKaokoNotify + "wanna", Notify(5, "watch", "ack"), kStart);
  r.OnMessage("kaoko/v1/tonhong/kaoko/alert", Alert("kaoko", 5, "watch", "awaiting_confirmation"), kStart + 1min);
  CHECK(Run(r, kStart, 30min, true).empty());
  CHECK(r.Stats().skipped == 1);
}

TEST_CASE("responder: a closed incident gets no answer", "[unit][responder]") {
  Responder r(For("boonmee"), 1, 1);
  r.OnMessage(kKaokoNotify + "boonmee", Notify(5, "warning", "confirm"), kStart);
  r.OnMessage("kaoko/v1/tonhong/kaoko/alert", Alert("kaoko", std::nullopt, "normal", "resolved"), kStart + 1min);
  CHECK(Run(r, kStart, 40min, true).empty());
}

TEST_CASE("responder: the headman confirms water he sees and rejects a false alarm", "[unit][responder]") {
  Responder r(For("boonmee"), 9, 1);
  r.OnMessage(kKaokoNotify + "boonmee", Notify(8, "warning", "confirm"), kStart);
  SECTION("water at the village or upstream: confirm") {
    auto got = Run(r, kStart, 25min, true);
    REQUIRE(got.size() == 1);
    CHECK(got[0].action == DecisionAction::kConfirm);
    CHECK(got[0].at >= kStart + 5min);
    CHECK(got[0].at <= kStart + 20min);
    CHECK(json::parse(got[0].payload)["action"] == "confirm");
  }
  SECTION("a calm river: reject as a false alarm") {
    auto got = Run(r, kStart, 25min, false);
    REQUIRE(got.size() == 1);
    CHECK(got[0].action == DecisionAction::kReject);
    CHECK(json::parse(got[0].payload)["note"].get<std::string>().find("ผิดพลาด") != std::string::npos);
  }
  SECTION("a confirmation is still worth giving after the step timed out to the TAO") {
    r.OnMessage("kaoko/v1/tonhong/kaoko/alert", Alert("kaoko", 8, "warning", "escalated"), kStart + 1min);
    CHECK(Run(r, kStart, 25min, true).size() == 1);
  }
  SECTION("not once the TAO has declared") {
    r.OnMessage("kaoko/v1/tonhong/kaoko/alert", Alert("kaoko", 8, "warning", "declared"), kStart + 1min);
    CHECK(Run(r, kStart, 25min, true).empty());
  }
}

TEST_CASE("responder: a silent headman reads everything and never answers", "[unit][responder]") {
  ResponderBehaviour b;
  b.silent = {"boonmee"};
  Responder r(For("boonmee", b), 9, 1);
  CHECK(r.Config().silent);
  for (int i = 0; i < 5; ++i) {
    r.OnMessage(kKaokoNotify + "boonmee", Notify(8, "warning", "confirm", i, i > 0),
                kStart + std::chrono::minutes(5 * i));
  }
  CHECK(Run(r, kStart, 120min, true).empty());
  CHECK(r.Stats().ignored_silent == 5);
  CHECK(r.Stats().decisions == 0);
}

TEST_CASE("responder: the TAO officer declares on the incident village's topic, again when the level rises",
          "[unit][responder]") {
  ResponderBehaviour b;
  b.all_clear_after_hours = 2;
  Responder r(For("officer-niran", b), 3, 1);
  CHECK(r.Subscriptions() == std::vector<std::string>{"kaoko/v1/tonhong/+/notify/officer-niran",
                                                      "kaoko/v1/tonhong/+/receipt/officer-niran",
                                                      "kaoko/v1/tonhong/+/alert"});
  r.OnMessage("kaoko/v1/tonhong/thonhong/notify/officer-niran", Notify(21, "warning", "declare"), kStart);
  auto got = Run(r, kStart, 20min, true);
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "kaoko/v1/tonhong/thonhong/decision/officer-niran");
  CHECK(got[0].at >= kStart + 5min);
  CHECK(got[0].at <= kStart + 15min);
  auto j = json::parse(got[0].payload);
  CHECK(j["action"] == "declare");
  CHECK(j["level"] == "warning");
  CHECK(j["incident"] == 21);
  r.OnMessage("kaoko/v1/tonhong/thonhong/alert", Alert("thonhong", 21, "warning", "declared"), kStart + 21min);

  SECTION("a reminder at the declared level is not answered again") {
    r.OnMessage("kaoko/v1/tonhong/thonhong/notify/officer-niran", Notify(21, "warning", "declare", 2, true),
                kStart + 22min);
    CHECK(Run(r, kStart + 22min, 30min, true).empty());
  }
  SECTION("a higher level is declared again") {
    r.OnMessage("kaoko/v1/tonhong/thonhong/alert", Alert("thonhong", 21, "critical", "declared"), kStart + 30min);
    r.OnMessage("kaoko/v1/tonhong/thonhong/notify/officer-niran", Notify(21, "critical", "declare", 3), kStart + 30min);
    auto again = Run(r, kStart + 30min, 20min, true);
    REQUIRE(again.size() == 1);
    CHECK(json::parse(again[0].payload)["level"] == "critical");
  }
  SECTION("the all-clear comes after the river has been calm for all_clear_after") {
    CHECK(Run(r, kStart + 22min, 60min, true).empty());  // still water: nothing
    auto calm = Run(r, kStart + 90min, 150min, false);   // calm from +90 min
    REQUIRE(calm.size() == 1);
    CHECK(calm[0].action == DecisionAction::kAllClear);
    CHECK(calm[0].at == kStart + 90min + 2h);
    auto cj = json::parse(calm[0].payload);
    CHECK(cj["action"] == "all_clear");
    CHECK_FALSE(cj.contains("level"));
    CHECK(Run(r, kStart + 5h, 5h, false).empty());  // once
  }
}

TEST_CASE("responder: the TAO gives the all-clear for an escalated false alarm instead of declaring",
          "[unit][responder]") {
  Responder r(For("officer-niran"), 3, 1);
  r.OnMessage("kaoko/v1/tonhong/kaoko/notify/officer-niran", Notify(4, "warning", "declare"), kStart);
  auto got = Run(r, kStart, 20min, false);
  REQUIRE(got.size() == 1);
  CHECK(got[0].action == DecisionAction::kAllClear);
}

TEST_CASE("responder: an officer off duty only reads", "[unit][responder]") {
  ResponderConfig c = For("officer-pim");
  c.off_duty = true;
  Responder r(c, 3, 1);
  r.OnMessage("kaoko/v1/tonhong/kaoko/notify/officer-pim", Notify(4, "warning", "declare"), kStart);
  CHECK(Run(r, kStart, 30min, true).empty());
}

TEST_CASE("responder: the TAO officer leaves the villages of the people (--humans) to them", "[unit][responder]") {
  ResponderConfig c = For("officer-niran");
  c.left_to_people = {"thonhong"};
  Responder r(c, 3, 1);
  r.OnMessage("kaoko/v1/tonhong/thonhong/notify/officer-niran", Notify(21, "warning", "declare"), kStart);
  CHECK(Run(r, kStart, 30min, true).empty());
  r.OnMessage("kaoko/v1/tonhong/kaoko/notify/officer-niran", Notify(22, "warning", "declare", 2), kStart + 31min);
  auto got = Run(r, kStart + 31min, 30min, true);
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "kaoko/v1/tonhong/kaoko/decision/officer-niran");
}

TEST_CASE("simulated people: --humans are played by nobody, and the first simulated TAO officer is on duty",
          "[unit][responder]") {
  const auto net = testing::TonHong();
  Scenario scenario;
  SimOptions o;
  auto ids = [&] {
    std::map<std::string, bool> out;
    for (const SimulatedPerson& p : SimulatedPeople(o, net, scenario)) out[p.id] = p.answers;
    return out;
  };
  auto everyone = ids();
  REQUIRE(everyone.count("surin") == 1);
  REQUIRE(everyone.count("pranee") == 1);
  CHECK(everyone.at("officer-niran"));      // the first officer is on duty
  CHECK_FALSE(everyone.at("officer-pim"));  // the other reads
  o.humans = {"surin", "pranee", "kittisak", "jintana", "officer-pim"};
  auto played = ids();
  for (const auto& h : o.humans) CHECK(played.count(h) == 0);
  CHECK(played.at("officer-niran"));
  CHECK(played.count("somchai") == 1);
  CHECK(VillagesLeftToPeople(o, net) == std::vector<std::string>{"thonhong"});
  o.humans = {"officer-niran"};  // the next officer is on duty
  played = ids();
  CHECK(played.count("officer-niran") == 0);
  CHECK(played.at("officer-pim"));
  o.watchers = false;
  CHECK(ids().count("somchai") == 0);
}

TEST_CASE("responder: same seed, same delays, and receipts are counted with the reason of a refusal",
          "[unit][responder]") {
  auto once = [](std::uint64_t seed) {
    Responder r(For("kittisak"), seed, 1);
    r.OnMessage("kaoko/v1/tonhong/thonhong/notify/kittisak", Notify(2, "watch", "confirm"), kStart);
    return Run(r, kStart, 30min, true).at(0).at;
  };
  CHECK(once(11) == once(11));
  Responder r(For("kittisak"), 1, 1);
  CHECK(
      r.OnMessage("kaoko/v1/tonhong/thonhong/receipt/kittisak", R"({"ref":"d-0001","ok":true,"incident":2})", kStart));
  CHECK(r.OnMessage("kaoko/v1/tonhong/thonhong/receipt/kittisak",
                    R"({"ref":"d-0002","ok":false,"error":"incident 2 is already resolved"})", kStart));
  CHECK(r.Stats().receipts == 2);
  CHECK(r.Stats().refused == 1);
  CHECK(r.Stats().last_refusal == "d-0002: incident 2 is already resolved");
  CHECK_FALSE(r.OnMessage("kaoko/v1/tonhong/thonhong/notify/kittisak", "not json", kStart));
  CHECK_FALSE(r.OnMessage("kaoko/v1/tonhong/thonhong/notify/somebody-else", Notify(2, "watch", "ack"), kStart));
  CHECK_FALSE(r.OnMessage("kaoko/v1/elsewhere/thonhong/notify/kittisak", Notify(2, "watch", "ack"), kStart));
}

TEST_CASE("responder: decisions wait for the phone's connection and go out in order (in-memory transport)",
          "[unit][responder]") {
  Responder r(For("ratana"), 5, 1);
  r.OnMessage("kaoko/v1/tonhong/nanuea/notify/ratana", Notify(1, "watch", "ack"), kStart);
  r.OnMessage("kaoko/v1/tonhong/nanuea/notify/ratana", Notify(2, "watch", "ack", 2), kStart + 1min);
  std::deque<DecisionOut> outbox;
  for (auto& d : Run(r, kStart, 30min, true)) outbox.push_back(std::move(d));
  REQUIRE(outbox.size() == 2);
  MemoryTransport link;
  link.connected = false;
  CHECK(SendDue(outbox, link).empty());
  CHECK(outbox.size() == 2);
  link.connected = true;
  link.refuse_after = 1;
  CHECK(SendDue(outbox, link).size() == 1);
  link.refuse_after = SIZE_MAX;
  CHECK(SendDue(outbox, link).size() == 1);
  REQUIRE(link.published.size() == 2);
  CHECK(link.published[0].topic == "kaoko/v1/tonhong/nanuea/decision/ratana");
  CHECK(link.published[0].qos == 1);
  CHECK_FALSE(link.published[0].retained);
  CHECK(json::parse(link.published[0].payload)["id"] == "d-0001");
  CHECK(json::parse(link.published[1].payload)["id"] == "d-0002");
}

TEST_CASE("responder: the scenario's [responders] table", "[unit][responder][scenario]") {
  auto s = ParseScenario(R"(
[scenario]
duration_hours = 1
[responders]
silent = ["boonmee", "suda"]
headman_minutes = [4, 8]
tao_minutes = [1, 2]
tao_on_duty = "officer-pim"
all_clear_after_hours = 1.5
)",
                         "t.toml");
  REQUIRE(s.ok());
  CHECK(s->responders.enabled);
  CHECK(s->responders.silent == std::vector<std::string>{"boonmee", "suda"});
  CHECK(s->responders.headman_minutes == std::pair<double, double>{4, 8});
  CHECK(s->responders.committee_minutes == std::pair<double, double>{2, 8});
  CHECK(s->responders.tao_on_duty == "officer-pim");
  auto c = For("officer-niran", s->responders);
  CHECK(c.min_minutes == 1);
  CHECK(c.max_minutes == 2);
  CHECK(c.all_clear_after == Seconds(5400));
  CHECK(For("boonmee", s->responders).silent);
  CHECK_FALSE(For("wanna", s->responders).silent);

  auto bad = ParseScenario("[scenario]\nduration_hours = 1\n[responders]\nheadman_minutes = [9, 3]\n", "b.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().reason.find("b.toml:4:") != std::string::npos);
  auto unknown = ParseScenario("[scenario]\nduration_hours = 1\n[responders]\nsilence = []\n", "u.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().reason.find("unknown key 'silence'") != std::string::npos);
}
