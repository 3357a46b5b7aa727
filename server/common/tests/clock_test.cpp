// kaoko's Clock: the wall clock, a rehearsal's, and a test's fake one.
#include "kaoko/common/clock.hpp"

#include <catch2/catch.hpp>
#include <thread>

using kaoko::Clock;
using namespace std::chrono_literals;

namespace {
Clock::TimePoint WallNow() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}
Clock::TimePoint At(std::int64_t ms) { return Clock::TimePoint(std::chrono::milliseconds(ms)); }
}  // namespace

TEST_CASE("the default clock is the wall clock", "[clock]") {
  const auto before = WallNow();
  const auto now = Clock().Now();
  const auto after = WallNow();
  CHECK(now >= before);
  CHECK(now <= after);
  CHECK_FALSE(Clock::Wall().rehearsal());
  CHECK(Clock::Wall().scale() == 1.0);
}

TEST_CASE("a fake clock stands still until told, and its copies follow it", "[clock]") {
  const Clock fake = Clock::Fake(At(1'800'000'000'000));
  const Clock copy = fake;  // what a room holds
  CHECK(copy.Now() == At(1'800'000'000'000));
  std::this_thread::sleep_for(5ms);
  CHECK(copy.Now() == At(1'800'000'000'000));
  fake.Advance(90s);
  CHECK(copy.Now() == At(1'800'000'090'000));
  fake.Set(At(1'700'000'000'000));  // backwards too: a test of a clock that jumps
  CHECK(copy.Now() == At(1'700'000'000'000));
  CHECK_FALSE(fake.rehearsal());
}

TEST_CASE("Set and Advance do not move a wall or rehearsal clock", "[clock]") {
  const Clock wall;
  wall.Set(At(0));
  wall.Advance(-10'000'000ms);
  CHECK(wall.Now() >= WallNow() - 1s);
}

TEST_CASE("a rehearsal from an origin runs scale times faster, measured from the origin", "[clock]") {
  // An origin ten real seconds ago at 120x: kaoko's clock stands 1,200 s after it, whenever the process started.
  const auto origin = WallNow() - 10s;
  const Clock r = Clock::RehearsalFrom(origin, 120);
  CHECK(r.rehearsal());
  CHECK(r.scale() == 120);
  CHECK(r.origin() == origin);
  const auto ahead = r.Now() - origin;
  CHECK(ahead >= 1200s);
  CHECK(ahead < 1200s + 120 * 2s);  // a generous margin for a slow machine: two real seconds
}

TEST_CASE("a rehearsal starting now starts at the wall clock and runs faster", "[clock]") {
  const auto before = WallNow();
  const Clock r = Clock::RehearsalStartingNow(60);
  const auto first = r.Now();
  CHECK(first >= before);
  CHECK(first - before < 60 * 2s);
  std::this_thread::sleep_for(50ms);
  // 50 real ms at 60x is at least 3 simulated seconds.
  CHECK(r.Now() - first >= 3s);
}
