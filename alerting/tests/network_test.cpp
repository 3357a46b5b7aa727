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

TEST_CASE("network: a station's position is found with and without the index, and a stale index is not trusted",
          "[alerting]") {
  Network n;
  for (const char* id : {"a", "b", "c"}) {
    n.stations.emplace_back();
    n.stations.back().id = id;
  }
  REQUIRE(n.StationIndex("c") == 2);  // no index yet: a scan
  REQUIRE(n.StationIndex("zz") == -1);
  n.BuildIndex();
  REQUIRE(n.StationIndex("a") == 0);
  REQUIRE(n.StationIndex("b") == 1);
  REQUIRE(n.StationIndex("c") == 2);
  REQUIRE(n.StationIndex("") == -1);
  REQUIRE(n.StationIndex("zz") == -1);
  // The list changed after BuildIndex: its size no longer matches, so the look-up scans instead of misleading.
  n.stations.erase(n.stations.begin());
  REQUIRE(n.StationIndex("c") == 1);
  REQUIRE(n.StationIndex("a") == -1);
}

TEST_CASE("network: a Text keeps its bytes through copies, moves and assignment", "[alerting]") {
  Text empty;
  REQUIRE(empty.empty());
  REQUIRE(empty.size() == 0);
  REQUIRE(empty == "");
  REQUIRE(Text(std::string()).empty());  // an empty string holds no block

  const std::string thai = "คอสะพาน บ้านเก้ากอ";  // multi-byte UTF-8, longer than std::string's inline buffer
  Text a = thai;
  REQUIRE(a.size() == thai.size());
  REQUIRE(a == thai);
  REQUIRE(a.str() == thai);
  REQUIRE(fmt::format("น้ำถึง{}", a) == "น้ำถึง" + thai);

  Text b = a;  // a copy owns its own bytes
  REQUIRE(b == a);
  REQUIRE(b.view().data() != a.view().data());
  a = "the bridge approach";
  REQUIRE(a == "the bridge approach");
  REQUIRE(b == thai);

  Text c = std::move(b);
  REQUIRE(c == thai);
  b = c;  // a moved-from Text can be assigned again
  REQUIRE(b == thai);
  const Text& same = b;
  b = same;  // self-assignment keeps the text
  REQUIRE(b == thai);
  c = Text();
  REQUIRE(c.empty());

  std::string with_nul("a\0b", 3);  // the length is stored, so a NUL inside is kept
  REQUIRE(Text(with_nul).size() == 3);
  REQUIRE(Text(with_nul) == with_nul);
}
