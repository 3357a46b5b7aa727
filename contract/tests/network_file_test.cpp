#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using kaoko::config::IsIdentifier;
using kaoko::config::LoadNetwork;
using kaoko::config::ParseNetwork;

namespace {
const char* kMinimal = R"(
[tambon]
id = "t1"
name_th = "ตำบลหนึ่ง"
name_en = "One"
[[villages]]
id = "up"
name_th = "บน"
name_en = "Up"
travel_to_next_minutes = 45
[[villages]]
id = "down"
name_th = "ล่าง"
name_en = "Down"
[[stations]]
id = "s1"
village = "up"
name_th = "สถานี"
name_en = "Station"
watch = 100
warning = { cm = 150, landmark_th = "ขั้นบันไดวัด", landmark_en = "the temple steps" }
critical = 200
[[people]]
id = "w1"
name_th = "ก"
role = "watcher"
village = "up"
[[people]]
id = "t1"
name_th = "ข"
role = "tao"
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}
}  // namespace

TEST_CASE("config: identifiers follow the contract", "[config]") {
  REQUIRE(IsIdentifier("kaoko-bridge"));
  REQUIRE(IsIdentifier("a"));
  REQUIRE(IsIdentifier(std::string(32, 'x')));
  REQUIRE_FALSE(IsIdentifier(""));
  REQUIRE_FALSE(IsIdentifier(std::string(33, 'x')));
  REQUIRE_FALSE(IsIdentifier("Kaoko"));
  REQUIRE_FALSE(IsIdentifier("a/b"));
  REQUIRE_FALSE(IsIdentifier("a+"));
  REQUIRE_FALSE(IsIdentifier("บ้าน"));
}

TEST_CASE("config: the shipped Ton Hong network loads", "[config]") {
  auto net = LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  REQUIRE(net->tambon == "tonhong");
  REQUIRE(net->villages.size() >= 5);
  REQUIRE(net->VillageIndex("kaoko") >= 0);
  const auto* bridge = net->FindStation("kaoko-bridge");
  REQUIRE(bridge != nullptr);
  REQUIRE(bridge->watch.cm == 250);
  REQUIRE(bridge->landmark_en(kaoko::alerting::Level::kWatch) == "the temple steps");
  REQUIRE(net->villages.front().travel_to_next == std::chrono::minutes(60));
  REQUIRE(net->escalation.auto_resolve_after == std::chrono::hours(6));
  // Every role is represented so the demo can show each screen.
  for (auto role : {kaoko::alerting::Role::kWatcher, kaoko::alerting::Role::kCommittee, kaoko::alerting::Role::kHeadman,
                    kaoko::alerting::Role::kDeputy, kaoko::alerting::Role::kTao}) {
    bool found = false;
    for (const auto& p : net->people) found = found || p.role == role;
    REQUIRE(found);
  }
  // Everyone who must act can be reached by SMS with consent; a watcher's number is kept without consent.
  for (const auto& p : net->people) {
    INFO(p.id);
    REQUIRE_FALSE(p.contacts.empty());
    bool sms_with_consent = false;
    for (const auto& c : p.contacts) sms_with_consent |= c.channel == kaoko::alerting::Channel::kSms && c.consented();
    CHECK(sms_with_consent == (p.role != kaoko::alerting::Role::kWatcher));
  }
}

