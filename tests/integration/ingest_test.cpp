// Ingest end to end: a station publishes through the real broker (project config, ACL, passwords) to the real
// kaoko-server, which stores into a real SQLite file and answers over HTTP. Checked only from the outside: MQTT
// subscriptions, the HTTP API, and the database file.
#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {
const std::string kBridgeReading = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading";
const std::string kBridgeAck = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack";

std::string Ts(int minute) {
  return fmt::format("2026-11-27T{:02}:{:02}:00Z", 3 + minute / 60, minute % 60);  // in the past of any test run
}
std::string Reading(std::uint64_t seq, int minute, double level) {
  return fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{},"battery_v":3.9}})", seq, Ts(minute), level);
}

// The seqs covered by every ack a station received.
std::set<std::uint64_t> Acked(const MqttClient& station, const std::string& topic) {
  std::set<std::uint64_t> out;
  for (const auto& m : station.Received(topic)) {
    auto j = json::parse(m.payload);
    for (const auto& r : j.at("stored")) {
      for (auto s = r.at(0).get<std::uint64_t>(); s <= r.at(1).get<std::uint64_t>(); ++s) out.insert(s);
    }
  }
  return out;
}

std::uint64_t Metric(const ServiceProcess& kaoko, const std::string& line_prefix) {
  auto text = kaoko.Get("/metrics").body;
  auto pos = text.find("\n" + line_prefix + " ");
  if (pos == std::string::npos) return 0;
  return std::stoull(text.substr(pos + line_prefix.size() + 2));
}

std::vector<std::uint64_t> StoredSeqs(const std::string& db, const std::string& station) {
  auto s = kaoko::store::Store::Open(db, {.read_only = true});
  REQUIRE(s.ok());
  std::vector<std::uint64_t> out;
  kaoko::store::testing::Query q(
      **s, "SELECT r.seq FROM readings r JOIN stations s ON s.id = r.station WHERE s.name = ? ORDER BY r.seq");
  q.Bind(1, station);
  while (q.Step()) out.push_back(static_cast<std::uint64_t>(q.Int(0)));
  return out;
}

// Sends `pieces` over one raw connection to 127.0.0.1:port, pausing between them (a phone on a weak link delivers a
// request in bits), then reads `responses` answers on the same connection. A status of 0 marks an answer that
// never came (the connection closed or 10 s passed).
std::vector<HttpResult> RawHttp(int port, const std::vector<std::string>& pieces, int responses) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  std::vector<HttpResult> out;
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  for (const auto& piece : pieces) {
    beast::error_code ec;
    asio::write(stream.socket(), asio::buffer(piece), ec);
    if (ec) break;  // the service answered and closed early (a body over the limit): read what it said
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  beast::flat_buffer buffer;
  for (int i = 0; i < responses; ++i) {
    HttpResult r;
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    http::read(stream, buffer, parser, ec);
    if (!ec) {
      r.status = parser.get().result_int();
      r.body = parser.get().body();
      r.headers["connection"] = std::string(parser.get()[http::field::connection]);
    }
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

TEST_CASE("ingest: valid, repeated, late and out-of-order readings are stored once at their own time and acked",
          "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);

  // 1..20 in order, then 25..21 late and out of order, then repeats of 3 and 22 (QoS 1 redelivery, a resend).
  for (int s = 1; s <= 20; ++s) station.Publish(kBridgeReading, Reading(s, s, 200 + s));
  for (int s = 25; s >= 21; --s) station.Publish(kBridgeReading, Reading(s, s, 200 + s));
  station.Publish(kBridgeReading, Reading(3, 3, 999));
  station.Publish(kBridgeReading, Reading(22, 22, 999));

  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).size() == 25; }, 10s));
  auto res = kaoko.Get("/api/v1/stations/kaoko-bridge/readings?since=2026-11-27T00:00:00Z&until=2026-11-28T00:00:00Z");
  REQUIRE(res.status == 200);
  auto readings = json::parse(res.body);
  REQUIRE(readings.size() == 25);
  for (size_t i = 0; i < readings.size(); ++i) {
    REQUIRE(readings[i]["seq"] == i + 1);  // time order == seq order here: stored at their own time
    REQUIRE(readings[i]["ts"] == Ts(static_cast<int>(i + 1)));
    REQUIRE(readings[i]["level_cm"] == 200.0 + static_cast<double>(i + 1));  // a repeat never overwrites
  }
  REQUIRE(Metric(kaoko, "kaoko_readings_accepted_total") == 25);
  REQUIRE(Metric(kaoko, "kaoko_readings_duplicate_total") == 2);

  auto stations = json::parse(kaoko.Get("/api/v1/stations").body);
  bool found = false;
  for (const auto& s : stations) {
    if (s["id"] == "kaoko-bridge") {
      found = true;
      REQUIRE(s["latest"]["seq"] == 25);
      REQUIRE(s["thresholds"]["watch"]["landmark_en"] == "the temple steps");
    }
  }
  REQUIRE(found);
}

