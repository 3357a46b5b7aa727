#include "kaoko/common/clock.hpp"

namespace kaoko {
namespace {

Clock::TimePoint WallNow() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

Clock::TimePoint Scaled(Clock::TimePoint origin, double elapsed_ms, double scale) {
  return origin + std::chrono::milliseconds(static_cast<long long>(elapsed_ms * scale));
}

}  // namespace

Clock Clock::RehearsalFrom(TimePoint origin, double scale) {
  Clock c;
  c.kind_ = Kind::kRehearsalWall;
  c.origin_ = origin;
  c.scale_ = scale;
  return c;
}

Clock Clock::RehearsalStartingNow(double scale) {
  Clock c;
  c.kind_ = Kind::kRehearsalSteady;
  c.origin_ = WallNow();
  c.scale_ = scale;
  c.steady_start_ = std::chrono::steady_clock::now();
  return c;
}

Clock Clock::Fake(TimePoint start) {
  Clock c;
  c.kind_ = Kind::kFake;
  c.origin_ = start;
  c.fake_ = std::make_shared<std::atomic<std::int64_t>>(start.time_since_epoch().count());
  return c;
}

Clock::TimePoint Clock::Now() const {
  switch (kind_) {
    case Kind::kWall:
      return WallNow();
    case Kind::kRehearsalWall:
      return Scaled(origin_, std::chrono::duration<double, std::milli>(WallNow() - origin_).count(), scale_);
    case Kind::kRehearsalSteady:
      return Scaled(origin_,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - steady_start_).count(),
                    scale_);
    case Kind::kFake:
      return TimePoint(std::chrono::milliseconds(fake_->load(std::memory_order_acquire)));
  }
  return WallNow();
}

void Clock::Set(TimePoint t) const {
  if (fake_) fake_->store(t.time_since_epoch().count(), std::memory_order_release);
}

void Clock::Advance(std::chrono::milliseconds d) const {
  if (fake_) fake_->fetch_add(d.count(), std::memory_order_acq_rel);
}

}  // namespace kaoko