TEST_CASE("config: a minimal file loads with defaults", "[config]") {
  auto net = ParseNetwork(kMinimal, "mini.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  REQUIRE(net->villages[0].travel_to_next == std::chrono::minutes(45));
  REQUIRE(net->stations[0].landmark_th(kaoko::alerting::Level::kWarning) == "ขั้นบันไดวัด");
  REQUIRE(net->stations[0].persistence_readings == 2);
  REQUIRE(net->people[1].village.empty());
}

TEST_CASE("config: a wrong file names the file, the line and what is wrong", "[config]") {
  auto expect = [](const std::string& text, const std::string& fragment) {
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    REQUIRE(net.error().reason.rfind("bad.toml", 0) == 0);
    REQUIRE(net.error().reason.find(fragment) != std::string::npos);
  };
  SECTION("TOML syntax") { expect(std::string(kMinimal) + "\n[[villages]\n", "bad.toml:"); }
  SECTION("unknown key is a typo, not a default") {
    expect(Replace(kMinimal, "critical = 200", "critical = 200\npersistance_readings = 3"),
           "unknown key 'persistance_readings'");
  }
  SECTION("line number of the offending key") {
    auto text = Replace(kMinimal, "village = \"up\"\nname_th = \"สถานี\"", "village = \"nowhere\"\nname_th = \"สถานี\"");
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    REQUIRE(net.error().reason.find("bad.toml:17:") == 0);
    REQUIRE(net.error().reason.find("village 'nowhere'") != std::string::npos);
  }
  SECTION("thresholds out of order") {
    expect(Replace(kMinimal, "critical = 200", "critical = 120"), "thresholds must rise");
  }
  SECTION("threshold of the wrong type") { expect(Replace(kMinimal, "watch = 100", "watch = \"high\""), "'watch'"); }
  SECTION("bad identifier") { expect(Replace(kMinimal, "id = \"s1\"", "id = \"S 1\""), "must be 1-32 characters"); }
  SECTION("unknown role") { expect(Replace(kMinimal, "role = \"watcher\"", "role = \"mayor\""), "role 'mayor'"); }
  SECTION("villager without a village") {
    expect(Replace(kMinimal, "role = \"watcher\"\nvillage = \"up\"", "role = \"watcher\""), "missing 'village'");
  }
  SECTION("duplicate names across stations and people") {
    expect(Replace(kMinimal, "id = \"w1\"", "id = \"s1\""), "used twice");
  }
  SECTION("the reserved village id 'tier'") {
    expect(Replace(kMinimal, "id = \"down\"", "id = \"tier\""), "'tier' is reserved");
  }
  SECTION("the service's own account") { expect(Replace(kMinimal, "id = \"w1\"", "id = \"kaoko\""), "service's own"); }
  SECTION("no villages") { expect("[tambon]\nid = \"t\"\nname_th = \"x\"\nname_en = \"x\"\n", "no [[villages]]"); }
  SECTION("missing file") {
    auto net = LoadNetwork("/nonexistent/net.toml");
    REQUIRE_FALSE(net.ok());
    REQUIRE(net.error().reason.find("cannot open") != std::string::npos);
  }
}

namespace {
// kMinimal with contacts for its watcher (w1) and its TAO officer (t1).
std::string WithContacts(const std::string& w1, const std::string& t1 = "") {
  std::string text =
      Replace(kMinimal, "role = \"watcher\"\nvillage = \"up\"", "role = \"watcher\"\nvillage = \"up\"\n" + w1);
  if (!t1.empty()) text = Replace(text, "role = \"tao\"", "role = \"tao\"\n" + t1);
  return text;
}
}  // namespace

TEST_CASE("config: a person's contacts, in their order, each with its consent", "[config][contacts]") {
  using kaoko::alerting::Channel;
  auto net = ParseNetwork(WithContacts(R"(contacts = [
  { channel = "line", consent = 2026-06-01 },
  { channel = "sms", number = "+66812345601", consent = "2026-05-30" },
  { channel = "web" },
])"),
                          "c.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  const auto& c = net->people[0].contacts;
  REQUIRE(c.size() == 3);
  CHECK(c[0].channel == Channel::kLine);
  CHECK(c[0].address.empty());  // linked later, from the person's own page
  CHECK(c[0].consent == std::chrono::sys_days(std::chrono::year(2026) / 6 / 1));
  CHECK(c[1].channel == Channel::kSms);
  CHECK(c[1].address == "+66812345601");
  CHECK(c[1].consent == std::chrono::sys_days(std::chrono::year(2026) / 5 / 30));
  CHECK(c[2].channel == Channel::kWeb);
  CHECK_FALSE(c[2].consented());  // kept, but nothing is sent to it
  CHECK(net->people[1].contacts.empty());
}

TEST_CASE("config: a bad contact fails at start with file, line and reason, and never echoes the number",
          "[config][contacts]") {
  auto expect = [](const std::string& text, const std::string& at, const std::string& fragment) {
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    CHECK(net.error().reason.rfind("bad.toml:" + at, 0) == 0);
    CHECK(net.error().reason.find(fragment) != std::string::npos);
    // Personal data stays out of the message (it goes to the log).
    for (const char* digits : {"234560", "1234567"}) CHECK(net.error().reason.find(digits) == std::string::npos);
  };
  SECTION("a local number") {
    expect(WithContacts(R"(contacts = [{ channel = "sms", number = "0812345601", consent = 2026-06-01 }])"),
           "28:", "person 'w1', contact 1: the number is not a Thai mobile number in +66 form (drop the leading 0");
  }
  SECTION("a number too short, a landline, spaces") {
    for (const char* n : {"+6681234560", "+6621234567", "+66 81 234 5601", "+66812345601x"}) {
      expect(WithContacts(fmt::format(R"(contacts = [{{ channel = "sms", number = "{}" }}])", n)),
             "28:", "the number is not a Thai mobile number in +66 form (+66, then the 9 digits");
    }
  }
  SECTION("a number given to two people") {
    expect(WithContacts(R"(contacts = [{ channel = "sms", number = "+66812345601" }])",
                        R"(contacts = [{ channel = "sms", number = "+66812345601" }])"),
           "", "person 't1', contact 1: the number is given to both 'w1' and 't1': a reply must name one person");
  }
  SECTION("an unknown channel") {
    expect(WithContacts(R"(contacts = [{ channel = "fax", consent = 2026-06-01 }])"),
           "28:", "person 'w1', contact 1 has channel 'fax'; the channels are sms, line, web");
  }
  SECTION("an sms contact without a number, a number on a web contact") {
    expect(WithContacts(R"(contacts = [{ channel = "sms" }])"), "28:", "an sms contact without a number");
    expect(WithContacts(R"(contacts = [{ channel = "web", number = "+66812345601" }])"),
           "28:", "only an sms contact has a number");
  }
  SECTION("a channel twice") {
    expect(WithContacts(R"(contacts = [{ channel = "web" }, { channel = "web" }])"),
           "28:", "contact 2: a second web contact (one per channel)");
  }
  SECTION("a LINE user id that is not one, and one given to two people") {
    expect(WithContacts(R"(contacts = [{ channel = "line", user = "somchai" }])"), "28:", "is not a LINE user id");
    const std::string u = R"(contacts = [{ channel = "line", user = "U0123456789abcdef0123456789abcdef" }])";
    expect(WithContacts(u, u), "", "the LINE user is given to both 'w1' and 't1'");
  }
  SECTION("a consent that is not a date") {
    expect(WithContacts(R"(contacts = [{ channel = "web", consent = "yes" }])"),
           "28:", "'consent' in person 'w1', contact 1 must be a date like 2026-06-01");
    expect(WithContacts(R"(contacts = [{ channel = "web", consent = "2026-02-30" }])"), "28:", "is not a real date");
  }
  SECTION("an unknown key in a contact") {
    expect(WithContacts(R"(contacts = [{ channel = "sms", numbr = "+66812345601" }])"), "28:", "unknown key 'numbr'");
  }
}

TEST_CASE("config: the delivery ladder and not-reached time, and what a bad one says", "[config][delivery]") {
  using kaoko::alerting::Channel;
  using kaoko::alerting::Level;
  using std::chrono::minutes;
  using std::chrono::seconds;
  {
    auto net = ParseNetwork(kMinimal, "none.toml");
    REQUIRE(net.ok());
    CHECK(net->delivery.not_reached == minutes(5));
    CHECK(net->delivery.DelayOf(Level::kWatch, Channel::kSms) == seconds(0));  // no ladder: everything at once
  }
  const std::string ladder = std::string(kMinimal) + R"(
[delivery]
not_reached_minutes = 2.5
[delivery.ladder.watch]
line = 0
sms = 10
[delivery.ladder.warning]
sms = 5
)";
  auto net = ParseNetwork(ladder, "ladder.toml");
  INFO((net ? "" : net.error().reason));
  REQUIRE(net.ok());
  CHECK(net->delivery.not_reached == seconds(150));
  CHECK(net->delivery.DelayOf(Level::kWatch, Channel::kSms) == minutes(10));
  CHECK(net->delivery.DelayOf(Level::kWatch, Channel::kLine) == seconds(0));
  CHECK(net->delivery.DelayOf(Level::kWarning, Channel::kSms) == minutes(5));
  CHECK(net->delivery.DelayOf(Level::kWarning, Channel::kLine) == seconds(0));  // not named: at once
  CHECK(net->delivery.DelayOf(Level::kCritical, Channel::kSms) == seconds(0));  // critical: everything at once

  auto expect = [](const std::string& tail, const std::string& fragment) {
    auto bad = ParseNetwork(std::string(kMinimal) + tail, "bad.toml");
    REQUIRE_FALSE(bad.ok());
    INFO(bad.error().reason);
    CHECK(bad.error().reason.rfind("bad.toml:", 0) == 0);
    CHECK(bad.error().reason.find(fragment) != std::string::npos);
  };
  expect("[delivery.ladder.critical]\nsms = 5\n", "critical always sends on every channel at once");
  expect("[delivery.ladder.watch]\nfax = 5\n", "unknown channel 'fax'");
  expect("[delivery.ladder.watch]\nsms = -1\n", "must not be negative");
  expect("[delivery]\nnot_reached_minutes = \"soon\"\n", "not_reached_minutes");
  expect("[delivery]\nretries = 3\n", "retries");
}

