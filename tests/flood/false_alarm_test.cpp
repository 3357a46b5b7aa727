// The other branch of the chain: a watcher's false alarm on a calm river (firmware-sim/scenarios/false-alarm.toml,
// its first 3 hours) is acknowledged by the committee and rejected by the simulated headman, who goes and looks; the
// incident closes as `rejected`, the TAO is never asked to declare, and no siren sounds. Real Mosquitto, real
// kaoko-server and kaoko-sim on one rehearsal clock at 600×; checked from the outside (MQTT and the HTTP API).
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "flood_support.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using namespace kaoko::flood;
using namespace std::chrono_literals;
using json = nlohmann::json;

TEST_CASE("flood: a watcher's false alarm on a calm river is rejected by the headman and never reaches the TAO",
          "[integration][flood]") {
  Broker broker;
  TempDir dir;
  MqttClient tao(broker.url(), "officer-pim", broker.Password("officer-pim"), "flood-test-officer-pim");
  tao.Subscribe("kaoko/v1/tonhong/+/alert");
  tao.Subscribe("kaoko/v1/tonhong/+/siren");
  tao.Subscribe("kaoko/v1/tonhong/+/notify/officer-pim");

  // As in chain_test.cpp: kaoko-sim connects and waits for `start`; kaoko-server starts about two real seconds before.
  const std::string speed = "600";
  const std::string start = StartTime(10s);
  Process sim({SimTool(),
               "--network",
               SourceDir() + "/config/tonhong.toml",
               "--scenario",
               SourceDir() + "/firmware-sim/scenarios/false-alarm.toml",
               "--duration",
               "3",
               "--broker",
               broker.url(),
               "--password-pattern",
               "demo-{id}",
               "--state-dir",
               dir.path() + "/sim-state",
               "--speed",
               speed,
               "--start",
               start,
               "--anchor-start",
               "--exit-when-drained",
               "--no-offline-at-exit",
               "--progress",
               "lines"},
              dir.path() + "/kaoko-sim.log");
  REQUIRE(WaitForLog(sim, " responders, ", 30s));
  const auto origin = std::chrono::system_clock::time_point(std::chrono::milliseconds(Ms(start)));
  if (auto left = origin - std::chrono::system_clock::now(); left > 2s) std::this_thread::sleep_for(left - 2s);
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db", {"--time-scale", speed, "--time-origin", start});

  REQUIRE(WaitFor([&] { return !sim.running(); }, 90s));  // 3 simulated hours at 600× = 18 s
  const std::string log = sim.Log();
  INFO("kaoko-sim log (tail):\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  REQUIRE(sim.Wait() == 0);
  std::this_thread::sleep_for(500ms);

  // The watcher's report opened Kao Ko's incident. Its `warning` also opened a `watch` in every village downstream
  // (the engine warns downstream from an unconfirmed watcher report too, and does not withdraw those watches when the
  // report is rejected: see the report to the lead); each of their headmen rejects it in turn on a calm river.
  std::vector<json> flood;
  std::optional<json> report;
  for (const auto& i : json::parse(kaoko.Get("/api/v1/incidents?status=all").body)) {
    if (i["kind"] != "flood") continue;
    auto full = json::parse(kaoko.Get(fmt::format("/api/v1/incidents/{}", i["id"].get<std::int64_t>())).body);
    if (full["origin"] == "watcher") {
      REQUIRE_FALSE(report.has_value());
      report = full;
    } else {
      flood.push_back(full);
    }
  }
  REQUIRE(report.has_value());
  for (const auto& d : flood) {
    INFO("downstream incident " << d.dump(1).substr(0, 2000));
    CHECK(d["origin"] == "upstream");
    CHECK(d["upstream_village"] == "kaoko");
    CHECK(d["status"] == "rejected");  // its own headman looked and saw a calm river
    CHECK(d["declared_by"] == "");
  }
  const json& inc = *report;
  INFO("incident " << inc.dump(1).substr(0, 3000));
  CHECK(inc["village"] == "kaoko");
  CHECK(inc["origin"] == "watcher");
  CHECK(inc["status"] == "rejected");
  CHECK(inc["rejected_by"] == "boonmee");
  CHECK((inc["acked_by"] == "prasert" || inc["acked_by"] == "wanna"));
  CHECK(inc["declared_by"] == "");
  CHECK(inc["rejection_noted"] == false);  // the stations agreed with the headman: nothing to pass to the TAO
  auto asks_tao = [](const json& incident) {
    for (const auto& e : incident["timeline"]) {
      if (e["kind"] == "notification" &&
          e["text_en"].get<std::string>().find("(action: declare)") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  bool rejected = false;
  for (const auto& e : inc["timeline"]) {
    rejected = rejected || (e["kind"] == "decision" && e["actor"] == "boonmee" &&
                            e["text_en"].get<std::string>().find("reject") != std::string::npos);
  }
  bool tao_asked = asks_tao(inc);
  for (const auto& d : flood) tao_asked = tao_asked || asks_tao(d);
  CHECK(rejected);
  CHECK_FALSE(tao_asked);

  // Outside: Kao Ko went to warning (the watcher's concern) and back to normal with status rejected; no siren; the
  // TAO officer was never asked to act on it.
  std::vector<json> kaoko_alerts;
  for (const auto& m : tao.Received()) {
    if (m.topic == "kaoko/v1/tonhong/kaoko/alert") kaoko_alerts.push_back(json::parse(m.payload));
    if (m.topic.ends_with("/siren")) CHECK(json::parse(m.payload)["on"] == false);
    if (m.topic.ends_with("/notify/officer-pim")) CHECK(json::parse(m.payload)["action_needed"] != "declare");
  }
  REQUIRE(kaoko_alerts.size() >= 2);
  CHECK(kaoko_alerts.front()["level"] == "warning");
  CHECK(kaoko_alerts.front()["status"] == "reported");
  CHECK(kaoko_alerts.back()["level"] == "normal");
  CHECK(kaoko_alerts.back()["status"] == "rejected");
  CHECK(kaoko_alerts.back()["incident"].is_null());
}
