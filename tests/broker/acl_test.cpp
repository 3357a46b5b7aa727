// The broker's ACL and authentication against the wire contract (shared/spec/protocol.md, "MQTT topics"), on a real
// Mosquitto started from broker-config/dev.conf.in with the accounts kaoko-admin makes from config/tonhong.toml.
//
// The contract's rules are written out again below (MayPublish, MayRead) from the contract's text, not from the ACL
// generator, and every principal × topic pair is tried against them:
// - publish: each principal publishes to every topic; the service account (which reads all of kaoko/#) must receive
//   exactly the publishes the contract allows. Refusals are checked at a subscriber, never at the PUBACK (MQTT 3.1.1
//   acknowledges refused publishes, STACK.md trap 6).
// - read: every principal subscribes to kaoko/# (Mosquitto 2.0 accepts any filter and checks each delivery); every
//   message any principal receives must be one it may read, and every accepted message must reach every principal
//   that may read it.
// A sync message per principal, published last by the service to a topic that principal may read, marks the moment
// everything before it has been delivered (one connection's deliveries are in order).
#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "kaoko/testing/harness.hpp"

using namespace std::chrono_literals;
using kaoko::testing::Broker;
using kaoko::testing::BrokerOptions;
using kaoko::testing::MqttClient;

namespace {

const std::string T = "kaoko/v1/tonhong";

enum class Kind { kService, kTao, kStation, kPerson, kDevice };
struct Principal {
  std::string id;
  Kind kind;
  std::string village;  // a station's, a person's or a device's village; empty for the service and TAO
};

// A cross-section of config/tonhong.toml: every kind of principal, two villages, two of a kind in one village.
const std::vector<Principal> kPrincipals = {
    {"kaoko", Kind::kService, ""},
    {"officer-niran", Kind::kTao, ""},
    {"kaoko-bridge", Kind::kStation, "kaoko"},
    {"kaoko-temple", Kind::kStation, "kaoko"},
    {"huaiphan-weir", Kind::kStation, "huaiphan"},
    {"somchai", Kind::kPerson, "kaoko"},  // watcher
    {"malee", Kind::kPerson, "kaoko"},    // watcher
    {"prasert", Kind::kPerson, "kaoko"},  // committee
    {"boonmee", Kind::kPerson, "kaoko"},  // headman
    {"anan", Kind::kPerson, "huaiphan"},  // watcher
    {"tower-kaoko", Kind::kDevice, "kaoko"},
    {"tower-huaiphan", Kind::kDevice, "huaiphan"},
};

// Every row of the contract's topic table, for own and others' names, own and other villages, and another tambon.
const std::vector<std::string> kTopics = {
    // reading / status / ack
    T + "/kaoko/station/kaoko-bridge/reading",
    T + "/kaoko/station/kaoko-bridge/status",
    T + "/kaoko/station/kaoko-bridge/ack",
    T + "/huaiphan/station/huaiphan-weir/reading",
    T + "/huaiphan/station/huaiphan-weir/ack",
    T + "/huaiphan/station/kaoko-bridge/reading",  // a station in a village not its own
    T + "/kaoko/station/somchai/reading",          // a person posing as a station
    T + "/kaoko/station/somchai/status",
    T + "/kaoko/station/somchai/ack",
    // report / decision
    T + "/kaoko/report/somchai",
    T + "/huaiphan/report/somchai",  // a watcher reporting at the next village: allowed by the contract
    T + "/kaoko/report/malee",
    T + "/kaoko/report/kaoko-bridge",  // a station posing as a person
    T + "/kaoko/decision/boonmee",
    T + "/kaoko/decision/somchai",
    T + "/kaoko/decision/officer-niran",
    T + "/kaoko/decision/kaoko-bridge",
    // receipt / notify
    T + "/kaoko/receipt/somchai",
    T + "/kaoko/receipt/boonmee",
    T + "/kaoko/receipt/kaoko-bridge",
    T + "/kaoko/notify/somchai",
    T + "/kaoko/notify/boonmee",
    T + "/huaiphan/notify/anan",
    // alert / siren / cap
    T + "/kaoko/alert",
    T + "/huaiphan/alert",
    T + "/kaoko/siren",
    T + "/huaiphan/siren",
    T + "/cap",
    // kaoko's additions for towers and sirens (docs/protocol.md, "The tower and the siren")
    T + "/kaoko/announce",
    T + "/huaiphan/announce",
    T + "/kaoko/device/tower-kaoko/sounded",
    T + "/kaoko/device/tower-kaoko/status",
    T + "/huaiphan/device/tower-kaoko/sounded",  // a tower answering for a village not its own
    T + "/kaoko/device/tower-huaiphan/sounded",  // another village's tower posing as this one's
    T + "/kaoko/device/somchai/sounded",         // a person posing as a device
    T + "/kaoko/device/kaoko-bridge/status",     // a station posing as a device
    // another tambon on the same broker, and outside the contract
    "kaoko/v1/other/kaoko/report/somchai",
    "kaoko/v1/other/kaoko/alert",
    "kaoko/v1/other/kaoko/station/kaoko-bridge/reading",
    "kaoko/v1/tonhong",
};

std::vector<std::string> Split(const std::string& topic) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = topic.find('/', start)) != std::string::npos; start = at + 1)
    out.push_back(topic.substr(start, at - start));
  out.push_back(topic.substr(start));
  return out;
}

