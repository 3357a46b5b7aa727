// The village broadcast tower (หอกระจายข่าว) and siren as devices, end to end: a real Mosquitto with the accounts
// kaoko-admin makes, the real kaoko-server on the rehearsal clock (10x: a 60 s answer time passes in 6 s), the TAO's
// declaration that turns Ban Kao Ko's siren on, and two devices of that village on their own accounts: the tower
// answers that it sounded, the siren stays silent. Checked from the outside only: the incident's timeline over HTTP
// and a TAO officer's notify/{user} subscription.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string T = "kaoko/v1/tonhong";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// config/tonhong.toml (a tower in every village, 60 s to answer) and a siren in Ban Kao Ko that must answer in 30 s.
std::string NetworkWithSiren(const TempDir& dir) {
  const std::string path = dir.path() + "/tonhong-siren.toml";
  std::ofstream(path) << Slurp(SourceDir() + "/config/tonhong.toml")
                      << "\n[[devices]]\nid = \"siren-kaoko\"\nvillage = \"kaoko\"\nkind = \"siren\"\n"
                         "name_th = \"ไซเรนบ้านเก้ากอ\"\nname_en = \"Ban Kao Ko siren\"\nanswer_seconds = 30\n";
  return path;
}

// RFC 3339 in UTC, to the second.
std::string Utc(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}
std::string Now() { return Utc(std::chrono::system_clock::now()); }

// The JSON of the first message on `topic` whose payload has `key` containing `part`; null when none yet.
json FindMessage(const MqttClient& c, const std::string& topic, const std::string& key, const std::string& part) {
  for (const auto& m : c.Received(topic)) {
    auto j = json::parse(m.payload, nullptr, false);
    if (j.is_object() && j.contains(key) && j[key].is_string() &&
        j[key].get<std::string>().find(part) != std::string::npos) {
      return j;
    }
  }
  return nullptr;
}

