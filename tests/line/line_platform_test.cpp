// kaoko-line's LinePlatform without a socket: LINE's answers to push and reply, retry keys over 24 hours (the
// time is passed in), faults, validation, signatures and the shape of webhook events.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kaoko/sim/line_events.hpp"
#include "kaoko/sim/line_ids.hpp"
#include "kaoko/sim/line_platform.hpp"
#include "kaoko/sim/line_signature.hpp"
#include "kaoko/sim/line_validate.hpp"

namespace {

using namespace kaoko::sim;
using nlohmann::json;

const std::string kUser = "U0123456789abcdef0123456789abcdef";
const std::string kBlocked = "Ubbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kKey = "123e4567-e89b-12d3-a456-426614174000";
const LineClock::time_point kT0 = LineClock::time_point(std::chrono::seconds(1796600000));

LineChannelConfig Channel() {
  LineChannelConfig c;
  c.access_token = "token-A";
  c.channel_secret = "secret-A";
  c.bot_user_id = "U00000000000000000000000000000000";
  c.users.push_back({kUser, "ผู้ใหญ่บ้าน", "th", false, std::nullopt, 0});
  c.users.push_back({kBlocked, "blocked", "th", true, std::nullopt, 0});
  return c;
}

LineRequest PushRequest(const json& body, const std::string& key = "", const std::string& token = "token-A") {
  LineRequest r;
  r.method = "POST";
  r.target = "/v2/bot/message/push";
  r.headers["authorization"] = "Bearer " + token;
  if (!key.empty()) r.headers["x-line-retry-key"] = key;
  r.body = body.dump();
  return r;
}

json TextPush(const std::string& to, const std::string& text) {
  return {{"to", to}, {"messages", json::array({{{"type", "text"}, {"text", text}}})}};
}

std::string Header(const LineReply& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace

TEST_CASE("line platform: a retry key is performed once, answered 409 for 24 hours, then new again", "[line]") {
  LinePlatform line(Channel());
  LineReply first = line.Push(PushRequest(TextPush(kUser, "น้ำขึ้น"), kKey), kT0);
  REQUIRE(first.status == 200);
  REQUIRE(json::parse(first.body)["sentMessages"].size() == 1);
  std::string accepted_id = Header(first, "x-line-request-id");
  REQUIRE(IsLineRetryKey(accepted_id));  // a UUID

  LineReply retry = line.Push(PushRequest(TextPush(kUser, "น้ำขึ้น"), kKey), kT0 + std::chrono::hours(23));
  CHECK(retry.status == 409);
  CHECK(Header(retry, "x-line-accepted-request-id") == accepted_id);
  CHECK(Header(retry, "x-line-request-id") != accepted_id);
  CHECK(json::parse(retry.body)["message"] == "The retry key is already accepted");
  CHECK(line.Deliveries(kUser).size() == 1);

  SECTION("the key is case-insensitive hex") {
    std::string upper = "123E4567-E89B-12D3-A456-426614174000";
    CHECK(line.Push(PushRequest(TextPush(kUser, "x"), upper), kT0).status == 409);
  }
  SECTION("after 24 hours the same key is a new request") {
    CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0 + std::chrono::hours(24)).status == 200);
    CHECK(line.Deliveries(kUser).size() == 2);
  }
}

TEST_CASE("line platform: refused requests do not use up their retry key", "[line]") {
  LinePlatform line(Channel());
  SECTION("a 400") { CHECK(line.Push(PushRequest(TextPush(kUser, ""), kKey), kT0).status == 400); }
  SECTION("a 401") { CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey, "wrong"), kT0).status == 401); }
  SECTION("a 429") {
    line.AddFault({.status = 429, .count = 1, .retry_after_s = 3});
    LineReply r = line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0);
    CHECK(r.status == 429);
    CHECK(Header(r, "Retry-After") == "3");
  }
  SECTION("a 500 that was not performed") {
    line.AddFault({.status = 500});
    CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0).status == 500);
  }
  CHECK(line.Deliveries().empty());
  CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0).status == 200);
  CHECK(line.Deliveries().size() == 1);
}

TEST_CASE("line platform: a 500 after LINE accepted the push is why retry keys exist", "[line]") {
  LinePlatform line(Channel());
  line.AddFault({.status = 500, .count = 1, .delivered = true});
  CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0).status == 500);
  CHECK(line.Deliveries(kUser).size() == 1);  // the phone has it although the bot saw a 500
  CHECK(line.Push(PushRequest(TextPush(kUser, "x"), kKey), kT0).status == 409);
  CHECK(line.Deliveries(kUser).size() == 1);
  SECTION("without a key the retry is delivered twice") {
    line.AddFault({.status = 500, .count = 1, .delivered = true});
    CHECK(line.Push(PushRequest(TextPush(kUser, "y")), kT0).status == 500);
    CHECK(line.Push(PushRequest(TextPush(kUser, "y")), kT0).status == 200);
    CHECK(line.Deliveries(kUser).size() == 3);
  }
}

