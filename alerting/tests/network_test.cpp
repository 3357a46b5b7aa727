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

TEST_CASE("network: a station's texts keep their bytes through copies, moves and assignment", "[alerting]") {
  StationTexts empty;
  for (int f = 0; f < StationTexts::kCount; ++f) REQUIRE(empty.get(static_cast<StationTexts::Field>(f)).empty());
  REQUIRE(StationTexts(StationTexts::Values{}).get(StationTexts::kNameTh).empty());  // all empty: no block

  const std::string thai = "คอสะพาน บ้านเก้ากอ";  // multi-byte UTF-8
  std::string with_nul("a\0b", 3);              // the lengths are stored, so a NUL inside is kept
  StationTexts a({"สะพานบ้านเก้ากอ", "Kao Ko bridge", "", "", thai, "the bridge approach", with_nul, "x"});
  REQUIRE(a.get(StationTexts::kNameTh) == "สะพานบ้านเก้ากอ");
  REQUIRE(a.get(StationTexts::kNameEn) == "Kao Ko bridge");
  REQUIRE(a.get(StationTexts::kWatchTh).empty());
  REQUIRE(a.get(StationTexts::kWarningTh) == thai);
  REQUIRE(a.get(StationTexts::kWarningEn) == "the bridge approach");
  REQUIRE(a.get(StationTexts::kCriticalTh) == with_nul);
  REQUIRE(a.get(StationTexts::kCriticalTh).size() == 3);
  REQUIRE(a.get(StationTexts::kCriticalEn) == "x");
  REQUIRE(a.get(static_cast<StationTexts::Field>(99)).empty());
  REQUIRE_FALSE(a.in_arena());

  StationTexts b = a;  // a copy owns its own bytes
  REQUIRE(b.values() == a.values());
  REQUIRE(b.get(StationTexts::kNameTh).data() != a.get(StationTexts::kNameTh).data());
  StationTexts::Values changed = a.values();
  changed[StationTexts::kNameEn] = "the new bridge";
  changed[StationTexts::kNameTh] = a.get(StationTexts::kWarningTh);  // from its own bytes
  a = StationTexts(changed);
  REQUIRE(a.get(StationTexts::kNameEn) == "the new bridge");
  REQUIRE(a.get(StationTexts::kNameTh) == thai);
  REQUIRE(a.get(StationTexts::kWarningTh) == thai);          // the others stay
  REQUIRE(b.get(StationTexts::kNameEn) == "Kao Ko bridge");  // the copy is its own

  StationTexts c = std::move(b);
  REQUIRE(c.get(StationTexts::kNameEn) == "Kao Ko bridge");
  b = c;  // a moved-from one can be assigned again
  REQUIRE(b.get(StationTexts::kNameEn) == "Kao Ko bridge");
  const StationTexts& same = b;
  b = same;  // self-assignment keeps the texts
  REQUIRE(b.get(StationTexts::kNameEn) == "Kao Ko bridge");
  c = StationTexts();
  REQUIRE(c.get(StationTexts::kNameEn).empty());

  // The station reads them by level.
  Station s;
  s.texts = a;
  REQUIRE(s.name_th() == thai);
  REQUIRE(s.name_en() == "the new bridge");
  REQUIRE(s.landmark_th(Level::kWarning) == thai);
  REQUIRE(s.landmark_en(Level::kWarning) == "the bridge approach");
  REQUIRE(s.landmark_th(Level::kWatch).empty());
  REQUIRE(s.landmark_en(Level::kCritical) == "x");
  REQUIRE(s.landmark_th(Level::kNormal).empty());
}

