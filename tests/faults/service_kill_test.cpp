// Fault 2: kaoko-server killed with SIGKILL twenty times in the middle of ingest, during a flood on the
// rehearsal clock (600x), with nobody answering kaoko's notifications so that every incident walks the escalation chain
// on its deadlines alone.
//  - Nothing acked is lost: after every kill, each (station, seq) any ack announced is in the database file.
//  - Nothing is stored twice, nothing is missing: every reading the stations produced is stored exactly once.
//  - Every escalation deadline that fell due while the service was down fires when it comes back, once: the first
//    kill is held until a watcher's incident has passed both its committee-ack deadline and the headman's deadline;
//    after every other kill, each open incident whose deadline passed during the outage (as the database had it) gets
//    its escalation entry after the restart; and no incident ever has a step's escalation entry twice.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "fault_support.hpp"

using namespace kaoko::testing;
using namespace kaoko::faults;
using namespace std::chrono_literals;
namespace flood = kaoko::flood;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kMinute = 60'000;
// config/tonhong.toml [escalation]
constexpr std::int64_t kHeadmanConfirm = 15 * kMinute;

// Rain on the hills from the start: the weir is in fast mode within the first hour and the wave reaches the villages
// below one after another, so incidents open (and their deadlines fall due) all through the run.
std::string Scenario(double hours) {
  const std::string rain = flood::RainToml(fmt::format("[0, 20], [0.5, 34], [{}, 30]", hours),
                                           fmt::format("[0, 6], [1, 14], [{}, 10]", hours));
  return flood::ScenarioToml("service-kills", "a flood while kaoko-server is killed again and again (tests/faults)",
                             hours, 31, 0.1, kFastHills + rain);
}

// The escalation entry each stage's deadline writes (alerting/src/engine.cpp, Engine::TimeoutStep).
std::string StepOf(const std::string& stage) {
  if (stage == "reported") return "no committee member acknowledged by";
  if (stage == "awaiting_confirmation" || stage == "confirmed") return "the headman did not confirm by";
  if (stage == "escalated") return "the TAO has not declared by";
  return {};
}
const char* const kSteps[] = {"no committee member acknowledged by", "the headman did not confirm by",
                              "the TAO has not declared by", "critical level: the TAO and the whole village"};