// The topic's parts after kaoko/v1/tonhong/, or empty for anything outside this tambon.
std::vector<std::string> InTambon(const std::string& topic) {
  auto parts = Split(topic);
  if (parts.size() < 4 || parts[0] != "kaoko" || parts[1] != "v1" || parts[2] != "tonhong") return {};
  return std::vector<std::string>(parts.begin() + 3, parts.end());
}

// "The broker lets each principal publish only to its own topics: a station only its own reading and status, a person
// only to report/{user} or decision/{user} where {user} is its own name, and only kaoko publishes ack, receipt,
// alert, notify, siren and cap." A station's topics carry its own village (the network file's).
bool MayPublish(const Principal& p, const std::string& topic) {
  if (p.kind == Kind::kService) return topic.starts_with("kaoko/");
  auto r = InTambon(topic);  // {village, ...}
  if (p.kind == Kind::kStation) {
    return r.size() == 4 && r[0] == p.village && r[1] == "station" && r[2] == p.id &&
           (r[3] == "reading" || r[3] == "status");
  }
  if (p.kind == Kind::kDevice) {  // its own sounded and status, in its own village
    return r.size() == 4 && r[0] == p.village && r[1] == "device" && r[2] == p.id &&
           (r[3] == "sounded" || r[3] == "status");
  }
  return r.size() == 3 && (r[1] == "report" || r[1] == "decision") && r[2] == p.id;  // person or TAO
}

// "A station reads its own ack; a person reads their own receipt and notify, and the alert of the villages they
// belong to; TAO officers and kaoko read all." Plus (issue brief) a person reads their village's siren and the
// tambon's cap, both public announcements.
bool MayRead(const Principal& p, const std::string& topic) {
  if (p.kind == Kind::kService) return topic.starts_with("kaoko/");
  auto r = InTambon(topic);
  if (p.kind == Kind::kTao) return !r.empty() || topic == T;  // kaoko/v1/tonhong/# matches kaoko/v1/tonhong
  if (p.kind == Kind::kStation)
    return r.size() == 4 && r[0] == p.village && r[1] == "station" && r[2] == p.id && r[3] == "ack";
  // A tower or siren reads its own village's siren and announce, and nothing personal.
  if (p.kind == Kind::kDevice) return r.size() == 2 && r[0] == p.village && (r[1] == "siren" || r[1] == "announce");
  if (r.size() == 3 && (r[1] == "receipt" || r[1] == "notify") && r[2] == p.id) return true;
  if (r.size() == 2 && r[0] == p.village && (r[1] == "alert" || r[1] == "siren")) return true;
  return r.size() == 1 && r[0] == "cap";
}

// A topic the principal may read, where the service drops the sync marker.
std::string SyncTopic(const Principal& p) {
  switch (p.kind) {
    case Kind::kService:
      return "kaoko/test/sync";
    case Kind::kTao:
      return T + "/kaoko/notify/" + p.id;
    case Kind::kStation:
      return fmt::format("{}/{}/station/{}/ack", T, p.village, p.id);
    case Kind::kPerson:
      return fmt::format("{}/{}/receipt/{}", T, p.village, p.id);
    case Kind::kDevice:
      return fmt::format("{}/{}/announce", T, p.village);
  }
  return {};
}

// One broker and one connected client per principal for the whole file (connecting Paho clients is slow).
struct World {
  Broker broker;
  std::map<std::string, std::unique_ptr<MqttClient>> clients;
  int sync_round = 0;

