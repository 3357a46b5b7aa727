// kaoko-sim's village tower and siren (tower.hpp): it hears its village's announcements, answers that it sounded
// after its delay, plays a retained repeat once, and stays silent when the scenario says so.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kaoko/contract/render.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/sim/scenario_file.hpp"
#include "kaoko/sim/tower.hpp"

using namespace kaoko::sim;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
const SimTime kNow = ParseRfc3339("2026-11-27T02:14:00Z").value();
const std::string kAnnounce = "kaoko/v1/tonhong/kaoko/announce";

std::string Announcement(const std::string& id) {
  kaoko::alerting::Announcement a;
  a.village = "kaoko";
  a.id = id;
  a.incident = 12;
  a.level = kaoko::alerting::Level::kCritical;
  a.on = true;
  a.play = kaoko::alerting::Play::kEvacuate;
  a.text_th = "เตือนภัยรุนแรง — อพยพ บ้านเก้ากอ";
  a.text_en = "Critical, Ban Kao Ko";
  a.ts = std::chrono::time_point_cast<std::chrono::milliseconds>(kNow);
  return kaoko::server::RenderAnnouncement(a);
}

TowerConfig Config(bool silent = false) { return {"tonhong", "tower-kaoko", "kaoko", 500ms, silent}; }
}  // namespace

TEST_CASE("sim tower: hears its village's announcement and answers sounded after its delay", "[unit][tower]") {
  Tower t(Config());
  CHECK(t.Subscriptions() == std::vector<std::string>{kAnnounce});
  CHECK(t.StatusTopic() == "kaoko/v1/tonhong/kaoko/device/tower-kaoko/status");
  const WallTime w0{};
  REQUIRE(t.OnMessage(kAnnounce, Announcement("a-7"), w0));
  CHECK(t.Due(w0 + 499ms, kNow).empty());
  auto out = t.Due(w0 + 500ms, kNow + 1s);
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded");
  auto msg = kaoko::wire::ParseSounded(out[0].payload);
  REQUIRE(msg.ok());
  CHECK(msg->announce == "a-7");
  CHECK(msg->ok);
  CHECK(msg->ts == std::chrono::time_point_cast<std::chrono::milliseconds>(kNow + 1s));
  CHECK(t.Due(w0 + 10s, kNow).empty());  // once

  SECTION("a retained repeat after a reconnect is not played again; a new announcement is") {
    REQUIRE(t.OnMessage(kAnnounce, Announcement("a-7"), w0 + 20s));
    CHECK(t.Due(w0 + 30s, kNow).empty());
    REQUIRE(t.OnMessage(kAnnounce, Announcement("a-8"), w0 + 30s));
    CHECK(t.Due(w0 + 31s, kNow).size() == 1);
    CHECK(t.Stats().announcements == 2);
    CHECK(t.Stats().sounded == 2);
  }
  SECTION("another village's topic and a malformed announcement are not taken") {
    CHECK_FALSE(t.OnMessage("kaoko/v1/tonhong/huaiphan/announce", Announcement("a-9"), w0));
    CHECK_FALSE(t.OnMessage(kAnnounce, R"({"id":"a-9"})", w0));
    CHECK(t.Stats().malformed == 1);
    CHECK(t.Due(w0 + 1h, kNow).empty());
  }
}

TEST_CASE("sim tower: a silent tower hears everything and never answers", "[unit][tower]") {
  Tower t(Config(true));
  REQUIRE(t.OnMessage(kAnnounce, Announcement("a-1"), WallTime{}));
  CHECK(t.Due(WallTime{} + 1h, kNow).empty());
  CHECK(t.Stats().ignored_silent == 1);
}

TEST_CASE("sim tower: the scenario's [towers] table", "[unit][tower][scenario]") {
  auto s = ParseScenario("[scenario]\nduration_hours = 1\n[towers]\nsilent = [\"tower-kaoko\"]\ndelay_seconds = 2\n",
                         "towers.toml");
  INFO((s ? "" : s.error().reason));
  REQUIRE(s.ok());
  CHECK(s->towers.enabled);
  CHECK(s->towers.delay_seconds == 2);
  CHECK(s->towers.silent == std::vector<std::string>{"tower-kaoko"});
  auto defaults = ParseScenario("[scenario]\nduration_hours = 1\n", "plain.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->towers.enabled);
  CHECK(defaults->towers.silent.empty());
  auto bad = ParseScenario("[scenario]\nduration_hours = 1\n[towers]\nvolume = 3\n", "bad.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().reason.find("bad.toml:4") == 0);
}
