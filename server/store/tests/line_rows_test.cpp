// LINE's rows: a link code works once, only before it expires, and a new one replaces the person's old one; a LINE
// account is linked to one person only; a webhook event is handled once, whatever replays it.
#include "kaoko/store/line_rows.hpp"

#include <catch2/catch.hpp>

#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {
constexpr const char* kUserA = "U0123456789abcdef0123456789abcdef";
constexpr const char* kUserB = "Ufedcba9876543210fedcba9876543210";
}  // namespace

TEST_CASE("line rows: a link code works once, before it expires, and a new one replaces the old", "[line]") {
  ScratchDir tmp("line-rows");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::LineRows rows(**s);
  const auto now = T("2026-12-07T02:00:00Z");
  int n = 0;
  auto counting = [&n] { return std::to_string(100000 + n++); };

  const std::string code = rows.NewLinkCode("prasert", now + std::chrono::minutes(15), counting);
  REQUIRE(code == "100000");
  CHECK_FALSE(rows.TakeLinkCode("999999", now));
  auto who = rows.TakeLinkCode(code, now + std::chrono::minutes(1));
  REQUIRE(who);
  CHECK(*who == "prasert");
  CHECK_FALSE(rows.TakeLinkCode(code, now + std::chrono::minutes(2)));  // once

  SECTION("expired") {
    const std::string late = rows.NewLinkCode("prasert", now + std::chrono::minutes(15), counting);
    CHECK_FALSE(rows.TakeLinkCode(late, now + std::chrono::minutes(15)));
  }
  SECTION("a new code replaces the person's earlier one") {
    const std::string first = rows.NewLinkCode("prasert", now + std::chrono::minutes(15), counting);
    const std::string second = rows.NewLinkCode("prasert", now + std::chrono::minutes(15), counting);
    CHECK(first != second);
    CHECK_FALSE(rows.TakeLinkCode(first, now));
    CHECK(rows.TakeLinkCode(second, now) == std::optional<std::string>("prasert"));
  }
  SECTION("a colliding candidate is tried again; another person's code is never taken over") {
    int m = 0;
    auto colliding = [&m] { return m++ < 3 ? std::string("555555") : std::string("666666"); };
    CHECK(rows.NewLinkCode("boonmee", now + std::chrono::minutes(15), colliding) == "555555");
    CHECK(rows.NewLinkCode("prasert", now + std::chrono::minutes(15), colliding) == "666666");
    CHECK(rows.TakeLinkCode("555555", now) == std::optional<std::string>("boonmee"));
    auto always = [] { return std::string("666666"); };
    CHECK(rows.NewLinkCode("suda", now + std::chrono::minutes(15), always).empty());
  }
}

TEST_CASE("line rows: a LINE account is linked to one person only", "[line]") {
  ScratchDir tmp("line-links");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::LineRows rows(**s);
  const auto now = T("2026-12-07T02:00:00Z");
  CHECK_FALSE(rows.UserOf("prasert"));
  CHECK(rows.Link("prasert", kUserA, now) == store::LinkResult::kLinked);
  CHECK(rows.Link("prasert", kUserA, now) == store::LinkResult::kAlready);
  CHECK(rows.Link("boonmee", kUserA, now) == store::LinkResult::kOtherPerson);
  CHECK(rows.UserOf("prasert") == std::optional<std::string>(kUserA));
  CHECK(rows.PersonOf(kUserA) == std::optional<std::string>("prasert"));
  CHECK_FALSE(rows.UserOf("boonmee"));
  // A new phone: the person's link moves to the new account, and the old one is free.
  CHECK(rows.Link("prasert", kUserB, now) == store::LinkResult::kLinked);
  CHECK(rows.UserOf("prasert") == std::optional<std::string>(kUserB));
  CHECK_FALSE(rows.PersonOf(kUserA));
}

TEST_CASE("line rows: a webhook event is handled once, old ones are forgotten", "[line]") {
  ScratchDir tmp("line-events");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::LineRows rows(**s);
  const auto now = T("2026-12-07T02:00:00Z");
  CHECK(rows.FirstSeen("01HZX0000000000000000000AA", now));
  CHECK_FALSE(rows.FirstSeen("01HZX0000000000000000000AA", now + std::chrono::seconds(5)));
  CHECK(rows.FirstSeen("01HZX0000000000000000000AB", now + std::chrono::hours(2)));
  CHECK(rows.ForgetEventsBefore(now + std::chrono::hours(1)) == 1);
  CHECK(rows.FirstSeen("01HZX0000000000000000000AA", now + std::chrono::hours(3)));
}
