// A village's broadcast tower (หอกระจายข่าว) or siren as kaoko-sim plays it (docs/delivery.md, "The tower and the
// siren"): on its own account it reads its village's `announce` topic, plays each announcement and, a short real-time
// delay later, answers on `device/{id}/sounded` that it did. A tower listed silent hears everything and never answers
// (kaoko must then tell the TAO). A retained announcement seen again after a reconnect is not played twice.
//
// Pure: messages, simulated time (the answer's ts) and real time (its delay) in, payloads out. Not thread-safe.
//
//   Tower t(config);
//   t.OnMessage(topic, payload, wall);                   // every message on t.Subscriptions()
//   for (auto& s : t.Due(wall, sim_now)) publish(s.topic, s.payload);
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/sim/firmware.hpp"
#include "kaoko/sim/time.hpp"

namespace kaoko::sim {

struct TowerConfig {
  std::string tambon;
  std::string device;
  std::string village;
  std::chrono::milliseconds delay{1000};  // real time between hearing an announcement and answering (the run loop
                                          // gives the scenario's simulated delay_seconds divided by its speed)
  bool silent = false;
};

struct SoundedOut {
  std::string topic;    // kaoko/v1/{tambon}/{village}/device/{device}/sounded
  std::string payload;  // {"announce","ts","ok"}
  std::string announce;
};

struct TowerStats {
  std::uint64_t announcements = 0;  // distinct announcements heard
  std::uint64_t sounded = 0;        // answers made
  std::uint64_t ignored_silent = 0;
  std::uint64_t malformed = 0;
};

class Tower {
 public:
  explicit Tower(TowerConfig config) : config_(std::move(config)) {}

  // Its village's announce topic.
  std::vector<std::string> Subscriptions() const;
  // The retained status topic and its Last Will ("offline"); Online() is what it publishes once connected.
  std::string StatusTopic() const;
  static std::string Offline() { return R"({"state":"offline"})"; }
  static std::string Online() { return R"({"state":"online"})"; }
  // A message on one of the subscriptions, arrived at `wall`. Returns false when it is not an announcement for this
  // village (or malformed); nothing changes then.
  bool OnMessage(std::string_view topic, std::string_view payload, WallTime wall);
  // The answers due by `wall`, each with `now` as the time it says it played.
  std::vector<SoundedOut> Due(WallTime wall, SimTime now);

  const TowerConfig& Config() const { return config_; }
  const TowerStats& Stats() const { return stats_; }

 private:
  struct Pending {
    std::string announce;
    WallTime due;
  };
  TowerConfig config_;
  std::set<std::string> heard_;  // announcement ids already played (a retained copy comes again on reconnect)
  std::vector<Pending> pending_;
  TowerStats stats_;
};

}  // namespace kaoko::sim