namespace {
// kMinimal with one device appended; `extra` lines go inside its table.
std::string WithDevice(const std::string& extra = "", const std::string& id = "tower-up",
                       const std::string& village = "up", const std::string& kind = "tower") {
  return std::string(kMinimal) + "[[devices]]\nid = \"" + id + "\"\nvillage = \"" + village + "\"\nkind = \"" + kind +
         "\"\nname_th = \"หอกระจายข่าวบ้านบน\"\nname_en = \"Up tower\"\n" + extra;
}
}  // namespace

TEST_CASE("config: devices (towers and sirens) of a village", "[config][devices]") {
  using kaoko::alerting::DeviceKind;
  SECTION("a tower with the default answer time, a siren with its own") {
    auto net = ParseNetwork(WithDevice() +
                                "[[devices]]\nid = \"siren-down\"\nvillage = \"down\"\nkind = \"siren\"\n"
                                "name_th = \"ไซเรน\"\nanswer_seconds = 30\n",
                            "dev.toml");
    INFO((net ? "" : net.error().reason));
    REQUIRE(net.ok());
    REQUIRE(net->devices.size() == 2);
    const auto* tower = net->FindDevice("tower-up");
    REQUIRE(tower);
    CHECK(tower->village == "up");
    CHECK(tower->kind == DeviceKind::kTower);
    CHECK(tower->name_th == "หอกระจายข่าวบ้านบน");
    CHECK(tower->name_en == "Up tower");
    CHECK(tower->answer_after == std::chrono::seconds(60));
    const auto* siren = net->FindDevice("siren-down");
    REQUIRE(siren);
    CHECK(siren->kind == DeviceKind::kSiren);
    CHECK(siren->answer_after == std::chrono::seconds(30));
    CHECK(net->FindDevice("s1") == nullptr);
  }
  SECTION("the shipped Ton Hong network has a tower in every village") {
    auto net = LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
    REQUIRE(net.ok());
    for (const auto& v : net->villages) {
      const auto* d = net->FindDevice("tower-" + v.id);
      INFO(v.id);
      REQUIRE(d);
      CHECK(d->village == v.id);
      CHECK(d->kind == DeviceKind::kTower);
    }
  }
}

