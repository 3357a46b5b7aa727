#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kaoko/sim/watcher.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;
using namespace std::chrono_literals;

namespace {
const SimTime kStart = ParseRfc3339("2026-11-27T00:00:00Z").value();

WatcherConfig Somchai() {
  auto net = testing::TonHong();
  WatcherConfig c;
  c.tambon = net.tambon;
  c.village = "kaoko";
  c.user = "somchai";
  c.station = *net.FindStation("kaoko-bridge");
  c.behaviour.wrong_probability = 0;
  return c;
}
}  // namespace

TEST_CASE("watcher: reports a rising river with the contract's fields and a Thai note", "[unit][watcher]") {
  Watcher w(Somchai(), 1, 7, kStart);
  std::vector<Report> all;
  double level = 200;
  for (SimTime t = kStart; t < kStart + 8h; t += 60s) {
    level += 0.8;  // 48 cm/h
    for (auto& r : w.Advance(t, level)) all.push_back(r);
  }
  REQUIRE_FALSE(all.empty());
  auto j = nlohmann::json::parse(all.back().payload);
  CHECK(all.front().id == "r-0007");
  CHECK(all.back().topic == "kaoko/v1/tonhong/kaoko/report/somchai");
  CHECK(j["station"] == "kaoko-bridge");
  CHECK(static_cast<int>(j["level_cm"].get<double>()) % 5 == 0);
  CHECK(j["concern"] == "critical");
  CHECK(j["trend"] == "rising");
  CHECK(j["ts"].get<std::string>().ends_with("Z"));
  CHECK_FALSE(j["note"].get<std::string>().empty());
}

TEST_CASE("watcher: quiet while the river is calm, and a scripted false alarm goes out anyway", "[unit][watcher]") {
  WatcherConfig c = Somchai();
  c.events.push_back({2.0, "somchai", "warning", 330.0, "rising", "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว"});
  Watcher w(c, 1, 1, kStart);
  std::vector<Report> all;
  for (SimTime t = kStart; t < kStart + 12h; t += 60s) {
    for (auto& r : w.Advance(t, 120)) all.push_back(r);
  }
  REQUIRE(all.size() == 1);
  CHECK(all[0].scripted);
  auto j = nlohmann::json::parse(all[0].payload);
  CHECK(j["concern"] == "warning");
  CHECK(j["level_cm"] == 330.0);
  CHECK(j["note"] == "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว");
  CHECK(j["ts"] == "2026-11-27T02:00:00Z");
}

TEST_CASE("watcher: notes name the landmark", "[unit][watcher]") {
  CHECK(ThaiNote(kaoko::alerting::Level::kWarning, "rising", "คอสะพาน") == "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว");
}
