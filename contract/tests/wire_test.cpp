#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "kaoko/contract/render.hpp"
#include "kaoko/contract/wire.hpp"

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
  for (const char* bad :
       {"kaoko/v2/t/v/alert", "kaoko/v1/T/v/alert", "kaoko/v1/t/v/station/S/reading", "kaoko/v1/t/v/station/s/levels",
        "kaoko/v1/t/v/report", "kaoko/v1/t/v/report/u/x", "other/v1/t/v/alert", "kaoko/v1/t//alert", ""}) {
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
    REQUIRE(p.reading->station == st.id);  // the one reading type carries its station from here to the store
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
  auto d = ParseDecision(
      R"({"id":"d-0003","ts":"2026-11-27T04:31:00Z","incident":17,"action":"confirm","note":"เห็นด้วยตา"})");
  REQUIRE(d.ok());
  REQUIRE(d->incident == 17);
  REQUIRE(d->action == DecisionAction::kConfirm);
  auto code = [](std::string_view p) {
    auto r = ParseDecision(p);
    return r.ok() ? std::string("ok") : r.error().code;
  };
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"declare","level":"critical"})") ==
          "ok");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"declare"})") == "missing_level");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":17,"action":"approve"})") == "bad_action");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":"17","action":"ack"})") == "bad_incident");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","incident":0,"action":"ack"})") == "bad_incident");
  REQUIRE(code(R"({"id":"d","ts":"2026-11-27T04:31:00Z","action":"ack"})") == "missing_incident");
  REQUIRE(PeekId(R"({"id":"d-9","action":"nope"})") == std::optional<std::string>("d-9"));
  REQUIRE_FALSE(PeekId("not json"));
}

TEST_CASE("wire: a decision from the web API takes its id, time and incident from the server", "[wire]") {
  const DecisionDefaults defaults{.incident = 17, .id = "web-1", .ts = *ParseTime("2026-11-27T04:40:00Z")};
  auto d = ParseWebDecision(R"({"action":"ack"})", defaults);
  REQUIRE(d.ok());
  CHECK(d->incident == 17);
  CHECK(d->id == "web-1");
  CHECK(FormatTime(d->ts) == "2026-11-27T04:40:00Z");
  CHECK(d->action == DecisionAction::kAck);
  // What the body gives is kept.
  auto given =
      ParseWebDecision(R"({"id":"p-7","ts":"2026-11-27T04:31:00Z","incident":17,"action":"confirm"})", defaults);
  REQUIRE(given.ok());
  CHECK(given->id == "p-7");
  CHECK(FormatTime(given->ts) == "2026-11-27T04:31:00Z");
  auto reason = [&](std::string_view body) {
    auto r = ParseWebDecision(body, defaults);
    return r.ok() ? std::string("ok") : r.error().reason;
  };
  CHECK(reason("[1]") == "the body must be a JSON decision object");
  CHECK(reason("") == "the body must be a JSON decision object");
  CHECK(reason(R"({"incident":18,"action":"ack"})") == "the body's incident is not 17");
  CHECK(reason(R"({"incident":"17","action":"ack"})") == "the body's incident is not 17");
  CHECK(reason(R"({"action":"declare"})") == "declare needs a level: watch, warning or critical");
  CHECK(reason(R"({"action":"ack","ts":"yesterday"})").find("ts") != std::string::npos);
  CHECK(reason(std::string(5000, ' ')) == "the body is 5000 bytes; the limit is 4096");
}

TEST_CASE("wire: acks and receipts render as the contract shows", "[wire]") {
  REQUIRE(ToRanges({1042, 1000, 1001, 1041, 1002, 1002}) ==
          std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1000, 1002}, {1041, 1042}});
  REQUIRE(RenderAck({{1000, 1039}, {1041, 1042}}) == R"({"stored":[[1000,1039],[1041,1042]]})");
  REQUIRE(RenderReceipt("r-0007", true, 17, "") == R"({"incident":17,"ok":true,"ref":"r-0007"})");
  REQUIRE(RenderReceipt("r-0007", false, std::nullopt, "level_cm must be a number") ==
          R"({"error":"level_cm must be a number","ok":false,"ref":"r-0007"})");
}

