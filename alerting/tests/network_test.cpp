#include <catch2/catch.hpp>

#include "kaoko/alerting/network.hpp"

using namespace kaoko::alerting;

TEST_CASE("network: level and role names round-trip and unknown names are refused", "[alerting]") {
  for (Level l : {Level::kNormal, Level::kWatch, Level::kWarning, Level::kCritical}) {
    REQUIRE(ParseLevel(ToString(l)) == l);
  }
  REQUIRE_FALSE(ParseLevel("flood").has_value());
  REQUIRE_FALSE(ParseLevel("").has_value());
  for (Role r : {Role::kWatcher, Role::kCommittee, Role::kHeadman, Role::kDeputy, Role::kTao}) {
    REQUIRE(ParseRole(ToString(r)) == r);
  }
  REQUIRE_FALSE(ParseRole("admin").has_value());
}

TEST_CASE("network: look-ups find by id and give the river order", "[alerting]") {
  Network n;
  n.villages.resize(2);
  n.villages[0].id = "up";
  n.villages[1].id = "down";
  n.stations.resize(1);
  n.stations[0].id = "s1";
  n.stations[0].village = "down";
  REQUIRE(n.VillageIndex("up") == 0);
  REQUIRE(n.VillageIndex("down") == 1);
  REQUIRE(n.VillageIndex("nowhere") == -1);
  REQUIRE(n.FindStation("s1")->village == "down");
  REQUIRE(n.FindStation("s2") == nullptr);
  REQUIRE(n.FindPerson("x") == nullptr);
}
