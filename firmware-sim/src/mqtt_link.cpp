#include "kaoko/sim/mqtt_link.hpp"

#include <mqtt/async_client.h>

namespace kaoko::sim {

void EventQueue::Push(LinkEvent e) {
  std::lock_guard lock(mu_);
  q_.push_back(std::move(e));
}

std::vector<LinkEvent> EventQueue::Drain() {
  std::lock_guard lock(mu_);
  std::vector<LinkEvent> out(std::make_move_iterator(q_.begin()), std::make_move_iterator(q_.end()));
  q_.clear();
  return out;
}

// Runs on Paho's threads: only atomics and the event queue.
class MqttLink::Callback : public virtual mqtt::callback, public virtual mqtt::iaction_listener {
 public:
  explicit Callback(MqttLink& link) : link_(link) {}

  void connected(const std::string&) override {
    link_.connecting_ = false;
    link_.inflight_ = 0;  // a clean session starts with nothing in flight
    ++link_.connects_;
    ++link_.total_connects_;
    // Subscribing here is allowed by Paho; it must happen before any ack can be missed.
    for (const auto& topic : link_.options_.subscriptions) {
      try {
        link_.client_->subscribe(topic, 1);
      } catch (const mqtt::exception&) {}
    }
    link_.connected_ = true;
    link_.events_.Push({LinkEvent::Kind::kConnected, link_.index_, {}, {}});
  }
  void connection_lost(const std::string&) override {
    link_.connected_ = false;
    link_.inflight_ = 0;
    link_.events_.Push({LinkEvent::Kind::kLost, link_.index_, {}, {}});
  }
  void message_arrived(mqtt::const_message_ptr msg) override {
    link_.events_.Push({LinkEvent::Kind::kMessage, link_.index_, msg->get_topic(), msg->to_string()});
  }
  void delivery_complete(mqtt::delivery_token_ptr) override {
    if (link_.inflight_.fetch_sub(1) <= 0) link_.inflight_ = 0;
  }
  // The connect action: on failure the owner retries (Paho's automatic reconnect only covers later losses).
  void on_failure(const mqtt::token&) override { link_.connecting_ = false; }
  void on_success(const mqtt::token&) override {}

 private:
  MqttLink& link_;
};

MqttLink::MqttLink(std::size_t index, LinkOptions options, EventQueue& events)
    : index_(index), options_(std::move(options)), events_(events) {
  client_ = std::make_unique<mqtt::async_client>(options_.uri, options_.client_id,
                                                 mqtt::create_options(MQTTVERSION_3_1_1, options_.max_buffered));
  callback_ = std::make_unique<Callback>(*this);
  client_->set_callback(*callback_);
}

MqttLink::~MqttLink() {
  try {
    client_->disable_callbacks();
    if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::milliseconds(500));
    // Paho C++ 1.2.0 crashes (SIGSEGV in async_client::remove_token, from token::on_failure inside MQTTAsync_destroy)
    // when a client is destroyed with publishes still queued, as after a reconnect storm (tests/faults). Links only
    // go at exit: leave such a client to the operating system rather than crash with every reading acked.
    if (!client_->get_pending_delivery_tokens().empty()) (void)client_.release();
  } catch (const mqtt::exception&) {}
}

void MqttLink::Connect() {
  wanted_ = true;
  if (connected_ || connecting_) return;
  auto builder = mqtt::connect_options_builder()
                     .clean_session(true)
                     .keep_alive_interval(std::chrono::seconds(options_.keep_alive_s))
                     .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(8))
                     .connect_timeout(std::chrono::seconds(5))
                     .max_inflight(options_.max_inflight);
  if (!options_.user.empty()) builder.user_name(options_.user).password(options_.password);
  if (options_.will) {
    builder.will(mqtt::message(options_.will->first, options_.will->second, 1, true));
  }
  connecting_ = true;
  last_attempt_ = std::chrono::steady_clock::now();
  try {
    client_->connect(builder.finalize(), nullptr, *callback_);
  } catch (const mqtt::exception&) {
    connecting_ = false;
  }
}

void MqttLink::RetryIfDue(std::chrono::steady_clock::time_point now, std::chrono::milliseconds every) {
  if (!wanted_ || connected_ || connecting_ || now - last_attempt_ < every) return;
  // After a first successful connect Paho reconnects by itself; is_connected() false with no attempt pending
  // means the first connect failed (or the automatic reconnect is in progress, which a second call leaves alone).
  if (connects_ > 0) return;
  Connect();
}

void MqttLink::Disconnect(std::chrono::milliseconds timeout) {
  wanted_ = false;
  try {
    if (client_->is_connected())
      client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
    else if (connects_ > 0 || connecting_)
      client_->disconnect(0)->wait_for(timeout);
  } catch (const mqtt::exception&) {}
  connected_ = false;
  connecting_ = false;
  connects_ = 0;  // a later Connect() starts over (RetryIfDue); the total stays
}

void MqttLink::BeginDisconnect(std::chrono::milliseconds timeout) {
  wanted_ = false;
  try {
    if (client_->is_connected() || connects_ > 0 || connecting_) {
      pending_disconnect_ = client_->disconnect(static_cast<int>(timeout.count()));
    }
  } catch (const mqtt::exception&) {}
}

void MqttLink::FinishDisconnect(std::chrono::milliseconds timeout) {
  if (auto tok = std::static_pointer_cast<mqtt::token>(pending_disconnect_)) {
    try {
      tok->wait_for(timeout);
    } catch (const mqtt::exception&) {}
  }
  pending_disconnect_.reset();
  connected_ = false;
  connecting_ = false;
  connects_ = 0;
}

bool MqttLink::Publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  if (!connected_ || InFlight() >= options_.inflight_cap) return false;
  try {
    client_->publish(topic, payload.data(), payload.size(), qos, retained);
    if (qos > 0) ++inflight_;
    return true;
  } catch (const mqtt::exception&) {
    ++publish_errors_;
    return false;
  }
}

}  // namespace kaoko::sim
