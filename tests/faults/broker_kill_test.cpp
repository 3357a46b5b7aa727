// Fault 1: Mosquitto killed with SIGKILL and started again twenty times during a simulated flood, while the
// stations (kaoko-sim, one MQTT connection and account each) keep every reading until kaoko's end-to-end ack covers it.
// A SIGKILL loses whatever the broker held in memory (its persistence file is written only on exit or every 60 s):
// readings in flight, the acks on their way back, the service's session. Afterwards every reading the stations
// produced is in kaoko's database exactly once, at its own time, and nothing else is.
//
// Two kinds of kill, both from the scenario's [[outages]] windows:
//  - "full" kills: after each restart the test holds the simulated clock until the service and all six stations are
//    back on the broker (Paho's automatic reconnect takes 1.5 to 5 s), then lets half a second of traffic flow, then
//    kills again — every such kill cuts live sessions with readings and acks in flight;
//  - a crash loop: the broker killed again a few tenths of a second after each restart, while the clients are still
//    reconnecting (their backoff grows), then left up: everyone must come back by themselves and drain.
// The windows go through kaoko-sim's --outage-hook, which the simulator runs synchronously: each kill happens at an
// exact simulated moment whatever the machine's load, and the windows do not
// count against the simulated clock (no --anchor-start here: kaoko-server's rehearsal clock runs from an origin two
// seconds in the past, the simulator starts its own there once connected, so it trails kaoko by half an hour or more
// and no reading is ever in kaoko's future).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "fault_support.hpp"

using namespace kaoko::testing;
using namespace kaoko::faults;
using namespace std::chrono_literals;
namespace flood = kaoko::flood;

namespace {

// The weir climbs from the first hour and the whole river is in fast mode (one reading a simulated minute) for most of
// the run, so every window catches readings in flight. Outages are appended per run (OutageBlocks).
std::string Scenario(double hours) {
  const std::string rain = flood::RainToml(fmt::format("[0, 12], [0.5, 30], [{}, 30]", hours),
                                           fmt::format("[0, 4], [1, 12], [{}, 8]", hours));
  return flood::ScenarioToml("broker-kills", "a flood with the broker killed again and again (tests/faults)", hours, 23,
                             0.1, kFastHills + rain);
}

}  // namespace

