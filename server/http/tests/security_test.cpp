// The people's HTTP API refuses what it must, from the outside: a real kaoko-server and a real Mosquitto. Every
// state-changing endpoint refuses no session (401), a missing or wrong CSRF token (403), a wrong role (403) and an
// oversized body (413), with a JSON error and nothing changed; logins are rate-limited; the session cookie is HttpOnly
// and SameSite=Strict; static files never leave the web root.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Login {
  std::string cookie;  // "kaoko_session=..."
  std::string csrf;
  std::string set_cookie;
};

Login LogIn(int port, const std::string& user) {
  auto res = HttpRequest(port, "POST", "/api/v1/login", json{{"user", user}, {"password", "demo-" + user}}.dump());
  INFO(res.body);
  REQUIRE(res.status == 200);
  Login l;
  l.set_cookie = res.headers["set-cookie"];
  l.cookie = l.set_cookie.substr(0, l.set_cookie.find(';'));
  l.csrf = json::parse(res.body)["csrf"].get<std::string>();
  return l;
}

void RequireJsonError(const HttpResult& res, int status, const std::string& fragment = "") {
  INFO(res.status << " " << res.body);
  REQUIRE(res.status == status);
  auto j = json::parse(res.body, nullptr, false);
  REQUIRE(j.is_object());
  REQUIRE(j.contains("error"));
  if (!fragment.empty()) REQUIRE(j["error"].get<std::string>().find(fragment) != std::string::npos);
}

std::int64_t Count(const std::string& db, const std::string& table) {
  auto s = kaoko::store::Store::Open(db, {.read_only = true});
  REQUIRE(s.ok());
  kaoko::store::testing::Query q(**s, "SELECT COUNT(*) FROM " + table);
  q.Step();
  return q.Int(0);
}

// Now, as a watcher's phone dates its report (a report hours old would be a backlog that pages nobody as new).
std::string Now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// A watcher's report over MQTT opens incident 1 in Ban Kao Ko; returns when it is visible over HTTP.
void OpenIncident(const Broker& broker, const ServiceProcess& kaoko) {
  REQUIRE(MosquittoPub(broker.port(), "somchai", broker.Password("somchai"), "kaoko/v1/tonhong/kaoko/report/somchai",
                       R"({"id":"r-1","ts":")" + Now() +
                           R"(","concern":"warning","station":"kaoko-bridge",)"
                           R"("level_cm":330,"trend":"rising","note":"น้ำขึ้นเร็ว"})") == 0);
  REQUIRE(WaitFor([&] { return kaoko.Get("/api/v1/incidents/1").status == 200; }, 10s));
}

}  // namespace

