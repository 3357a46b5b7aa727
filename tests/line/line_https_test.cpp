// kaoko-line over the network, driven as the product will drive LINE: libcurl over HTTPS trusting only the
// stand-in's self-signed certificate, webhooks received by a listener on loopback and their X-Line-Signature
// checked with OpenSSL here. The stand-in runs in this process (LineSim) on free loopback ports.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kaoko/sim/line_sim.hpp"
#include "line_client.hpp"

namespace {

using namespace kaoko::sim;
using namespace kaoko::linetest;
using nlohmann::json;

const std::string kUser = "U0123456789abcdef0123456789abcdef";
const std::string kScripted = "U5c0000000000000000000000000000aa";
const std::string kBot = "U00000000000000000000000000000000";
const std::string kToken = "channel-token-for-tests";
const std::string kSecret = "channel-secret-for-tests";

struct Fixture {
  WebhookListener listener;
  LineSim line;

  Fixture() : line(Options(listener.url())) { line.Start(); }

  static LineSimOptions Options(const std::string& webhook_url) {
    LineSimOptions o;
    o.channel.access_token = kToken;
    o.channel.channel_secret = kSecret;
    o.channel.bot_user_id = kBot;
    o.channel.users.push_back({kUser, "ผู้ใหญ่บ้าน", "th", false, std::nullopt, 0});
    o.channel.users.push_back({kScripted, "อสม.", "th", false, std::chrono::milliseconds(150), 0});
    o.webhook_url = webhook_url;
    return o;
  }

  std::string Api(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(line.api_port()) + path;
  }

  CurlAnswer Push(const json& body, const std::string& retry_key = "", const std::string& token = kToken,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::vector<std::string> headers = {"Content-Type: application/json", "Authorization: Bearer " + token};
    if (!retry_key.empty()) headers.push_back("X-Line-Retry-Key: " + retry_key);
    return Curl("POST", Api("/v2/bot/message/push"), headers, body.dump(), line.certificate_pem(), timeout);
  }

  json Control(const std::string& method, const std::string& path, const json& body = json::object()) {
    CurlAnswer a = Curl(method, "http://127.0.0.1:" + std::to_string(line.control_port()) + path,
                        {"Content-Type: application/json"}, body.dump());
    REQUIRE(a.curl_code == 0);
    REQUIRE(a.status < 300);
    return json::parse(a.body);
  }

  std::size_t Received(const std::string& user) { return Control("GET", "/control/received?userId=" + user).size(); }
};

json TextPush(const std::string& to, const std::string& text) {
  return {{"to", to}, {"messages", {{{"type", "text"}, {"text", text}}}}};
}

json ButtonsPush(const std::string& to) {
  return {{"to", to},
          {"messages",
           {{{"type", "template"},
             {"altText", "แจ้งเตือนน้ำท่วม บ้านท่าช้าง"},
             {"template",
              {{"type", "buttons"},
               {"text", "ระดับน้ำถึงขั้นเตือนภัย กดรับทราบ"},
               {"actions", {{{"type", "postback"}, {"label", "รับทราบ"}, {"data", "ack:incident=42"}}}}}}}}}};
}

}  // namespace

TEST_CASE("line https: a push is received once - the retry with the same key gets 409 and is not received again",
          "[line]") {
  Fixture f;
  const std::string key = "7f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
  CurlAnswer first = f.Push(TextPush(kUser, "ระดับน้ำสูงขึ้น"), key);
  REQUIRE(first.curl_code == 0);
  CHECK(first.status == 200);
  CHECK(json::parse(first.body)["sentMessages"].size() == 1);
  REQUIRE(!first.Header("x-line-request-id").empty());

  CurlAnswer retry = f.Push(TextPush(kUser, "ระดับน้ำสูงขึ้น"), key);
  CHECK(retry.status == 409);
  CHECK(retry.Header("x-line-accepted-request-id") == first.Header("x-line-request-id"));
  CHECK(!retry.Header("x-line-request-id").empty());

  json received = f.Control("GET", "/control/received?userId=" + kUser);
  REQUIRE(received.size() == 1);
  CHECK(received[0]["retryKey"] == key);
  CHECK(received[0]["message"]["text"] == "ระดับน้ำสูงขึ้น");
  CHECK(received[0]["requestId"] == first.Header("x-line-request-id"));
}

TEST_CASE("line https: a 500 after LINE performed the push, then the retry with the key: the phone has it once",
          "[line]") {
  Fixture f;
  f.Control("POST", "/control/faults", {{"status", 500}, {"count", 1}, {"delivered", true}});
  const std::string key = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
  CHECK(f.Push(TextPush(kUser, "x"), key).status == 500);
  CHECK(f.Push(TextPush(kUser, "x"), key).status == 409);
  CHECK(f.Received(kUser) == 1);
}

