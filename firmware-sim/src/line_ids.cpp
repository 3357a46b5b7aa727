// Identifiers in LINE's shapes (line_ids.hpp), from one random engine behind a lock.
#include "kaoko/sim/line_ids.hpp"

#include <fmt/format.h>

#include <mutex>
#include <random>

namespace kaoko::sim {
namespace {

std::uint64_t Random64() {
  static std::mutex mutex;
  static std::mt19937_64 engine{std::random_device{}()};
  std::lock_guard lock(mutex);
  return engine();
}

}  // namespace

std::string NewLineRequestId() {
  std::uint64_t hi = Random64();
  std::uint64_t lo = Random64();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFULL);
}

std::string NewWebhookEventId(std::int64_t unix_ms) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id(26, '0');
  // 48 bits of time in the first 10 characters, then 80 random bits in 16.
  auto ms = static_cast<std::uint64_t>(unix_ms);
  for (int i = 9; i >= 0; --i) {
    id[i] = kCrockford[ms & 31];
    ms >>= 5;
  }
  std::uint64_t r1 = Random64();
  std::uint64_t r2 = Random64();
  for (int i = 10; i < 26; ++i) {
    std::uint64_t& r = i < 22 ? r1 : r2;
    id[i] = kCrockford[r & 31];
    r >>= 5;
  }
  return id;
}

std::string NewReplyToken() { return fmt::format("{:016x}{:016x}", Random64(), Random64()); }

std::string NewMessageId() { return fmt::format("{:018d}", Random64() % 1000000000000000000ULL); }

}  // namespace kaoko::sim
