// LINE without LINE: the message objects a push carries (the step's buttons, no personal data), the postback data
// read back, X-Line-Signature, and the webhook as the delivery room judges it (signature good, bad, missing; an event
// handled once; an old event not acted on; a link code linking an account; a postback deciding with via "line").
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/delivery/line.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using delivery::ReplyChoice;
using json = nlohmann::json;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {

constexpr const char* kSecret = "unit-test-channel-secret";
constexpr const char* kPrasertLine = "U0123456789abcdef0123456789abcdef";
constexpr const char* kStranger = "Ufedcba9876543210fedcba9876543210";

const alerting::Network& Net() {
  static const alerting::Network net = [] {
    auto n = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
    REQUIRE(n.ok());
    return std::move(*n);
  }();
  return net;
}

store::DeliveryMessage Message(alerting::ActionNeeded action) {
  store::DeliveryMessage m;
  m.notification = "n-1";
  m.incident = 12;
  m.village = "kaoko";
  m.level = alerting::Level::kWarning;
  m.action = action;
  m.text_th = "ระดับน้ำที่สะพานบ้านเก้ากอขึ้นถึงขั้นเตือนภัย";
  m.text_en = "Warning at the bridge";
  m.deadline = T("2026-12-07T03:30:00Z");
  return m;
}

std::size_t Utf16(const std::string& s) { return delivery::Ucs2Length(s); }

std::int64_t Ms(alerting::TimePoint t) { return t.time_since_epoch().count(); }

int event_seq = 0;
json Event(const std::string& type, const std::string& user, alerting::TimePoint at) {
  return json{{"type", type},
              {"mode", "active"},
              {"timestamp", Ms(at)},
              {"source", {{"type", "user"}, {"userId", user}}},
              {"webhookEventId", "01HZX00000000000000000" + std::to_string(1000 + ++event_seq)},
              {"deliveryContext", {{"isRedelivery", false}}},
              {"replyToken", "0f3779fba3b349968c5d07db31eab56f"}};
}
json Postback(const std::string& user, const std::string& data, alerting::TimePoint at) {
  json e = Event("postback", user, at);
  e["postback"] = {{"data", data}};
  return e;
}
json Text(const std::string& user, const std::string& text, alerting::TimePoint at) {
  json e = Event("message", user, at);
  e["message"] = {{"type", "text"}, {"id", "4680"}, {"text", text}};
  return e;
}
std::string Body(const json& event) {
  return json{{"destination", "U000000000000000000000000000000d0"}, {"events", json::array({event})}}.dump();
}

// A delivery room with LINE configured (nothing is sent: RunOnce is never called) and a core that records decisions.
struct Room {
  ScratchDir tmp{"line-webhook"};
  Clock clock = Clock::Fake(T("2026-12-07T03:00:00Z"));
  server::Metrics metrics;
  std::vector<std::tuple<std::string, wire::DecisionMsg, std::string>> decided;
  std::unique_ptr<delivery::Delivery> room;

  Room() {
    delivery::DeliveryOptions o;
    o.db_path = tmp.db();
    o.clock = clock;
    o.wall = clock;
    o.line = delivery::LineAccount{"https://127.0.0.1:9", "unit-test-token", kSecret, "", 600};
    auto made =
        delivery::Delivery::Create(Net(), std::move(o), metrics,
                                   [this](const std::string& user, const wire::DecisionMsg& d, const std::string& via) {
                                     decided.emplace_back(user, d, via);
                                     return delivery::DecideOutcome{true, ""};
                                   });
    REQUIRE(made.ok());
    room = std::move(*made);
  }
  delivery::Answer Signed(const std::string& body) {
    return room->LineWebhook(body, delivery::LineSignature(kSecret, body));
  }
  int Count(const char* result) { return static_cast<int>(metrics.Get("kaoko_line_webhooks_total", result)); }
  // The reply code of `person` for incident 12's step `action`, as the sender would have made it.
  std::string CodeFor(const std::string& person, alerting::ActionNeeded action) {
    auto s = store::Store::Open(tmp.db());
    REQUIRE(s.ok());
    store::Outbox box(**s);
    return box.CodeFor(person, 12, action, alerting::Level::kWarning, clock.Now(),
                       [&person] { return std::string(person == "prasert" ? "4821" : "5930"); });
  }
  void Link(const std::string& person, const std::string& user) {
    auto code = room->NewLineLinkCode(person);
    REQUIRE(code.ok());
    REQUIRE(Signed(Body(Text(user, code->code, clock.Now()))).status == 200);
    REQUIRE(room->LineLinked(person) == std::optional<bool>(true));
  }
};

}  // namespace

