#include <catch2/catch.hpp>

#include "kaoko/server/wire.hpp"

using namespace kaoko::wire;
using namespace std::chrono;

namespace {
kaoko::alerting::Station Bridge() {
  kaoko::alerting::Station s;
  s.id = "kaoko-bridge";
  s.village = "kaoko";
  s.min_level_cm = -50;
  s.max_level_cm = 1500;
  return s;
}
TimePoint Now() { return *ParseTime("2026-11-27T05:00:00Z"); }
std::string Code(const ReadingParse& p) { return p.refused ? p.refused->error.code : "ok"; }
}  // namespace

TEST_CASE("wire: RFC 3339 times parse to UTC and format back", "[wire]") {
  auto t = ParseTime("2026-11-27T04:15:00Z");
  REQUIRE(t.ok());
  REQUIRE(FormatTime(*t) == "2026-11-27T04:15:00Z");
  REQUIRE(FormatTime(*ParseTime("2026-11-27T04:15:00.250Z")) == "2026-11-27T04:15:00.250Z");
  REQUIRE(*ParseTime("2026-11-27T11:15:00+07:00") == *t);
  REQUIRE(*ParseTime("2026-11-27t04:15:00z") == *t);
  REQUIRE(*ParseTime("2026-11-27T04:15:00.123456789Z") == *t + milliseconds(123));
  REQUIRE(FormatTime(*ParseTime("2028-02-29T23:59:59Z")) == "2028-02-29T23:59:59Z");
  for (const char* bad : {"", "2026-11-27", "2026-11-27T04:15:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-27T24:00:00Z", "2026-11-27T04:15:00Zjunk", "2026-11-27T04:15:00+7:00",
                          "2026-11-27T04:15:00.Z", "yesterday", "2026-11-27T04:61:00Z"}) {
    INFO(bad);
    REQUIRE_FALSE(ParseTime(bad).ok());
  }
}

TEST_CASE("wire: topics are taken apart as the contract names them", "[wire]") {
  auto t = ParseTopic("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading");
  REQUIRE(t.ok());
  REQUIRE(t->kind == TopicKind::kReading);
  REQUIRE(t->village == "kaoko");
  REQUIRE(t->name == "kaoko-bridge");
  REQUIRE(ParseTopic("kaoko/v1/tonhong/kaoko/report/somchai")->kind == TopicKind::kReport);
  REQUIRE(ParseTopic("kaoko/v1/tonhong/kaoko/decision/boonmee")->kind == TopicKind::kDecision);
  REQUIRE(ParseTopic("kaoko/v1/tonhong/cap")->kind == TopicKind::kCap);
  REQUIRE(ParseTopic("kaoko/v1/tonhong/kaoko/alert")->kind == TopicKind::kAlert);
  REQUIRE(ReadingTopic("tonhong", "kaoko", "kaoko-bridge") == "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading");
  REQUIRE(AckTopic("t", "v", "s") == "kaoko/v1/t/v/station/s/ack");
  for (const char* bad : {"kaoko/v2/t/v/alert", "kaoko/v1/T/v/alert", "kaoko/v1/t/v/station/S/reading",
                          "kaoko/v1/t/v/station/s/levels", "kaoko/v1/t/v/report", "kaoko/v1/t/v/report/u/x",
                          "other/v1/t/v/alert", "kaoko/v1/t//alert", ""}) {
    INFO(bad);
    REQUIRE_FALSE(ParseTopic(bad).ok());
  }
}