TEST_CASE("line platform: authorization, retry key form and LINE's error bodies", "[line]") {
  LinePlatform line(Channel());
  LineRequest no_auth = PushRequest(TextPush(kUser, "x"));
  no_auth.headers.erase("authorization");
  LineReply r = line.Push(no_auth, kT0);
  CHECK(r.status == 401);
  CHECK(json::parse(r.body)["message"].get<std::string>().find("Authorization header required") == 0);
  CHECK(!Header(r, "x-line-request-id").empty());

  r = line.Push(PushRequest(TextPush(kUser, "x"), "", "token-B"), kT0);
  CHECK(r.status == 401);
  CHECK(json::parse(r.body)["message"] ==
        "Authentication failed. Confirm that the access token in the authorization header is valid.");

  for (const std::string bad :
       {"not-a-uuid", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"}) {
    CAPTURE(bad);
    CHECK(line.Push(PushRequest(TextPush(kUser, "x"), bad), kT0).status == 400);
  }
  CHECK(line.Deliveries().empty());
}

TEST_CASE("line platform: push bodies are validated as LINE does, with details", "[line]") {
  LinePlatform line(Channel());
  auto details = [&](const json& body) {
    LineReply r = line.Push(PushRequest(body), kT0);
    REQUIRE(r.status == 400);
    return json::parse(r.body);
  };
  SECTION("an unknown user") {
    json e = details(TextPush("Ufffffffffffffffffffffffffffffff0", "x"));
    CHECK(e["message"] == "Failed to send messages");
    CHECK(e["details"][0]["property"] == "to");
  }
  SECTION("a malformed user id") { CHECK(details(TextPush("someone", "x"))["details"][0]["property"] == "to"); }
  SECTION("more than five messages") {
    json body = TextPush(kUser, "x");
    for (int i = 0; i < 5; ++i) body["messages"].push_back({{"type", "text"}, {"text", "x"}});
    json e = details(body);
    CHECK(e["message"] == "The request body has 1 error(s)");
    CHECK(e["details"][0] == json({{"message", "Size must be between 1 and 5"}, {"property", "messages"}}));
  }
  SECTION("an empty text and a text over 5000 characters") {
    json body = TextPush(kUser, "");
    std::string thai;
    for (int i = 0; i < 5001; ++i) thai += "น";  // one UTF-16 unit each, three bytes of UTF-8
    body["messages"].push_back({{"type", "text"}, {"text", thai}});
    json e = details(body);
    CHECK(e["message"] == "The request body has 2 error(s)");
    CHECK(e["details"][0]["property"] == "messages[0].text");
    CHECK(e["details"][1]["property"] == "messages[1].text");
  }
  SECTION("a postback button without data, a label over 20 characters and a confirm with one action") {
    json buttons = {{"type", "template"},
                    {"altText", "ยืนยัน"},
                    {"template",
                     {{"type", "buttons"},
                      {"text", "รับทราบหรือไม่"},
                      {"actions", {{{"type", "postback"}, {"label", "รับทราบแล้วครับผมขอบคุณมากนะ"}}}}}}};
    json confirm = {{"type", "template"},
                    {"altText", "a"},
                    {"template",
                     {{"type", "confirm"},
                      {"text", "t"},
                      {"actions", {{{"type", "postback"}, {"label", "ok"}, {"data", "ack"}}}}}}};
    json e = details({{"to", kUser}, {"messages", {buttons, confirm}}});
    std::vector<std::string> properties;
    for (const auto& d : e["details"]) properties.push_back(d["property"]);
    CHECK(properties == std::vector<std::string>{"messages[0].template.actions[0].label",
                                                 "messages[0].template.actions[0].data",
                                                 "messages[1].template.actions"});
  }
  SECTION("an unknown message type") {
    json e = details({{"to", kUser}, {"messages", {{{"type", "fax"}}}}});
    CHECK(e["details"][0]["property"] == "messages[0].type");
  }
  CHECK(line.Deliveries().empty());
}

TEST_CASE("line platform: 5000 Thai characters are accepted (LINE counts UTF-16 units, not bytes)", "[line]") {
  LinePlatform line(Channel());
  std::string thai;
  for (int i = 0; i < 5000; ++i) thai += "น";
  CHECK(LineTextLength(thai) == 5000);
  CHECK(LineTextLength("\xF0\x9F\x8C\x8A") == 2);  // an emoji outside the BMP is a surrogate pair
  CHECK(line.Push(PushRequest(TextPush(kUser, thai)), kT0).status == 200);
}

TEST_CASE("line platform: a push to a user who blocked the account is answered 200 and never shown", "[line]") {
  LinePlatform line(Channel());
  CHECK(line.Push(PushRequest(TextPush(kBlocked, "x")), kT0).status == 200);
  CHECK(line.Deliveries(kBlocked).empty());
  CHECK(line.CountersJson()["droppedBlocked"] == 1);
}

TEST_CASE("line platform: faults for one user and for the next N requests", "[line]") {
  LinePlatform line(Channel());
  line.AddFault({.status = 429, .count = 2, .user = kUser});
  CHECK(line.Push(PushRequest(TextPush(kBlocked, "x")), kT0).status == 200);  // another user: no fault
  LineReply r = line.Push(PushRequest(TextPush(kUser, "x")), kT0);
  CHECK(r.status == 429);
  CHECK(json::parse(r.body)["message"] == "The API rate limit has been exceeded. Try again later.");
  CHECK(line.Push(PushRequest(TextPush(kUser, "x")), kT0).status == 429);
  CHECK(line.Push(PushRequest(TextPush(kUser, "x")), kT0).status == 200);
  line.AddFault({.status = 0, .count = 1, .hang = true});
  CHECK(line.Push(PushRequest(TextPush(kUser, "x")), kT0).hang);
}

TEST_CASE("line platform: a reply token works once, and reply refuses a retry key", "[line]") {
  LinePlatform line(Channel());
  std::string token = line.IssueReplyToken(kUser, kT0);
  LineRequest r = PushRequest({{"replyToken", token}, {"messages", {{{"type", "text"}, {"text", "ok"}}}}});
  r.target = "/v2/bot/message/reply";
  LineRequest keyed = r;
  keyed.headers["x-line-retry-key"] = kKey;
  CHECK(line.Reply(keyed, kT0).status == 400);
  CHECK(line.Reply(r, kT0).status == 200);
  LineReply again = line.Reply(r, kT0);
  CHECK(again.status == 400);
  CHECK(json::parse(again.body)["message"] == "Invalid reply token");
  REQUIRE(line.Deliveries(kUser).size() == 1);
  CHECK(line.Deliveries(kUser)[0].via == "reply");
}

TEST_CASE("line platform: a scripted person presses the chosen postback button after a delay", "[line]") {
  LineChannelConfig c = Channel();
  c.users[0].auto_press_after = std::chrono::milliseconds(90000);
  c.users[0].auto_press_index = 1;
  LinePlatform line(c);
  json buttons = {{"type", "template"},
                  {"altText", "น้ำท่วม"},
                  {"template",
                   {{"type", "buttons"},
                    {"text", "ระดับน้ำวิกฤต"},
                    {"actions",
                     {{{"type", "postback"}, {"label", "รับทราบ"}, {"data", "ack:1"}},
                      {{"type", "postback"}, {"label", "ไม่อยู่"}, {"data", "away:1"}}}}}}};
  std::vector<LinePress> presses;
  CHECK(line.Push(PushRequest({{"to", kUser}, {"messages", {buttons}}}), kT0, &presses).status == 200);
  REQUIRE(presses.size() == 1);
  CHECK(presses[0].data == "away:1");
  CHECK(presses[0].after == std::chrono::milliseconds(90000));
}

TEST_CASE("line signature: base64 HMAC-SHA256 (RFC 4231 case 2) and its check", "[line]") {
  CHECK(LineSignature("Jefe", "what do ya want for nothing?") == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  CHECK(VerifyLineSignature("Jefe", "what do ya want for nothing?", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="));
  CHECK_FALSE(
      VerifyLineSignature("Jefe", "what do ya want for nothing!", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="));
  CHECK_FALSE(VerifyLineSignature("Jefe", "x", ""));
}

TEST_CASE("line events: a postback event has every field of LINE's webhook event object", "[line]") {
  json e = LinePostbackEvent({kUser, 1796600000123, false}, "ack:incident=7", NewReplyToken());
  CHECK(e["type"] == "postback");
  CHECK(e["postback"]["data"] == "ack:incident=7");
  CHECK(e["source"] == json({{"type", "user"}, {"userId", kUser}}));
  CHECK(e["timestamp"] == 1796600000123);
  CHECK(e["replyToken"].get<std::string>().size() == 32);
  CHECK(e["webhookEventId"].get<std::string>().size() == 26);
  CHECK(e["deliveryContext"]["isRedelivery"] == false);
  CHECK(e["mode"] == "active");
  json body = json::parse(LineWebhookBody("U00000000000000000000000000000000", {e}));
  CHECK(body["destination"] == "U00000000000000000000000000000000");
  CHECK(body["events"].size() == 1);
  CHECK(LineFollowEvent({kUser, 1, false}, "t")["type"] == "follow");
  CHECK(LineTextEvent({kUser, 1, false}, "สวัสดี", "t")["message"]["text"] == "สวัสดี");
  CHECK_FALSE(LineUnfollowEvent({kUser, 1, false}).contains("replyToken"));
}

TEST_CASE("line ids: user ids and retry keys in LINE's forms", "[line]") {
  CHECK(IsLineUserId(kUser));
  CHECK_FALSE(IsLineUserId("U0123456789ABCDEF0123456789abcdef"));
  CHECK_FALSE(IsLineUserId("C0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(IsLineUserId("U0123"));
  CHECK(IsLineRetryKey(NewLineRequestId()));
  CHECK(NewLineRequestId() != NewLineRequestId());
  CHECK(NewMessageId().size() == 18);
}
