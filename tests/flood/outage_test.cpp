// Issue 3 acceptance: the broker is stopped for a simulated hour in the middle of a rise and started again; afterwards
// every reading the stations produced is in kaoko's database exactly once, in seq order, and every station's buffer is
// empty. Real Mosquitto (project config, ACL, demo passwords), the real kaoko-server on a rehearsal clock, and the
// real kaoko-sim process; the broker is stopped and started by this test when the simulator's outage hook asks.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "flood_support.hpp"
#include "kaoko/sim/store.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using namespace kaoko::flood;
using namespace std::chrono_literals;

namespace {

// broker-outage.toml shortened to 3.5 simulated hours: the weir crosses watch at about +1.4 h (readings every minute
// from then on), the broker is down from +1.5 h to +2.5 h while the river climbs past warning, and the rain goes on
// to the end, so that the stations are in fast mode (the most readings to buffer) during the whole outage.
const std::string kScenario = ScenarioToml(
    "broker-outage-short", "a rise with the broker stopped for one simulated hour (test variant of broker-outage.toml)",
    3.5, 17, 0.15,
    RainToml("[0, 10], [0.5, 22], [2.5, 22], [3.5, 10]", "[0, 2], [1, 6], [3, 6]") + "\n" + BrokerOutageToml(1.5, 2.5));

// The simulator runs `hook begin broker` / `hook end broker` synchronously: the hook (kOutageHook) asks this test (a
// request file) and waits for its answer (a done file), so the broker is really down from the first simulated minute.

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE(
    "flood: the broker down for a simulated hour mid-rise: every reading stored once, in seq order, buffers empty",
    "[integration][flood]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  const std::string scenario = dir.path() + "/broker-outage-short.toml";
  const std::string hook = dir.path() + "/outage-hook.sh";
  const std::string produced = dir.path() + "/produced.log";
  const std::string state = dir.path() + "/sim-state";
  Write(scenario, kScenario);
  Write(hook, kOutageHook);
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);

  // 240 simulated seconds a second: 3.5 h in about 53 s, the outage hour in 15 s. Both clocks run from the same origin
  // a few seconds ahead (kaoko-sim --anchor-start waits for it), so no reading is ever ahead of kaoko's clock.
  const std::string speed = "240";
  const std::string start = StartTime(5s);
  ServiceProcess kaoko(broker, db, {"--time-scale", speed, "--time-origin", start});
  Process sim({SimTool(),
               "--network",
               SourceDir() + "/config/tonhong.toml",
               "--scenario",
               scenario,
               "--broker",
               broker.url(),
               "--password-pattern",
               "demo-{id}",
               "--state-dir",
               state,
               "--speed",
               speed,
               "--start",
               start,
               "--anchor-start",
               "--no-watchers",
               "--no-responders",
               "--exit-when-drained",
               "--drain-timeout",
               "90",
               "--outage-hook",
               hook,
               "--produced-log",
               produced,
               "--progress",
               "lines"},
              dir.path() + "/kaoko-sim.log");

  bool stopped = false;
  bool restarted = false;
  const auto give_up = std::chrono::steady_clock::now() + 200s;
  while (sim.running()) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    if (!stopped && std::filesystem::exists(dir.path() + "/outage-begin-broker.request")) {
      broker.Stop();  // SIGTERM: Mosquitto saves its persistence file on the way out
      stopped = true;
      Write(dir.path() + "/outage-begin-broker.done", "");
    }
    if (!restarted && std::filesystem::exists(dir.path() + "/outage-end-broker.request")) {
      REQUIRE(stopped);
      broker.Start();
      restarted = true;
      Write(dir.path() + "/outage-end-broker.done", "");
    }
    std::this_thread::sleep_for(50ms);
  }
  const int rc = sim.Wait();
  const std::string log = sim.Log();
  INFO("kaoko-sim log:\n" << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
  REQUIRE(stopped);
  REQUIRE(restarted);
  REQUIRE(log.find("OUTAGE begin broker") != std::string::npos);
  REQUIRE(log.find("OUTAGE end broker") != std::string::npos);
  // --exit-when-drained: exit 0 and the last line says nothing is left in any buffer.
  REQUIRE(rc == 0);
  REQUIRE(log.ends_with("buffered: 0\n"));

  // Every reading the stations produced is stored exactly once, with its own ts and level, and nothing else is.
  const auto made = ReadProduced(produced);
  const auto stored = StoredReadings(db);
  REQUIRE(made.size() == 6);
  REQUIRE(stored.size() == made.size());
  const std::int64_t outage_from = Ms(start) + 90 * 60 * 1000;
  const std::int64_t outage_to = Ms(start) + 150 * 60 * 1000;
  std::size_t total = 0;
  std::size_t taken_in_outage = 0;
  for (const auto& [station, rows] : made) {
    INFO("station " << station);
    REQUIRE(stored.count(station) == 1);
    const auto& got = stored.at(station);
    REQUIRE(got.size() == rows.size());  // (station, seq) is the key: no repeats, and none missing (next lines)
    for (std::size_t i = 0; i < rows.size(); ++i) {
      INFO("reading " << i);
      REQUIRE(rows[i].ts_ms >= 0);    // no reading was dropped from a full buffer
      REQUIRE(rows[i].seq == i + 1);  // a fresh station: seq 1, 2, 3, … without a gap
      REQUIRE(got[i].seq == rows[i].seq);
      REQUIRE(got[i].ts_ms == rows[i].ts_ms);  // stored at its own time, however late it arrived
      REQUIRE(got[i].level_cm == rows[i].level_cm);
      if (i > 0) REQUIRE(got[i].ts_ms > got[i - 1].ts_ms);  // seq order is time order
      if (rows[i].ts_ms >= outage_from && rows[i].ts_ms < outage_to) ++taken_in_outage;
    }
    total += rows.size();
  }
  REQUIRE(RefusedReadings(db).empty());
  // The outage really held readings back: at least the weir, in fast mode, took one a minute through the hour.
  INFO("readings " << total << ", taken while the broker was down " << taken_in_outage);
  REQUIRE(taken_in_outage >= 60);

  // Each station's on-disk buffer is empty (what the simulator said, read back from its journals).
  for (const auto& [station, rows] : made) {
    auto buffer = kaoko::sim::ReadingStore::Open(state + "/stations", station, 20000);
    REQUIRE(buffer.ok());
    CHECK(buffer->Size() == 0);
    CHECK(buffer->LastSeq() == rows.size());
  }
  // The stations noticed: they lost their link and sent the held readings again after it came back.
  REQUIRE(log.find("losses 0,") == std::string::npos);
}