// The escalation entries of one incident that start with `step`.
std::vector<Db::TimelineEntry> Entries(const std::vector<Db::TimelineEntry>& all, std::int64_t incident,
                                       const std::string& step) {
  std::vector<Db::TimelineEntry> out;
  for (const auto& e : all) {
    if (e.incident == incident && e.text_en.rfind(step, 0) == 0) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "faults: the service killed with SIGKILL 20 times mid-ingest: nothing acked lost or stored twice, missed "
    "deadlines fire once after the restart",
    "[faults][integration]") {
  const int kKills = LongRun() ? 60 : 20;
  const double duration = LongRun() ? 12 : 4;
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  const std::string scenario = dir.path() + "/service-kills.toml";
  const std::string produced = dir.path() + "/produced.log";
  WriteText(scenario, Scenario(duration));

  const double scale = 600;
  const std::string start = flood::StartTime(3s);
  const std::int64_t origin = flood::Ms(start);
  auto sim_now = [&] { return RehearsalNowMs(origin, scale); };
  ServiceProcess kaoko(broker, db, {"--time-scale", "600", "--time-origin", start});
  AckRecorder acks(broker);
  const std::string receipts = "kaoko/v1/tonhong/kaoko/receipt/somchai";
  MqttClient somchai(broker.url(), "somchai", broker.Password("somchai"));
  somchai.Subscribe(receipts);
  SimSpec spec;
  spec.scenario = scenario;
  spec.broker_url = broker.url();
  spec.state_dir = dir.path() + "/sim-state";
  spec.produced_log = produced;
  spec.speed = "600";
  spec.start = start;
  spec.extra = {"--password-pattern", "demo-{id}", "--no-watchers", "--no-responders"};
  Process sim(SimArgs(spec), dir.path() + "/kaoko-sim.log");
  INFO("kaoko-sim log (end):\n" << Tail(sim.log_path(), 30));

  auto require_acked_stored = [&](const char* when) {
    const auto acked = acks.Acked();
    const auto missing = Missing(acked, Db(db).StoredKeys());
    INFO(when << ": " << acked.size()
              << " acked; acked but not in the database: " << fmt::format("{}", fmt::join(missing, ", ")));
    REQUIRE(missing.empty());
  };

  REQUIRE(WaitFor([&] { return Db(db).Readings() > 0; }, 20s));
  const auto wall0 = std::chrono::steady_clock::now();

  // ---- Kill 1, held long: a watcher's incident passes its committee deadline and then the headman's while kaoko is
  // down.
  somchai.Publish("kaoko/v1/tonhong/kaoko/report/somchai", json{{"id", "r-1"},
                                                                {"ts", flood::Rfc3339(sim_now() - kMinute)},
                                                                {"concern", "warning"},
                                                                {"trend", "rising"},
                                                                {"note", "น้ำขึ้นเร็ว (fault test)"}}
                                                               .dump());
  REQUIRE(somchai.WaitForMessages(1, 10s));
  const json receipt = json::parse(somchai.Received(receipts).at(0).payload);
  REQUIRE(receipt["ok"] == true);
  const std::int64_t incident = receipt["incident"].get<std::int64_t>();
  kaoko.Kill(SIGKILL);
  const std::int64_t killed_at = sim_now();
  require_acked_stored("after kill 1");
  std::int64_t committee_deadline = 0;
  {
    Db view(db);
    for (const auto& i : view.OpenIncidents()) {
      if (i.id == incident) {
        INFO("incident " << i.id << " stage " << i.stage);
        REQUIRE(i.stage == "reported");
        REQUIRE(i.deadline);
        committee_deadline = *i.deadline;
      }
    }
    INFO("the committee deadline must still be ahead when kaoko dies (the kill came too late)");
    REQUIRE(committee_deadline > killed_at);
    REQUIRE(Entries(view.Timeline("escalation"), incident, kSteps[0]).empty());
  }
  const std::int64_t headman_deadline = committee_deadline + kHeadmanConfirm;
  REQUIRE(WaitFor([&] { return sim_now() > headman_deadline + kMinute; }, 30s));
  const std::int64_t restarted_at = sim_now();
  kaoko.Start();
  REQUIRE(WaitFor(
      [&] {
        auto all = Db(db).Timeline("escalation");
        return !Entries(all, incident, kSteps[0]).empty() && !Entries(all, incident, kSteps[1]).empty();
      },
      10s));
  {
    auto all = Db(db).Timeline("escalation");
    auto committee = Entries(all, incident, kSteps[0]);
    auto headman = Entries(all, incident, kSteps[1]);
    REQUIRE(committee.size() == 1);
    REQUIRE(headman.size() == 1);
    // Fired by the restarted service (never before the kill, never early), in the chain's order.
    REQUIRE(committee[0].ts >= restarted_at);
    REQUIRE(committee[0].ts >= committee_deadline);
    REQUIRE(headman[0].ts >= committee[0].ts);
  }
  int deadlines_during_kills = 2;

  // ---- Kills 2..N, each in the middle of ingest: readings keep arriving at about 60 a second.
  struct Expected {
    std::int64_t incident;
    std::string step;
    std::int64_t restarted_at;
  };
  std::vector<Expected> expected;
  int kills = 1;
  std::vector<double> restart_s;
  for (int k = 2; k <= kKills; ++k) {
    INFO("kill " << k);
    REQUIRE(sim.running());
    const std::int64_t rows_before = Db(db).Readings();
    // Ingest is going on: something was stored since the last restart.
    REQUIRE(WaitFor([&] { return Db(db).Readings() > rows_before; }, 20s));
    kaoko.Kill(SIGKILL);
    ++kills;
    require_acked_stored("after a kill");
    std::vector<Db::OpenIncident> open;
    {
      Db view(db);
      open = view.OpenIncidents();
    }
    // Every fifth kill stays down for ten simulated minutes (one real second), long enough for deadlines to fall due.
    if (k % 5 == 0) {
      const std::int64_t until = sim_now() + 10 * kMinute;
      REQUIRE(WaitFor([&] { return sim_now() >= until; }, 10s));
    }
    const std::int64_t restarting_at = sim_now();
    auto t0 = std::chrono::steady_clock::now();
    kaoko.Start();  // waits until /healthz says 200
    restart_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (const auto& i : open) {
      std::string step = StepOf(i.stage);
      if (!i.deadline || step.empty() || *i.deadline > restarting_at) continue;
      expected.push_back({i.id, step, restarting_at});  // fell due while kaoko was down (or just before, unseen)
      ++deadlines_during_kills;
    }
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  // Every deadline that was due at a restart fired after it, exactly once.
  REQUIRE(WaitFor(
      [&] {
        auto all = Db(db).Timeline("escalation");
        for (const auto& e : expected) {
          if (Entries(all, e.incident, e.step).empty()) return false;
        }
        return true;
      },
      15s));

  const int rc = sim.Wait();
  const std::string log = sim.Log();
  REQUIRE(rc == 0);
  REQUIRE(log.ends_with("buffered: 0\n"));
  require_acked_stored("at the end");
  const Ledger ledger = CompareExactlyOnce(produced, db);
  INFO(ledger.Summary());
  REQUIRE(ledger.problems.empty());
  REQUIRE(flood::RefusedReadings(db).empty());

  Db view(db);
  REQUIRE(view.IntegrityCheck() == "ok");
  const auto all = view.Timeline("escalation");
  for (const auto& e : expected) {
    auto got = Entries(all, e.incident, e.step);
    INFO("incident " << e.incident << ": '" << e.step << "'");
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].ts >= e.restarted_at);
  }
  std::set<std::int64_t> incidents;
  for (const auto& e : all) incidents.insert(e.incident);
  for (auto id : incidents) {
    for (const char* step : kSteps) {
      INFO("incident " << id << ": '" << step << "'");
      REQUIRE(Entries(all, id, step).size() <= 1);
    }
  }
  REQUIRE(kills == kKills);
  double slowest = 0, sum = 0;
  for (double s : restart_s) {
    slowest = std::max(slowest, s);
    sum += s;
  }
  WARN(
      fmt::format("service kills: {} kills in {:.1f} s (restart to healthy: mean {:.2f} s, slowest {:.2f} s); {} "
                  "deadlines fell due during a kill and fired once after it; {} incidents; {}",
                  kills, took, restart_s.empty() ? 0 : sum / static_cast<double>(restart_s.size()), slowest,
                  deadlines_during_kills, incidents.size(), ledger.Summary()));
}
