// The service's MQTT connection on its own (MqttLink), against a real Mosquitto with the project's config. What it
// promises (server/mqtt/include/kaoko/mqtt/mqtt_link.hpp): every publish reaches the broker once, in order; at most
// max_inflight are handed to Paho at a time (Paho C scans its queue for every message id: handing it a flood of
// acks at once made each publish cost hundreds of microseconds, docs/benchmarks.md); acks wait behind every other
// message; publishes made while the broker is away are delivered when it returns; a full queue drops and counts.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>

#include "kaoko/common/metrics.hpp"
#include "kaoko/mqtt/mqtt_link.hpp"
#include "kaoko/testing/harness.hpp"

using namespace kaoko::testing;
using namespace std::chrono_literals;
using kaoko::server::Metrics;
using kaoko::server::MqttLink;
using kaoko::server::MqttOptions;

namespace {
const std::string kAlert = "kaoko/v1/tonhong/kaoko/alert";

std::string AckTopic(int i) { return fmt::format("kaoko/v1/tonhong/kaoko/station/s{:05}/ack", i); }

MqttOptions Options(const Broker& broker, const std::string& client_id) {
  MqttOptions o;
  o.url = broker.url();
  o.client_id = client_id;
  o.user = "kaoko";
  o.password = broker.Password("kaoko");
  o.tambon = "tonhong";
  return o;
}

std::unique_ptr<MqttLink> Connected(MqttOptions o, Metrics& metrics) {
  auto link = std::make_unique<MqttLink>(std::move(o), metrics, [](kaoko::server::Inbound) {});
  link->Start();
  REQUIRE(WaitFor([&] { return link->connected(); }, 15s));
  return link;
}
}  // namespace

TEST_CASE("mqtt link: a flood of acks arrives whole, once each, and an alert overtakes it", "[mqtt_link]") {
  Broker broker;
  MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"));
  officer.Subscribe("kaoko/v1/tonhong/#");
  Metrics metrics;
  auto o = Options(broker, "kaoko-link-flood");
  o.max_inflight = 32;
  auto link = Connected(o, metrics);

  constexpr int kAcks = 20000;
  for (int i = 0; i < kAcks; ++i) link->Publish(AckTopic(i), R"({"stored":[[1,1]]})", false);
  link->Publish(kAlert, R"({"level":"warning"})", true);
  // Never more than the window in Paho's hands, however many are queued.
  CHECK(metrics.mqtt_out_in_client.load() <= 32);

  REQUIRE(officer.WaitForMessages(kAcks + 1, 120s));
  REQUIRE(WaitFor([&] { return link->Outstanding() == 0; }, 10s));
  CHECK(metrics.mqtt_out_queued.load() == 0);
  CHECK(metrics.mqtt_out_in_client.load() == 0);
  std::this_thread::sleep_for(300ms);  // nothing more comes: no ack was sent twice
  const auto received = officer.Received();
  REQUIRE(received.size() == kAcks + 1);
  std::set<std::string> acks;
  std::size_t alert_at = received.size();
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received[i].topic == kAlert)
      alert_at = i;
    else
      acks.insert(received[i].topic);
  }
  CHECK(acks.size() == kAcks);
  // Queued last, the alert went out ahead of the acks still waiting (at most a window's worth was in Paho then, and
  // whatever the broker had already acknowledged).
  CHECK(alert_at < kAcks / 2);
  // Acks keep their own order among themselves (a station's acks must not arrive out of order).
  std::string last;
  for (const auto& m : received) {
    if (m.topic == kAlert) continue;
    CHECK(m.topic > last);
    last = m.topic;
  }
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_dropped") == 0);
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_refused") == 0);
}