  World() {
    for (const Principal& p : kPrincipals) {
      auto c = std::make_unique<MqttClient>(broker.url(), p.id, broker.Password(p.id));
      c->Subscribe("#");  // everything (a filter starting with # never matches $SYS topics)
      clients[p.id] = std::move(c);
    }
  }
  MqttClient& Client(const std::string& id) { return *clients.at(id); }
  MqttClient& Service() { return Client("kaoko"); }

  // Returns when every principal has received everything published before this call.
  void Sync() {
    std::string marker = fmt::format("sync-{}", ++sync_round);
    for (const Principal& p : kPrincipals) Service().Publish(SyncTopic(p), marker);
    for (const Principal& p : kPrincipals) {
      MqttClient& c = Client(p.id);
      bool got = kaoko::testing::WaitFor(
          [&] {
            for (const auto& m : c.Received(SyncTopic(p))) {
              if (m.payload == marker) return true;
            }
            return false;
          },
          10s);
      INFO("principal " << p.id << " sync topic " << SyncTopic(p));
      REQUIRE(got);
    }
  }
  void ClearAll() {
    for (auto& [id, c] : clients) c->Clear();
  }
};

World& TheWorld() {
  static World world;
  return world;
}

struct Tally {
  int cases = 0;
  int refused = 0;
};
std::map<std::string, Tally> g_tally;

void Report() {
  int total = 0;
  for (auto& [what, t] : g_tally) {
    std::cout << fmt::format("ACL cases: {:<34} {:>4} tried, {:>4} of them must be refused\n", what, t.cases,
                             t.refused);
    total += t.cases;
  }
  std::cout << fmt::format("ACL cases: total {}\n", total);
}

}  // namespace

TEST_CASE("broker ACL: every principal publishes only where the contract lets it", "[broker][acl]") {
  World& w = TheWorld();
  w.Sync();
  w.ClearAll();
  // Every publish on a connection of its own (mosquitto_pub): Mosquitto 2.0.11 closes a connection after refusing a
  // publish, so one refusal must not hide the next. Each payload names who sent it to where.
  for (const Principal& p : kPrincipals) {
    for (const std::string& topic : kTopics) {
      int rc = kaoko::testing::MosquittoPub(w.broker.port(), p.id, w.broker.Password(p.id), topic,
                                            fmt::format("pub|{}|{}", p.id, topic));
      INFO(p.id << " publishing to " << topic);
      REQUIRE(rc == 0);  // acknowledged even when refused (MQTT 3.1.1): the subscriber below is what counts
    }
  }
  w.Sync();

  std::set<std::string> at_service;
  for (const auto& m : w.Service().Received()) at_service.insert(m.payload);
  Tally& tally = g_tally["publish (principal x topic)"];
  for (const Principal& p : kPrincipals) {
    for (const std::string& topic : kTopics) {
      if (!topic.starts_with("kaoko/")) continue;  // the service cannot see outside kaoko/, nothing to compare with
      bool allowed = MayPublish(p, topic);
      bool arrived = at_service.count(fmt::format("pub|{}|{}", p.id, topic)) > 0;
      ++tally.cases;
      if (!allowed) ++tally.refused;
      INFO(p.id << (allowed ? " may publish to " : " may NOT publish to ") << topic);
      CHECK(arrived == allowed);
    }
  }
  // And the refused publishes reached nobody at all.
  for (const Principal& reader : kPrincipals) {
    for (const auto& m : w.Client(reader.id).Received()) {
      if (!m.payload.starts_with("pub|")) continue;
      std::string from = m.payload.substr(4, m.payload.find('|', 4) - 4);
      const Principal* sender = nullptr;
      for (const Principal& p : kPrincipals) {
        if (p.id == from) sender = &p;
      }
      REQUIRE(sender);
      INFO(reader.id << " received " << from << "'s publish on " << m.topic);
      CHECK(MayPublish(*sender, m.topic));
    }
  }
}