TEST_CASE("config: a wrong device names the file, the line and the reason", "[config][devices]") {
  auto expect = [](const std::string& text, const std::string& line, const std::string& fragment) {
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    REQUIRE(net.error().reason.rfind("bad.toml:" + line + ":", 0) == 0);
    REQUIRE(net.error().reason.find(fragment) != std::string::npos);
  };
  // kMinimal is 31 lines; the device's table starts on line 32 ("[[devices]]"): id 33, village 34, kind 35, extra 38.
  SECTION("unknown village") { expect(WithDevice("", "tower-x", "nowhere"), "34", "village 'nowhere'"); }
  SECTION("unknown kind") { expect(WithDevice("", "tower-up", "up", "bell"), "35", "kind 'bell'"); }
  SECTION("duplicate of a station id") { expect(WithDevice("", "s1"), "33", "used twice"); }
  SECTION("duplicate of a person id") { expect(WithDevice("", "w1"), "33", "used twice"); }
  SECTION("duplicate of another device") {
    expect(WithDevice() + "[[devices]]\nid = \"tower-up\"\nvillage = \"down\"\nkind = \"tower\"\nname_th = \"x\"\n",
           "39", "used twice");
  }
  SECTION("bad identifier") { expect(WithDevice("", "Tower Up"), "33", "must be 1-32 characters"); }
  SECTION("the service's own account") { expect(WithDevice("", "kaoko"), "33", "service's own"); }
  SECTION("answer_seconds not a number") { expect(WithDevice("answer_seconds = \"soon\"\n"), "38", "answer_seconds"); }
  SECTION("answer_seconds zero") { expect(WithDevice("answer_seconds = 0\n"), "38", "between 1 and 3600"); }
  SECTION("answer_seconds negative") { expect(WithDevice("answer_seconds = -5\n"), "38", "must not be negative"); }
  SECTION("answer_seconds too long") { expect(WithDevice("answer_seconds = 86400\n"), "38", "between 1 and 3600"); }
  SECTION("unknown key") { expect(WithDevice("volume = 11\n"), "38", "unknown key 'volume'"); }
}