TEST_CASE("ingest: every malformed kind is refused and counted by reason, and the service carries on",
          "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);
  // The service's own account may publish anywhere: it stands in for a station the network file does not know.
  MqttClient anyone(broker.url(), "kaoko", broker.Password("kaoko"));

  const std::vector<std::pair<std::string, std::string>> bad{
      {"not JSON", "bad_json"},
      {"[1,2,3]", "not_object"},
      {"", "empty"},
      {R"({"ts":"2026-11-27T03:00:00Z","level_cm":1})", "missing_seq"},
      {R"({"seq":-4,"ts":"2026-11-27T03:00:00Z","level_cm":1})", "bad_seq"},
      {R"({"seq":5,"level_cm":1})", "missing_ts"},
      {R"({"seq":6,"ts":"27/11/2026","level_cm":1})", "bad_ts"},
      {R"({"seq":7,"ts":"2026-11-27T03:00:00Z"})", "missing_level_cm"},
      {R"({"seq":8,"ts":"2026-11-27T03:00:00Z","level_cm":"high"})", "bad_level_cm"},
      {R"({"seq":9,"ts":"2026-11-27T03:00:00Z","level_cm":123456})", "level_out_of_range"},
      {R"({"seq":10,"ts":"2099-01-01T00:00:00Z","level_cm":1})", "future_ts"},
      {R"({"seq":11,"ts":"2026-11-27T03:00:00Z","level_cm":1,"pad":")" + std::string(5000, 'x') + "\"}", "too_large"},
  };
  for (const auto& [payload, reason] : bad) station.Publish(kBridgeReading, payload);
  anyone.Publish("kaoko/v1/tonhong/kaoko/station/ghost/reading", Reading(1, 1, 100));
  anyone.Publish("kaoko/v1/tonhong/pakkhlong/station/kaoko-bridge/reading", Reading(1, 1, 100));
  anyone.Publish("kaoko/v1/elsewhere/kaoko/station/kaoko-bridge/reading", Reading(1, 1, 100));
  // A good one after all that: the service is still there and still storing.
  station.Publish(kBridgeReading, Reading(100, 1, 250));

  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).count(100) == 1; }, 10s));
  for (const auto& [payload, reason] : bad) {
    INFO(reason);
    REQUIRE(Metric(kaoko, fmt::format("kaoko_readings_rejected_total{{reason=\"{}\"}}", reason)) == 1);
  }
  REQUIRE(Metric(kaoko, "kaoko_readings_rejected_total{reason=\"unknown_station\"}") == 1);
  REQUIRE(Metric(kaoko, "kaoko_readings_rejected_total{reason=\"wrong_village\"}") == 1);
  REQUIRE(Metric(kaoko, "kaoko_readings_accepted_total") == 1);
  // Refusals that carried a seq are kept and acked (so the station does not resend them forever).
  auto acked = Acked(station, kBridgeAck);
  for (std::uint64_t s : {6, 7, 8, 9, 10}) REQUIRE(acked.count(s) == 1);
  REQUIRE(acked.count(11) == 0);  // too large to read a seq from: refused before parsing
  REQUIRE(kaoko.Get("/healthz").status == 200);
  REQUIRE(StoredSeqs(dir.path() + "/kaoko.db", "kaoko-bridge") == std::vector<std::uint64_t>{100});
  // The log names each refusal with its reason.
  REQUIRE(kaoko.Log().find("level_cm 123456 is outside the possible range") != std::string::npos);
}

TEST_CASE("ingest: publishes the broker refuses never reach the database", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  // A watcher may not publish readings; a station may not publish for another station.
  REQUIRE(MosquittoPub(broker.port(), "somchai", broker.Password("somchai"), kBridgeReading, Reading(1, 1, 300)) >= 0);
  REQUIRE(MosquittoPub(broker.port(), "kaoko-temple", broker.Password("kaoko-temple"), kBridgeReading,
                       Reading(2, 2, 300)) >= 0);
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);
  station.Publish(kBridgeReading, Reading(3, 3, 300));
  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).count(3) == 1; }, 10s));
  REQUIRE(StoredSeqs(dir.path() + "/kaoko.db", "kaoko-bridge") == std::vector<std::uint64_t>{3});
  REQUIRE(Acked(station, kBridgeAck) == std::set<std::uint64_t>{3});
}