// The incident's timeline entries of kind "tower" whose English text contains `part`.
std::vector<json> TowerEntries(const ServiceProcess& kaoko, std::int64_t incident, const std::string& part) {
  std::vector<json> out;
  auto res = kaoko.Get(fmt::format("/api/v1/incidents/{}", incident));
  if (res.status != 200) return out;
  const json full = json::parse(res.body);
  for (const auto& e : full.at("timeline")) {
    if (e.at("kind") == "tower" && e.at("text_en").get<std::string>().find(part) != std::string::npos) {
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("towers: a declared warning reaches the village's devices, one sounds, one stays silent and the TAO is told",
          "[integration][towers]") {
  TempDir dir;
  BrokerOptions options;
  options.network_file = NetworkWithSiren(dir);
  Broker broker(options);
  const std::string start = Now();
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db",
                       {"--network", options.network_file, "--time-scale", "10", "--time-origin", start});

  // Each device on its own account, reading only its village's announcements.
  MqttClient tower(broker.url(), "tower-kaoko", broker.Password("tower-kaoko"));
  tower.Subscribe(T + "/kaoko/announce");
  MqttClient siren(broker.url(), "siren-kaoko", broker.Password("siren-kaoko"));
  siren.Subscribe(T + "/kaoko/announce");
  MqttClient officer(broker.url(), "officer-pim", broker.Password("officer-pim"));
  officer.Subscribe(T + "/+/notify/officer-pim");
  MqttClient watcher(broker.url(), "somchai", broker.Password("somchai"));
  watcher.Subscribe(T + "/kaoko/receipt/somchai");
  MqttClient niran(broker.url(), "officer-niran", broker.Password("officer-niran"));
  niran.Subscribe(T + "/kaoko/receipt/officer-niran");

  // A watcher's report opens the incident; the TAO declares critical: the siren goes on, and with it the announcement.
  watcher.Publish(T + "/kaoko/report/somchai",
                  fmt::format(R"({{"id":"r-1","ts":"{}","concern":"warning","note":"น้ำขึ้นเร็ว"}})", start));
  REQUIRE(watcher.WaitForMessages(1, 10s));
  const auto receipt = json::parse(watcher.Received().front().payload);
  REQUIRE(receipt.at("ok") == true);
  const std::int64_t incident = receipt.at("incident");
  niran.Publish(
      T + "/kaoko/decision/officer-niran",
      fmt::format(R"({{"id":"d-1","ts":"{}","incident":{},"action":"declare","level":"critical"}})", start, incident));
  REQUIRE(niran.WaitForMessages(1, 10s));
  REQUIRE(json::parse(niran.Received().front().payload).at("ok") == true);

  REQUIRE(tower.WaitForMessages(1, 10s));
  const auto announce = json::parse(tower.Received().front().payload);
  INFO(announce.dump());
  CHECK(tower.Received().front().retained == false);  // live delivery (the retained copy is for later subscribers)
  CHECK(announce.at("incident") == incident);
  CHECK(announce.at("on") == true);
  CHECK(announce.at("level") == "critical");
  CHECK(announce.at("play") == "evacuate");
  CHECK(announce.at("exercise") == false);
  CHECK(announce.at("text_en").get<std::string>().find("Ban Kao Ko") != std::string::npos);
  CHECK(announce.at("text_th").get<std::string>().find("สมชาย") == std::string::npos);  // no one's name
  const std::string id = announce.at("id");
  REQUIRE(siren.WaitForMessages(1, 10s));

  // The tower plays it and says so; the siren says nothing.
  tower.Publish(T + "/kaoko/device/tower-kaoko/sounded",
                fmt::format(R"({{"announce":"{}","ts":"{}","ok":true}})", id, announce.at("ts").get<std::string>()));

  // The timeline shows the tower sounded, with the Thai time.
  REQUIRE(WaitFor([&] { return !TowerEntries(kaoko, incident, "the tower in Ban Kao Ko sounded at").empty(); }, 10s));
  const json sounded = TowerEntries(kaoko, incident, "the tower in Ban Kao Ko sounded at").front();
  CHECK(sounded.at("text_th").get<std::string>().find("หอกระจายข่าวบ้านเก้ากอ ดังแล้วเวลา") != std::string::npos);

  // 30 s of kaoko's time (3 s here) and the silent siren is on the timeline, and the TAO officer is told.
  REQUIRE(WaitFor([&] { return !TowerEntries(kaoko, incident, "did not answer within 30 s").empty(); }, 15s));
  const json silent = TowerEntries(kaoko, incident, "the siren in Ban Kao Ko did not answer within 30 s").at(0);
  CHECK(silent.at("text_th").get<std::string>().find("ไซเรนบ้านเก้ากอ ไม่ตอบภายใน 30 วินาที") != std::string::npos);
  REQUIRE(WaitFor(
      [&] {
        return !FindMessage(officer, T + "/kaoko/notify/officer-pim", "text_en", "did not answer within 30 s")
                    .is_null();
      },
      10s));
  const json note = FindMessage(officer, T + "/kaoko/notify/officer-pim", "text_en", "did not answer within 30 s");
  CHECK(note.at("incident") == incident);
  CHECK(note.at("action_needed") == "none");

  // The tower answered in time: it is never reported silent, even after its own 60 s.
  std::this_thread::sleep_for(7s);
  CHECK(TowerEntries(kaoko, incident, "the tower in Ban Kao Ko did not answer").empty());
  // And a sounded message from a device that is not in the network file is refused and counted.
  MqttClient stranger(broker.url(), "kaoko", broker.Password("kaoko"));
  stranger.Publish(T + "/kaoko/device/tower-nowhere/sounded",
                   fmt::format(R"({{"announce":"{}","ts":"{}","ok":true}})", id, start));
  REQUIRE(WaitFor(
      [&] {
        return kaoko.Get("/metrics").body.find("kaoko_messages_rejected_total{reason=\"unknown_device\"} 1") !=
               std::string::npos;
      },
      10s));
}

TEST_CASE("towers: kaoko-sim's devices answer on their own accounts, and a tower the scenario keeps silent is reported",
          "[integration][towers]") {
  TempDir dir;
  BrokerOptions options;
  options.network_file = NetworkWithSiren(dir);
  Broker broker(options);
  // A calm river for six simulated minutes at 10x (36 s); nobody but the devices answers kaoko.
  const std::string scenario = dir.path() + "/towers.toml";
  std::ofstream(scenario) << "[scenario]\nname = \"towers\"\nduration_hours = 0.1\n"
                             "[watchers]\nenabled = false\n[responders]\nenabled = false\n"
                             "[towers]\ndelay_seconds = 2\nsilent = [\"tower-kaoko\"]\n";
  const auto wall = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 8s;
  const std::string start = Utc(wall);
  Process sim({KAOKO_SIM_TOOL, "--network", options.network_file, "--scenario", scenario, "--broker", broker.url(),
               "--password-pattern", "demo-{id}", "--state-dir", dir.path() + "/sim-state", "--speed", "10", "--start",
               start, "--anchor-start", "--progress", "lines"},
              dir.path() + "/kaoko-sim.log");
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db",
                       {"--network", options.network_file, "--time-scale", "10", "--time-origin", start});
  MqttClient officer(broker.url(), "officer-pim", broker.Password("officer-pim"));
  officer.Subscribe(T + "/+/notify/officer-pim");
  MqttClient watcher(broker.url(), "somchai", broker.Password("somchai"));
  watcher.Subscribe(T + "/kaoko/receipt/somchai");
  MqttClient niran(broker.url(), "officer-niran", broker.Password("officer-niran"));
  niran.Subscribe(T + "/kaoko/receipt/officer-niran");
  REQUIRE(WaitFor([&] { return sim.Log().find("kaoko-sim: ") != std::string::npos; }, 30s));
  std::this_thread::sleep_until(wall);

  const std::string now = Now();
  watcher.Publish(T + "/kaoko/report/somchai", fmt::format(R"({{"id":"r-1","ts":"{}","concern":"warning"}})", now));
  REQUIRE(watcher.WaitForMessages(1, 10s));
  const std::int64_t incident = json::parse(watcher.Received().front().payload).at("incident");
  niran.Publish(
      T + "/kaoko/decision/officer-niran",
      fmt::format(R"({{"id":"d-1","ts":"{}","incident":{},"action":"declare","level":"warning"}})", now, incident));
  INFO("kaoko-sim log:\n" << sim.Log());
  // The simulated siren sounds; the simulated tower, silent by the scenario, is reported after its 60 s (6 s here).
  REQUIRE(WaitFor([&] { return !TowerEntries(kaoko, incident, "the siren in Ban Kao Ko sounded at").empty(); }, 15s));
  REQUIRE(
      WaitFor([&] { return !TowerEntries(kaoko, incident, "the tower in Ban Kao Ko did not answer").empty(); }, 20s));
  CHECK(WaitFor(
      [&] {
        return !FindMessage(officer, T + "/kaoko/notify/officer-pim", "text_en",
                            "the tower in Ban Kao Ko did not answer within 60 s")
                    .is_null();
      },
      10s));
  // Another village's tower heard nothing of Kao Ko's announcement (its own account reads only its village).
  REQUIRE(WaitFor([&] { return !sim.running(); }, 60s));
  CHECK(sim.Log().find("towers 6 (1 silent): announcements heard 2,") != std::string::npos);
}