TEST_CASE(
    "config: a station, person or device named like the service, a bridge or a tier is refused with line and "
    "reason",
    "[config][reserved]") {
  auto expect = [](const std::string& text, const std::string& line, const std::string& fragment) {
    auto net = ParseNetwork(text, "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    CHECK(net.error().reason.rfind("bad.toml:" + line + ":", 0) == 0);
    CHECK(net.error().reason.find(fragment) != std::string::npos);
  };
  // kMinimal: the station's id on line 16, the watcher's on line 24; WithDevice's device id on line 33.
  SECTION("a station named like the service") {
    expect(Replace(kMinimal, "id = \"s1\"", "id = \"kaoko\""), "16", "service's own broker account");
  }
  SECTION("a station named like an edge box's bridge") {
    expect(Replace(kMinimal, "id = \"s1\"", "id = \"edge-up\""), "16", "bridge accounts");
  }
  SECTION("a station named like the province's node") {
    expect(Replace(kMinimal, "id = \"s1\"", "id = \"province\""), "16", "province tier");
  }
  SECTION("a person named like the service") {
    expect(Replace(kMinimal, "id = \"w1\"", "id = \"kaoko\""), "24", "person id 'kaoko' is reserved");
  }
  SECTION("a person named like a bridge, even of a village the file does not list") {
    expect(Replace(kMinimal, "id = \"w1\"", "id = \"edge-elsewhere\""), "24", "edge-<village>");
  }
  SECTION("a device named like the service") { expect(WithDevice("", "kaoko"), "33", "device id 'kaoko' is reserved"); }
  SECTION("a device named like a bridge") { expect(WithDevice("", "edge-down"), "33", "bridge accounts"); }
  SECTION("the reason names what uses it") {
    CHECK(kaoko::config::ReservedId("kaoko").value().find("service") != std::string::npos);
    CHECK(kaoko::config::ReservedId("edge-kaoko").value().find("docs/tiers.md") != std::string::npos);
    CHECK_FALSE(kaoko::config::ReservedId("edgewater").has_value());
    CHECK_FALSE(kaoko::config::ReservedId("kaoko-bridge").has_value());  // the shipped station at the bridge
  }
}

TEST_CASE("config: the clock and late-data limits of [health], and what a bad one says", "[config][clock]") {
  SECTION("defaults: 10 minutes of clock tolerance, late after 30 minutes, a backlog after 2 hours") {
    auto net = ParseNetwork(kMinimal, "mini.toml");
    REQUIRE(net);
    CHECK(net->health.clock_tolerance == std::chrono::minutes(10));
    CHECK(net->health.late_after == std::chrono::minutes(30));
    CHECK(net->health.backlog_after == std::chrono::minutes(120));
  }
  SECTION("set in the file") {
    auto net = ParseNetwork(
        std::string(kMinimal) + "\n[health]\nclock_tolerance_minutes = 5\nlate_minutes = 45\nbacklog_minutes = 90\n",
        "mini.toml");
    INFO((net ? "" : net.error().reason));
    REQUIRE(net);
    CHECK(net->health.clock_tolerance == std::chrono::minutes(5));
    CHECK(net->health.late_after == std::chrono::minutes(45));
    CHECK(net->health.backlog_after == std::chrono::minutes(90));
  }
  SECTION("a backlog limit under the late limit is refused with the line") {
    auto net =
        ParseNetwork(std::string(kMinimal) + "\n[health]\nlate_minutes = 60\nbacklog_minutes = 30\n", "bad.toml");
    REQUIRE_FALSE(net);
    INFO(net.error().reason);
    CHECK(net.error().reason.rfind("bad.toml", 0) == 0);
    CHECK(net.error().reason.find("backlog_minutes must not be less than late_minutes") != std::string::npos);
  }
}

namespace {
// kMinimal with the district's disaster officer (above the TAO), with a contact like anyone's.
const std::string kDistrictPerson = R"(
[[people]]
id = "amphoe1"
name_th = "ปลัดอำเภอ"
name_en = "District disaster officer"
role = "district"
contacts = [{ channel = "sms", number = "+66811111111", consent = 2026-01-05 }]
)";
}  // namespace