TEST_CASE("line https: a hung answer times the client out, and the retry tells it the push was done", "[line]") {
  Fixture f;
  f.Control("POST", "/control/faults", {{"hang", true}, {"delivered", true}});
  const std::string key = "aa1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
  CurlAnswer hung = f.Push(TextPush(kUser, "x"), key, kToken, std::chrono::milliseconds(500));
  CHECK(hung.curl_code == 28);  // CURLE_OPERATION_TIMEDOUT
  CHECK(f.Push(TextPush(kUser, "x"), key).status == 409);
  CHECK(f.Received(kUser) == 1);
}

TEST_CASE("line https: a wrong or missing token gets 401 with LINE's body", "[line]") {
  Fixture f;
  CurlAnswer wrong = f.Push(TextPush(kUser, "x"), "", "not-the-token");
  CHECK(wrong.status == 401);
  CHECK(json::parse(wrong.body)["message"] ==
        "Authentication failed. Confirm that the access token in the authorization header is valid.");
  CHECK(!wrong.Header("x-line-request-id").empty());
  CurlAnswer none = Curl("POST", f.Api("/v2/bot/message/push"), {"Content-Type: application/json"},
                         TextPush(kUser, "x").dump(), f.line.certificate_pem());
  CHECK(none.status == 401);
  CHECK(f.Received(kUser) == 0);
}

TEST_CASE("line https: validation errors get 400 with details - a malformed retry key gets 400", "[line]") {
  Fixture f;
  json six = TextPush(kUser, "1");
  for (int i = 0; i < 5; ++i) six["messages"].push_back({{"type", "text"}, {"text", "x"}});
  CurlAnswer a = f.Push(six);
  CHECK(a.status == 400);
  CHECK(json::parse(a.body)["details"][0]["property"] == "messages");

  CurlAnswer empty = f.Push(TextPush(kUser, ""));
  CHECK(empty.status == 400);
  CHECK(json::parse(empty.body)["details"][0] ==
        json({{"message", "May not be empty"}, {"property", "messages[0].text"}}));

  CurlAnswer unknown = f.Push(TextPush("U99999999999999999999999999999999", "x"));
  CHECK(unknown.status == 400);
  CHECK(json::parse(unknown.body)["details"][0]["property"] == "to");

  CHECK(f.Push(TextPush(kUser, "x"), "not-a-uuid").status == 400);
  CHECK(f.Received(kUser) == 0);
}

TEST_CASE("line https: an injected 429 carries Retry-After and LINE's body - the next push goes through", "[line]") {
  Fixture f;
  f.Control("POST", "/control/faults", {{"status", 429}, {"count", 1}, {"retryAfter", 7}});
  CurlAnswer limited = f.Push(TextPush(kUser, "x"));
  CHECK(limited.status == 429);
  CHECK(limited.Header("retry-after") == "7");
  CHECK(json::parse(limited.body)["message"] == "The API rate limit has been exceeded. Try again later.");
  CHECK(f.Push(TextPush(kUser, "x")).status == 200);
  CHECK(f.Received(kUser) == 1);
}

TEST_CASE("line https: a postback webhook arrives signed, its body exactly the bytes signed", "[line]") {
  Fixture f;
  REQUIRE(f.Push(ButtonsPush(kUser)).status == 200);
  f.Control("POST", "/control/press", {{"userId", kUser}, {"data", "ack:incident=42"}});
  auto got = f.listener.WaitFor(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].target == "/line/webhook");
  CHECK(got[0].headers["x-line-signature"] == HmacBase64(kSecret, got[0].body));
  CHECK(got[0].headers["content-type"] == "application/json; charset=utf-8");

  json body = json::parse(got[0].body);
  CHECK(body["destination"] == kBot);
  REQUIRE(body["events"].size() == 1);
  const json& e = body["events"][0];
  CHECK(e["type"] == "postback");
  CHECK(e["postback"]["data"] == "ack:incident=42");
  CHECK(e["source"] == json({{"type", "user"}, {"userId", kUser}}));
  CHECK(e["deliveryContext"]["isRedelivery"] == false);
  CHECK(e["mode"] == "active");
  CHECK(e["webhookEventId"].get<std::string>().size() == 26);

  // The stand-in recorded the same bytes, and that the bot answered 200.
  REQUIRE(Eventually([&] { return f.Control("GET", "/control/webhooks").size() == 1; }));
  json sent = f.Control("GET", "/control/webhooks")[0];
  CHECK(sent["body"] == got[0].body);
  CHECK(sent["status"] == 200);

  SECTION("the reply token of the postback answers the user once") {
    json reply = {{"replyToken", e["replyToken"]}, {"messages", {{{"type", "text"}, {"text", "ขอบคุณครับ"}}}}};
    std::vector<std::string> headers = {"Content-Type: application/json", "Authorization: Bearer " + kToken};
    CHECK(Curl("POST", f.Api("/v2/bot/message/reply"), headers, reply.dump(), f.line.certificate_pem()).status == 200);
    CHECK(Curl("POST", f.Api("/v2/bot/message/reply"), headers, reply.dump(), f.line.certificate_pem()).status == 400);
    CHECK(f.Received(kUser) == 2);
  }
}