TEST_CASE("broker ACL: a refused publish from a Paho client is acknowledged, dropped, and ends its connection",
          "[broker][acl]") {
  World& w = TheWorld();
  w.Sync();
  w.ClearAll();
  // What a station or a phone built on Paho sees: the PUBACK comes (MQTT 3.1.1 has no way to say no), the message goes
  // nowhere, and Mosquitto 2.0.11 closes the connection right after.
  MqttClient station(w.broker.url(), "kaoko-bridge", w.broker.Password("kaoko-bridge"), "paho-refused");
  station.Publish(T + "/kaoko/station/kaoko-bridge/reading", "allowed-first");
  try {
    station.Publish(T + "/kaoko/report/kaoko-bridge", "refused-report");
  } catch (const std::exception&) {  // the PUBACK may lose the race with the close; either is the broker's answer
  }
  CHECK(kaoko::testing::WaitFor([&] { return !station.connected(); }, 5s));
  w.Sync();
  std::vector<std::string> seen;
  for (const auto& m : w.Service().Received()) {
    if (m.payload != "allowed-first" && m.payload != "refused-report") continue;
    seen.push_back(m.payload);
  }
  CHECK(seen == std::vector<std::string>{"allowed-first"});
  g_tally["publish over Paho"].cases += 2;
  g_tally["publish over Paho"].refused += 1;
}

TEST_CASE("broker ACL: every principal reads only what the contract lets it", "[broker][acl]") {
  World& w = TheWorld();
  w.Sync();
  w.ClearAll();
  // The service publishes on every topic (it may publish everywhere under kaoko/).
  for (const std::string& topic : kTopics) {
    if (topic.starts_with("kaoko/")) w.Service().Publish(topic, "read|" + topic);
  }
  w.Sync();

  Tally& tally = g_tally["read (principal x topic)"];
  for (const Principal& p : kPrincipals) {
    std::set<std::string> got;
    for (const auto& m : w.Client(p.id).Received()) {
      if (m.payload.starts_with("read|")) got.insert(m.topic);
    }
    for (const std::string& topic : kTopics) {
      if (!topic.starts_with("kaoko/")) continue;
      bool allowed = MayRead(p, topic);
      ++tally.cases;
      if (!allowed) ++tally.refused;
      INFO(p.id << (allowed ? " may read " : " may NOT read ") << topic);
      CHECK((got.count(topic) > 0) == allowed);
    }
  }
  // Nothing else slipped through either (the sync markers included).
  for (const Principal& p : kPrincipals) {
    for (const auto& m : w.Client(p.id).Received()) {
      INFO(p.id << " received " << m.topic);
      CHECK(MayRead(p, m.topic));
    }
  }
}

TEST_CASE("broker ACL: retained alerts, status and cap reach only their readers", "[broker][acl]") {
  World& w = TheWorld();
  Tally& tally = g_tally["retained, read by a late subscriber"];
  w.Service().Publish(T + "/kaoko/alert", R"({"village":"kaoko","level":"warning"})", 1, true);
  w.Service().Publish(T + "/huaiphan/alert", R"({"village":"huaiphan","level":"normal"})", 1, true);
  w.Service().Publish(T + "/kaoko/siren", R"({"on":true})", 1, true);
  w.Service().Publish(T + "/cap", "<alert/>", 1, true);
  w.Client("kaoko-bridge").Publish(T + "/kaoko/station/kaoko-bridge/status", R"({"state":"online"})", 1, true);
  // Refused (a watcher posing as a station); on a connection of its own, since Mosquitto closes it after refusing.
  REQUIRE(kaoko::testing::MosquittoPub(w.broker.port(), "somchai", w.broker.Password("somchai"),
                                       T + "/kaoko/station/kaoko-temple/status", R"({"state":"offline"})", 1,
                                       true) == 0);
  w.Sync();

  // New connections (not the shared ones) subscribing after the fact: the retained copies are checked too.
  struct Late {
    Principal p;
    std::set<std::string> expect;
  };
  std::vector<Late> late = {
      {{"anan", Kind::kPerson, "huaiphan"}, {T + "/huaiphan/alert", T + "/cap"}},
      {{"malee", Kind::kPerson, "kaoko"}, {T + "/kaoko/alert", T + "/kaoko/siren", T + "/cap"}},
      {{"kaoko-temple", Kind::kStation, "kaoko"}, {}},
      {{"officer-pim", Kind::kTao, ""},
       {T + "/kaoko/alert", T + "/huaiphan/alert", T + "/kaoko/siren", T + "/cap",
        T + "/kaoko/station/kaoko-bridge/status"}},
  };
  for (const Late& l : late) {
    MqttClient c(w.broker.url(), l.p.id, w.broker.Password(l.p.id), "late-" + l.p.id);
    c.Subscribe("kaoko/#");
    w.Service().Publish(SyncTopic(l.p), "late-sync");
    REQUIRE(kaoko::testing::WaitFor([&] { return !c.Received(SyncTopic(l.p)).empty(); }, 10s));
    std::set<std::string> got;
    for (const auto& m : c.Received()) {
      if (m.retained) got.insert(m.topic);
    }
    INFO("late subscriber " << l.p.id);
    CHECK(got == l.expect);
    tally.cases += 6;  // the five retained topics and the refused status
    tally.refused += 6 - static_cast<int>(l.expect.size());
  }
  // Clear the retained messages so other cases start clean.
  for (const auto& topic : {T + "/kaoko/alert", T + "/huaiphan/alert", T + "/kaoko/siren", T + "/cap",
                            T + "/kaoko/station/kaoko-bridge/status"}) {
    w.Service().Publish(topic, "", 1, true);
  }
}