TEST_CASE("config: the district above the TAO: its people, its deadline, and what a wrong one says",
          "[config][district]") {
  SECTION("a district person belongs to the whole tambon, reached through their contacts") {
    auto net = ParseNetwork(std::string(kMinimal) + kDistrictPerson, "d.toml");
    INFO((net ? "" : net.error().reason));
    REQUIRE(net.ok());
    const kaoko::alerting::Person* d = net->FindPerson("amphoe1");
    REQUIRE(d);
    CHECK(d->role == kaoko::alerting::Role::kDistrict);
    CHECK(d->village.empty());
    REQUIRE(d->contacts.size() == 1);
    CHECK(d->contacts[0].consented());
    CHECK(kaoko::alerting::IsTambonWide(d->role));
    CHECK(std::string(kaoko::alerting::ToString(d->role)) == "district");
  }
  SECTION("district_minutes sits beside the TAO's deadline; 30 minutes when not given") {
    auto plain = ParseNetwork(kMinimal, "d.toml");
    REQUIRE(plain.ok());
    CHECK(plain->escalation.district_act == std::chrono::minutes(30));
    auto net = ParseNetwork(std::string(kMinimal) + "[escalation]\ntao_declare_minutes = 20\ndistrict_minutes = 45\n",
                            "d.toml");
    INFO((net ? "" : net.error().reason));
    REQUIRE(net.ok());
    CHECK(net->escalation.district_act == std::chrono::minutes(45));
  }
  SECTION("a district person with a village is refused with the line and the reason") {
    auto net = ParseNetwork(Replace(std::string(kMinimal) + kDistrictPerson, "role = \"district\"",
                                    "role = \"district\"\nvillage = \"up\""),
                            "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    CHECK(net.error().reason.rfind("bad.toml:", 0) == 0);
    CHECK(net.error().reason.find("the district (above the TAO)") != std::string::npos);
    CHECK(net.error().reason.find("remove 'village'") != std::string::npos);
  }
  SECTION("district_minutes = 0 is refused") {
    auto net = ParseNetwork(std::string(kMinimal) + "[escalation]\ndistrict_minutes = 0\n", "bad.toml");
    REQUIRE_FALSE(net.ok());
    INFO(net.error().reason);
    CHECK(net.error().reason.find("district_minutes must be > 0") != std::string::npos);
  }
  SECTION("the unknown-role message names the district role") {
    auto net = ParseNetwork(Replace(kMinimal, "role = \"watcher\"", "role = \"mayor\""), "bad.toml");
    REQUIRE_FALSE(net.ok());
    CHECK(net.error().reason.find("tao, district") != std::string::npos);
  }
}
