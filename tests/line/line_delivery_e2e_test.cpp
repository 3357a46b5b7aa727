// LINE end to end (issue 23): kaoko-server with its delivery room pushes through kaoko-line (the stand-in for LINE's
// Messaging API, over HTTPS with its self-signed certificate trusted through --line-ca) to simulated phones; people
// link their LINE accounts with the code from their own page and answer by pressing the message's buttons, which
// kaoko-line sends back as signed webhooks. Checked from the outside: what each phone received and the stand-in's
// record of pushes and webhooks, the incident through the HTTP API, the outbox rows in the database file, /metrics
// and the service log (no token, secret or LINE user id in it).
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* kToken = "e2e-line-channel-token-5d1f0c";
constexpr const char* kSecret = "e2e-line-channel-secret-77a3e9";
// The LINE accounts of Ban Kao Ko's committee member Prasert and headman Boonmee (config/tonhong.toml gives their
// LINE contacts no user id: they link them from their pages).
constexpr const char* kPrasert = "U1a2b3c4d5e6f708192a3b4c5d6e7f801";
constexpr const char* kBoonmee = "U2b3c4d5e6f708192a3b4c5d6e7f80912";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string NowRfc3339() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

struct Login {
  std::string cookie;
  std::string csrf;
};

struct LineRow {
  std::string person, state, reason, gateway_ref;
  int attempts = 0;
};

// The outbox's LINE rows, as the database file has them.
std::vector<LineRow> LineRows(const std::string& db) {
  std::vector<LineRow> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(h,
                     "SELECT person, state, reason, coalesce(gateway_ref, ''), attempts FROM deliveries "
                     "WHERE channel = 'line' ORDER BY id",
                     -1, &q, nullptr);
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    auto text = [&](int c) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, c))); };
    out.push_back({text(0), text(1), text(2), text(3), sqlite3_column_int(q, 4)});
  }
  sqlite3_finalize(q);
  sqlite3_close(h);
  return out;
}

std::optional<LineRow> RowOf(const std::string& db, const std::string& person) {
  for (const auto& r : LineRows(db)) {
    if (r.person == person) return r;
  }
  return std::nullopt;
}

// kaoko-line on free ports with Prasert's and Boonmee's phones, then kaoko-server pushing to it and its webhooks
// pointed at kaoko.
struct LineVillage {
  TempDir dir;
  Broker broker;
  std::unique_ptr<Process> line;
  int api_port = 0, control_port = 0;
  std::unique_ptr<ServiceProcess> kaoko;

  LineVillage() {
    const std::string config = dir.path() + "/line.toml", ready = dir.path() + "/ready";
    std::ofstream(config) << fmt::format(
        "[channel]\naccess_token = \"{}\"\nchannel_secret = \"{}\"\n"
        "bot_user_id = \"U000000000000000000000000000000d0\"\n"
        "[api]\nport = 0\n[control]\nport = 0\n"
        "[[users]]\nid = \"{}\"\nname = \"committee Prasert\"\n"
        "[[users]]\nid = \"{}\"\nname = \"headman Boonmee\"\n",
        kToken, kSecret, kPrasert, kBoonmee);
    line = std::make_unique<Process>(
        std::vector<std::string>{KAOKO_LINE_TOOL, "--config", config, "--cert-out", cert(), "--ready-file", ready},
        dir.path() + "/kaoko-line.log");
    if (!WaitFor([&] { return Slurp(ready).find("control=") != std::string::npos; }, 10s))
      throw std::runtime_error("kaoko-line did not start:\n" + line->Log());
    unsigned api = 0, control = 0;
    if (std::sscanf(Slurp(ready).c_str(), "api=%u control=%u", &api, &control) != 2)
      throw std::runtime_error("kaoko-line's ready file: " + Slurp(ready));
    api_port = static_cast<int>(api);
    control_port = static_cast<int>(control);
    const std::string credentials = broker.accounts_dir() + "/credentials.toml";
    base_credentials = Slurp(credentials);
    SetToken(kToken);
    kaoko = std::make_unique<ServiceProcess>(
        broker, dir.path() + "/kaoko.db",
        std::vector<std::string>{"--line-api", fmt::format("https://127.0.0.1:{}", api_port), "--line-ca", cert()});
    Control("PUT", "/control/webhook-url",
            json{{"url", fmt::format("http://127.0.0.1:{}/api/v1/delivery/line/webhook", kaoko->http_port())}});
  }

