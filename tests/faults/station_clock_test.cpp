// Station clocks and late data through a real kaoko-server and Mosquitto (issue 24, items 1 and 2):
//  - a station whose clock was reset (seq rising, ts back in 2000) is `suspect` "clock reset" in GET /api/v1/stations
//    and still alerts its village when the water rises, evaluated by arrival time;
//  - a station whose clock runs 2 h ahead is `suspect` "clock ahead 2 h", its readings stored and acked, never
//    `offline`;
//  - a two-hour backlog after an outage pages the village committee once, saying when the water was measured; a
//    backlog wholly older than the backlog limit pages nobody as new, and the TAO's timeline says it arrived, once;
//  - a watcher report from the future is refused with a receipt that says so, counted by reason.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "fault_support.hpp"

using namespace kaoko::testing;
using namespace kaoko::faults;
using namespace std::chrono_literals;
namespace flood = kaoko::flood;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;

std::int64_t NowMs() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now())
      .time_since_epoch()
      .count();
}

std::string StationTopic(const std::string& village, const std::string& station, const std::string& what) {
  return fmt::format("kaoko/v1/tonhong/{}/station/{}/{}", village, station, what);
}

// Publishes readings (seq, ts in ms, level) as `station` and waits until kaoko acked the last.
void Send(const Broker& broker, const std::string& village, const std::string& station,
          const std::vector<std::tuple<std::uint64_t, std::int64_t, double>>& readings) {
  MqttClient c(broker.url(), station, broker.Password(station));
  c.Subscribe(StationTopic(village, station, "ack"));
  for (const auto& [seq, ts, cm] : readings) {
    c.Publish(StationTopic(village, station, "reading"),
              json{{"seq", seq}, {"ts", flood::Rfc3339(ts)}, {"level_cm", cm}}.dump());
  }
  const std::uint64_t last = std::get<0>(readings.back());
  REQUIRE(WaitFor(
      [&] {
        for (const auto& m : c.Received()) {
          const json ack = json::parse(m.payload);
          for (const auto& r : ack.at("stored")) {
            if (r.at(0).get<std::uint64_t>() <= last && last <= r.at(1).get<std::uint64_t>()) return true;
          }
        }
        return false;
      },
      15s));
}

json StationView(const ServiceProcess& kaoko, const std::string& id) {
  auto res = kaoko.Get("/api/v1/stations");
  REQUIRE(res.status == 200);
  for (const auto& s : json::parse(res.body)) {
    if (s.value("id", "") == id) return s;
  }
  FAIL("station " << id << " not in /api/v1/stations");
  return {};
}

json VillageView(const ServiceProcess& kaoko, const std::string& id) {
  auto res = kaoko.Get("/api/v1/villages");
  if (res.status != 200) return {};
  for (const auto& v : json::parse(res.body)) {
    if (v.value("village", "") == id) return v;
  }
  return {};
}

int CountLines(Db& db, const std::string& kind, const std::string& part) {
  int n = 0;
  for (const auto& e : db.Timeline(kind)) n += e.text_en.find(part) != std::string::npos ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("faults: a station whose clock was reset is suspect (clock reset) and still alerts by arrival time",
          "[faults][integration][clock]") {
  Broker broker;
  TempDir dir;
  const std::string db_path = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db_path);
  const std::int64_t now = NowMs() / 1000 * 1000;
  Send(broker, "kaoko", "kaoko-bridge", {{1, now - 20 * kMinute, 240}, {2, now - 10 * kMinute, 240}, {3, now, 240}});
  REQUIRE(StationView(kaoko, "kaoko-bridge")["health"] == "ok");
  // The RTC lost its time: seq goes on, ts back to 2000-01-01; the water rises to the bridge approach (320).
  const std::int64_t y2000 = 946'684'800'000;
  Send(broker, "kaoko", "kaoko-bridge", {{4, y2000, 330}, {5, y2000 + kMinute, 332}, {6, y2000 + 2 * kMinute, 334}});
  REQUIRE(WaitFor([&] { return StationView(kaoko, "kaoko-bridge")["health"] == "suspect"; }, 10s));
  const json s = StationView(kaoko, "kaoko-bridge");
  INFO(s.dump());
  CHECK(s["problems"].get<std::string>().find("clock reset") != std::string::npos);
  CHECK(s["problems_th"].get<std::string>().find("นาฬิกาสถานีถูกรีเซ็ต") != std::string::npos);
  // The village is alerted: the water was evaluated as measured when it arrived.
  REQUIRE(WaitFor([&] { return VillageView(kaoko, "kaoko").value("level", "normal") != "normal"; }, 10s));
  Db db(db_path);
  CHECK(CountLines(db, "health", "clock reset") >= 1);
  // Stored with the station's own ts, for the record.
  CHECK(db.Int("SELECT COUNT(*) FROM readings WHERE seq >= 4") == 3);
}