TEST_CASE(
    "people's API: state-changing endpoints refuse no session, bad CSRF, wrong role and big bodies, "
    "changing nothing",
    "[integration]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  ServiceProcess kaoko(broker, db);
  const int port = kaoko.http_port();
  OpenIncident(broker, kaoko);
  const std::string before = kaoko.Get("/api/v1/incidents/1").body;
  const std::string stations_before = kaoko.Get("/api/v1/stations").body;
  const auto decisions_before = Count(db, "decisions");
  const auto timeline_before = Count(db, "timeline");

  Login watcher = LogIn(port, "somchai");
  Login committee = LogIn(port, "prasert");
  const std::string big(100 * 1024, 'x');
  struct Endpoint {
    std::string target;
    std::string body;
    Login* wrong_role;
    std::string role_fragment;
  };
  std::vector<Endpoint> endpoints{
      {"/api/v1/incidents/1/decisions", R"({"id":"d-1","ts":"2026-11-27T04:31:00Z","incident":1,"action":"confirm"})",
       &watcher, "headman"},
      {"/api/v1/incidents/1/decisions",
       R"({"id":"d-2","ts":"2026-11-27T04:31:00Z","incident":1,"action":"declare","level":"warning"})", &committee,
       "TAO"},
      {"/api/v1/stations/kaoko-bridge/silence", R"({"minutes":60})", &committee, "TAO"},
      {"/api/v1/villages/kaoko/drill", R"({"level":"warning"})", &watcher, "drill"},
  };
  for (auto& e : endpoints) {
    INFO(e.target << " " << e.body);
    RequireJsonError(HttpRequest(port, "POST", e.target, e.body), 401, "log in");
    RequireJsonError(HttpRequest(port, "POST", e.target, e.body, {{"Cookie", "kaoko_session=forged"}}), 401, "log in");
    RequireJsonError(HttpRequest(port, "POST", e.target, e.body, {{"Cookie", e.wrong_role->cookie}}), 403, "CSRF");
    RequireJsonError(HttpRequest(port, "POST", e.target, e.body,
                                 {{"Cookie", e.wrong_role->cookie}, {"X-CSRF-Token", "not-the-token"}}),
                     403, "CSRF");
    // Another person's CSRF token does not fit this session either.
    Login* other = e.wrong_role == &watcher ? &committee : &watcher;
    RequireJsonError(
        HttpRequest(port, "POST", e.target, e.body, {{"Cookie", e.wrong_role->cookie}, {"X-CSRF-Token", other->csrf}}),
        403, "CSRF");
    RequireJsonError(HttpRequest(port, "POST", e.target, e.body,
                                 {{"Cookie", e.wrong_role->cookie}, {"X-CSRF-Token", e.wrong_role->csrf}}),
                     403, e.role_fragment);
    RequireJsonError(HttpRequest(port, "POST", e.target, big,
                                 {{"Cookie", e.wrong_role->cookie}, {"X-CSRF-Token", e.wrong_role->csrf}}),
                     413, "larger than");
  }
  RequireJsonError(HttpRequest(port, "POST", "/api/v1/logout", ""), 401, "log in");
  RequireJsonError(HttpRequest(port, "POST", "/api/v1/logout", "", {{"Cookie", watcher.cookie}}), 403, "CSRF");
  RequireJsonError(HttpRequest(port, "POST", "/api/v1/login", big), 413, "larger than");

  // Nothing changed: the incident, its log, the decisions table, the stations, the villages (no drill).
  REQUIRE(kaoko.Get("/api/v1/incidents/1").body == before);
  REQUIRE(Count(db, "decisions") == decisions_before);
  REQUIRE(Count(db, "timeline") == timeline_before);
  REQUIRE(kaoko.Get("/api/v1/stations").body == stations_before);
  for (const auto& v : json::parse(kaoko.Get("/api/v1/villages").body)) REQUIRE(v.value("exercise", false) == false);

  // The right person with the right token is heard.
  auto ack = HttpRequest(port, "POST", "/api/v1/incidents/1/decisions",
                         R"({"id":"d-ack","ts":"2026-11-27T04:32:00Z","incident":1,"action":"ack","note":"รับทราบ"})",
                         {{"Cookie", committee.cookie}, {"X-CSRF-Token", committee.csrf}});
  INFO(ack.body);
  REQUIRE(ack.status == 200);
  REQUIRE(json::parse(ack.body)["ok"] == true);
  REQUIRE(json::parse(kaoko.Get("/api/v1/incidents/1").body)["status"] == "awaiting_confirmation");
  // Logged out, the same cookie is worthless.
  REQUIRE(
      HttpRequest(port, "POST", "/api/v1/logout", "", {{"Cookie", committee.cookie}, {"X-CSRF-Token", committee.csrf}})
          .status == 200);
  RequireJsonError(HttpRequest(port, "GET", "/api/v1/me", "", {{"Cookie", committee.cookie}}), 401, "log in");
}