TEST_CASE("ingest: a watcher's report gets exactly one receipt, a bad one says why", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  MqttClient watcher(broker.url(), "somchai", broker.Password("somchai"));
  const std::string receipts = "kaoko/v1/tonhong/kaoko/receipt/somchai";
  watcher.Subscribe(receipts);
  watcher.Publish("kaoko/v1/tonhong/kaoko/report/somchai",
                  R"({"id":"r-1","ts":"2026-11-27T04:20:00Z","station":"kaoko-bridge","level_cm":330,)"
                  R"("trend":"rising","concern":"warning","note":"น้ำขึ้นเร็ว ถึงคอสะพานแล้ว"})");
  watcher.Publish("kaoko/v1/tonhong/kaoko/report/somchai", R"({"id":"r-2","ts":"2026-11-27T04:20:00Z"})");
  REQUIRE(watcher.WaitForMessages(2, 10s));
  std::this_thread::sleep_for(300ms);  // no third receipt may follow
  auto got = watcher.Received(receipts);
  REQUIRE(got.size() == 2);
  auto first = json::parse(got[0].payload);
  REQUIRE(first["ref"] == "r-1");
  REQUIRE(first["ok"] == true);
  REQUIRE(first["incident"].is_number_integer());
  auto second = json::parse(got[1].payload);
  REQUIRE(second["ref"] == "r-2");
  REQUIRE(second["ok"] == false);
  REQUIRE(second["error"] == "concern is required (watch, warning or critical)");
}

TEST_CASE("ingest: the service killed with SIGKILL mid-stream loses no acked reading and stores none twice",
          "[integration]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db);
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);

  const std::uint64_t kTotal = 3000;
  std::set<std::uint64_t> acked_before_kill;
  for (std::uint64_t s = 1; s <= kTotal; ++s) {
    station.Publish(kBridgeReading, Reading(s, static_cast<int>(s % 600), 100));
    if (s == kTotal / 2) {
      // Let the first acks arrive (at most one a second), keep streaming a little, then kill in the middle of it.
      REQUIRE(WaitFor([&] { return !Acked(station, kBridgeAck).empty(); }, 5s));
      for (std::uint64_t extra = 0; extra < 50; ++extra, ++s) {
        station.Publish(kBridgeReading, Reading(s + 1, static_cast<int>((s + 1) % 600), 100));
      }
      acked_before_kill = Acked(station, kBridgeAck);
      kaoko.Kill(SIGKILL);
      // What was acked is on disk now, with the service dead.
      auto stored = StoredSeqs(db, "kaoko-bridge");
      std::set<std::uint64_t> stored_set(stored.begin(), stored.end());
      for (auto a : acked_before_kill) REQUIRE(stored_set.count(a) == 1);
    }
    if (s == kTotal / 2 + 500) kaoko.Start();  // meanwhile the broker kept the service's session queue
  }
  // A station resends whatever is still unacknowledged (the contract's end-to-end rule) until all is acked.
  REQUIRE(WaitFor(
      [&] {
        auto acked = Acked(station, kBridgeAck);
        if (acked.size() == kTotal) return true;
        for (std::uint64_t s = 1; s <= kTotal; ++s) {
          if (!acked.count(s)) station.Publish(kBridgeReading, Reading(s, static_cast<int>(s % 600), 100));
        }
        std::this_thread::sleep_for(1500ms);
        return Acked(station, kBridgeAck).size() == kTotal;
      },
      60s));
  auto stored = StoredSeqs(db, "kaoko-bridge");
  REQUIRE(stored.size() == kTotal);  // each once: (station, seq) is the key, and every seq is there
  for (std::uint64_t s = 1; s <= kTotal; ++s) REQUIRE(stored[s - 1] == s);
  INFO("acked before the kill: " << acked_before_kill.size());
  REQUIRE_FALSE(acked_before_kill.empty());
}

TEST_CASE("ingest: /healthz says when the broker is gone, and the service reconnects by itself", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  REQUIRE(kaoko.Get("/healthz").status == 200);
  broker.Stop();
  REQUIRE(WaitFor([&] { return kaoko.Get("/healthz").status == 503; }, 15s));
  auto body = json::parse(kaoko.Get("/healthz").body);
  REQUIRE(body["ok"] == false);
  REQUIRE(body["database"] == "ok");
  REQUIRE(body["broker"] != "ok");
  broker.Start();
  REQUIRE(kaoko.WaitHealthy(30s));
  // And ingest works again over the same persistent session.
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Subscribe(kBridgeAck);
  station.Publish(kBridgeReading, Reading(1, 1, 100));
  REQUIRE(WaitFor([&] { return Acked(station, kBridgeAck).count(1) == 1; }, 10s));
}