TEST_CASE("broker auth: wrong password, unknown user and anonymous are refused", "[broker][auth]") {
  World& w = TheWorld();
  Tally& tally = g_tally["authentication"];
  const int port = w.broker.port();
  // mosquitto_pub exits with the CONNACK code: Mosquitto answers every refused MQTT 3.1.1 CONNECT with 5, "not
  // authorised" (it does not tell a wrong password from an unknown user).
  auto pub = [&](const std::string& user, const std::string& password) {
    return kaoko::testing::MosquittoPub(port, user, password, T + "/kaoko/report/" + user, "auth-probe");
  };
  CHECK(pub("somchai", "demo-malee") == 5);
  CHECK(pub("somchai", "") == 5);
  CHECK(pub("kaoko", "kaoko") == 5);
  CHECK(pub("kaoko", "DEMO-KAOKO") == 5);
  CHECK(pub("nobody", "demo-nobody") == 5);
  CHECK(pub("", "") == 5);                     // anonymous
  CHECK(pub("somchai", "demo-somchai") == 0);  // the control
  tally.cases += 7;
  tally.refused += 6;
  // The same through Paho, which the service and the simulator use.
  CHECK(MqttClient::TryConnect(w.broker.url(), "kaoko-bridge", "wrong") == 5);
  CHECK(MqttClient::TryConnect(w.broker.url(), "", "") == 5);
  CHECK_THROWS_AS(MqttClient(w.broker.url(), "kaoko", "demo-somchai"), std::runtime_error);
  tally.cases += 3;
  tally.refused += 3;
}

TEST_CASE("broker: phones connect over WebSockets on loopback with the same ACL", "[broker][websockets]") {
  Broker broker(BrokerOptions{.websockets = true});
  REQUIRE(broker.ws_port() > 0);
  MqttClient phone(broker.ws_url(), "somchai", broker.Password("somchai"));
  phone.Subscribe("kaoko/#");
  MqttClient service(broker.url(), "kaoko", broker.Password("kaoko"));
  service.Publish(T + "/huaiphan/alert", "not for somchai");
  service.Publish(T + "/kaoko/alert", "for somchai");
  REQUIRE(phone.WaitForMessages(1, 10s));
  CHECK_FALSE(phone.WaitForMessages(2, 300ms));
  CHECK(phone.Received().at(0).payload == "for somchai");
  g_tally["websockets read"].cases += 2;
  g_tally["websockets read"].refused += 1;
}

TEST_CASE("broker: persistence survives a restart, queued QoS 1 messages included", "[broker][persistence]") {
  Broker broker;
  {
    MqttClient service(broker.url(), "kaoko", broker.Password("kaoko"), "kaoko-service", /*clean_session=*/false);
    service.Subscribe(T + "/+/station/+/reading");
    service.Disconnect();
  }
  {
    MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
    for (int i = 0; i < 2000; ++i) {  // more than Mosquitto's default queue of 1000 (STACK.md trap 4)
      station.Publish(T + "/kaoko/station/kaoko-bridge/reading", fmt::format(R"({{"seq":{}}})", i));
    }
    station.Publish(T + "/kaoko/station/kaoko-bridge/status", R"({"state":"online"})", 1, true);
  }
  broker.Stop();  // SIGTERM: Mosquitto writes mosquitto.db on the way out
  CHECK_FALSE(broker.running());
  broker.Start();
  REQUIRE(broker.running());
  MqttClient service(broker.url(), "kaoko", broker.Password("kaoko"), "kaoko-service", /*clean_session=*/false);
  CHECK(service.WaitForMessages(2000, 20s));
  CHECK(service.Count() == 2000);
  service.Subscribe(T + "/+/station/+/status");
  CHECK(service.WaitForMessages(2001, 10s));
}