TEST_CASE("network: texts kept in an arena stay where they are, and copies of them own their bytes", "[alerting]") {
  auto arena = std::make_unique<TextArena>();
  REQUIRE(arena->bytes() == 0);
  REQUIRE_FALSE(StationTexts(StationTexts::Values{}, *arena).in_arena());  // all empty: takes no room
  REQUIRE(arena->bytes() == 0);

  // Blocks of every length from 33 to 72 bytes, odd ones too: each starts at an even address (the tag bit).
  std::vector<std::string> words;
  std::vector<StationTexts> texts;
  for (int n = 1; n <= 40; ++n) {
    words.push_back(std::string(static_cast<std::size_t>(n), static_cast<char>('a' + n % 26)));
    texts.emplace_back(StationTexts::Values{words.back()}, *arena);
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    REQUIRE(texts[i].in_arena());
    REQUIRE(texts[i].get(StationTexts::kNameTh) == words[i]);
    REQUIRE(texts[i].get(StationTexts::kCriticalEn).empty());
    REQUIRE(reinterpret_cast<std::uintptr_t>(texts[i].get(StationTexts::kNameTh).data() - 4) % 2 == 0);
  }
  REQUIRE(arena->chunks().size() == 1);
  REQUIRE(arena->bytes() >= 40 * 32 + 820);

  // A move keeps the bytes where they are; a copy owns its own, so it outlives the arena.
  const char* where = texts[5].get(StationTexts::kNameTh).data();
  StationTexts moved = std::move(texts[5]);
  REQUIRE(moved.in_arena());
  REQUIRE(moved.get(StationTexts::kNameTh).data() == where);
  StationTexts copy = moved;
  REQUIRE_FALSE(copy.in_arena());
  REQUIRE(copy.get(StationTexts::kNameTh) == words[5]);
  StationTexts assigned;
  assigned = texts[7];
  REQUIRE_FALSE(assigned.in_arena());

  // More than one chunk's worth (4 MiB): a new chunk is taken; a block larger than a chunk gets one of its own.
  const std::string thai = "ขั้นบันไดท่าน้ำหน้าวัด";
  std::vector<StationTexts> many;
  std::vector<std::string> names;
  for (int i = 0; i < 100'000; ++i) {
    names.push_back(thai + std::to_string(i));
    many.emplace_back(StationTexts::Values{names.back(), "", "", "", "", "", "", "en"}, *arena);
  }
  const std::string big(5u << 20, 'x');
  StationTexts huge(StationTexts::Values{"", big}, *arena);
  REQUIRE(arena->chunks().size() >= 3);
  REQUIRE(many.front().get(StationTexts::kNameTh) == thai + "0");
  REQUIRE(many.back().get(StationTexts::kNameTh) == thai + "99999");
  REQUIRE(many.back().get(StationTexts::kCriticalEn) == "en");
  REQUIRE(huge.get(StationTexts::kNameEn) == big);
  for (const auto& c : arena->chunks()) REQUIRE(c.used <= c.size);

  arena.reset();  // the arena's texts go with it; the copies stay
  texts.clear();
  many.clear();
  REQUIRE(copy.get(StationTexts::kNameTh) == words[5]);
  REQUIRE(assigned.get(StationTexts::kNameTh) == words[7]);
}

namespace {
int g_allocated = 0;
int g_released = 0;
}  // namespace

TEST_CASE("network: an arena takes its page-aligned chunks from its storage and gives them back to it", "[alerting]") {
  TextChunkStorage counting = TextArena::HeapStorage();
  counting.page_size = 8192;
  counting.allocate = [](std::size_t bytes, std::size_t page) {
    ++g_allocated;
    return TextArena::HeapStorage().allocate(bytes, page);
  };
  counting.release = [](char* base, std::size_t bytes, std::size_t page) {
    ++g_released;
    TextArena::HeapStorage().release(base, bytes, page);
  };
  {
    TextArena arena(counting);
    REQUIRE(arena.page_size() == 8192);
    StationTexts a(StationTexts::Values{"one"}, arena);
    StationTexts big(StationTexts::Values{std::string(std::size_t{5} << 20, 'x')}, arena);  // a chunk of its own
    REQUIRE(arena.chunks().size() == 2);
    for (const auto& c : arena.chunks()) {
      REQUIRE(reinterpret_cast<std::uintptr_t>(c.base) % 8192 == 0);
      REQUIRE(c.size % 8192 == 0);
    }
    REQUIRE(a.get(StationTexts::kNameTh) == "one");
    REQUIRE(g_allocated == 2);
  }
  REQUIRE(g_released == 2);
}