TEST_CASE("line https: a scripted person presses the button by itself after a human delay", "[line]") {
  Fixture f;
  REQUIRE(f.Push(ButtonsPush(kScripted)).status == 200);
  auto got = f.listener.WaitFor(1);
  REQUIRE(got.size() == 1);
  json e = json::parse(got[0].body)["events"][0];
  CHECK(e["source"]["userId"] == kScripted);
  CHECK(e["postback"]["data"] == "ack:incident=42");
  CHECK(got[0].headers["x-line-signature"] == HmacBase64(kSecret, got[0].body));
}

TEST_CASE("line https: text, follow and unfollow events - a blocked user's push is 200 and never shown", "[line]") {
  Fixture f;
  f.Control("POST", "/control/text", {{"userId", kUser}, {"text", "น้ำเข้าบ้านแล้ว"}});
  REQUIRE(f.listener.WaitFor(1).size() == 1);
  f.Control("POST", "/control/unfollow", {{"userId", kUser}});
  auto got = f.listener.WaitFor(2);
  REQUIRE(got.size() == 2);
  CHECK(json::parse(got[0].body)["events"][0]["message"]["text"] == "น้ำเข้าบ้านแล้ว");
  CHECK(json::parse(got[1].body)["events"][0]["type"] == "unfollow");
  CHECK(f.Push(TextPush(kUser, "x")).status == 200);
  CHECK(f.Received(kUser) == 0);
  f.Control("POST", "/control/follow", {{"userId", kUser}});
  got = f.listener.WaitFor(3);
  REQUIRE(got.size() == 3);
  CHECK(json::parse(got[2].body)["events"][0]["type"] == "follow");
  CHECK(f.Push(TextPush(kUser, "x")).status == 200);
  CHECK(f.Received(kUser) == 1);
}

TEST_CASE("line https: forged webhooks fail the signature check - a replay is the same bytes again", "[line]") {
  Fixture f;
  f.Control("POST", "/control/press", {{"userId", kUser}, {"data", "ack:1"}});
  REQUIRE(f.listener.WaitFor(1).size() == 1);
  f.Control("POST", "/control/forge", {{"how", "unsigned"}, {"userId", kUser}});
  REQUIRE(f.listener.WaitFor(2).size() == 2);
  f.Control("POST", "/control/forge", {{"how", "wrong-secret"}, {"userId", kUser}});
  REQUIRE(f.listener.WaitFor(3).size() == 3);
  f.Control("POST", "/control/forge", {{"how", "tampered"}, {"userId", kUser}, {"data", "ack:2"}});
  REQUIRE(f.listener.WaitFor(4).size() == 4);
  f.Control("POST", "/control/forge", {{"how", "replay"}});
  REQUIRE(f.listener.WaitFor(5).size() == 5);
  f.Control("POST", "/control/forge", {{"how", "redelivery"}});
  auto got = f.listener.WaitFor(6);
  REQUIRE(got.size() == 6);

  CHECK(got[0].headers["x-line-signature"] == HmacBase64(kSecret, got[0].body));
  CHECK(got[1].headers.count("x-line-signature") == 0);
  CHECK(got[2].headers["x-line-signature"] != HmacBase64(kSecret, got[2].body));
  CHECK(got[3].headers["x-line-signature"] != HmacBase64(kSecret, got[3].body));
  CHECK(json::parse(got[3].body)["events"][0]["postback"]["data"] == "ack:2&tampered=1");
  CHECK(got[4].body == got[0].body);  // a replay: valid signature, an event already handled
  CHECK(got[4].headers["x-line-signature"] == got[0].headers["x-line-signature"]);
  json redelivered = json::parse(got[5].body)["events"][0];
  CHECK(got[5].headers["x-line-signature"] == HmacBase64(kSecret, got[5].body));
  CHECK(redelivered["deliveryContext"]["isRedelivery"] == true);
  CHECK(redelivered["webhookEventId"] == json::parse(got[0].body)["events"][0]["webhookEventId"]);
}

TEST_CASE("line https: the profile of a user, and 404 for one that is not a friend", "[line]") {
  Fixture f;
  std::vector<std::string> auth = {"Authorization: Bearer " + kToken};
  CurlAnswer a = Curl("GET", f.Api("/v2/bot/profile/" + kUser), auth, "", f.line.certificate_pem());
  CHECK(a.status == 200);
  CHECK(json::parse(a.body)["displayName"] == "ผู้ใหญ่บ้าน");
  CHECK(Curl("GET", f.Api("/v2/bot/profile/U99999999999999999999999999999999"), auth, "", f.line.certificate_pem())
            .status == 404);
}

TEST_CASE("line https: a client that does not trust the stand-in's certificate is refused", "[line]") {
  Fixture f;
  LinePem other = MakeSelfSignedCertificate();
  CurlAnswer a = Curl("POST", f.Api("/v2/bot/message/push"), {"Authorization: Bearer " + kToken},
                      TextPush(kUser, "x").dump(), other.certificate);
  CHECK(a.curl_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  CHECK(f.Received(kUser) == 0);
}
