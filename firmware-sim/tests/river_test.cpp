#include <catch2/catch.hpp>

#include <cmath>

#include "kaoko/sim/river.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;

namespace {

Scenario Storm(double hours, std::vector<std::string> where, std::uint64_t seed = 1, double variability = 0.0) {
  Scenario s;
  s.name = "test";
  s.duration = std::chrono::hours(static_cast<int>(hours));
  s.seed = seed;
  s.rain_variability = variability;
  s.rain.push_back(RainBlock{std::move(where), {{1, 0}, {2, 15}, {5, 15}, {6, 0}}});
  return s;
}

struct Peak {
  double q = 0;
  double hours = 0;
};

}  // namespace

TEST_CASE("river: water balance holds within 1% (rain in = losses + storage change + outflow)", "[unit][river]") {
  auto net = testing::TonHong();
  Scenario s = Storm(96, {}, 3, 0.3);
  RiverModel river(net, s);
  while (river.Elapsed() < s.duration) river.Step();
  WaterBalance b = river.Balance();
  REQUIRE(b.rain_in > 0);
  CHECK(b.RelativeError() < 0.01);
  // And at every point along the way, not only at the end.
  RiverModel again(net, s);
  for (int i = 0; i < 600; ++i) {
    again.Step();
    REQUIRE(again.Balance().RelativeError() < 0.01);
  }
}

TEST_CASE("river: a flood peak reaches downstream later by about the travel time, and flatter", "[unit][river]") {
  auto net = testing::TonHong();
  Scenario s = Storm(24, {"huaiphan"});  // rain upstream only: what arrives below is the routed wave
  RiverModel river(net, s);
  std::vector<Peak> peak(river.VillageCount());
  std::vector<double> base(river.VillageCount());
  for (std::size_t v = 0; v < base.size(); ++v) base[v] = river.DischargeM3s(v);
  while (river.Elapsed() < s.duration) {
    river.Step();
    for (std::size_t v = 0; v < peak.size(); ++v) {
      double excess = river.DischargeM3s(v) - base[v];
      if (excess > peak[v].q) peak[v] = {excess, static_cast<double>(river.Elapsed().count()) / 3600.0};
    }
  }
  for (std::size_t v = 0; v + 1 < peak.size(); ++v) {
    double travel = static_cast<double>(net.villages[v].travel_to_next.count()) / 3600.0;
    double delay = peak[v + 1].hours - peak[v].hours;
    INFO("village " << net.villages[v].id << " → " << net.villages[v + 1].id << ": travel " << travel << " h, delay "
                    << delay << " h, peaks " << peak[v].q << " → " << peak[v + 1].q);
    CHECK(delay >= 0.8 * travel);
    CHECK(delay <= 1.2 * travel);
    CHECK(peak[v + 1].q < peak[v].q);
  }
}

TEST_CASE("river: the same seed gives the same levels, another seed others", "[unit][river]") {
  auto net = testing::TonHong();
  Scenario a = Storm(12, {}, 42, 0.3);
  Scenario c = Storm(12, {}, 43, 0.3);
  RiverModel r1(net, a), r2(net, a), r3(net, c);
  bool differs = false;
  while (r1.Elapsed() < a.duration) {
    r1.Step();
    r2.Step();
    r3.Step();
    for (std::size_t i = 0; i < r1.StationCount(); ++i) {
      REQUIRE(r1.StationLevelCm(i) == r2.StationLevelCm(i));
      differs = differs || r1.StationLevelCm(i) != r3.StationLevelCm(i);
    }
  }
  CHECK(differs);
}

TEST_CASE("river: base flow is steady and stays below watch, and rating curves are monotonic", "[unit][river]") {
  auto net = testing::TonHong();
  Scenario s;
  s.duration = std::chrono::hours(6);
  RiverModel river(net, s);
  std::vector<double> start(river.StationCount());
  for (std::size_t i = 0; i < start.size(); ++i) start[i] = river.StationLevelCm(i);
  while (river.Elapsed() < s.duration) river.Step();
  for (std::size_t i = 0; i < start.size(); ++i) {
    CHECK(std::abs(river.StationLevelCm(i) - start[i]) < 0.01);
    CHECK(start[i] < net.stations[i].watch.cm);
    CHECK(river.Rating(i).LevelCm(500) > river.Rating(i).LevelCm(100));
  }
}

TEST_CASE("river: linear reservoir conserves mass exactly", "[unit][river]") {
  LinearReservoir r(3600, 0);
  double in = 0, out = 0;
  for (int i = 0; i < 500; ++i) {
    double q = i < 100 ? 50.0 : 0.0;
    in += q * 60;
    out += r.Step(q, 60) * 60;
  }
  CHECK(std::abs(in - out - r.Storage()) < 1e-6 * in);
}
