// The service's MQTT connection (Paho C++): a persistent session (clean session off), QoS 1 subscriptions to the
// contract's inbound topics, automatic reconnect, and a Publisher for the core. Paho calls us on its own thread;
// message_arrived only hands the message to the core (Core::Enqueue) and returns, so Paho acknowledges it at once
// and the broker keeps streaming. Durability is end to end: a station keeps a reading until kaoko's ack.
#pragma once

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kaoko/server/core.hpp"
#include "kaoko/server/metrics.hpp"

namespace kaoko::server {

struct MqttOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id;  // stable across restarts: the broker keeps the session (and queues) under it
  std::string user = "kaoko";
  std::string password;
  std::string tambon;
  int max_buffered = 1'000'000;  // outgoing messages queued inside Paho while the broker is away (STACK trap 2)
  int max_inflight = 1000;
  std::vector<std::string> extra_subscriptions;  // QoS 1 filters beyond the contract's (a tier's: tier.hpp)
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

  // Queues a QoS 1 publish. Thread-safe; never throws (a refusal is logged and counted).
  void Publish(const std::string& topic, const std::string& payload, bool retained) override;

 private:
  void connected(const std::string& cause) override;
  void connection_lost(const std::string& cause) override;
  void message_arrived(mqtt::const_message_ptr msg) override;
  void Subscribe();

  MqttOptions options_;
  Metrics& metrics_;
  std::function<void(Inbound)> on_message_;
  std::unique_ptr<mqtt::async_client> client_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::chrono::steady_clock::rep> lost_at_{0};  // when the link last dropped (steady clock ticks)
  std::jthread connector_;
  mutable std::mutex problem_mu_;
  std::string problem_ = "not connected yet";
};

}  // namespace kaoko::server
