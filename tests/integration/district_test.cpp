// A silent TAO reaching the district (issue 24, item 5), end to end: the real kaoko-server on a rehearsal clock
// (120×) against a real Mosquitto, with a network file that has a district officer above the TAO. Nobody answers:
// the chain walks up by its deadlines, the TAO misses its own, and the district's person gets a notification on
// notify/{user} with a delivery row, while the village's alert carries since when the TAO is overdue and when the
// district was told. Checked only from the outside: MQTT subscriptions and the HTTP API.
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

// The shipped Ton Hong network with the district's disaster officer (web and SMS contacts, as anyone's).
std::string WithDistrict(const TempDir& dir) {
  std::ifstream in(SourceDir() + "/config/tonhong.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const std::string tao = "tao_declare_minutes = 20";
  const auto at = toml.find(tao);
  REQUIRE(at != std::string::npos);
  toml.insert(at + tao.size(), "\ndistrict_minutes = 30");
  toml += R"(
[[people]]
id = "amphoe-dpm"
name_th = "ปลัดอำเภอฝ่ายป้องกันฯ"
name_en = "District disaster officer"
role = "district"
contacts = [{ channel = "web", consent = 2026-06-01 }, { channel = "sms", number = "+66810000999", consent = 2026-06-01 }]
)";
  const std::string path = dir.path() + "/tonhong-district.toml";
  std::ofstream(path) << toml;
  return path;
}

std::string NowUtc() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

}  // namespace

TEST_CASE("district: a silent TAO reaches the district: notify/{user}, a delivery row, the overdue alert",
          "[integration][district]") {
  TempDir dir;
  BrokerOptions options;
  options.network_file = WithDistrict(dir);
  Broker broker(options);
  std::ofstream(broker.accounts_dir() + "/credentials.toml", std::ios::app)
      << "\n[sms]\nusername = \"kaoko\"\npassword = \"secret\"\ncallback_token = \"district-test-0123456789\"\n";
  // The harness starts the shipped network; a later --network replaces it. A gateway nobody answers starts the
  // delivery room, so that the district person's delivery rows are queued (web and SMS, as anyone's).
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db",
                       {"--network", options.network_file, "--time-scale", "120", "--sms-gateway",
                        fmt::format("http://127.0.0.1:{}/cgi-bin/sendsms", FreePort())});
  MqttClient district(broker.url(), "amphoe-dpm", broker.Password("amphoe-dpm"));
  const std::string notify = "kaoko/v1/tonhong/kaoko/notify/amphoe-dpm";
  const std::string alert = "kaoko/v1/tonhong/kaoko/alert";
  district.Subscribe(notify);
  district.Subscribe(alert);
  MqttClient watcher(broker.url(), "somchai", broker.Password("somchai"));
  watcher.Publish("kaoko/v1/tonhong/kaoko/report/somchai",
                  fmt::format(R"({{"id":"r-1","ts":"{}","concern":"warning","note":"น้ำขึ้นเร็ว"}})", NowUtc()));

  INFO("kaoko log:\n" << Tail(kaoko.log_path(), 40));
  // Nobody answers: committee (10 min), headman (15), TAO (20) pass at 120× in well under a minute.
  REQUIRE(WaitFor([&] { return !district.Received(notify).empty(); }, 90s));
  const json n = json::parse(district.Received(notify).front().payload);
  INFO(n.dump());
  CHECK(n.at("action_needed") == "declare");
  CHECK_FALSE(n.contains("reminder"));  // the first one, not a reminder
  const std::string text_th = n.at("text_th");
  CHECK(text_th.find("บ้านเก้ากอ") != std::string::npos);
  CHECK(text_th.find("อบต. ไม่ตอบตั้งแต่") != std::string::npos);
  CHECK(n.at("text_en").get<std::string>().find("the TAO has been silent since") != std::string::npos);
  const std::int64_t id = n.at("incident");

  // The retained alert of the village carries the overdue TAO and the district step.
  REQUIRE(WaitFor(
      [&] {
        for (const auto& m : district.Received(alert)) {
          const json a = json::parse(m.payload);
          if (a.contains("district_notified_at") && a.contains("tao_overdue_since")) return true;
        }
        return false;
      },
      10s));

  // The incident shows the step, and the district person's delivery row exists.
  json inc;
  REQUIRE(WaitFor(
      [&] {
        auto res = kaoko.Get(fmt::format("/api/v1/incidents/{}", id));
        if (res.status != 200) return false;
        inc = json::parse(res.body);
        for (const auto& d : inc.at("deliveries")) {
          if (d.at("person") == "amphoe-dpm") return true;
        }
        return false;
      },
      20s));
  CHECK(inc.at("tao_overdue") == true);
  CHECK(inc.at("tao_overdue_since").is_string());
  CHECK(inc.at("district_notified_at").is_string());
  CHECK(inc.at("district_deadline").is_string());
  bool told = false;
  for (const auto& e : inc.at("timeline")) {
    told = told || e.at("text_en").get<std::string>().find("the district is told") != std::string::npos;
  }
  CHECK(told);

  // The district acknowledges ("seen, on it") from its own account: accepted, its reminders stop.
  district.Subscribe("kaoko/v1/tonhong/kaoko/receipt/amphoe-dpm");
  district.Publish("kaoko/v1/tonhong/kaoko/decision/amphoe-dpm",
                   fmt::format(R"({{"id":"d-1","ts":"{}","incident":{},"action":"ack"}})", NowUtc(), id));
  REQUIRE(WaitFor([&] { return !district.Received("kaoko/v1/tonhong/kaoko/receipt/amphoe-dpm").empty(); }, 10s));
  const json rc = json::parse(district.Received("kaoko/v1/tonhong/kaoko/receipt/amphoe-dpm").front().payload);
  INFO(rc.dump());
  CHECK(rc.at("ok") == true);
  REQUIRE(WaitFor(
      [&] {
        auto res = kaoko.Get(fmt::format("/api/v1/incidents/{}", id));
        return res.status == 200 && json::parse(res.body).at("district_acked_by") == "amphoe-dpm";
      },
      10s));
}