TEST_CASE("broker: kaoko-admin add-account and a reload let a new account in, with its rights only",
          "[broker][admin]") {
  Broker broker;
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "officer-dao", "pw-dao", T + "/kaoko/decision/officer-dao", "x") ==
        5);
  kaoko::testing::Process admin({kaoko::testing::AdminTool(), "add-account", "--dir", broker.accounts_dir(), "--user",
                                 "officer-dao", "--role", "tao", "--password", "pw-dao"},
                                broker.dir() + "/add-account.log");
  REQUIRE(admin.Wait() == 0);
  broker.Reload();  // SIGHUP: Mosquitto rereads passwd and acl
  REQUIRE(kaoko::testing::WaitFor(
      [&] {
        return kaoko::testing::MosquittoPub(broker.port(), "officer-dao", "pw-dao", T + "/kaoko/report/officer-dao",
                                            "probe") == 0;
      },
      5s));
  MqttClient service(broker.url(), "kaoko", broker.Password("kaoko"));
  service.Subscribe("kaoko/#");
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "officer-dao", "pw-dao", T + "/kaoko/alert", "refused") == 0);
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "officer-dao", "pw-dao", T + "/kaoko/decision/officer-dao",
                                     "allowed") == 0);
  REQUIRE(service.WaitForMessages(1, 10s));
  CHECK_FALSE(service.WaitForMessages(2, 300ms));
  CHECK(service.Received().at(0).payload == "allowed");
  // The network accounts kept their demo passwords.
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "somchai", "demo-somchai", T + "/kaoko/report/somchai", "x") == 0);
  g_tally["add-account + reload"].cases += 4;
  g_tally["add-account + reload"].refused += 2;
}

TEST_CASE(
    "broker: a bridge account (docs/tiers.md) writes only its node's journal and heartbeat and reads only its "
    "journal ack and its village's state",
    "[broker][acl][tiers]") {
  Broker broker;
  kaoko::testing::Process admin({kaoko::testing::AdminTool(), "add-account", "--dir", broker.accounts_dir(), "--user",
                                 "edge-kaoko", "--role", "bridge", "--village", "kaoko", "--password", "pw-edge"},
                                broker.dir() + "/add-account.log");
  REQUIRE(admin.Wait() == 0);
  broker.Reload();
  const std::string journal = T + "/tier/edge-kaoko/journal";
  REQUIRE(kaoko::testing::WaitFor(
      [&] { return kaoko::testing::MosquittoPub(broker.port(), "edge-kaoko", "pw-edge", journal, "probe", 0) == 0; },
      5s));
  MqttClient service(broker.url(), "kaoko", broker.Password("kaoko"));
  service.Subscribe("kaoko/#");
  for (const std::string& topic :
       {T + "/kaoko/station/kaoko-bridge/reading", T + "/kaoko/report/edge-kaoko", T + "/kaoko/alert",
        T + "/tier/edge-other/journal", T + "/tier/edge-kaoko/journal-ack"}) {
    CHECK(kaoko::testing::MosquittoPub(broker.port(), "edge-kaoko", "pw-edge", topic, "refused") == 0);
  }
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "edge-kaoko", "pw-edge", T + "/tier/edge-kaoko/heartbeat", "hb") ==
        0);
  CHECK(kaoko::testing::MosquittoPub(broker.port(), "edge-kaoko", "pw-edge", journal, "allowed") == 0);
  REQUIRE(service.WaitForMessages(2, 10s));
  CHECK_FALSE(service.WaitForMessages(3, 300ms));
  CHECK(service.Received().at(0).payload == "hb");
  CHECK(service.Received().at(1).payload == "allowed");
  MqttClient bridge(broker.url(), "edge-kaoko", "pw-edge");
  bridge.Subscribe("kaoko/#");
  for (const std::string& topic :
       {T + "/thonhong/siren", T + "/kaoko/station/kaoko-bridge/ack", T + "/tier/edge-other/journal-ack",
        T + "/kaoko/receipt/somchai", T + "/tier/edge-kaoko/journal-ack"}) {
    service.Publish(topic, topic);
  }
  REQUIRE(bridge.WaitForMessages(2, 10s));
  CHECK_FALSE(bridge.WaitForMessages(3, 300ms));
  CHECK(bridge.Received().at(0).topic == T + "/kaoko/receipt/somchai");
  CHECK(bridge.Received().at(1).topic == T + "/tier/edge-kaoko/journal-ack");
  g_tally["bridge account"].cases += 11;
  g_tally["bridge account"].refused += 8;
}

