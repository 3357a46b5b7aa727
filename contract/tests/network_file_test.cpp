#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using kaoko::config::IsIdentifier;
using kaoko::config::LoadNetwork;
using kaoko::config::ParseNetwork;

namespace {
const char* kMinimal = R"(
[tambon]
id = "t1"
name_th = "ตำบลหนึ่ง"
name_en = "One"
[[villages]]
id = "up"
name_th = "บน"
name_en = "Up"
travel_to_next_minutes = 45
[[villages]]
id = "down"
name_th = "ล่าง"
name_en = "Down"
[[stations]]
id = "s1"
village = "up"
name_th = "สถานี"
name_en = "Station"
watch = 100
warning = { cm = 150, landmark_th = "ขั้นบันไดวัด", landmark_en = "the temple steps" }
critical = 200
[[people]]
id = "w1"
name_th = "ก"
role = "watcher"
village = "up"
[[people]]
id = "t1"
name_th = "ข"
role = "tao"
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}
}  // namespace

TEST_CASE("config: identifiers follow the contract", "[config]") {
  REQUIRE(IsIdentifier("kaoko-bridge"));
  REQUIRE(IsIdentifier("a"));
  REQUIRE(IsIdentifier(std::string(32, 'x')));
  REQUIRE_FALSE(IsIdentifier(""));
  REQUIRE_FALSE(IsIdentifier(std::string(33, 'x')));
  REQUIRE_FALSE(IsIdentifier("Kaoko"));
  REQUIRE_FALSE(IsIdentifier("a/b"));
  REQUIRE_FALSE(IsIdentifier("a+"));
  REQUIRE_FALSE(IsIdentifier("บ้าน"));
}

TEST_CASE("config: the shipped Ton Hong network loads", "[config]") {
  auto net = LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  REQUIRE(net->tambon == "tonhong");
  REQUIRE(net->villages.size() >= 5);
  REQUIRE(net->VillageIndex("kaoko") >= 0);
  const auto* bridge = net->FindStation("kaoko-bridge");
  REQUIRE(bridge != nullptr);
  REQUIRE(bridge->watch.cm == 250);
  REQUIRE(bridge->landmark_en(kaoko::alerting::Level::kWatch) == "the temple steps");
  REQUIRE(net->villages.front().travel_to_next == std::chrono::minutes(60));
  REQUIRE(net->escalation.auto_resolve_after == std::chrono::hours(6));
  // Every role is represented so the demo can show each screen.
  for (auto role : {kaoko::alerting::Role::kWatcher, kaoko::alerting::Role::kCommittee, kaoko::alerting::Role::kHeadman,
                    kaoko::alerting::Role::kDeputy, kaoko::alerting::Role::kTao}) {
    bool found = false;
    for (const auto& p : net->people) found = found || p.role == role;
    REQUIRE(found);
  }
}

TEST_CASE("config: a minimal file loads with defaults", "[config]") {
  auto net = ParseNetwork(kMinimal, "mini.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  REQUIRE(net->villages[0].travel_to_next == std::chrono::minutes(45));
  REQUIRE(net->stations[0].landmark_th(kaoko::alerting::Level::kWarning) == "ขั้นบันไดวัด");
  REQUIRE(net->stations[0].persistence_readings == 2);
  REQUIRE(net->people[1].village.empty());
}

TEST_CASE("config: a wrong file names the file, the line and what is wrong", "[config]") {
  auto expect = [](const std::string& text, const std::string& fragment) {
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    REQUIRE(net.error().reason.rfind("bad.toml", 0) == 0);
    REQUIRE(net.error().reason.find(fragment) != std::string::npos);
  };
  SECTION("TOML syntax") { expect(std::string(kMinimal) + "\n[[villages]\n", "bad.toml:"); }
  SECTION("unknown key is a typo, not a default") {
    expect(Replace(kMinimal, "critical = 200", "critical = 200\npersistance_readings = 3"),
           "unknown key 'persistance_readings'");
  }
  SECTION("line number of the offending key") {
    auto text = Replace(kMinimal, "village = \"up\"\nname_th = \"สถานี\"", "village = \"nowhere\"\nname_th = \"สถานี\"");
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    REQUIRE(net.error().reason.find("bad.toml:17:") == 0);
    REQUIRE(net.error().reason.find("village 'nowhere'") != std::string::npos);
  }
  SECTION("thresholds out of order") {
    expect(Replace(kMinimal, "critical = 200", "critical = 120"), "thresholds must rise");
  }
  SECTION("threshold of the wrong type") { expect(Replace(kMinimal, "watch = 100", "watch = \"high\""), "'watch'"); }
  SECTION("bad identifier") { expect(Replace(kMinimal, "id = \"s1\"", "id = \"S 1\""), "must be 1-32 characters"); }
  SECTION("unknown role") { expect(Replace(kMinimal, "role = \"watcher\"", "role = \"mayor\""), "role 'mayor'"); }
  SECTION("villager without a village") {
    expect(Replace(kMinimal, "role = \"watcher\"\nvillage = \"up\"", "role = \"watcher\""), "missing 'village'");
  }
  SECTION("duplicate names across stations and people") {
    expect(Replace(kMinimal, "id = \"w1\"", "id = \"s1\""), "used twice");
  }
  SECTION("the reserved village id 'tier'") {
    expect(Replace(kMinimal, "id = \"down\"", "id = \"tier\""), "'tier' is reserved");
  }
  SECTION("the service's own account") { expect(Replace(kMinimal, "id = \"w1\"", "id = \"kaoko\""), "service's own"); }
  SECTION("no villages") { expect("[tambon]\nid = \"t\"\nname_th = \"x\"\nname_en = \"x\"\n", "no [[villages]]"); }
  SECTION("missing file") {
    auto net = LoadNetwork("/nonexistent/net.toml");
    REQUIRE_FALSE(net.ok());
    REQUIRE(net.error().reason.find("cannot open") != std::string::npos);
  }
}