TEST_CASE("mqtt link: what is published while the broker is away arrives when it returns, in order", "[mqtt_link]") {
  Broker broker;
  // A persistent subscriber: the broker keeps its queue across the restart (and its own persistence file).
  {
    MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"), "officer-away", false);
    officer.Subscribe("kaoko/v1/tonhong/#");
  }
  Metrics metrics;
  auto o = Options(broker, "kaoko-link-away");
  o.max_inflight = 16;
  auto link = Connected(o, metrics);

  broker.Stop();
  REQUIRE(WaitFor([&] { return !link->connected(); }, 30s));
  constexpr int kAcks = 3000;
  for (int i = 0; i < kAcks; ++i) {
    link->Publish(AckTopic(i), R"({"stored":[[1,1]]})", false);
    if (i % 1000 == 0) link->Publish(kAlert, fmt::format(R"({{"version":{}}})", i / 1000), true);
  }
  CHECK(link->Outstanding() == kAcks + 3);
  CHECK(metrics.mqtt_out_in_client.load() <= 16);
  broker.Start();
  REQUIRE(WaitFor([&] { return link->connected(); }, 60s));
  REQUIRE(WaitFor([&] { return link->Outstanding() == 0; }, 60s));

  MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"), "officer-away", false);
  REQUIRE(officer.WaitForMessages(kAcks + 3, 60s));
  std::this_thread::sleep_for(300ms);
  const auto received = officer.Received();
  CHECK(received.size() == kAcks + 3);
  std::vector<std::string> alerts;
  std::set<std::string> acks;
  for (const auto& m : received) {
    if (m.topic == kAlert)
      alerts.push_back(m.payload);
    else
      acks.insert(m.topic);
  }
  CHECK(acks.size() == kAcks);
  // The village's alert states in the order they were decided: the retained one is the last.
  CHECK(alerts == std::vector<std::string>{R"({"version":0})", R"({"version":1})", R"({"version":2})"});
  MqttClient late(broker.url(), "officer-niran", broker.Password("officer-niran"));
  late.Subscribe(kAlert);
  REQUIRE(late.WaitForMessages(1, 10s));
  CHECK(late.Received().front().payload == R"({"version":2})");
}

TEST_CASE("mqtt link: a full outgoing queue drops new publishes and counts them", "[mqtt_link]") {
  Broker broker;
  broker.Stop();  // never reachable in this test
  Metrics metrics;
  auto o = Options(broker, "kaoko-link-full");
  o.max_inflight = 10;
  o.max_buffered = 100;
  MqttLink link(o, metrics, [](kaoko::server::Inbound) {});
  link.Start();
  for (int i = 0; i < 10; ++i) link.Publish(AckTopic(i), R"({"stored":[[1,1]]})", false);
  // Paho takes the window (it buffers before the first connection)…
  REQUIRE(WaitFor([&] { return metrics.mqtt_out_in_client.load() == 10; }, 5s));
  // …kaoko's queue the next 100; the rest is dropped.
  for (int i = 10; i < 150; ++i) link.Publish(AckTopic(i), R"({"stored":[[1,1]]})", false);
  CHECK(metrics.mqtt_out_in_client.load() == 10);
  CHECK(metrics.mqtt_out_queued.load() == 100);
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_dropped") == 40);
  CHECK(link.Outstanding() == 110);
  CHECK_FALSE(link.connected());
}

TEST_CASE("mqtt link: publishing on through a broker restart, the window never stays shut", "[mqtt_link]") {
  Broker broker;
  Metrics metrics;
  auto o = Options(broker, "kaoko-link-restart");
  o.max_inflight = 16;
  auto link = Connected(o, metrics);
  std::atomic<bool> done{false};
  std::atomic<int> published{0};
  std::thread core([&] {
    for (int i = 0; !done; ++i) {
      link->Publish(AckTopic(i % 5000), R"({"stored":[[1,1]]})", false);
      ++published;
      std::this_thread::sleep_for(200us);
    }
  });
  std::this_thread::sleep_for(1s);
  broker.Stop();
  std::this_thread::sleep_for(2s);
  broker.Start();
  REQUIRE(WaitFor([&] { return link->connected(); }, 60s));
  std::this_thread::sleep_for(1s);
  done = true;
  core.join();
  INFO("published " << published.load() << ", in Paho " << metrics.mqtt_out_in_client.load() << ", queued "
                    << metrics.mqtt_out_queued.load());
  // Everything published, before, during and after the restart, leaves kaoko's hands.
  CHECK(WaitFor([&] { return link->Outstanding() == 0; }, 60s));
}