  // kaoko's channel access token in its credentials file (read when kaoko-server starts).
  void SetToken(const std::string& token) {
    std::ofstream(broker.accounts_dir() + "/credentials.toml", std::ios::trunc)
        << base_credentials
        << fmt::format("\n[line]\nchannel_token = \"{}\"\nchannel_secret = \"{}\"\n", token, kSecret);
  }
  std::string base_credentials;

  std::string cert() const { return dir.path() + "/kaoko-line.pem"; }
  std::string db() const { return dir.path() + "/kaoko.db"; }

  json Control(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto res = HttpRequest(control_port, method, path, body.is_null() ? "" : body.dump(),
                           {{"Content-Type", "application/json"}});
    return res.status == 0 ? json() : json::parse(res.body, nullptr, false);
  }
  json Received(const std::string& user) { return Control("GET", "/control/received?userId=" + user); }
  json Webhooks() { return Control("GET", "/control/webhooks"); }

  Login LogIn(const std::string& user) {
    auto res = HttpRequest(kaoko->http_port(), "POST", "/api/v1/login",
                           json{{"user", user}, {"password", broker.Password(user)}}.dump());
    REQUIRE(res.status == 200);
    const std::string set_cookie = res.headers["set-cookie"];
    return {set_cookie.substr(0, set_cookie.find(';')), json::parse(res.body)["csrf"].get<std::string>()};
  }
  bool Linked(const Login& who) {
    auto res = HttpRequest(kaoko->http_port(), "GET", "/api/v1/me/line-link", "", {{"Cookie", who.cookie}});
    return res.status == 200 && json::parse(res.body)["linked"] == true;
  }
  // The person takes a code from their page and sends it to the Official Account from their phone.
  void Link(const std::string& person, const std::string& line_user) {
    const Login who = LogIn(person);
    CHECK_FALSE(Linked(who));
    // The code is a state-changing request: the session's CSRF token is required.
    auto refused = HttpRequest(kaoko->http_port(), "POST", "/api/v1/me/line-link", "", {{"Cookie", who.cookie}});
    CHECK(refused.status == 403);
    auto res = HttpRequest(kaoko->http_port(), "POST", "/api/v1/me/line-link", "",
                           {{"Cookie", who.cookie}, {"X-CSRF-Token", who.csrf}});
    INFO(res.body);
    REQUIRE(res.status == 200);
    const std::string code = json::parse(res.body)["code"].get<std::string>();
    REQUIRE(code.size() == 6);
    Control("POST", "/control/text", json{{"userId", line_user}, {"text", code}});
    REQUIRE(WaitFor([&] { return Linked(who); }, 10s));
    // kaoko answers in the chat (LINE's reply API, with the event's reply token).
    CHECK_FALSE(Answer(line_user, "เชื่อมบัญชี LINE แล้ว").empty());
  }

  // The messages `user`'s phone received by push (kaoko's deliveries), or by reply (kaoko's answers in the chat).
  json Received(const std::string& user, const std::string& via) {
    json out = json::array();
    const json all = Received(user);
    if (!all.is_array()) return out;
    for (const auto& d : all) {
      if (d["via"] == via) out.push_back(d);
    }
    return out;
  }
  // The text of a reply to `user` containing `needle`, once one came (empty after 10 s).
  std::string Answer(const std::string& user, const std::string& needle) {
    std::string found;
    WaitFor(
        [&] {
          for (const auto& d : Received(user, "reply")) {
            const std::string text = d["message"].value("text", "");
            if (text.find(needle) != std::string::npos) found = text;
          }
          return !found.empty();
        },
        10s);
    return found;
  }

  // A watcher's report of a warning in Ban Kao Ko: the committee is asked to acknowledge.
  void Report() {
    MqttClient somchai(broker.url(), "somchai", broker.Password("somchai"));
    somchai.Subscribe("kaoko/v1/tonhong/kaoko/receipt/somchai");
    somchai.Publish("kaoko/v1/tonhong/kaoko/report/somchai",
                    json{{"id", "r-1"}, {"ts", NowRfc3339()}, {"concern", "warning"}, {"trend", "rising"}}.dump());
    REQUIRE(somchai.WaitForMessages(1, 10s));
  }

  // The postback data of the button labelled `label` in the newest message `user` received with buttons; empty
  // when none came within `timeout`.
  std::string Button(const std::string& user, const std::string& label, std::chrono::milliseconds timeout = 30s) {
    std::string data;
    WaitFor(
        [&] {
          const json got = Received(user);
          if (!got.is_array()) return false;
          for (const auto& d : got) {
            const json& m = d["message"];
            if (!m.contains("template")) continue;
            for (const auto& a : m["template"]["actions"]) {
              if (a["label"] == label) data = a["data"].get<std::string>();
            }
          }
          return !data.empty();
        },
        timeout);
    return data;
  }

