#include <catch2/catch.hpp>

#include <fstream>

#include "kaoko/sim/store.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;

TEST_CASE("ack: ranges parse, and malformed payloads are refused whole without a crash", "[unit][ack]") {
  auto ok = ParseAck(R"({"stored": [[1000, 1039], [1041, 1042]], "extra": 1})");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0] == SeqRange{1000, 1039});
  CHECK((*ok)[1] == SeqRange{1041, 1042});
  CHECK(ParseAck(R"({"stored": []})").ok());
  for (const char* bad : {"", "not json", "[]", "{}", R"({"stored": 5})", R"({"stored": [[1]]})",
                          R"({"stored": [[3, 1]]})", R"({"stored": [[-1, 2]]})", R"({"stored": [["1", "2"]]})",
                          R"({"stored": [[1.5, 2]]})", R"({"stored": [[1, 2], "x"]})", "{\"stored\": [[1, 2]"}) {
    INFO(bad);
    auto r = ParseAck(bad);
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.error().reason.empty());
  }
}

TEST_CASE("store: keeps readings on disk until acked, and seq across a reopen", "[unit][store]") {
  testing::TempDir dir;
  {
    auto s = ReadingStore::Open(dir.str(), "st", 100);
    REQUIRE(s.ok());
    for (int i = 0; i < 10; ++i) s->Append(s->NextSeq(), "{\"seq\":" + std::to_string(s->NextSeq()) + "}");
    CHECK(s->Ack({{1, 3}, {5, 5}}) == 4);
    CHECK(s->Size() == 6);
  }
  auto s = ReadingStore::Open(dir.str(), "st", 100);
  REQUIRE(s.ok());
  CHECK(s->LastSeq() == 10);
  CHECK(s->NextSeq() == 11);
  std::vector<std::uint64_t> left;
  for (const auto& [seq, _] : s->Pending()) left.push_back(seq);
  CHECK(left == std::vector<std::uint64_t>{4, 6, 7, 8, 9, 10});
}

TEST_CASE("store: seq survives even when everything was acked and the file compacted", "[unit][store]") {
  testing::TempDir dir;
  {
    auto s = ReadingStore::Open(dir.str(), "st", 5000);
    for (int i = 0; i < 1000; ++i) {
      s->Append(s->NextSeq(), "{}");
      s->Ack({{s->LastSeq(), s->LastSeq()}});
    }
    CHECK(s->Size() == 0);
  }
  auto s = ReadingStore::Open(dir.str(), "st", 5000);
  CHECK(s->NextSeq() == 1001);
  // Compaction keeps the file small.
  std::ifstream f(s->Path());
  std::string line;
  int lines = 0;
  while (std::getline(f, line)) ++lines;
  CHECK(lines < 10);
}

TEST_CASE("store: a full buffer drops the oldest reading and counts it", "[unit][store]") {
  testing::TempDir dir;
  auto s = ReadingStore::Open(dir.str(), "st", 5);
  for (int i = 0; i < 8; ++i) s->Append(s->NextSeq(), "{}");
  CHECK(s->Size() == 5);
  CHECK(s->Dropped() == 3);
  CHECK(s->Pending().begin()->first == 4);
  auto again = ReadingStore::Open(dir.str(), "st", 5);
  CHECK(again->Size() == 5);
  CHECK(again->Pending().begin()->first == 4);
}

TEST_CASE("store: a torn last line (power cut mid-write) is skipped", "[unit][store]") {
  testing::TempDir dir;
  {
    auto s = ReadingStore::Open(dir.str(), "st", 10);
    s->Append(1, R"({"seq":1})");
    s->Append(2, R"({"seq":2})");
  }
  { std::ofstream(dir.str() + "/st.buf", std::ios::app) << "R 3 {\"seq\":3,\"ts\":\"20"; }
  auto s = ReadingStore::Open(dir.str(), "st", 10);
  CHECK(s->Size() == 2);
  CHECK(s->SkippedLines() == 1);
}