TEST_CASE(
    "people's API: a village's pages ask for their own (?village=): only its stations, alert state and "
    "incidents, and a person's waiting asks are their village's",
    "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  const int port = kaoko.http_port();
  OpenIncident(broker, kaoko);  // incident 1, Ban Kao Ko
  REQUIRE(MosquittoPub(broker.port(), "anan", broker.Password("anan"), "kaoko/v1/tonhong/huaiphan/report/anan",
                       R"({"id":"r-1","ts":")" + Now() +
                           R"(","concern":"warning","station":"huaiphan-weir",)"
                           R"("level_cm":300,"trend":"rising"})") == 0);
  REQUIRE(WaitFor([&] { return kaoko.Get("/api/v1/incidents/2").status == 200; }, 10s));
  REQUIRE(json::parse(kaoko.Get("/api/v1/incidents/2").body)["village"] == "huaiphan");

  auto ids = [&](const std::string& target, const char* field) {
    auto res = kaoko.Get(target);
    INFO(target << " → " << res.status << " " << res.body);
    REQUIRE(res.status == 200);
    std::set<std::string> out;
    for (const auto& e : json::parse(res.body))
      out.insert(e[field].is_string() ? e[field].get<std::string>() : e[field].dump());
    return out;
  };
  using Set = std::set<std::string>;
  REQUIRE(ids("/api/v1/stations", "id").size() == 6);
  REQUIRE(ids("/api/v1/stations?village=kaoko", "id") == Set{"kaoko-bridge", "kaoko-temple"});
  REQUIRE(ids("/api/v1/stations?village=huaiphan", "id") == Set{"huaiphan-weir"});
  REQUIRE(ids("/api/v1/villages", "village").size() == 5);
  REQUIRE(ids("/api/v1/villages?village=huaiphan", "village") == Set{"huaiphan"});
  auto huaiphan = json::parse(kaoko.Get("/api/v1/villages?village=huaiphan").body)[0];
  REQUIRE(huaiphan["incident"] == 2);
  REQUIRE(huaiphan["name_en"].get<std::string>().find("Huai") != std::string::npos);
  REQUIRE(ids("/api/v1/incidents?status=all", "id") == Set{"1", "2"});
  REQUIRE(ids("/api/v1/incidents?status=all&village=kaoko", "id") == Set{"1"});
  REQUIRE(ids("/api/v1/incidents?village=huaiphan", "id") == Set{"2"});
  REQUIRE(ids("/api/v1/incidents?village=pakkhlong", "id").empty());  // a village without incidents: an empty list

  // The committee of each village is asked about its own incident only.
  for (auto [user, incident] : {std::pair{"prasert", "1"}, std::pair{"kanya", "2"}}) {
    Login who = LogIn(port, user);
    auto res = HttpRequest(port, "GET", "/api/v1/me/notifications", "", {{"Cookie", who.cookie}});
    INFO(user << ": " << res.body);
    REQUIRE(res.status == 200);
    Set asked;
    for (const auto& n : json::parse(res.body)) asked.insert(n["incident"].dump());
    REQUIRE(asked == Set{incident});
  }

  for (const std::string list : {"stations", "villages", "incidents"}) {
    RequireJsonError(kaoko.Get("/api/v1/" + list + "?village=ghost"), 404, "no village 'ghost'");
    RequireJsonError(kaoko.Get("/api/v1/" + list + "?village="), 400, "village is empty");
  }
  RequireJsonError(kaoko.Get("/api/v1/incidents?village=kaoko&status=maybe"), 400, "open or all");
  // The method is judged first: a list is only read.
  RequireJsonError(HttpRequest(port, "DELETE", "/api/v1/stations?village=ghost"), 405, "not allowed");
}

TEST_CASE("people's API: the session cookie is HttpOnly and SameSite=Strict, and /me gives the CSRF token",
          "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  Login l = LogIn(kaoko.http_port(), "officer-niran");
  REQUIRE(l.set_cookie.find("HttpOnly") != std::string::npos);
  REQUIRE(l.set_cookie.find("SameSite=Strict") != std::string::npos);
  REQUIRE(l.set_cookie.find("Path=/") != std::string::npos);
  REQUIRE(l.cookie.size() > std::string("kaoko_session=").size() + 40);  // 32 random bytes
  auto me = HttpRequest(kaoko.http_port(), "GET", "/api/v1/me", "", {{"Cookie", l.cookie}});
  REQUIRE(me.status == 200);
  auto j = json::parse(me.body);
  REQUIRE(j["user"] == "officer-niran");
  REQUIRE(j["role"] == "tao");
  REQUIRE(j["csrf"] == l.csrf);
  REQUIRE(j["mqtt_ws"].is_null());  // this service was not told where the broker's WebSocket is
  // Only the token's hash is stored.
  auto token = l.cookie.substr(l.cookie.find('=') + 1);
  auto s = kaoko::store::Store::Open(dir.path() + "/kaoko.db", {.read_only = true});
  REQUIRE(s.ok());
  kaoko::store::testing::Query q(**s, "SELECT token_hash FROM sessions");
  REQUIRE(q.Step());
  REQUIRE(q.Text(0) != token);
  REQUIRE(q.Text(0).size() == 64);
  kaoko::store::testing::Query u(**s, "SELECT password_hash FROM users WHERE id = 'officer-niran'");
  REQUIRE(u.Step());
  REQUIRE(u.Text(0).rfind("$argon2id$", 0) == 0);
}

