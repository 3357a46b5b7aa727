#include <catch2/catch.hpp>

#include <filesystem>

#include "kaoko/sim/river.hpp"
#include "kaoko/sim/scenario_file.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;

TEST_CASE("scenario: every shipped scenario loads and runs on the Ton Hong network", "[unit][scenario]") {
  auto net = testing::TonHong();
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(KAOKO_SOURCE_DIR) + "/firmware-sim/scenarios")) {
    if (entry.path().extension() != ".toml") continue;
    ++count;
    auto s = LoadScenario(entry.path().string());
    INFO(entry.path().string() << ": " << (s ? "" : s.error().reason));
    REQUIRE(s.ok());
    CHECK(s->name == entry.path().stem().string());
    RiverModel river(net, *s);  // throws on unknown villages/stations
    for (int i = 0; i < 10; ++i) river.Step();
  }
  CHECK(count >= 6);
}

TEST_CASE("scenario: a calm week stays normal and the monsoon crosses critical within a day", "[unit][scenario]") {
  auto net = testing::TonHong();
  auto peaks = [&](const std::string& file, double within_hours) {
    auto s = LoadScenario(std::string(KAOKO_SOURCE_DIR) + "/firmware-sim/scenarios/" + file);
    REQUIRE(s.ok());
    RiverModel river(net, *s);
    std::vector<double> peak(river.StationCount(), 0);
    while (river.Elapsed() < s->duration && river.Elapsed() < std::chrono::hours(static_cast<int>(within_hours))) {
      river.Step();
      for (std::size_t i = 0; i < peak.size(); ++i) peak[i] = std::max(peak[i], river.StationLevelCm(i));
    }
    return peak;
  };
  auto calm = peaks("calm-week.toml", 1000);
  for (std::size_t i = 0; i < calm.size(); ++i) CHECK(calm[i] < net.stations[i].watch.cm);
  auto monsoon = peaks("monsoon.toml", 24);
  int critical = 0;
  for (std::size_t i = 0; i < monsoon.size(); ++i) critical += monsoon[i] >= net.stations[i].critical.cm;
  CHECK(critical >= 1);
  // The first rise starts within two simulated hours (a demo shows action quickly).
  auto early = peaks("monsoon.toml", 2);
  CHECK(early[0] > net.stations[0].watch.cm);
}

TEST_CASE("scenario: errors name the file and the line", "[unit][scenario]") {
  SECTION("unknown key") {
    auto s = ParseScenario("[scenario]\nname = \"x\"\nduration_hours = 2\ncolour = 3\n", "bad.toml");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().reason.rfind("bad.toml:4:", 0) == 0);
  }
  SECTION("syntax") {
    auto s = ParseScenario("[scenario]\nname = \n", "bad.toml");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().reason.rfind("bad.toml:2:", 0) == 0);
  }
  SECTION("bad fault kind") {
    auto s =
        ParseScenario("[scenario]\nduration_hours = 2\n[[faults]]\nstation = \"a\"\nkind = \"melted\"\n", "f.toml");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().reason.find("f.toml:5:") == 0);
  }
  SECTION("rain points out of order") {
    auto s = ParseScenario("[scenario]\nduration_hours = 2\n[[rain]]\npoints = [[2, 1], [1, 3]]\n", "r.toml");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().reason.find("r.toml:4:") == 0);
  }
}

TEST_CASE("scenario: rain blocks interpolate and add up", "[unit][scenario]") {
  auto s = ParseScenario(
      "[scenario]\nduration_hours = 10\n[[rain]]\npoints = [[0, 0], [2, 10]]\n"
      "[[rain]]\ncatchments = [\"a\"]\nfrom_hours = 1\nto_hours = 3\nmm_h = 5\n",
      "ok.toml");
  REQUIRE(s.ok());
  CHECK(s->RainAt("b", 1.0) == Approx(5.0));
  CHECK(s->RainAt("a", 1.0) == Approx(10.0));
  CHECK(s->RainAt("a", 2.5) == Approx(5.0));
  CHECK(s->RainAt("b", 4.0) == Approx(0.0));
}
