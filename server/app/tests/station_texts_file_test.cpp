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

#include "kaoko/app/station_texts_file.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using kaoko::config::ParseNetwork;

namespace {
// A tambon of one village and `n` stations, each with its own Thai and English name and landmarks (about 330 bytes of
// them).
std::string WithStations(int n) {
  std::string text =
      "[tambon]\nid = \"t1\"\nname_th = \"ตำบลหนึ่ง\"\nname_en = \"One\"\n"
      "[[villages]]\nid = \"down\"\nname_th = \"ล่าง\"\nname_en = \"Down\"\n";
  for (int i = 0; i < n; ++i) {
    text += fmt::format(
        "[[stations]]\nid = \"g{0}\"\nvillage = \"down\"\nname_th = \"สถานีวัดระดับน้ำที่ {0}\"\nname_en = \"Gauge {0}\"\n"
        "watch = {{ cm = 150, landmark_th = \"ขั้นบันไดท่าน้ำ {0}\", landmark_en = \"the pier steps {0}\" }}\n"
        "warning = {{ cm = 210, landmark_th = \"คอสะพาน {0}\", landmark_en = \"the bridge approach {0}\" }}\n"
        "critical = {{ cm = 280, landmark_th = \"ถนนหน้าโรงเรียน {0}\", landmark_en = \"the road by school {0}\" }}\n",
        i);
  }
  return text;
}

// `text` loaded as kaoko-server loads its network: into chunks that MoveTextsToFile can map a file over.
kaoko::Result<kaoko::alerting::Network> LoadMappable(const std::string& text, const std::string& name) {
  kaoko::app::UseFileMappableTextStorage();
  return ParseNetwork(text, name);
}

// Every station text of `net`, as plain strings.
std::vector<std::string> AllTexts(const kaoko::alerting::Network& net) {
  std::vector<std::string> out;
  for (const auto& s : net.stations) {
    for (std::string_view t : s.texts.values()) out.emplace_back(t);
  }
  return out;
}

// MoveTextsToFile with files limited to `bytes` (RLIMIT_FSIZE): a write past it fails as on a full disk.
kaoko::Result<std::size_t> MoveWithFileLimit(kaoko::alerting::Network& net, const std::string& dir, std::size_t bytes) {
  struct rlimit was {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &was) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // else the write past the limit ends the process
  struct rlimit small = was;
  small.rlim_cur = bytes;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto moved = kaoko::app::MoveTextsToFile(net, dir);
  ::setrlimit(RLIMIT_FSIZE, &was);
  std::signal(SIGXFSZ, old_handler);
  return moved;
}

// The line of /proc/self/maps for the mapping that holds `address`.
std::string MappingOf(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    std::uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi) return line;
  }
  return {};
}
}  // namespace