TEST_CASE("wire: readings are validated with a specific reason", "[wire]") {
  auto st = Bridge();
  SECTION("the contract's example") {
    auto p = ParseReading(R"({"seq": 1042, "ts": "2026-11-27T04:15:00Z", "level_cm": 312.5, "rain_mm": 4.2,
                              "battery_v": 3.92, "extra": "ignored"})",
                          st, Now());
    REQUIRE(p.reading);
    REQUIRE(p.reading->seq == 1042);
    REQUIRE(p.reading->level_cm == 312.5);
    REQUIRE(*p.reading->rain_mm == 4.2);
  }
  SECTION("optional fields may be absent or null") {
    auto p = ParseReading(R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":3,"rain_mm":null})", st, Now());
    REQUIRE(p.reading);
    REQUIRE_FALSE(p.reading->rain_mm);
  }
  SECTION("each malformed kind") {
    REQUIRE(Code(ParseReading("", st, Now())) == "empty");
    REQUIRE(Code(ParseReading("{", st, Now())) == "bad_json");
    REQUIRE(Code(ParseReading("[1,2]", st, Now())) == "not_object");
    REQUIRE(Code(ParseReading("\"\xff\xfe\"", st, Now())) == "bad_json");
    REQUIRE(Code(ParseReading(R"({"ts":"2026-11-27T04:15:00Z","level_cm":1})", st, Now())) == "missing_seq");
    REQUIRE(Code(ParseReading(R"({"seq":-1,"ts":"2026-11-27T04:15:00Z","level_cm":1})", st, Now())) == "bad_seq");
    REQUIRE(Code(ParseReading(R"({"seq":1.5,"ts":"2026-11-27T04:15:00Z","level_cm":1})", st, Now())) == "bad_seq");
    REQUIRE(Code(ParseReading(R"({"seq":"1","ts":"2026-11-27T04:15:00Z","level_cm":1})", st, Now())) == "bad_seq");
    REQUIRE(Code(ParseReading(R"({"seq":1,"level_cm":1})", st, Now())) == "missing_ts");
    REQUIRE(Code(ParseReading(R"({"seq":1,"ts":"now","level_cm":1})", st, Now())) == "bad_ts");
    REQUIRE(Code(ParseReading(R"({"seq":1,"ts":"2026-11-27T04:15:00Z"})", st, Now())) == "missing_level_cm");
    REQUIRE(Code(ParseReading(R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":"3"})", st, Now())) == "bad_level_cm");
    REQUIRE(Code(ParseReading(R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"rain_mm":"x"})", st, Now())) ==
            "bad_rain_mm");
    REQUIRE(Code(ParseReading(R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"battery_v":true})", st, Now())) ==
            "bad_battery_v");
  }
  SECTION("impossible values are refused but keep their seq, so the refusal can be stored and acked") {
    auto p = ParseReading(R"({"seq":7,"ts":"2026-11-27T04:15:00Z","level_cm":99999})", st, Now());
    REQUIRE(Code(p) == "level_out_of_range");
    REQUIRE(*p.refused->seq_if_known == 7);
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-27T04:15:00Z","level_cm":-51})", st, Now())) ==
            "level_out_of_range");
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-27T04:15:00Z","level_cm":1500})", st, Now())) == "ok");
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-27T04:15:00Z","level_cm":1,"rain_mm":-1})", st, Now())) ==
            "rain_out_of_range");
  }
  SECTION("a station clock far ahead is refused; late readings are fine") {
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-27T09:00:00Z","level_cm":1})", st, Now())) == "future_ts");
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-27T05:09:00Z","level_cm":1})", st, Now())) == "ok");
    REQUIRE(Code(ParseReading(R"({"seq":7,"ts":"2026-11-20T05:00:00Z","level_cm":1})", st, Now())) == "ok");
  }
  SECTION("oversized") {
    std::string big = R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"pad":")" + std::string(5000, 'x') + "\"}";
    REQUIRE(Code(ParseReading(big, st, Now())) == "too_large");
  }
}

TEST_CASE("wire: watcher reports", "[wire]") {
  auto ok = ParseReport(R"({"id": "r-0007", "ts": "2026-11-27T04:20:00Z", "station": "kaoko-bridge", "level_cm": 330,
    "trend": "rising", "concern": "warning", "note": "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว"})");
  REQUIRE(ok.ok());
  REQUIRE(ok->concern == kaoko::alerting::Level::kWarning);
  REQUIRE(*ok->trend == Trend::kRising);
  REQUIRE(ok->note == "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว");
  auto code = [](std::string_view p) {
    auto r = ParseReport(p);
    return r.ok() ? std::string("ok") : r.error().code;
  };
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch"})") == "ok");
  REQUIRE(code(R"({"ts":"2026-11-27T04:20:00Z","concern":"watch"})") == "missing_id");
  REQUIRE(code(R"({"id":"r","concern":"watch"})") == "missing_ts");
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z"})") == "missing_concern");
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"normal"})") == "bad_concern");
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch","station":"kaoko-bridge"})") ==
          "station_level_pair");
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch","trend":"up"})") == "bad_trend");
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch","lat":91})") == "bad_lat");
  std::string long_note;
  for (int i = 0; i < 501; ++i) long_note += "น";  // 501 Thai characters, 1503 bytes: counted as characters
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch","note":")" + long_note + "\"}") ==
          "note_too_long");
  long_note.resize(long_note.size() - 3);
  REQUIRE(code(R"({"id":"r","ts":"2026-11-27T04:20:00Z","concern":"watch","note":")" + long_note + "\"}") == "ok");
}

TEST_CASE("wire: decisions", "[wire]") {
  auto d = ParseDecision(R"({"id":"d-0003","ts":"2026-11-27T04:31:00Z","incident":17,"action":"confirm","note":"เห็นด้วยตา"})");
  REQUIRE(d.ok());
  REQUIRE(d->incident == 17);
  REQUIRE(d->action == DecisionAction::kConfirm);
  auto code = [](std::string_view p) {
    auto r = ParseDecision(p);
    return r.ok() ? std::string("ok") : r.error().code;
  };
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"declare","level":"critical"})") == "ok");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"declare"})") == "missing_level");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"approve"})") == "bad_action");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":"17","action":"ack"})") == "bad_incident");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":0,"action":"ack"})") == "bad_incident");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","action":"ack"})") == "missing_incident");
  REQUIRE(PeekId(R"({"id":"d-9","action":"nope"})") == std::optional<std::string>("d-9"));
  REQUIRE_FALSE(PeekId("not json"));
}

TEST_CASE("wire: acks and receipts render as the contract shows", "[wire]") {
  REQUIRE(ToRanges({1042, 1000, 1001, 1041, 1002, 1002}) ==
          std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1000, 1002}, {1041, 1042}});
  REQUIRE(RenderAck({{1000, 1039}, {1041, 1042}}) == R"({"stored":[[1000,1039],[1041,1042]]})");
  REQUIRE(RenderReceipt("r-0007", true, 17, "") == R"({"incident":17,"ok":true,"ref":"r-0007"})");
  REQUIRE(RenderReceipt("r-0007", false, std::nullopt, "level_cm must be a number") ==
          R"({"error":"level_cm must be a number","ok":false,"ref":"r-0007"})");
}