  std::string Stage() {
    auto res = kaoko->Get("/api/v1/incidents/1");
    if (res.status != 200) return "";
    const json i = json::parse(res.body);
    return i.value("status", i.value("stage", ""));
  }
  std::string Metrics() { return kaoko->Get("/metrics").body; }
  bool Counted(const std::string& result, int n) {
    return Metrics().find(fmt::format("kaoko_line_webhooks_total{{result=\"{}\"}} {}", result, n)) != std::string::npos;
  }
  std::string Context() { return "--- kaoko ---\n" + kaoko->Log() + "\n--- kaoko-line ---\n" + line->Log(); }
};

}  // namespace

TEST_CASE(
    "line e2e: people link their LINE accounts from their page, the committee acknowledges and the headman rejects "
    "with LINE's buttons, forged and replayed webhooks change nothing",
    "[integration][line]") {
  LineVillage v;
  INFO(v.Context());
  v.Link("prasert", kPrasert);
  v.Link("boonmee", kBoonmee);
  v.Report();

  // Prasert's phone gets the acknowledge request with one button; its data is the code and the choice, nothing else.
  const std::string ack = v.Button(kPrasert, "รับทราบ");
  REQUIRE(ack.rfind("c=", 0) == 0);
  CHECK(ack.size() == std::string("c=4821&a=1").size());
  // Wanna (committee, LINE first) never linked hers: her LINE row fails and says why.
  REQUIRE(WaitFor(
      [&] {
        auto w = RowOf(v.db(), "wanna");
        return w && w->state == "failed";
      },
      10s));
  CHECK(RowOf(v.db(), "wanna")->reason == "LINE account not linked yet");

  v.Control("POST", "/control/press", json{{"userId", kPrasert}, {"data", ack}});
  // The headman is asked to confirm; he presses "ไม่ใช่" (not a flood).
  const std::string no = v.Button(kBoonmee, "ไม่ใช่");
  REQUIRE(no.find("&a=2") != std::string::npos);
  CHECK_FALSE(v.Button(kBoonmee, "ยืนยัน").empty());
  v.Control("POST", "/control/press", json{{"userId", kBoonmee}, {"data", no}});
  REQUIRE(WaitFor([&] { return v.Stage() == "rejected"; }, 15s));
  CHECK_FALSE(v.Answer(kPrasert, "บันทึกแล้ว รับทราบเหตุ#1").empty());
  CHECK_FALSE(v.Answer(kBoonmee, "บันทึกแล้ว ไม่ใช่เหตุ#1").empty());
  const std::string timeline = v.kaoko->Get("/api/v1/incidents/1").body;
  CHECK(timeline.find("\"via\":\"line\"") != std::string::npos);
  REQUIRE(WaitFor([&] { return v.Counted("acted", 2); }, 5s));
  auto prasert = RowOf(v.db(), "prasert");
  REQUIRE(prasert);
  CHECK(prasert->state == "acted");
  CHECK(prasert->gateway_ref.size() == 36);  // the retry key, made before the first attempt

  // Forged webhooks: refused with 401, counted, acted on by no one.
  for (const char* how : {"unsigned", "wrong-secret", "tampered"}) {
    v.Control("POST", "/control/forge", json{{"how", how}, {"userId", kBoonmee}, {"data", no}});
  }
  // The headman's press again, byte for byte with its valid signature (a replay), and as LINE redelivers it.
  v.Control("POST", "/control/forge", json{{"how", "replay"}});
  v.Control("POST", "/control/forge", json{{"how", "redelivery"}});
  REQUIRE(WaitFor(
      [&] {
        const json hooks = v.Webhooks();
        int refused = 0, replays = 0;
        for (const auto& h : hooks) {
          const std::string kind = h["kind"];
          if (kind.rfind("forged:", 0) == 0 && h["status"] == 401) ++refused;
          if ((kind == "replay" || kind == "redelivery") && h["status"] == 200) ++replays;
        }
        return refused == 3 && replays == 2;
      },
      10s));
  CHECK(v.Counted("unsigned", 1));
  CHECK(v.Counted("bad_signature", 2));
  CHECK(v.Counted("replay", 2));
  CHECK(v.Counted("acted", 2));
  CHECK(v.Stage() == "rejected");

  // PDPA and secrets: no token, secret or LINE user id in the log or the public incident.
  for (const char* secret : {kToken, kSecret, kPrasert, kBoonmee}) {
    CHECK(v.kaoko->Log().find(secret) == std::string::npos);
    CHECK(timeline.find(secret) == std::string::npos);
  }
}