TEST_CASE("people's API: failed logins are rate-limited with 429 and Retry-After", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  const int port = kaoko.http_port();
  const std::string wrong = json{{"user", "boonmee"}, {"password", "guess"}}.dump();
  for (int i = 0; i < 5; ++i) RequireJsonError(HttpRequest(port, "POST", "/api/v1/login", wrong), 401, "wrong");
  auto limited = HttpRequest(port, "POST", "/api/v1/login", wrong);
  RequireJsonError(limited, 429, "too many");
  REQUIRE(std::stoi(limited.headers["retry-after"]) >= 1);
  REQUIRE(std::stoi(limited.headers["retry-after"]) <= 60);
  // Even the right password waits out the window: a guesser cannot tell.
  RequireJsonError(
      HttpRequest(port, "POST", "/api/v1/login", json{{"user", "boonmee"}, {"password", "demo-boonmee"}}.dump()), 429);
  // Another person is not locked out by it.
  REQUIRE(HttpRequest(port, "POST", "/api/v1/login", json{{"user", "suda"}, {"password", "demo-suda"}}.dump()).status ==
          200);
  RequireJsonError(HttpRequest(port, "POST", "/api/v1/login", "not json"), 400);
  RequireJsonError(HttpRequest(port, "POST", "/api/v1/login", json{{"user", "ghost"}, {"password", "x"}}.dump()), 401);
}

TEST_CASE("static pages: served with content types and Cache-Control, and no path leaves the web root",
          "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  const int port = kaoko.http_port();
  for (auto [path, type] : {std::pair{"/", "text/html"}, std::pair{"/watcher", "text/html"},
                            std::pair{"/tao.html", "text/html"}, std::pair{"/kaoko.css", "text/css"},
                            std::pair{"/mqtt.js", "text/javascript"}, std::pair{"/favicon.svg", "image/svg+xml"}}) {
    auto res = HttpRequest(port, "GET", path);
    INFO(path << " " << res.status);
    REQUIRE(res.status == 200);
    REQUIRE(res.headers["content-type"].rfind(type, 0) == 0);
    REQUIRE(res.headers["cache-control"] == "no-cache");
    REQUIRE(!res.headers["etag"].empty());
    REQUIRE(res.headers["x-content-type-options"] == "nosniff");
    auto again = HttpRequest(port, "GET", path, "", {{"If-None-Match", res.headers["etag"]}});
    REQUIRE(again.status == 304);
  }
  REQUIRE(HttpRequest(port, "GET", "/").headers["content-security-policy"].find("default-src 'self'") !=
          std::string::npos);
  for (std::string bad :
       {"/../CMakeLists.txt", "/../../server/CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/%2E%2E/%2e%2e/etc/passwd",
        "/..%2fCMakeLists.txt", "/web/..%2f..%2fCMakeLists.txt", "/.%2e/CMakeLists.txt", "/..\\CMakeLists.txt",
        "/%00index.html", "/.hidden", "/x/../../CMakeLists.txt"}) {
    auto res = HttpRequest(port, "GET", bad);
    INFO(bad << " → " << res.status << " " << res.body);
    REQUIRE((res.status == 400 || res.status == 404));
    REQUIRE(res.body.find("cmake_minimum_required") == std::string::npos);
    REQUIRE(res.body.find("root:") == std::string::npos);
    REQUIRE(json::parse(res.body).contains("error"));
  }
  RequireJsonError(HttpRequest(port, "GET", "/no-such-page.html"), 404);
  RequireJsonError(HttpRequest(port, "POST", "/index.html", "{}"), 405);
}