TEST_CASE("ingest: the HTTP API answers errors as JSON with fitting statuses", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  auto expect = [&](const std::string& method, const std::string& target, int status, const std::string& fragment) {
    auto res = HttpRequest(kaoko.http_port(), method, target);
    INFO(method << " " << target << " → " << res.status << " " << res.body);
    REQUIRE(res.status == status);
    auto j = json::parse(res.body);
    REQUIRE(j["error"].get<std::string>().find(fragment) != std::string::npos);
  };
  expect("GET", "/api/v1/nothing", 404, "no such path");
  expect("GET", "/api/v1/stations/ghost/readings", 404, "no station 'ghost'");
  expect("GET", "/api/v1/stations/kaoko-bridge/readings?since=yesterday", 400, "since");
  expect("GET", "/api/v1/stations/kaoko-bridge/readings?since=2026-11-28T00:00:00Z&until=2026-11-27T00:00:00Z", 400,
         "since is after until");
  expect("GET", "/api/v1/stations/kaoko-bridge/readings?since=%zz", 400, "malformed query");
  expect("GET", "/api/v1/incidents?status=maybe", 400, "open or all");
  expect("GET", "/api/v1/incidents/abc", 400, "not a positive number");
  expect("GET", "/api/v1/incidents/9999", 404, "no incident 9999");
  expect("DELETE", "/api/v1/stations", 405, "not allowed");
  expect("POST", "/api/v1/incidents/1/decisions", 401, "log in");
  auto big = HttpRequest(kaoko.http_port(), "POST", "/api/v1/incidents/1/decisions", std::string(100 * 1024, 'x'));
  REQUIRE(big.status == 413);
  REQUIRE(json::parse(big.body)["error"].get<std::string>().find("larger than") != std::string::npos);
  REQUIRE(kaoko.Get("/healthz").status == 200);
  auto villages = json::parse(kaoko.Get("/api/v1/villages").body);
  REQUIRE(villages.size() == 5);
  REQUIRE(villages[1]["village"] == "kaoko");
  REQUIRE(villages[1]["level"] == "normal");
  REQUIRE(villages[1]["incident"].is_null());
  auto cap = kaoko.Get("/api/v1/cap");
  REQUIRE(cap.status == 200);
  REQUIRE(cap.body.find("urn:oasis:names:tc:emergency:cap:1.2") != std::string::npos);
}

TEST_CASE("ingest: the HTTP API reads a chunked body sent in pieces, and refuses a malformed or oversize one",
          "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  const std::string head =
      "POST /api/v1/incidents/1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  SECTION("a body in chunks, each split across writes, is read whole; the connection then serves the next request") {
    auto res = RawHttp(kaoko.http_port(),
                       {head.substr(0, 20), head.substr(20), "9\r\n{\"act", "ion\"\r\n7", "\r\n:\"ack\"}\r\n", "0\r\n",
                        "\r\n", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
                       2);
    REQUIRE(res[0].status == 401);  // the whole request was read, then judged: no session
    REQUIRE(json::parse(res[0].body)["error"].get<std::string>().find("log in") != std::string::npos);
    REQUIRE(res[1].status == 200);
  }
  SECTION("a chunk size that is not hexadecimal is a 400 that says why, and the service carries on") {
    auto res = RawHttp(kaoko.http_port(), {head, "zz\r\n{}\r\n0\r\n\r\n"}, 1);
    REQUIRE(res[0].status == 400);
    REQUIRE(json::parse(res[0].body)["error"].get<std::string>().find("malformed HTTP request") != std::string::npos);
    REQUIRE(kaoko.Get("/healthz").status == 200);
  }
  SECTION("chunks that add up to more than the body limit are refused with 413, however small each one is") {
    std::vector<std::string> pieces{head};
    const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 8 * 1024, std::string(8 * 1024, 'x'));
    for (int i = 0; i < 9; ++i) pieces.push_back(chunk);  // 72 KiB in 8 KiB chunks, over the 64 KiB limit
    pieces.push_back("0\r\n\r\n");
    auto res = RawHttp(kaoko.http_port(), pieces, 1);
    REQUIRE(res[0].status == 413);
    REQUIRE(json::parse(res[0].body)["error"].get<std::string>().find("larger than") != std::string::npos);
    REQUIRE(kaoko.Get("/healthz").status == 200);
  }
  SECTION("a request cut off in the middle of a chunk gets no answer and breaks nothing") {
    REQUIRE(RawHttp(kaoko.http_port(), {head + "40\r\n{\"action\":"}, 0).empty());  // and closed
    REQUIRE(kaoko.Get("/healthz").status == 200);
    REQUIRE(kaoko.running());
  }
}
