#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>

#include "kaoko/sim/firmware.hpp"
#include "test_support.hpp"

using namespace kaoko::sim;
using namespace std::chrono_literals;

namespace {

const SimTime kStart = ParseRfc3339("2026-11-27T00:00:00Z").value();

FirmwareConfig Config() {
  FirmwareConfig c;
  c.tambon = "tonhong";
  c.village = "kaoko";
  c.station = "kaoko-bridge";
  c.watch_cm = 250;
  c.interval = 600s;
  c.fast_interval = 60s;
  c.mount_cm = 600;
  return c;
}

// Runs the station for `minutes` at a constant level, one-minute steps.
void Run(StationFirmware& fw, Transport& link, SimTime& now, int minutes, double level, WallTime wall = {}) {
  for (int i = 0; i < minutes; ++i) {
    now += 60s;
    fw.Advance(now, wall, {level, 2.0}, link);
  }
}

std::vector<std::uint64_t> Seqs(const MemoryTransport& link, std::size_t from = 0) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = from; i < link.published.size(); ++i) {
    if (link.published[i].topic.ends_with("/reading")) {
      out.push_back(nlohmann::json::parse(link.published[i].payload)["seq"].get<std::uint64_t>());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("firmware: reading payload is exactly the contract's", "[unit][firmware]") {
  MemoryTransport link;
  StationFirmware fw(Config(), ReadingStore::InMemory(100), 1, kStart);
  fw.Advance(kStart, {}, {312.4, 0}, link);
  REQUIRE(link.published.size() == 1);
  const auto& m = link.published[0];
  CHECK(m.topic == "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading");
  CHECK(m.qos == 1);
  CHECK_FALSE(m.retained);
  std::regex shape(
      R"(\{"seq":1,"ts":"2026-11-27T00:00:00Z","level_cm":\d+\.0,"rain_mm":\d+\.\d,"battery_v":\d\.\d\d\})");
  CHECK(std::regex_match(m.payload, shape));
  auto j = nlohmann::json::parse(m.payload);
  CHECK(std::abs(j["level_cm"].get<double>() - 312.4) <= 3);
}

TEST_CASE("firmware: every interval when calm, every fast_interval above watch or rising fast", "[unit][firmware]") {
  MemoryTransport link;
  StationFirmware fw(Config(), ReadingStore::InMemory(10000), 1, kStart);
  SimTime now = kStart;
  fw.Advance(now, {}, {100, 0}, link);
  Run(fw, link, now, 120, 100);      // two calm hours
  CHECK(fw.Stats().readings == 13);  // boot + one every 10 minutes
  CHECK_FALSE(fw.FastMode());
  Run(fw, link, now, 60, 280);  // above watch (250)
  CHECK(fw.FastMode());
  CHECK(fw.Stats().readings >= 13 + 59);
  SECTION("a fast rise below watch also switches to the fast interval") {
    StationFirmware rising(Config(), ReadingStore::InMemory(10000), 2, kStart);
    MemoryTransport l2;
    SimTime t = kStart;
    rising.Advance(t, {}, {100, 0}, l2);
    double level = 100;
    for (int i = 0; i < 40; ++i) {
      t += 60s;
      level += 0.5;  // 30 cm/h, below watch all along
      rising.Advance(t, {}, {level, 0}, l2);
    }
    CHECK(rising.FastMode());
    CHECK(rising.Stats().readings > 20);
  }
}

TEST_CASE("firmware: seq survives a reboot (state dir)", "[unit][firmware]") {
  testing::TempDir dir;
  MemoryTransport link;
  SimTime now = kStart;
  {
    StationFirmware fw(Config(), *ReadingStore::Open(dir.str(), "kaoko-bridge", 1000), 1, now);
    fw.Advance(now, {}, {100, 0}, link);
    Run(fw, link, now, 30, 100);
  }
  auto before = Seqs(link);
  REQUIRE(before.back() == 4);
  StationFirmware rebooted(Config(), *ReadingStore::Open(dir.str(), "kaoko-bridge", 1000), 1, now);
  std::size_t mark = link.published.size();
  rebooted.OnConnected(now, {}, link);  // unacked 1..4 go again first
  rebooted.Advance(now, {}, {100, 0}, link);
  CHECK(Seqs(link, mark) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
}

TEST_CASE("firmware: buffer keeps everything until acked and resends in seq order", "[unit][firmware]") {
  MemoryTransport link;
  SimTime now = kStart;
  WallTime wall{};
  StationFirmware fw(Config(), ReadingStore::InMemory(10000), 1, now);
  fw.OnConnected(now, wall, link);
  fw.Advance(now, wall, {300, 0}, link);
  Run(fw, link, now, 9, 300, wall);  // fast: seq 1..10
  REQUIRE(Seqs(link) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  REQUIRE(fw.OnAck(R"({"stored":[[1,3],[5,5]]})", wall));
  CHECK(fw.Buffered() == 6);

  SECTION("after a disconnect, unacked readings go again in order before new ones") {
    link.connected = false;
    fw.OnConnectionLost();
    Run(fw, link, now, 5, 300, wall);  // 11..15 taken while down
    CHECK(fw.Buffered() == 11);
    link.connected = true;
    std::size_t mark = link.published.size();
    fw.OnConnected(now, wall, link);
    CHECK(link.published[mark].topic.ends_with("/status"));
    CHECK(link.published[mark].retained);
    CHECK(Seqs(link, mark) == std::vector<std::uint64_t>{4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    REQUIRE(fw.OnAck(R"({"stored":[[1,15]]})", wall));
    CHECK(fw.Buffered() == 0);
    CHECK(fw.Stats().resent == 6);
  }
  SECTION("after an ack timeout, unacked readings go again in order") {
    std::size_t mark = link.published.size();
    fw.Pump(wall + 10s, link);
    CHECK(Seqs(link, mark).empty());  // not yet
    fw.Pump(wall + 31s, link);
    CHECK(Seqs(link, mark) == std::vector<std::uint64_t>{4, 6, 7, 8, 9, 10});
    CHECK(fw.Stats().timeouts == 1);
  }
  SECTION("a link that refuses (queue full) loses nothing: the rest goes later, in order") {
    link.connected = false;
    Run(fw, link, now, 5, 300, wall);
    link.connected = true;
    link.refuse_after = 3;
    std::size_t mark = link.published.size();
    fw.OnConnected(now, wall, link);  // status + 2 readings
    link.refuse_after = SIZE_MAX;
    fw.Pump(wall, link);
    CHECK(Seqs(link, mark) == std::vector<std::uint64_t>{4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  }
}

TEST_CASE("firmware: malformed acks are ignored and counted", "[unit][firmware]") {
  MemoryTransport link;
  StationFirmware fw(Config(), ReadingStore::InMemory(100), 1, kStart);
  fw.Advance(kStart, {}, {100, 0}, link);
  CHECK_FALSE(fw.OnAck("garbage", {}));
  CHECK_FALSE(fw.OnAck(R"({"stored":[[2,1]]})", {}));
  CHECK(fw.Buffered() == 1);
  CHECK(fw.Stats().bad_acks == 2);
  CHECK(fw.OnAck(R"({"stored":[[1,1]]})", {}));
  CHECK(fw.Buffered() == 0);
}

TEST_CASE("firmware: faults", "[unit][firmware]") {
  SECTION("offline: no readings in the window, offline status published, back afterwards") {
    FirmwareConfig c = Config();
    c.faults.push_back({"kaoko-bridge", FaultKind::kOffline, 1, 2, 0, 0});
    MemoryTransport link;
    StationFirmware fw(c, ReadingStore::InMemory(1000), 1, kStart);
    SimTime now = kStart;
    fw.Advance(now, {}, {100, 0}, link);
    Run(fw, link, now, 70, 100);
    CHECK_FALSE(fw.Powered());
    bool offline = false;
    for (const auto& m : link.published)
      offline = offline || (m.topic.ends_with("/status") && m.payload.find("offline") != std::string::npos);
    CHECK(offline);
    auto readings = fw.Stats().readings;
    Run(fw, link, now, 40, 100);
    CHECK(fw.Stats().readings == readings);
    Run(fw, link, now, 30, 100);
    CHECK(fw.Powered());
    CHECK(fw.Stats().readings > readings);
  }
  SECTION("stuck: the same value whatever the river does") {
    FirmwareConfig c = Config();
    c.faults.push_back({"kaoko-bridge", FaultKind::kStuck, 0, 1e18, 0, 0});
    MemoryTransport link;
    StationFirmware fw(c, ReadingStore::InMemory(1000), 1, kStart);
    SimTime now = kStart;
    fw.Advance(now, {}, {100, 0}, link);
    double first = fw.LastLevelCm();
    Run(fw, link, now, 60, 300);
    CHECK(fw.LastLevelCm() == first);
  }
  SECTION("battery: without the panel the voltage falls until the station browns out") {
    FirmwareConfig c = Config();
    c.faults.push_back({"kaoko-bridge", FaultKind::kBatteryDrain, 0, 1e18, 8, 0});
    MemoryTransport link;
    StationFirmware fw(c, ReadingStore::InMemory(100000), 1, kStart);
    SimTime now = kStart;
    fw.Advance(now, {}, {100, 0}, link);
    double v0 = fw.BatteryVolts();
    Run(fw, link, now, 6 * 60, 100);
    CHECK(fw.BatteryVolts() < v0);
    Run(fw, link, now, 30 * 60, 100);
    CHECK_FALSE(fw.Powered());
  }
}