TEST_CASE("line message: each step's buttons with the code and choice, within LINE's limits, no personal data",
          "[line]") {
  struct Case {
    alerting::ActionNeeded action;
    std::vector<std::string> labels;
  };
  for (const Case& c :
       {Case{alerting::ActionNeeded::kAck, {"รับทราบ"}}, Case{alerting::ActionNeeded::kConfirm, {"ยืนยัน", "ไม่ใช่"}},
        Case{alerting::ActionNeeded::kDeclare, {"ประกาศ", "ไม่ประกาศ"}}}) {
    const std::string rendered = delivery::LineMessage(Message(c.action), "4821", Net());
    INFO(rendered);
    const json m = json::parse(rendered);
    CHECK(m["type"] == "template");
    CHECK(m["template"]["type"] == "buttons");
    const auto& actions = m["template"]["actions"];
    REQUIRE(actions.size() == c.labels.size());
    for (std::size_t i = 0; i < actions.size(); ++i) {
      CHECK(actions[i]["type"] == "postback");
      CHECK(actions[i]["label"] == c.labels[i]);
      CHECK(actions[i]["data"] == (i == 0 ? "c=4821&a=1" : "c=4821&a=2"));
      CHECK(Utf16(actions[i]["label"].get<std::string>()) <= 20);
    }
    const std::string text = m["template"]["text"].get<std::string>();
    CHECK(Utf16(text) <= 160);
    CHECK(Utf16(m["altText"].get<std::string>()) <= 400);
    CHECK(text.find("เก้ากอ") != std::string::npos);  // the village's Thai name
    CHECK(text.find("เหตุ#12") != std::string::npos);
    CHECK(text.find("10:30") != std::string::npos);  // the deadline in Thailand's time
    // Nothing of a person: no names, no ids, no numbers.
    for (const auto& p : Net().people) {
      CHECK(rendered.find(p.id) == std::string::npos);
      CHECK(rendered.find(p.name_th) == std::string::npos);
      for (const auto& contact : p.contacts) {
        if (!contact.address.empty()) CHECK(rendered.find(contact.address) == std::string::npos);
      }
    }
  }
  const json info = json::parse(delivery::LineMessage(Message(alerting::ActionNeeded::kNone), "", Net()));
  CHECK(info["type"] == "text");
  CHECK(info["text"].get<std::string>().find("ระดับน้ำที่สะพาน") != std::string::npos);
  CHECK_FALSE(info.contains("template"));
}

TEST_CASE("line message: postback data is read back only as kaoko writes it", "[line]") {
  auto yes = delivery::ParsePostbackData(delivery::PostbackData("4821", ReplyChoice::kYes));
  REQUIRE(yes);
  CHECK(yes->code == "4821");
  CHECK(yes->choice == ReplyChoice::kYes);
  auto no = delivery::ParsePostbackData("a=2&c=0007");
  REQUIRE(no);
  CHECK(no->choice == ReplyChoice::kNo);
  CHECK(no->code == "0007");
  for (const char* bad : {"", "c=4821", "a=1", "c=482&a=1", "c=48211&a=1", "c=4821&a=3", "c=4821&a=1&u=prasert",
                          "c=4821&c=1234&a=1", "ack:incident=42", "c=abcd&a=1"}) {
    INFO(bad);
    CHECK_FALSE(delivery::ParsePostbackData(bad));
  }
}