TEST_CASE(
    "line e2e: a 429 with Retry-After is tried again and sent once, a 500 after LINE performed the push is retried "
    "with the same retry key and shown once",
    "[integration][line]") {
  LineVillage v;
  INFO(v.Context());
  v.Link("prasert", kPrasert);
  v.Link("boonmee", kBoonmee);
  v.Control("POST", "/control/faults", json{{"status", 429}, {"count", 1}, {"userId", kPrasert}, {"retryAfter", 2}});
  v.Control("POST", "/control/faults", json{{"status", 500}, {"count", 1}, {"userId", kBoonmee}, {"delivered", true}});
  v.Report();

  // The first push is answered 429 (not performed); the retry goes through.
  const std::string ack = v.Button(kPrasert, "รับทราบ", 45s);
  REQUIRE_FALSE(ack.empty());
  // The phone may show it a moment before kaoko has written LINE's answer down.
  REQUIRE(WaitFor(
      [&] {
        auto p = RowOf(v.db(), "prasert");
        return p && p->state == "sent";
      },
      5s));
  auto prasert = RowOf(v.db(), "prasert");
  CHECK(prasert->attempts == 1);
  const json got = v.Received(kPrasert, "push");
  REQUIRE(got.size() == 1);  // once
  CHECK(got[0]["retryKey"] == prasert->gateway_ref);

  // The headman's push is performed, then answered 500: kaoko cannot know, tries again with the same key, LINE says
  // 409 (already accepted) and the phone shows it once.
  v.Control("POST", "/control/press", json{{"userId", kPrasert}, {"data", ack}});
  REQUIRE(WaitFor(
      [&] {
        auto b = RowOf(v.db(), "boonmee");
        return b && b->state == "sent";
      },
      45s));
  auto boonmee = RowOf(v.db(), "boonmee");
  CHECK(boonmee->attempts == 1);
  const json shown = v.Received(kBoonmee, "push");
  REQUIRE(shown.size() == 1);
  CHECK(shown[0]["retryKey"] == boonmee->gateway_ref);
  const json counters = v.Control("GET", "/control/counters");
  INFO(counters.dump());
  CHECK(counters["answered"]["429"] == 1);
  CHECK(counters["answered"]["500"] == 1);
  CHECK(counters["answered"]["409"] == 1);
}

TEST_CASE(
    "line e2e: LINE refusing kaoko's channel token (401) keeps every push queued with the reason, and once the token "
    "is right they go out once each",
    "[integration][line]") {
  LineVillage v;
  INFO(v.Context());
  v.Link("prasert", kPrasert);
  v.Link("boonmee", kBoonmee);
  // The token is revoked in LINE's console (or mistyped when the TAO's office PC was set up again).
  v.kaoko->Kill(SIGTERM);
  v.SetToken("a-revoked-channel-token");
  v.kaoko->Start();
  v.Report();
  REQUIRE(WaitFor(
      [&] {
        auto p = RowOf(v.db(), "prasert");
        return p && p->attempts >= 1;
      },
      20s));
  auto prasert = RowOf(v.db(), "prasert");
  INFO(prasert->reason);
  CHECK(prasert->state == "queued");  // not failed: the token is wrong, not the message
  CHECK(prasert->reason.find("LINE refused kaoko's channel access token (401)") != std::string::npos);
  CHECK(v.Received(kPrasert, "push").empty());
  CHECK(v.Control("GET", "/control/counters")["answered"]["401"] >= 1);
  CHECK(v.kaoko->Log().find("a-revoked-channel-token") == std::string::npos);

  // The right token, and kaoko started again: the waiting push goes out, once.
  v.kaoko->Kill(SIGTERM);
  v.SetToken(kToken);
  v.kaoko->Start();
  const std::string ack = v.Button(kPrasert, "รับทราบ", 60s);
  REQUIRE_FALSE(ack.empty());
  REQUIRE(WaitFor(
      [&] {
        auto p = RowOf(v.db(), "prasert");
        return p && p->state == "sent";
      },
      10s));
  std::this_thread::sleep_for(2s);
  CHECK(v.Received(kPrasert, "push").size() == 1);
}
