// A real MQTT connection (Paho C++ async client) as a Transport. Paho's callbacks run on Paho's threads; they only
// push events (connected, lost, message) onto an EventQueue that the simulation loop drains on its own thread, so
// the firmware is never touched concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/sim/transport.hpp"

namespace mqtt {
class async_client;
}

namespace kaoko::sim {

struct LinkEvent {
  enum class Kind { kConnected, kLost, kMessage };
  Kind kind = Kind::kMessage;
  std::size_t link = 0;
  std::string topic;
  std::string payload;
};

// Thread-safe.
class EventQueue {
 public:
  void Push(LinkEvent e);
  std::vector<LinkEvent> Drain();

 private:
  std::mutex mu_;
  std::deque<LinkEvent> q_;
};

struct LinkOptions {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string client_id;
  std::string user;  // empty: anonymous
  std::string password;
  std::optional<std::pair<std::string, std::string>> will;  // topic, payload (retained, QoS 1)
  std::vector<std::string> subscriptions;                   // QoS 1, (re)made on every connect
  int max_buffered = 20000;                                 // Paho's own queue (STACK.md trap 2)
  int max_inflight = 100;
  std::size_t inflight_cap = 10000;  // Publish() refuses beyond this many unacknowledged publishes
  int keep_alive_s = 20;
};

class MqttLink : public Transport {
 public:
  // Creates the client; does not connect. Throws mqtt::exception on a malformed URI.
  MqttLink(std::size_t index, LinkOptions options, EventQueue& events);
  ~MqttLink() override;
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Starts connecting (non-blocking) with automatic reconnect after a loss. If the first attempt fails, call it
  // again later (RetryIfDue does). Thread-compatible: call from the owner's thread.
  void Connect();
  // Retries a failed first connect every `every`.
  void RetryIfDue(std::chrono::steady_clock::time_point now, std::chrono::milliseconds every);
  // Disconnects cleanly, waiting at most `timeout`. The broker does not send the Will after a clean disconnect.
  void Disconnect(std::chrono::milliseconds timeout);
  // The same in two halves, so that many links can disconnect at once: start, then wait for each.
  void BeginDisconnect(std::chrono::milliseconds timeout);
  void FinishDisconnect(std::chrono::milliseconds timeout);
  bool WantsConnection() const { return wanted_; }

  bool IsConnected() const override { return connected_.load(); }
  bool Publish(const std::string& topic, const std::string& payload, int qos, bool retained) override;

  std::size_t InFlight() const { return static_cast<std::size_t>(std::max<long>(0, inflight_.load())); }
  std::uint64_t PublishErrors() const { return publish_errors_.load(); }
  std::uint64_t Connects() const { return total_connects_.load(); }  // successful connects, reconnects included
  std::size_t Index() const { return index_; }

  class Callback;  // Paho callback and action listener (private; in mqtt_link.cpp)

 private:
  std::size_t index_;
  LinkOptions options_;
  EventQueue& events_;
  std::unique_ptr<mqtt::async_client> client_;
  std::unique_ptr<Callback> callback_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> connecting_{false};
  std::atomic<long> inflight_{0};
  std::atomic<std::uint64_t> publish_errors_{0};
  std::atomic<std::uint64_t> connects_{0};  // since the last Disconnect()
  std::atomic<std::uint64_t> total_connects_{0};
  bool wanted_ = false;
  std::chrono::steady_clock::time_point last_attempt_{};
  std::shared_ptr<void> pending_disconnect_;  // mqtt::token_ptr, kept opaque here
};

}  // namespace kaoko::sim