TEST_CASE("texts: the station texts move to a nameless file and read the same", "[texts]") {
  kaoko::server_test::ScratchDir scratch("texts");
  auto net = LoadMappable(WithStations(20'000), "big.toml");  // about 6.6 MB of texts: two chunks
  REQUIRE(net);
  REQUIRE(net->texts);
  const auto before = AllTexts(*net);
  REQUIRE(before[0] == "สถานีวัดระดับน้ำที่ 0");
  REQUIRE(before.back() == "the road by school 19999");
  REQUIRE(net->stations[1].texts.in_arena());
  const std::size_t bytes = net->texts->bytes();
  REQUIRE(net->texts->chunks().size() == 2);

  auto moved = kaoko::app::MoveTextsToFile(*net, scratch.dir().string());
  REQUIRE(moved);
  REQUIRE(*moved == bytes);
  for (const auto& c : net->texts->chunks()) {
    REQUIRE(c.on_file);
    // The chunk's pages are now those of a deleted file, not anonymous memory.
    const std::string mapping = MappingOf(c.base);
    INFO(mapping);
    REQUIRE(mapping.find("(deleted)") != std::string::npos);
  }
  REQUIRE(AllTexts(*net) == before);                  // every station's texts still point at their bytes
  REQUIRE(std::filesystem::is_empty(scratch.dir()));  // nothing is left behind in the database's directory

  // Texts added after the move go to a new chunk in memory; moving again moves only that one.
  kaoko::alerting::StationTexts late({"ป้ายใหม่"}, *net->texts);
  REQUIRE(late.get(kaoko::alerting::StationTexts::kNameTh) == "ป้ายใหม่");
  REQUIRE_FALSE(net->texts->chunks().back().on_file);
  auto again = kaoko::app::MoveTextsToFile(*net, scratch.dir().string());
  REQUIRE(again);
  REQUIRE(*again == net->texts->chunks().back().used);
  REQUIRE(late.get(kaoko::alerting::StationTexts::kNameTh) == "ป้ายใหม่");
  REQUIRE(AllTexts(*net) == before);

  // A copy of the network owns its texts and outlives the original.
  auto copy = std::make_unique<kaoko::alerting::Network>(*net);
  net = kaoko::MakeError("gone", "the original is gone");
  REQUIRE(AllTexts(*copy) == before);
}

TEST_CASE("texts: texts that cannot move to a file stay in memory, whole", "[texts]") {
  kaoko::server_test::ScratchDir scratch("texts-fail");
  auto net = LoadMappable(WithStations(200), "small.toml");
  REQUIRE(net);
  const auto before = AllTexts(*net);

  SECTION("a directory that is not there") {
    auto moved = kaoko::app::MoveTextsToFile(*net, (scratch.dir() / "missing").string());
    REQUIRE_FALSE(moved);
    REQUIRE(moved.error().reason.find("missing") != std::string::npos);
  }
  SECTION("a file that cannot be written (the disk is full: here, the file-size limit)") {
    // The texts take more than one page.
    auto moved = MoveWithFileLimit(*net, scratch.dir().string(), 4096);
    REQUIRE_FALSE(moved);
    REQUIRE(moved.error().reason.find("cannot write the station texts") != std::string::npos);
  }
  for (const auto& c : net->texts->chunks()) REQUIRE_FALSE(c.on_file);
  REQUIRE(AllTexts(*net) == before);
  REQUIRE(std::filesystem::is_empty(scratch.dir()));
}

TEST_CASE("texts: texts that stop moving half-way are all still readable, and the error says how far it got",
          "[texts]") {
  kaoko::server_test::ScratchDir scratch("texts-half");
  auto net = LoadMappable(WithStations(20'000), "big.toml");  // two chunks
  REQUIRE(net);
  const auto before = AllTexts(*net);
  auto& chunks = net->texts->chunks();
  REQUIRE(chunks.size() == 2);
  const std::size_t page = net->texts->page_size();
  const std::size_t first = (chunks[0].used + page - 1) / page * page;

  // The file may hold the first chunk and not a byte more: the second one's write fails (the disk is full).
  auto moved = MoveWithFileLimit(*net, scratch.dir().string(), first);

  REQUIRE_FALSE(moved);
  INFO(moved.error().reason);
  CHECK(moved.error().reason.find("cannot write the station texts") != std::string::npos);
  CHECK(moved.error().reason.find(fmt::format("{} bytes had already moved", chunks[0].used)) != std::string::npos);
  CHECK(chunks[0].on_file);
  CHECK(MappingOf(chunks[0].base).find("(deleted)") != std::string::npos);
  CHECK_FALSE(chunks[1].on_file);
  REQUIRE(AllTexts(*net) == before);  // on file or in memory, every text reads the same

  // Space again: the rest moves on the next try.
  auto again = kaoko::app::MoveTextsToFile(*net, scratch.dir().string());
  REQUIRE(again);
  CHECK(*again == chunks[1].used);
  CHECK(chunks[1].on_file);
  REQUIRE(AllTexts(*net) == before);
  REQUIRE(std::filesystem::is_empty(scratch.dir()));
}

TEST_CASE("texts: texts loaded into the default storage are not moved to a file, and stay readable", "[texts]") {
  kaoko::server_test::ScratchDir scratch("texts-default");
  const auto mappable = kaoko::alerting::TextArena::DefaultStorage();
  kaoko::alerting::TextArena::SetDefaultStorage(kaoko::alerting::TextArena::HeapStorage());
  auto net = ParseNetwork(WithStations(200), "small.toml");
  kaoko::alerting::TextArena::SetDefaultStorage(mappable);
  REQUIRE(net);
  const auto before = AllTexts(*net);
  auto moved = kaoko::app::MoveTextsToFile(*net, scratch.dir().string());
  REQUIRE_FALSE(moved);
  CHECK(moved.error().reason.find("not in mapped pages") != std::string::npos);
  for (const auto& c : net->texts->chunks()) REQUIRE_FALSE(c.on_file);
  REQUIRE(AllTexts(*net) == before);
  REQUIRE(std::filesystem::is_empty(scratch.dir()));
}
