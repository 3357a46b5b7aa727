#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

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

TEST_CASE("network: Texts kept in an arena stay where they are, and copies of them own their bytes", "[alerting]") {
  auto arena = std::make_unique<TextArena>();
  REQUIRE(arena->bytes() == 0);
  REQUIRE(Text("", *arena).empty());  // an empty text takes no room
  REQUIRE(arena->bytes() == 0);

  // Texts of every length from 1 to 40 bytes, odd ones too: each block starts at an even address (the tag bit).
  std::vector<std::string> words;
  std::vector<Text> texts;
  for (int n = 1; n <= 40; ++n) {
    words.push_back(std::string(static_cast<std::size_t>(n), static_cast<char>('a' + n % 26)));
    texts.emplace_back(words.back(), *arena);
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    REQUIRE(texts[i].in_arena());
    REQUIRE(texts[i] == words[i]);
    REQUIRE(texts[i].size() == words[i].size());
  }
  REQUIRE(arena->chunks().size() == 1);
  REQUIRE(arena->bytes() >= 40 * 4 + 820);

  // A move keeps the bytes where they are; a copy owns its own, so it outlives the arena.
  const char* where = texts[5].view().data();
  Text moved = std::move(texts[5]);
  REQUIRE(moved.in_arena());
  REQUIRE(moved.view().data() == where);
  Text copy = moved;
  REQUIRE_FALSE(copy.in_arena());
  REQUIRE(copy == words[5]);
  Text assigned;
  assigned = texts[7];
  REQUIRE_FALSE(assigned.in_arena());

  // More than one chunk's worth (4 MiB): a new chunk is taken; a text larger than a chunk gets one of its own.
  const std::string thai = "ขั้นบันไดท่าน้ำหน้าวัด";
  std::vector<Text> many;
  for (int i = 0; i < 100'000; ++i) many.emplace_back(thai + std::to_string(i), *arena);
  const std::string big(5u << 20, 'x');
  Text huge(big, *arena);
  REQUIRE(arena->chunks().size() >= 3);
  REQUIRE(many.front() == thai + "0");
  REQUIRE(many.back() == thai + "99999");
  REQUIRE(huge.size() == big.size());
  REQUIRE(huge == big);
  for (const auto& c : arena->chunks()) REQUIRE(c.used <= c.size);

  arena.reset();  // the arena's texts go with it; the copies stay
  texts.clear();
  many.clear();
  REQUIRE(copy == words[5]);
  REQUIRE(assigned == words[7]);
}