namespace {
// Same answer, field by field (values compared bit for bit: -0.0 is not 0.0 here).
void CheckSameParse(const std::string& payload, const ReadingParse& a, const ReadingParse& b) {
  INFO(payload);
  REQUIRE(a.reading.has_value() == b.reading.has_value());
  REQUIRE(a.refused.has_value() == b.refused.has_value());
  auto same_double = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  auto same_opt = [&](const std::optional<double>& x, const std::optional<double>& y) {
    return x.has_value() == y.has_value() && (!x || same_double(*x, *y));
  };
  if (a.reading) {
    CHECK(a.reading->seq == b.reading->seq);
    CHECK(a.reading->ts == b.reading->ts);
    CHECK(same_double(a.reading->level_cm, b.reading->level_cm));
    CHECK(same_opt(a.reading->rain_mm, b.reading->rain_mm));
    CHECK(same_opt(a.reading->battery_v, b.reading->battery_v));
  } else {
    CHECK(a.refused->error.code == b.refused->error.code);
    CHECK(a.refused->error.reason == b.refused->error.reason);
    CHECK(a.refused->seq_if_known == b.refused->seq_if_known);
    CHECK(a.refused->ts_if_known == b.refused->ts_if_known);
  }
}
}  // namespace

TEST_CASE("wire: the one-pass reading parser agrees with the reference parser on every input", "[wire]") {
  auto st = Bridge();
  std::vector<std::string> cases{
      R"({"seq":1042,"ts":"2026-11-27T04:15:00Z","level_cm":312.5,"rain_mm":4.2,"battery_v":3.92})",
      " \t\r\n{ \"seq\" : 1 , \"ts\" : \"2026-11-27T04:15:00.250+07:00\" , \"level_cm\" : -0 } \n",
      R"({"seq":0,"ts":"2026-11-27T04:15:00Z","level_cm":-0.0,"rain_mm":-0.0,"battery_v":0})",
      R"({"seq":9223372036854775807,"ts":"2026-11-27T04:15:00Z","level_cm":1e2,"rain_mm":1E-2,"battery_v":6e1})",
      R"({"seq":9223372036854775808,"ts":"2026-11-27T04:15:00Z","level_cm":1})",
      R"({"seq":18446744073709551616,"ts":"2026-11-27T04:15:00Z","level_cm":1})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1500.0000000000001})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1e-400,"x":1e400})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":18446744073709551616})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":-9223372036854775809})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"level_cm":2})",
      R"({"seq":1,"seq":2,"ts":"2026-11-27T04:15:00Z","level_cm":1})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"x":[1,{"y":null}],"z":"\u0041","w":"ก"})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,"rain_mm":null,"battery_v":null,"on":true,"off":false})",
      R"({"s\u0065q":1,"ts":"2026-11-27T04:15:00Z","level_cm":1})",
      "\xEF\xBB\xBF{\"seq\":1,\"ts\":\"2026-11-27T04:15:00Z\",\"level_cm\":1}",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1}{})",
      R"({"seq":01,"ts":"2026-11-27T04:15:00Z","level_cm":1})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":.5})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1.})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":+1})",
      R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":1,})",
      R"({})",
      "{\"seq\":1,\"ts\":\"2026-11-27T04:15:00Z\",\"level_cm\":1,\"x\":\"a\x01\"}",
      "{\"seq\":1,\"ts\":\"2026-11-27T04:15:00Z\",\"level_cm\":1,\"x\":\"\x7f\"}",
      "{\"seq\":1,\"ts\":\"2026-11-27T04:15:00Z\",\"level_cm\":1}\0",
  };
  // Every prefix of a plain reading, and random mutations of it: byte flips, deletions, insertions of JSON's own
  // characters.
  const std::string plain =
      R"({"seq":1042,"ts":"2026-11-27T04:15:00Z","level_cm":312.5,"rain_mm":4.2,"battery_v":3.92})";
  for (std::size_t n = 0; n <= plain.size(); ++n) cases.push_back(plain.substr(0, n));
  std::mt19937 rng(7);
  const std::string alphabet = "{}[],:\"\\-+.eE0123456789 \ttrufalsn\x80\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string s = plain;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1);
          break;
        default:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    cases.push_back(std::move(s));
  }
  for (const auto& c : cases) CheckSameParse(c, ParseReading(c, st, Now()), ParseReadingDom(c, st, Now()));
}

TEST_CASE("wire: the alert JSON carries the overdue TAO and the district step only when they happened",
          "[wire][district]") {
  kaoko::alerting::AlertState a;
  a.village = "kaoko";
  a.level = kaoko::alerting::Level::kWarning;
  a.incident = 7;
  a.status = kaoko::alerting::Stage::kEscalated;
  a.since = a.updated = Now();
  std::string plain = kaoko::server::RenderAlert(a);
  CHECK(plain.find("tao_overdue_since") == std::string::npos);
  CHECK(plain.find("district_notified_at") == std::string::npos);
  a.tao_overdue_since = Now() + minutes(20);
  a.district_notified_at = Now() + minutes(21);
  const std::string told = kaoko::server::RenderAlert(a);
  CHECK(told.find("\"tao_overdue_since\":\"2026-11-27T05:20:00Z\"") != std::string::npos);
  CHECK(told.find("\"district_notified_at\":\"2026-11-27T05:21:00Z\"") != std::string::npos);
}