TEST_CASE("mqtt link: a client damaged by the Paho fault is replaced, and nothing it held is lost", "[mqtt_link]") {
  Broker broker;
  // A persistent subscriber: the broker keeps its queue across the restart.
  {
    MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"), "officer-rebuild", false);
    officer.Subscribe("kaoko/v1/tonhong/#");
  }
  Metrics metrics;
  std::mutex in_mu;
  std::vector<std::string> inbound;  // what the link receives (the service's subscriptions)
  auto o = Options(broker, "kaoko-link-rebuild");
  o.max_inflight = 16;
  auto link = std::make_unique<MqttLink>(o, metrics, [&](kaoko::server::Inbound in) {
    std::lock_guard lock(in_mu);
    inbound.push_back(in.payload);
  });
  link->Start();
  REQUIRE(WaitFor([&] { return link->connected(); }, 15s));

  // The fault as it happens: the connection is gone with publishes in the client's hands (the window's 16), and
  // the client is damaged. The replacement never reconnects the old client: what it held must come from our copies.
  broker.Stop();
  REQUIRE(WaitFor([&] { return !link->connected(); }, 30s));
  constexpr int kAcks = 500;
  for (int i = 0; i < kAcks; ++i) link->Publish(AckTopic(i), R"({"stored":[[1,1]]})", false);
  REQUIRE(WaitFor([&] { return metrics.mqtt_out_in_client.load() == 16; }, 10s));
  link->SimulateClientFaultForTest();
  REQUIRE(WaitFor([&] { return metrics.Get("kaoko_mqtt_events_total", "client_rebuilt") == 1; }, 10s));
  CHECK(link->Outstanding() == kAcks);
  broker.Start();
  REQUIRE(WaitFor([&] { return link->connected(); }, 60s));
  link->Publish(kAlert, R"({"level":"watch"})", true);  // the new client publishes on
  REQUIRE(WaitFor([&] { return link->Outstanding() == 0; }, 60s));

  MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"), "officer-rebuild", false);
  REQUIRE(officer.WaitForMessages(kAcks + 1, 60s));
  std::this_thread::sleep_for(300ms);
  std::set<std::string> acks;
  int alerts = 0;
  for (const auto& m : officer.Received()) {
    if (m.topic == kAlert)
      ++alerts;
    else
      acks.insert(m.topic);
  }
  CHECK(acks.size() == kAcks);  // every one, the 16 the damaged client held included
  CHECK(alerts == 1);
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_dropped") == 0);

  // The new client took the same session and subscriptions: a station's reading still reaches the service.
  MqttClient station(broker.url(), "kaoko-bridge", broker.Password("kaoko-bridge"));
  station.Publish("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading",
                  R"({"seq":1,"ts":"2026-11-27T04:15:00Z","level_cm":120})");
  CHECK(WaitFor(
      [&] {
        std::lock_guard lock(in_mu);
        return !inbound.empty();
      },
      15s));
  link->Stop();
}

TEST_CASE("mqtt link: a publish the MQTT client never completed goes out again", "[mqtt_link]") {
  Broker broker;
  MqttClient officer(broker.url(), "officer-niran", broker.Password("officer-niran"));
  officer.Subscribe("kaoko/v1/tonhong/#");
  Metrics metrics;
  auto link = Connected(Options(broker, "kaoko-link-window"), metrics);
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_window_resync") == 0);

  // Counted as in Paho's hands for 31 s, but Paho holds no such publish: the window's safety net sends it again.
  link->SimulateLostPublishForTest(kAlert, R"({"level":"warning"})");
  CHECK(link->Outstanding() == 1);
  REQUIRE(officer.WaitForMessages(1, 15s));
  CHECK(officer.Received().front().topic == kAlert);
  CHECK(officer.Received().front().payload == R"({"level":"warning"})");
  REQUIRE(WaitFor([&] { return link->Outstanding() == 0; }, 10s));
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_window_resync") == 1);
  CHECK(metrics.mqtt_out_in_client.load() == 0);

  // A window that is merely slow is left alone: a publish completed recently is not sent twice.
  link->Publish(kAlert, R"({"level":"normal"})", true);
  REQUIRE(officer.WaitForMessages(2, 15s));
  std::this_thread::sleep_for(1s);
  CHECK(officer.Received().size() == 2);
  CHECK(metrics.Get("kaoko_mqtt_events_total", "publish_window_resync") == 1);
}