TEST_CASE("broker: production.conf loads in this Mosquitto and speaks TLS", "[broker][production]") {
  kaoko::testing::TempDir dir;
  const std::string d = dir.path();
  kaoko::testing::Process openssl(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key", "-out",
       d + "/server.crt", "-days", "1", "-subj", "/CN=127.0.0.1"},
      d + "/openssl.log");
  REQUIRE(openssl.Wait() == 0);
  kaoko::testing::Process admin(
      {kaoko::testing::AdminTool(), "accounts", "--network", kaoko::testing::SourceDir() + "/config/tonhong.toml",
       "--dir", d + "/accounts", "--demo-passwords"},
      d + "/admin.log");
  REQUIRE(admin.Wait() == 0);
  std::ifstream in(kaoko::testing::SourceDir() + "/broker-config/production.conf");
  std::stringstream text;
  text << in.rdbuf();
  std::string conf = text.str();
  int plain = kaoko::testing::FreePort(), tls = kaoko::testing::FreePort(), wss = kaoko::testing::FreePort();
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t n = 0;
    for (size_t at = conf.find(from); at != std::string::npos; at = conf.find(from, at + to.size()), ++n) {
      conf.replace(at, from.size(), to);
    }
    INFO("replacing " << from);
    REQUIRE(n > 0);
  };
  // Only paths and ports change, and every listener is kept on loopback for the test.
  replace("/etc/mosquitto/certs/CHANGE-ME-ca.crt", d + "/server.crt");
  replace("/etc/mosquitto/certs/CHANGE-ME-server.crt", d + "/server.crt");
  replace("/etc/mosquitto/certs/CHANGE-ME-server.key", d + "/server.key");
  replace("/etc/mosquitto/kaoko/", d + "/accounts/");
  replace("/var/lib/mosquitto/", d + "/");
  replace("/run/mosquitto/mosquitto.pid", d + "/mosquitto.pid");
  replace("log_dest file /var/log/mosquitto/mosquitto.log", "log_dest stderr");
  replace("listener 1883 127.0.0.1", fmt::format("listener {} 127.0.0.1", plain));
  replace("listener 8883\n", fmt::format("listener {} 127.0.0.1\n", tls));
  replace("listener 8884\n", fmt::format("listener {} 127.0.0.1\nsocket_domain ipv4\n", wss));
  conf += fmt::format("user {}\n", ::getpwuid(::geteuid())->pw_name);
  {
    std::ofstream out(d + "/production.conf");
    out << conf;
  }
  kaoko::testing::Process mosquitto({"mosquitto", "-c", d + "/production.conf"}, d + "/mosquitto.log");
  bool up = kaoko::testing::WaitFor(
      [&] {
        return !mosquitto.running() ||
               kaoko::testing::MosquittoPub(plain, "kaoko", "demo-kaoko", "kaoko/v1/tonhong/cap", "<alert/>") == 0;
      },
      10s);
  INFO(mosquitto.Log());
  REQUIRE(up);
  REQUIRE(mosquitto.running());
  kaoko::testing::Process tls_pub(
      {"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(tls), "--cafile", d + "/server.crt", "-u", "somchai",
       "-P", "demo-somchai", "-q", "1", "-t", T + "/kaoko/report/somchai", "-m", "{}"},
      d + "/tls.log");
  CHECK(tls_pub.Wait() == 0);
  kaoko::testing::Process anon({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(tls), "--cafile",
                                d + "/server.crt", "-q", "1", "-t", T + "/kaoko/report/somchai", "-m", "{}"},
                               d + "/anon.log");
  CHECK(anon.Wait() == 5);
  g_tally["production.conf over TLS"].cases += 2;
  g_tally["production.conf over TLS"].refused += 1;
}

TEST_CASE("ACL case count", "[broker][zz]") {
  // Runs last (declaration order): prints the tally the lead records in docs/benchmarks.md.
  Report();
  SUCCEED();
}
