// The service's MQTT connection (Paho C++): a persistent session (clean session off), QoS 1 subscriptions to the
// contract's inbound topics, reconnect with back-off (our own thread, never Paho's), and a Publisher for the core. Paho
// calls us on its own thread; message_arrived only hands the message to the core (Core::Enqueue) and returns, so Paho
// acknowledges it at once and the broker keeps streaming. Durability is end to end: a station keeps a reading until
// kaoko's ack.
//
// Outgoing publishes go through a window of our own (see Publish): Paho C keeps its queued commands and in-flight
// messages in linked lists that it scans for every new message id, so handing it tens of thousands of acks at once
// made each publish cost hundreds of microseconds (the profile is in docs/benchmarks.md). kaoko keeps the queue and
// hands Paho at most `max_inflight` messages at a time; everything but acks goes first.
#pragma once

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "kaoko/common/metrics.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/mqtt/publish_router.hpp"

namespace kaoko::server {

struct MqttOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id;  // stable across restarts: the broker keeps the session (and queues) under it
  std::string user = "kaoko";
  std::string password;
  std::string tambon;
  int max_buffered = 1'000'000;  // outgoing messages kaoko queues (broker away or slow) before it drops new ones
  int max_inflight = 128;        // messages handed to Paho and not yet acknowledged by the broker, at most
  std::vector<std::string> extra_subscriptions;  // QoS 1 filters beyond the contract's (a tier's: tier.hpp)
  bool subscribe = true;  // false: a link that only publishes (the service's second connection, for all but acks)
};

class MqttLink : public Publisher, private mqtt::callback {
 public:
  MqttLink(MqttOptions options, Metrics& metrics, std::function<void(Inbound)> on_message);
  ~MqttLink() override;

  // Starts connecting in the background and keeps trying until connected; never blocks. Not thread-safe.
  void Start();
  // Disconnects cleanly (the session stays at the broker). Not thread-safe.
  void Stop();
  // True while connected. Thread-safe.
  bool connected() const { return connected_; }
  std::string last_problem() const;

  // Queues a QoS 1 publish. Thread-safe; never blocks on the broker and never throws (a refusal is logged and
  // counted). Messages are handed to Paho in order, at most max_inflight at a time; acks (`…/ack`) wait behind
  // every other message (alerts, sirens, receipts, notifications), so an alert never queues behind a flood of acks.
  void Publish(const std::string& topic, const std::string& payload, bool retained) override;
  // Publishes queued and not yet acknowledged by the broker. Thread-safe.
  std::size_t Outstanding() const;

  // For tests only (tests/integration/mqtt_link_test.cpp): the two faults Rebuild and CheckWindow answer, which no
  // broker or network event causes on purpose. Thread-safe.
  // As after the Paho fault described at Rebuild: the connector replaces the client within about 250 ms.
  void SimulateClientFaultForTest() { rebuild_ = true; }
  // A publish counted as handed to Paho that Paho never got nor completed, its last completion 31 s ago: the
  // connector's CheckWindow finds it within about 250 ms.
  void SimulateLostPublishForTest(const std::string& topic, const std::string& payload);

 private:
  struct Outgoing {
    std::uint64_t seq = 0;  // publish order: what is handed to Paho again goes back in this order
    std::string topic;
    std::string payload;
    bool retained = false;
  };
  // Completes one publish handed to one Paho client (its PUBACK, or its failure) and refills the window. A listener
  // belongs to one client: completions of a retired client are ignored.
  class Completion : public mqtt::iaction_listener {
   public:
    Completion(MqttLink& link, std::uint64_t generation) : link_(link), generation_(generation) {}
    void on_success(const mqtt::token& tok) override;
    void on_failure(const mqtt::token& tok) override;

   private:
    MqttLink& link_;
    std::uint64_t generation_;
  };
  // The callback of a retired client: it forwards what the broker still delivers to it before its disconnect
  // completes. A retired client never connects again (Paho's automatic reconnect is off; only Connector connects).
  struct Inlet {
    std::mutex mu;
    std::function<void(Inbound)> on_message;  // empty once the link is destroyed
  };
  class Retired : public mqtt::callback {
   public:
    explicit Retired(std::shared_ptr<Inlet> inlet) : inlet_(std::move(inlet)) {}
    void message_arrived(mqtt::const_message_ptr msg) override;

   private:
    std::shared_ptr<Inlet> inlet_;
  };
  std::unique_ptr<mqtt::async_client> NewClient();
  // The connector thread: connects, reconnects after a loss, replaces a damaged client (Rebuild) and runs the
  // window's safety net (CheckWindow).
  void Connector(std::stop_token stop);
  // One connect attempt of client_, waited for (Paho's connect timeout bounds it); false when it failed.
  bool ConnectOnce(std::stop_token stop);
  // The pump thread: hands queued messages to Paho, in order, while the window has room. Only this thread publishes
  // into Paho (never Paho's own callback thread).
  void Pump(std::stop_token stop);
  void Completed(std::uint64_t generation, std::uint64_t seq, bool ok, int code);
  // Adds this link's change to /metrics' two gauges (out_mu_ held).
  void GaugesLocked();
  // Puts messages handed to Paho back at the front of their queues, in publish order (out_mu_ held).
  void RequeueLocked(std::vector<Outgoing> back);
  // Safety net, from Connector: a publish Paho no longer holds but never completed goes out again.
  void CheckWindow();
  // Paho C 1.3.11 (Debian 12) frees a QoS 1 message whose write fails as the connection drops while keeping it for
  // the resend: after the reconnect it sends garbage, the broker drops the connection, and so on for ever (seen in
  // tests/integration/mqtt_link_test.cpp). When a publish fails that way, the damaged client is retired (never
  // destroyed: Paho would free the message a second time) and a fresh one takes the same persistent session; what
  // the old one held goes out again from our copies.
  void Rebuild();

  void connected(const std::string& cause) override;
  void connection_lost(const std::string& cause) override;
  void message_arrived(mqtt::const_message_ptr msg) override;
  void Subscribe();

  MqttOptions options_;
  Metrics& metrics_;
  std::function<void(Inbound)> on_message_;
  mqtt::connect_options connect_opts_;
  std::shared_mutex client_mu_;  // exclusive only while Rebuild swaps client_
  std::unique_ptr<mqtt::async_client> client_;
  std::shared_ptr<Inlet> inlet_ = std::make_shared<Inlet>();
  std::atomic<bool> rebuild_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::jthread connector_;
  mutable std::mutex out_mu_;
  std::uint64_t generation_ = 0;            // the current client's (out_mu_)
  std::unique_ptr<Completion> completion_;  // the current client's listener
  std::vector<std::unique_ptr<Completion>> retired_completions_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t gauge_queued_ = 0, gauge_in_client_ = 0;  // this link's share of the gauges (out_mu_)
  std::deque<Outgoing> urgent_;                           // everything but acks, in order
  std::deque<Outgoing> acks_;                             // acks, in order
  std::map<std::uint64_t, Outgoing> in_client_;           // handed to Paho and not yet completed, by seq
  std::chrono::steady_clock::time_point last_completion_ = std::chrono::steady_clock::now();
  std::condition_variable_any out_cv_;  // room in the window, or something queued
  std::jthread pumper_;
  mutable std::mutex problem_mu_;
  std::string problem_ = "not connected yet";
};

}  // namespace kaoko::server
