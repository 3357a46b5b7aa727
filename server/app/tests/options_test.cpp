// kaoko-server's command line: what an operator types is taken as meant, and a mistake gets one line saying which
// option and why, never an exception (a bare std::stoi would end the process on "--heartbeat x").
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "kaoko/app/options.hpp"
#include "kaoko/contract/wire.hpp"

namespace {

kaoko::Result<kaoko::server::ParsedOptions> Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"kaoko-server"};
  argv.insert(argv.end(), args.begin(), args.end());
  return kaoko::server::ParseOptions(static_cast<int>(argv.size()), argv.data(), "/web");
}

std::string ErrorOf(std::initializer_list<const char*> args) {
  auto parsed = Parse(args);
  REQUIRE_FALSE(parsed);
  return parsed.error().code + ": " + parsed.error().reason;
}

}  // namespace

TEST_CASE("options: each option lands where the service reads it", "[options]") {
  auto p = Parse({"--network",        "n.toml",       "--db",           "k.db",
                  "--http",           "0.0.0.0:9090", "--raw-days",     "30",
                  "--time-scale",     "120",          "--time-origin",  "2026-12-07T02:00:00Z",
                  "--tier",           "edge",         "--village",      "kaoko",
                  "--heartbeat",      "15",           "--silent-after", "4",
                  "--journal-resend", "2500",         "--uplink"});
  REQUIRE(p);
  const auto& o = p->service;
  CHECK_FALSE(p->help);
  CHECK(o.network_file == "n.toml");
  CHECK(o.db_path == "k.db");
  CHECK(o.http_address == "0.0.0.0");
  CHECK(o.http_port == 9090);
  CHECK(o.raw_days == 30);
  CHECK(o.time_scale == 120.0);
  CHECK(o.time_origin_ms == 1796608800000);
  CHECK(o.tier.village == "kaoko");
  CHECK(o.tier.heartbeat_seconds == 15);
  CHECK(o.tier.silent_heartbeats == 4);
  CHECK(o.tier.resend_ms == 2500);
  CHECK(o.tier.uplink);
  CHECK(o.web_root == "/web");  // the default given by main
}

TEST_CASE("options: --help asks for the usage text", "[options]") {
  auto p = Parse({"--help"});
  REQUIRE(p);
  CHECK(p->help);
  CHECK(std::string(kaoko::server::Usage()).find("--network FILE") != std::string::npos);
}

TEST_CASE("options: a mistake names the option and why, and never throws", "[options]") {
  CHECK(ErrorOf({"--network", "n.toml", "--bogus"}) == "usage: unknown option '--bogus'");
  CHECK(ErrorOf({"--network"}) == "usage: --network needs a value");
  CHECK(ErrorOf({"--db", "k.db"}) == "usage: --network is required");
  CHECK(ErrorOf({"--network", "n", "--raw-days", "3"}).find("at least 7, got '3'") != std::string::npos);
  CHECK(ErrorOf({"--network", "n", "--heartbeat", "x"}) == "options: --heartbeat wants a whole number, got 'x'");
  CHECK(ErrorOf({"--network", "n", "--silent-after", "99999999999"}) ==
        "options: --silent-after wants a whole number, got '99999999999'");
  CHECK(ErrorOf({"--network", "n", "--http", "8080"}) == "options: --http wants ADDR:PORT, got '8080'");
  CHECK(ErrorOf({"--network", "n", "--http", "127.0.0.1:70000"}) ==
        "options: --http wants ADDR:PORT, got '127.0.0.1:70000'");
  CHECK(ErrorOf({"--network", "n", "--time-scale", "fast"}) ==
        "options: --time-scale wants a number above 0, got 'fast'");
  CHECK(ErrorOf({"--network", "n", "--tier", "district"}) == "options: --tier is edge, tao or province");
  CHECK(ErrorOf({"--network", "n", "--time-origin", "yesterday"}).rfind("options: --time-origin: ", 0) == 0);
  CHECK(ErrorOf({"--network", "n", "--credentials", "/nonexistent/credentials.toml"}).rfind("options: ", 0) == 0);
}

TEST_CASE("options: a province needs no --network", "[options]") {
  auto p = Parse({"--tier", "province", "--tambon-network", "a.toml", "--tambon-network", "b.toml"});
  REQUIRE(p);
  CHECK(p->service.tier.tambon_networks == std::vector<std::string>{"a.toml", "b.toml"});
}

TEST_CASE("options: the clock they ask for", "[options][clock]") {
  auto wall = Parse({"--network", "n.toml"});
  REQUIRE(wall);
  CHECK_FALSE(kaoko::server::ClockOf(wall->service).rehearsal());
  // From an origin: a service started after the simulator agrees with it (the clock counts from the origin).
  auto from = Parse({"--network", "n.toml", "--time-scale", "120", "--time-origin", "2026-12-07T01:00:00Z"});
  REQUIRE(from);
  const kaoko::Clock c = kaoko::server::ClockOf(from->service);
  CHECK(c.rehearsal());
  CHECK(c.scale() == 120.0);
  CHECK(kaoko::wire::FormatTime(c.origin()) == "2026-12-07T01:00:00Z");
  CHECK(c.Now() > c.origin() + std::chrono::hours(24));  // it has been running at 120x since 01:00 today
  // Faster, from now.
  auto now = Parse({"--network", "n.toml", "--time-scale", "60"});
  REQUIRE(now);
  const kaoko::Clock n = kaoko::server::ClockOf(now->service);
  CHECK(n.rehearsal());
  CHECK(n.Now() - n.origin() < std::chrono::minutes(2));
}