TEST_CASE("line signature: base64 of the HMAC-SHA256 of the raw body, compared whole", "[line]") {
  CHECK(delivery::LineSignature("secret", "hello") == "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs=");
  CHECK(delivery::LineSignatureOk("secret", "hello", "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs="));
  CHECK_FALSE(delivery::LineSignatureOk("secret", "hello ", "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs="));
  CHECK_FALSE(delivery::LineSignatureOk("other", "hello", "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs="));
  CHECK_FALSE(delivery::LineSignatureOk("secret", "hello", "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfA"));
  CHECK_FALSE(delivery::LineSignatureOk("secret", "hello", ""));
  CHECK_FALSE(delivery::LineSignatureOk("", "hello", "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs="));
}

TEST_CASE("line link code: six digits typed, Thai digits and spaces allowed", "[line]") {
  CHECK(delivery::LinkCodeIn("482913") == "482913");
  CHECK(delivery::LinkCodeIn(" ๔๘๒๙๑๓\n") == "482913");
  CHECK(delivery::LinkCodeIn("48291") == "");
  CHECK(delivery::LinkCodeIn("4829133") == "");
  CHECK(delivery::LinkCodeIn("code 482913") == "");
  CHECK(delivery::LinkCodeIn("สวัสดี") == "");
}

TEST_CASE("line webhook: unsigned and badly signed webhooks are refused and counted", "[line]") {
  Room r;
  const std::string body = Body(Postback(kPrasertLine, "c=4821&a=1", r.clock.Now()));
  CHECK(r.room->LineWebhook(body, "").status == 401);
  CHECK(r.room->LineWebhook(body, delivery::LineSignature("not-the-secret", body)).status == 401);
  CHECK(r.room->LineWebhook(body + " ", delivery::LineSignature(kSecret, body)).status == 401);  // tampered
  CHECK(r.Count("unsigned") == 1);
  CHECK(r.Count("bad_signature") == 2);
  CHECK(r.Signed("{\"destination\":\"U0\"}").status == 400);
  CHECK(r.Count("malformed") == 1);
  // LINE's "Verify" button sends no events: answered 200.
  CHECK(r.Signed(R"({"destination":"U000000000000000000000000000000d0","events":[]})").status == 200);
  CHECK(r.decided.empty());
}