TEST_CASE("after-action report: printable HTML and CSV in Thai and English", "[integration]") {
  Broker broker;
  TempDir dir;
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
  OpenIncident(broker, kaoko);
  auto html = kaoko.Get("/api/v1/incidents/1/report");
  REQUIRE(html.status == 200);
  REQUIRE(html.headers["content-type"].rfind("text/html", 0) == 0);
  REQUIRE(html.body.find("ถอดบทเรียน") != std::string::npos);
  REQUIRE(html.body.find("After-action report") != std::string::npos);
  REQUIRE(html.body.find("บ้านเก้ากอ") != std::string::npos);
  auto csv = kaoko.Get("/api/v1/incidents/1/report.csv");
  REQUIRE(csv.status == 200);
  REQUIRE(csv.headers["content-type"].rfind("text/csv", 0) == 0);
  REQUIRE(csv.body.rfind("\xEF\xBB\xBFincident,ts_utc,time_ict,kind,actor,via,text_th,text_en\r\n", 0) == 0);
  REQUIRE(csv.body.find("somchai") != std::string::npos);
  RequireJsonError(kaoko.Get("/api/v1/incidents/99/report"), 404);
  RequireJsonError(kaoko.Get("/api/v1/incidents/99/report.csv"), 404);
}

TEST_CASE("people's API: a page marks only its own person's notifications seen and says why it refuses",
          "[integration]") {
  Broker broker;
  TempDir dir;
  // A delivery room needs a gateway: an SMS one that nothing answers (the SMS rows just wait) is enough here.
  std::ofstream(broker.accounts_dir() + "/credentials.toml", std::ios::app)
      << "\n[sms]\nusername = \"kaoko\"\npassword = \"secret\"\ncallback_token = \"0123456789abcdef\"\n";
  ServiceProcess kaoko(broker, dir.path() + "/kaoko.db", {"--sms-gateway", "http://127.0.0.1:1/cgi-bin/sendsms"});
  const int port = kaoko.http_port();
  OpenIncident(broker, kaoko);  // the committee (prasert, wanna) is asked to acknowledge
  Login prasert = LogIn(port, "prasert");
  const json mine =
      json::parse(HttpRequest(port, "GET", "/api/v1/me/notifications", "", {{"Cookie", prasert.cookie}}).body);
  INFO(mine.dump());
  REQUIRE(mine.size() == 1);
  REQUIRE(mine[0]["notifications"].size() == 1);
  const std::string own = mine[0]["notifications"][0];
  auto incident = [&] { return json::parse(kaoko.Get("/api/v1/incidents/1").body); };
  std::string others;
  const json before = incident();
  for (const auto& d : before["deliveries"]) {
    if (d["person"] == "wanna") others = d["notification"];
  }
  REQUIRE_FALSE(others.empty());

  const std::string target = "/api/v1/me/notifications/seen";
  const std::string body = json{{"notifications", {own}}}.dump();
  const std::map<std::string, std::string> session{{"Cookie", prasert.cookie}, {"X-CSRF-Token", prasert.csrf}};
  RequireJsonError(HttpRequest(port, "POST", target, body), 401, "log in");
  RequireJsonError(HttpRequest(port, "POST", target, body, {{"Cookie", prasert.cookie}}), 403, "CSRF");
  RequireJsonError(HttpRequest(port, "GET", target, "", {{"Cookie", prasert.cookie}}), 405);
  RequireJsonError(HttpRequest(port, "POST", target, "{not json", session), 400, "not JSON");
  RequireJsonError(HttpRequest(port, "POST", target, R"({"ids":["n-1"]})", session), 400, "no \"notifications\"");
  RequireJsonError(HttpRequest(port, "POST", target, R"({"notifications":[]})", session), 400, "is not a list");
  RequireJsonError(HttpRequest(port, "POST", target, R"({"notifications":[17]})", session), 400, "a string");
  RequireJsonError(HttpRequest(port, "POST", target, R"({"notifications":["n-nothing"]})", session), 404,
                   "no notification n-nothing");
  RequireJsonError(HttpRequest(port, "POST", target, json{{"notifications", {own, others}}}.dump(), session), 403,
                   "is not yours");
  // None of that marked anything.
  const json refused = incident();
  for (const auto& d : refused["deliveries"]) {
    INFO(d.dump());
    CHECK(d["seen"].is_null());
  }

  auto ok = HttpRequest(port, "POST", target, body, session);
  INFO(ok.body);
  REQUIRE(ok.status == 200);
  CHECK(json::parse(ok.body)["marked"].get<int>() >= 1);
  bool web_seen = false;
  const json after = incident();
  for (const auto& d : after["deliveries"]) {
    INFO(d.dump());
    if (d["person"] == "prasert" && d["channel"] == "web") web_seen = d["state"] == "seen" && d["seen"].is_string();
    if (d["person"] == "wanna") CHECK(d["seen"].is_null());
  }
  CHECK(web_seen);
  // The TAO's column says how far kaoko got with him: seen.
  for (const auto& r : after["reach"]) {
    if (r["user"] == "prasert") CHECK(r["state"] == "seen");
  }
  const std::string metrics = kaoko.Get("/metrics").body;
  CHECK(metrics.find("kaoko_seen_reports_total{result=\"ok\"} 1") != std::string::npos);
  CHECK(metrics.find("kaoko_seen_reports_total{result=\"not_yours\"} 1") != std::string::npos);
  CHECK(metrics.find("kaoko_seen_reports_total{result=\"unknown\"} 1") != std::string::npos);
  CHECK(metrics.find("kaoko_seen_reports_total{result=\"malformed\"} 4") != std::string::npos);
}