TEST_CASE("options: --rehearsal-human-time keeps the people's deadlines at real time, and needs a rehearsal",
          "[options][clock]") {
  auto p = Parse({"--network", "n.toml", "--time-scale", "120", "--rehearsal-human-time"});
  REQUIRE(p);
  CHECK(p->service.human_real_time);
  CHECK_FALSE(Parse({"--network", "n.toml", "--time-scale", "120"})->service.human_real_time);
  const std::string alone = ErrorOf({"--network", "n.toml", "--rehearsal-human-time"});
  CHECK(alone.find("options: --rehearsal-human-time") == 0);
  CHECK(alone.find("--time-scale") != std::string::npos);
}

TEST_CASE("options: the people's deadlines at real time are the river's rate times longer, the river's are not",
          "[options][clock]") {
  using std::chrono::hours;
  using std::chrono::minutes;
  kaoko::alerting::Network net;
  net.delivery.ladder[kaoko::alerting::Level::kWatch][kaoko::alerting::Channel::kSms] = minutes(10);
  const kaoko::alerting::Network before = net;
  kaoko::server::HumanDeadlinesAtRealTime(net, 120);
  // The people's steps: on a clock 120x fast they last their real minutes.
  CHECK(net.escalation.committee_ack == before.escalation.committee_ack * 120);
  CHECK(net.escalation.headman_confirm == minutes(15) * 120);
  CHECK(net.escalation.deputy_after == before.escalation.deputy_after * 120);
  CHECK(net.escalation.tao_declare == before.escalation.tao_declare * 120);
  CHECK(net.escalation.reminder_interval == before.escalation.reminder_interval * 120);
  CHECK(net.delivery.not_reached == before.delivery.not_reached * 120);
  CHECK(net.delivery.DelayOf(kaoko::alerting::Level::kWatch, kaoko::alerting::Channel::kSms) == minutes(10) * 120);
  // The river's: unchanged.
  CHECK(net.escalation.auto_resolve_after == hours(6));
  CHECK(net.escalation.corroboration_window == before.escalation.corroboration_window);
  CHECK(net.health.offline_after == before.health.offline_after);
  // Real time (or slower) changes nothing.
  kaoko::alerting::Network wall = before;
  kaoko::server::HumanDeadlinesAtRealTime(wall, 1.0);
  CHECK(wall.escalation.committee_ack == before.escalation.committee_ack);
  kaoko::server::HumanDeadlinesAtRealTime(wall, 0.5);
  CHECK(wall.escalation.tao_declare == before.escalation.tao_declare);
}

TEST_CASE("options: the SMS gateway, its rate, its account from the credentials file, and their mistakes",
          "[options][sms]") {
  const std::string file = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/kaoko-options-test-" + std::to_string(::getpid()) + ".toml";
  {
    std::ofstream(file) << "[accounts]\nkaoko = \"mqtt-pw\"\n[sms]\nusername = \"kaoko\"\npassword = \"sms-pw\"\n"
                           "callback_token = \"0123456789abcdef\"\n";
  }
  auto p =
      Parse({"--network", "n", "--credentials", file.c_str(), "--sms-gateway", "http://127.0.0.1:13013/cgi-bin/sendsms",
             "--sms-rate", "12.5", "--callback-url", "http://10.0.0.5:8080/", "--gateway-down-after", "3"});
  REQUIRE(p);
  const auto& o = p->service;
  CHECK(o.sms_sendsms_url == "http://127.0.0.1:13013/cgi-bin/sendsms");
  CHECK(o.sms_per_minute == 12.5);
  CHECK(o.sms_username == "kaoko");
  CHECK(o.sms_password == "sms-pw");
  CHECK(o.sms_callback_token == "0123456789abcdef");
  CHECK(o.callback_url == "http://10.0.0.5:8080");  // the trailing slash dropped
  CHECK(o.gateway_down_minutes == 3);
  CHECK(o.mqtt_password == "mqtt-pw");

  CHECK(ErrorOf({"--network", "n", "--sms-gateway", "http://127.0.0.1:13013/cgi-bin/sendsms"})
            .find("--sms-gateway needs --credentials") != std::string::npos);
  CHECK(ErrorOf({"--network", "n", "--sms-gateway", "127.0.0.1:13013"}).find("wants an http:// or https:// URL") !=
        std::string::npos);
  CHECK(ErrorOf({"--network", "n", "--sms-rate", "0"}).find("--sms-rate wants messages a minute above 0") !=
        std::string::npos);
  CHECK(ErrorOf({"--network", "n", "--gateway-down-after", "0"}).find("at least 1") != std::string::npos);
  {
    std::ofstream(file) << "[accounts]\nkaoko = \"mqtt-pw\"\n[sms]\nusername = \"kaoko\"\npassword = \"x\"\n"
                           "callback_token = \"short\"\n";
  }
  CHECK(ErrorOf({"--network", "n", "--credentials", file.c_str(), "--sms-gateway", "http://127.0.0.1:1/x"})
            .find("callback_token must be at least 16 characters") != std::string::npos);
  { std::ofstream(file) << "[accounts]\nkaoko = \"mqtt-pw\"\n"; }
  CHECK(ErrorOf({"--network", "n", "--credentials", file.c_str(), "--sms-gateway", "http://127.0.0.1:1/x"})
            .find("the [sms] table needs username, password and callback_token") != std::string::npos);
  std::remove(file.c_str());
}