TEST_CASE("line webhook: a link code links the account once, a postback decides once with via line", "[line]") {
  Room r;
  CHECK(r.room->LineLinked("prasert") == std::optional<bool>(false));
  CHECK_FALSE(r.room->NewLineLinkCode("somchai").ok());  // no LINE contact in the network file

  SECTION("a postback from an account no one linked does nothing") {
    const std::string code = r.CodeFor("prasert", alerting::ActionNeeded::kAck);
    CHECK(r.Signed(Body(Postback(kPrasertLine, "c=" + code + "&a=1", r.clock.Now()))).status == 200);
    CHECK(r.Count("unlinked_user") == 1);
    CHECK(r.decided.empty());
  }
  SECTION("a wrong or used link code links nothing; a code works once") {
    auto code = r.room->NewLineLinkCode("prasert");
    REQUIRE(code.ok());
    CHECK(code->code.size() == 6);
    CHECK(code->expires == r.clock.Now() + std::chrono::minutes(15));
    const std::string wrong = code->code == "000000" ? "000001" : "000000";
    CHECK(r.Signed(Body(Text(kPrasertLine, wrong, r.clock.Now()))).status == 200);
    CHECK(r.Count("link_wrong_code") == 1);
    CHECK(r.Signed(Body(Text(kPrasertLine, "สวัสดีครับ", r.clock.Now()))).status == 200);
    CHECK(r.Count("ignored") == 1);
    CHECK(r.Signed(Body(Text(kPrasertLine, code->code, r.clock.Now()))).status == 200);
    CHECK(r.Count("linked") == 1);
    CHECK(r.room->LineLinked("prasert") == std::optional<bool>(true));
    // The same code from another account: used up.
    CHECK(r.Signed(Body(Text(kStranger, code->code, r.clock.Now()))).status == 200);
    CHECK(r.Count("link_wrong_code") == 2);
    // Another person's code from the account already linked to prasert: refused, prasert keeps it.
    auto boonmee = r.room->NewLineLinkCode("boonmee");
    REQUIRE(boonmee.ok());
    CHECK(r.Signed(Body(Text(kPrasertLine, boonmee->code, r.clock.Now()))).status == 200);
    CHECK(r.Count("link_refused") == 1);
    CHECK(r.room->LineLinked("boonmee") == std::optional<bool>(false));
  }
  SECTION("an expired link code links nothing") {
    auto code = r.room->NewLineLinkCode("prasert");
    REQUIRE(code.ok());
    r.clock.Advance(std::chrono::minutes(16));
    CHECK(r.Signed(Body(Text(kPrasertLine, code->code, r.clock.Now()))).status == 200);
    CHECK(r.Count("link_wrong_code") == 1);
    CHECK(r.room->LineLinked("prasert") == std::optional<bool>(false));
  }
  SECTION("a postback decides through the core with via line, once; a replay and an old event are not acted on") {
    r.Link("prasert", kPrasertLine);
    const std::string code = r.CodeFor("prasert", alerting::ActionNeeded::kAck);
    const std::string body = Body(Postback(kPrasertLine, "c=" + code + "&a=1", r.clock.Now()));
    CHECK(r.Signed(body).status == 200);
    REQUIRE(r.decided.size() == 1);
    CHECK(std::get<0>(r.decided[0]) == "prasert");
    CHECK(std::get<1>(r.decided[0]).action == alerting::DecisionAction::kAck);
    CHECK(std::get<1>(r.decided[0]).incident == 12);
    CHECK(std::get<2>(r.decided[0]) == "line");
    CHECK(r.Count("acted") == 1);
    // The same bytes again (a replay), and LINE's redelivery of the same event: 200, not acted on again.
    CHECK(r.Signed(body).status == 200);
    CHECK(r.Count("replay") == 1);
    CHECK(r.decided.size() == 1);
    // A new event with the used code: not decided again.
    CHECK(r.Signed(Body(Postback(kPrasertLine, "c=" + code + "&a=1", r.clock.Now()))).status == 200);
    CHECK(r.Count("used_code") == 1);
    // Another person's code, and data kaoko never wrote.
    const std::string theirs = r.CodeFor("boonmee", alerting::ActionNeeded::kConfirm);
    CHECK(r.Signed(Body(Postback(kPrasertLine, "c=" + theirs + "&a=1", r.clock.Now()))).status == 200);
    CHECK(r.Count("wrong_code") == 1);
    CHECK(r.Signed(Body(Postback(kPrasertLine, "ack:incident=12", r.clock.Now()))).status == 200);
    CHECK(r.Count("unreadable") == 1);
    // An event signed correctly but older than 10 minutes.
    r.clock.Advance(std::chrono::minutes(11));
    CHECK(
        r.Signed(Body(Postback(kPrasertLine, "c=" + code + "&a=1", r.clock.Now() - std::chrono::minutes(11)))).status ==
        200);
    CHECK(r.Count("stale") == 1);
    CHECK(r.decided.size() == 1);
  }
  SECTION("no on the confirm step rejects") {
    r.Link("boonmee", kStranger);
    const std::string code = r.CodeFor("boonmee", alerting::ActionNeeded::kConfirm);
    CHECK(r.Signed(Body(Postback(kStranger, "c=" + code + "&a=2", r.clock.Now()))).status == 200);
    REQUIRE(r.decided.size() == 1);
    CHECK(std::get<1>(r.decided[0]).action == alerting::DecisionAction::kReject);
    CHECK(std::get<1>(r.decided[0]).id == "line-12-" + code);
  }
}

TEST_CASE("line webhook: a LINE account that keeps sending wrong link codes is not heard for a while", "[line]") {
  Room r;
  auto code = r.room->NewLineLinkCode("prasert");
  REQUIRE(code.ok());
  int wrong = 0;
  for (int i = 0; wrong < 5; ++i) {
    const std::string guess = fmt::format("{:06}", i);
    if (guess == code->code) continue;
    r.Signed(Body(Text(kStranger, guess, r.clock.Now())));
    ++wrong;
  }
  CHECK(r.Count("link_wrong_code") == 5);
  CHECK(r.Signed(Body(Text(kStranger, code->code, r.clock.Now()))).status == 200);
  CHECK(r.Count("link_throttled") == 1);
  CHECK(r.room->LineLinked("prasert") == std::optional<bool>(false));
}
