// kaoko's time of day, one type for every room: the wall clock, a rehearsal's clock (an origin, running `scale`
// times faster than real time: docs/operations.md), or a test's fake clock that moves only when told.
//
// A Clock is a small value: copies share their fake time, so a test keeps one and the rooms it hands copies to see
// every Set and Advance. Now() is safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace kaoko {

class Clock {
 public:
  using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

  // The system clock, to the millisecond. The default.
  Clock() = default;
  static Clock Wall() { return Clock(); }
  // A rehearsal: origin + (real time since `origin` on the wall clock) × scale. Two processes given the same origin
  // and scale (kaoko-server's --time-origin, kaoko-sim's --anchor-start) agree, whichever started first.
  static Clock RehearsalFrom(TimePoint origin, double scale);
  // A rehearsal that starts now: (the wall clock now) + (real time since, on the steady clock) × scale.
  static Clock RehearsalStartingNow(double scale);
  // A test's clock: stands at `start` until Set or Advance moves it.
  static Clock Fake(TimePoint start);

  TimePoint Now() const;
  // How many simulated seconds pass in one real second (1 on the wall clock and a fake one).
  double scale() const { return scale_; }
  bool rehearsal() const { return kind_ == Kind::kRehearsalWall || kind_ == Kind::kRehearsalSteady; }
  TimePoint origin() const { return origin_; }

  // A fake clock only (no effect on the others).
  void Set(TimePoint t) const;
  void Advance(std::chrono::milliseconds d) const;

 private:
  enum class Kind { kWall, kRehearsalWall, kRehearsalSteady, kFake };
  Kind kind_ = Kind::kWall;
  TimePoint origin_{};
  double scale_ = 1.0;
  std::chrono::steady_clock::time_point steady_start_{};
  std::shared_ptr<std::atomic<std::int64_t>> fake_;  // milliseconds since the epoch
};

}  // namespace kaoko