TEST_CASE("faults: a station whose clock runs 2 h ahead is suspect (clock ahead 2 h), its readings kept, not offline",
          "[faults][integration][clock]") {
  Broker broker;
  TempDir dir;
  const std::string db_path = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db_path);
  const std::int64_t ahead = NowMs() / 1000 * 1000 + 2 * kHour;
  Send(broker, "kaoko", "kaoko-temple",
       {{1, ahead, 150}, {2, ahead + 10 * kMinute, 151}, {3, ahead + 20 * kMinute, 150}});
  REQUIRE(WaitFor([&] { return StationView(kaoko, "kaoko-temple")["health"] == "suspect"; }, 10s));
  const json s = StationView(kaoko, "kaoko-temple");
  INFO(s.dump());
  CHECK(s["problems"].get<std::string>().find("clock ahead 2 h") != std::string::npos);
  CHECK(s["problems_th"].get<std::string>().find("นาฬิกาสถานีเร็วไป 2 ชม.") != std::string::npos);
  CHECK(s["problems"].get<std::string>().find("offline") == std::string::npos);
  Db db(db_path);
  CHECK(db.Readings() == 3);
  CHECK(Metric(kaoko, "kaoko_readings_rejected_total{reason=\"future_ts\"}") == 0);
}

TEST_CASE("faults: a two-hour backlog after an outage pages the committee once and says when the water was measured",
          "[faults][integration][late]") {
  Broker broker;
  TempDir dir;
  const std::string db_path = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db_path);
  const std::int64_t now = NowMs() / 60000 * 60000;
  // huaiphan-weir: watch 180, warning 240. Heard 2 h 20 min ago at 150 cm, then silent; its buffer comes now: the
  // water rose to 250 cm from 1 h 50 min ago on.
  const std::int64_t start = now - 140 * kMinute;
  Send(broker, "huaiphan", "huaiphan-weir", {{1, start, 150}});
  std::vector<std::tuple<std::uint64_t, std::int64_t, double>> buffer;
  std::uint64_t seq = 2;
  for (std::int64_t ts = start + 10 * kMinute; ts <= now - 10 * kMinute; ts += 10 * kMinute) {
    buffer.emplace_back(seq++, ts, ts >= now - 110 * kMinute ? 250.0 : 160.0);
  }
  Send(broker, "huaiphan", "huaiphan-weir", buffer);
  Db db(db_path);
  REQUIRE(WaitFor([&] { return CountLines(db, "notification", "to kanya (action: ack)") >= 1; }, 10s));
  std::this_thread::sleep_for(1s);  // anything more it would send is sent within the batch
  CHECK(CountLines(db, "notification", "to kanya (action: ack)") == 1);
  // The trigger (and so the alert and every notification's headline) says when the water was measured.
  CHECK(CountLines(db, "trigger", "measured at") >= 1);
  CHECK(VillageView(kaoko, "huaiphan").value("headline_en", "").find("measured at") != std::string::npos);
}

TEST_CASE(
    "faults: a backlog older than the backlog limit pages nobody as new, the TAO sees it once, and a future watcher "
    "report is refused with a receipt",
    "[faults][integration][late]") {
  Broker broker;
  TempDir dir;
  const std::string db_path = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db_path);
  const std::int64_t now = NowMs() / 60000 * 60000;
  // pakkhlong-pier: warning 280. Its buffer of 5 to 3 hours ago, at 300 cm; then the live reading, low again.
  std::vector<std::tuple<std::uint64_t, std::int64_t, double>> buffer;
  std::uint64_t seq = 1;
  for (std::int64_t ts = now - 5 * kHour; ts <= now - 3 * kHour; ts += 10 * kMinute)
    buffer.emplace_back(seq++, ts, 300.0);
  const std::uint64_t sent = buffer.size();
  Send(broker, "pakkhlong", "pakkhlong-pier", buffer);
  Send(broker, "pakkhlong", "pakkhlong-pier", {{seq, now, 200.0}});
  Db db(db_path);
  REQUIRE(WaitFor([&] { return CountLines(db, "backlog", fmt::format("sent {} readings", sent)) == 1; }, 10s));
  CHECK(CountLines(db, "notification", "to orawan (action: ack)") == 0);
  CHECK(db.Int("SELECT COUNT(*) FROM readings") == static_cast<std::int64_t>(sent + 1));
  CHECK(VillageView(kaoko, "pakkhlong").value("level", "") == "normal");

  // A watcher's phone an hour ahead: refused, with a receipt that says so, counted by reason.
  MqttClient thawee(broker.url(), "thawee", broker.Password("thawee"));
  const std::string receipts = "kaoko/v1/tonhong/pakkhlong/receipt/thawee";
  thawee.Subscribe(receipts);
  thawee.Publish("kaoko/v1/tonhong/pakkhlong/report/thawee",
                 json{{"id", "r-future"}, {"ts", flood::Rfc3339(NowMs() + kHour)}, {"concern", "warning"}}.dump());
  REQUIRE(WaitFor([&] { return thawee.Received(receipts).size() == 1; }, 10s));
  const json r = json::parse(thawee.Received(receipts)[0].payload);
  INFO(r.dump());
  CHECK(r["ok"] == false);
  CHECK(r["error"].get<std::string>().find("ahead of kaoko's clock") != std::string::npos);
  CHECK(Metric(kaoko, "kaoko_messages_rejected_total{reason=\"future_ts\"}") == 1);
  CHECK(db.Int("SELECT COUNT(*) FROM reports") == 0);
}