TEST_CASE("GET /api/v1/clock: kaoko's time, its rate, and whether people keep real time", "[integration][clock]") {
  Broker broker;
  TempDir dir;
  SECTION("a rehearsal at 120x from an origin, people at real time") {
    ServiceProcess kaoko(broker, dir.path() + "/kaoko.db",
                         {"--time-scale", "120", "--time-origin", "2026-12-07T01:00:00Z", "--rehearsal-human-time"});
    auto res = kaoko.Get("/api/v1/clock");
    REQUIRE(res.status == 200);
    auto j = json::parse(res.body);
    CHECK(j["rate"] == 120);
    CHECK(j["rehearsal"] == true);
    CHECK(j["human_deadlines"] == "real");
    // 120x since 01:00 on 7 December: at least days ahead of the wall clock.
    CHECK(j["now"].get<std::string>() > "2026-12-10T00:00:00Z");
    CHECK(res.headers["cache-control"] == "no-store");
  }
  SECTION("a rehearsal with everything fast") {
    ServiceProcess kaoko(broker, dir.path() + "/kaoko.db", {"--time-scale", "60"});
    auto j = json::parse(kaoko.Get("/api/v1/clock").body);
    CHECK(j["rate"] == 60);
    CHECK(j["rehearsal"] == true);
    CHECK(j["human_deadlines"] == "rehearsal");
  }
  SECTION("the wall clock; no session needed, and only GET") {
    ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
    auto j = json::parse(kaoko.Get("/api/v1/clock").body);
    CHECK(j["rate"] == 1);
    CHECK(j["rehearsal"] == false);
    CHECK(j["human_deadlines"] == "real");
    const std::chrono::year_month_day today(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    CHECK(j["now"].get<std::string>().substr(0, 10) == fmt::format("{:04}-{:02}-{:02}", static_cast<int>(today.year()),
                                                                   static_cast<unsigned>(today.month()),
                                                                   static_cast<unsigned>(today.day())));
    RequireJsonError(HttpRequest(kaoko.http_port(), "POST", "/api/v1/clock", "{}"), 405);
  }
}