TEST_CASE("faults: the broker killed with SIGKILL and restarted 20 times mid-flood: every reading stored exactly once",
          "[faults][integration]") {
  const int kFull = LongRun() ? 50 : 10;
  const int kLoop = LongRun() ? 20 : 10;
  const int kKills = kFull + kLoop;
  // At 900x a simulated hour is 4 real seconds. Full windows: down 1.5 simulated minutes (0.1 s), then, once everyone
  // is back, up 7.5 minutes (0.5 s): the stations resend what was not acked and keep publishing; the service acks at
  // most once a second, so about half of the windows see acks come back and the others lose them with the broker.
  // Crash loop: down 2 minutes, up 4 minutes (0.27 s), nobody waited for.
  const double kLeadH = 0.2, kFullPeriodH = 0.15, kFullDownH = 0.025, kLoopPeriodH = 0.1, kLoopDownH = 2.0 / 60;
  const double loop_from = kLeadH + kFull * kFullPeriodH;
  const double duration = loop_from + kLoop * kLoopPeriodH + 0.5;
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  const std::string scenario = dir.path() + "/broker-kills.toml";
  const std::string produced = dir.path() + "/produced.log";
  WriteText(scenario, Scenario(duration) + OutageBlocks(kFull, kLeadH, kFullPeriodH, kFullDownH) +
                          OutageBlocks(kLoop, loop_from, kLoopPeriodH, kLoopDownH));
  OutageHook hook(dir.path() + "/hook");

  const std::string speed = "900";
  const std::string start = PastOrigin(2s);
  ServiceProcess kaoko(broker, db, {"--time-scale", speed, "--time-origin", start});
  SimSpec spec;
  spec.scenario = scenario;
  spec.broker_url = broker.url();
  spec.state_dir = dir.path() + "/sim-state";
  spec.produced_log = produced;
  spec.speed = speed;
  spec.start = start;
  spec.anchor = false;
  spec.extra = {"--password-pattern", "demo-{id}", "--no-watchers", "--no-responders", "--outage-hook", hook.path()};
  Process sim(SimArgs(spec), dir.path() + "/kaoko-sim.log");

  auto everyone_back = [&] {
    return ConnectedClients(broker, "kaoko-sim-") == 6 && kaoko.Get("/healthz").status == 200;
  };
  int kills = 0, restarts = 0, windows_with_progress = 0;
  std::int64_t rows_at_restart = -1;
  std::vector<double> reconnect_s;
  const auto wall0 = std::chrono::steady_clock::now();
  const auto give_up = wall0 + std::chrono::seconds(LongRun() ? 900 : 240);
  while (sim.running()) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    auto r = hook.Next();
    if (!r) {
      std::this_thread::sleep_for(10ms);
      continue;
    }
    if (r->edge == "begin") {
      // Kill in the middle of the traffic the stations resumed after the last restart.
      if (rows_at_restart >= 0 && kills <= kFull && Db(db).Readings() > rows_at_restart) ++windows_with_progress;
      broker.Kill();
      ++kills;
    } else {
      REQUIRE(!broker.running());
      broker.Start();
      ++restarts;
      if (restarts <= kFull || restarts == kKills) {
        // Hold the simulated clock (the hook runs synchronously; Paho reconnects on its own threads) until the service
        // and all six stations are back on the broker. After the crash loop their backoff may have grown (Paho: up to
        // 8 s for the stations, 16 s for the service).
        auto t0 = std::chrono::steady_clock::now();
        INFO("restart " << restarts << ": not everyone reconnected; connected: "
                        << fmt::format("{}", fmt::join(ConnectedClients(broker), ", ")) << "\n"
                        << Tail(kaoko.log_path(), 10));
        REQUIRE(WaitFor(everyone_back, 45s));
        if (restarts <= kFull) {
          reconnect_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        } else {
          WARN(fmt::format("after the crash loop everyone was back in {:.2f} s",
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
        }
        rows_at_restart = Db(db).Readings();
      }
    }
    hook.Answer(*r);
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const int rc = sim.Wait();
  const std::string log = sim.Log();
  INFO("kaoko-sim log (end):\n" << log.substr(log.size() > 5000 ? log.size() - 5000 : 0));
  REQUIRE(kills == kKills);
  REQUIRE(restarts == kKills);
  REQUIRE(rc == 0);
  REQUIRE(log.ends_with("buffered: 0\n"));

  const Ledger ledger = CompareExactlyOnce(produced, db);
  INFO(ledger.Summary());
  REQUIRE(ledger.problems.empty());
  REQUIRE(ledger.stations == 6);
  REQUIRE(flood::RefusedReadings(db).empty());
  Db view(db);
  REQUIRE(view.IntegrityCheck() == "ok");

  // The kills really cut the links: the service lost its session at every full kill (it was connected each time), the
  // stations' six links lost theirs six times over.
  const std::string links = LogLine(log, "  links ");
  const std::string stations = LogLine(log, "  stations ");
  INFO(links << "\n" << stations);
  REQUIRE(Metric(kaoko, "kaoko_mqtt_events_total{event=\"connection_lost\"}") >= kFull);
  REQUIRE(NumberAfter(links, "losses ") >= 6 * kFull);
  REQUIRE(NumberAfter(stations, "resent ") > 0);  // readings whose ack was lost with the broker went again
  REQUIRE(kaoko.WaitHealthy(5s));
  double slowest = 0, sum = 0;
  for (double x : reconnect_s) {
    slowest = std::max(slowest, x);
    sum += x;
  }
  WARN(
      fmt::format("broker kills: {} kills ({} full, {} in a crash loop) in {:.1f} s; after a full kill everyone was "
                  "back in {:.2f} s on average (slowest {:.2f} s); {} of {} full windows stored readings; {}",
                  kills, kFull, kLoop, took, sum / static_cast<double>(reconnect_s.size()), slowest,
                  windows_with_progress, kFull, ledger.Summary()));
  // Every window after a full restart carried readings end to end.
  REQUIRE(windows_with_progress >= kFull - 1);
}
