#include "kaoko/server/mqtt_link.hpp"

#include <fmt/format.h>

#include "kaoko/server/log.hpp"
#include "kaoko/server/wire.hpp"

namespace kaoko::server {

MqttLink::MqttLink(MqttOptions options, Metrics& metrics, std::function<void(Inbound)> on_message)
    : options_(std::move(options)), metrics_(metrics), on_message_(std::move(on_message)) {
  mqtt::create_options create(MQTTVERSION_3_1_1, options_.max_buffered);
  // Receipts and alerts decided while the broker is away wait in Paho's buffer instead of being refused.
  create.set_send_while_disconnected(true, true);
  client_ = std::make_unique<mqtt::async_client>(options_.url, options_.client_id, create, nullptr);
  client_->set_callback(*this);
}

MqttLink::~MqttLink() { Stop(); }

void MqttLink::Start() {
  connector_ = std::jthread([this](std::stop_token stop) {
    auto opts = mqtt::connect_options_builder()
                    .clean_session(false)
                    .user_name(options_.user)
                    .password(options_.password)
                    .keep_alive_interval(std::chrono::seconds(20))
                    .connect_timeout(std::chrono::seconds(5))
                    .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(16))
                    .max_inflight(options_.max_inflight)
                    .mqtt_version(MQTTVERSION_3_1_1)
                    .finalize();
    // Paho reconnects by itself only after a first success; until then we keep trying here.
    auto wait = std::chrono::milliseconds(250);
    while (!stop.stop_requested() && !stopping_) {
      try {
        client_->connect(opts)->wait();
        break;
      } catch (const mqtt::exception& e) {
        {
          std::lock_guard lock(problem_mu_);
          problem_ = fmt::format("cannot reach the broker at {}: {}", options_.url, e.what());
        }
        metrics_.Count("kaoko_mqtt_events_total", "connect_failed");
        if (log::ShouldLog("mqtt_connect_failed")) log::Warn("mqtt", "cannot connect to {}: {}", options_.url, e.what());
      }
      for (auto slept = std::chrono::milliseconds(0); slept < wait && !stop.stop_requested();
           slept += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      wait = std::min(wait * 2, std::chrono::milliseconds(5000));
    }
    // Watchdog: Paho's automatic reconnect has been seen to give up for good after a broker restart under load (the
    // service then never reconnected while stations kept their readings unacknowledged). If the link stays down
    // longer than Paho's longest retry interval, kick it ourselves; a kick while Paho is already connecting is refused
    // by Paho and harmless.
    auto last_kick = std::chrono::steady_clock::now();
    while (!stop.stop_requested() && !stopping_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (connected_) continue;
      auto now = std::chrono::steady_clock::now();
      auto down_for = now - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(lost_at_.load()));
      if (down_for < std::chrono::seconds(20) || now - last_kick < std::chrono::seconds(10)) continue;
      last_kick = now;
      metrics_.Count("kaoko_mqtt_events_total", "reconnect_kick");
      try {
        if (!client_->is_connected()) client_->reconnect();
        log::Warn("mqtt", "still disconnected after {} s: asked Paho to reconnect",
                  std::chrono::duration_cast<std::chrono::seconds>(down_for).count());
      } catch (const mqtt::exception& e) {
        // Paho refuses while it is already connecting; try a full connect when it keeps refusing.
        try {
          client_->connect(opts);
        } catch (const mqtt::exception&) {
        }
      }
    }
  });
}

void MqttLink::Stop() {
  if (stopping_.exchange(true)) return;
  if (connector_.joinable()) {
    connector_.request_stop();
    connector_.join();
  }
  try {
    if (client_->is_connected()) client_->disconnect(std::chrono::seconds(2))->wait_for(std::chrono::seconds(3));
  } catch (const mqtt::exception&) {
    // Already gone: nothing to do at shutdown.
  }
  connected_ = false;
}

std::string MqttLink::last_problem() const {
  std::lock_guard lock(problem_mu_);
  return problem_;
}

void MqttLink::Subscribe() {
  const std::string base = fmt::format("kaoko/v1/{}/+/", options_.tambon);
  auto filters = std::make_shared<mqtt::string_collection>();
  filters->push_back(base + "station/+/reading");
  filters->push_back(base + "station/+/status");
  filters->push_back(base + "report/+");
  filters->push_back(base + "decision/+");
  for (const auto& f : options_.extra_subscriptions) filters->push_back(f);
  mqtt::iasync_client::qos_collection qos(filters->size(), 1);
  try {
    client_->subscribe(filters, qos);
  } catch (const mqtt::exception& e) {
    log::Error("mqtt", "subscribe failed: {}", e.what());
  }
}

void MqttLink::connected(const std::string&) {
  connected_ = true;
  {
    std::lock_guard lock(problem_mu_);
    problem_.clear();
  }
  metrics_.Count("kaoko_mqtt_events_total", "connected");
  log::Info("mqtt", "connected to {} as {} (persistent session {})", options_.url, options_.user, options_.client_id);
  // The broker kept our subscriptions with the session; subscribing again is harmless and covers a lost session.
  Subscribe();
}

void MqttLink::connection_lost(const std::string& cause) {
  connected_ = false;
  lost_at_ = std::chrono::steady_clock::now().time_since_epoch().count();
  {
    std::lock_guard lock(problem_mu_);
    problem_ = fmt::format("lost the broker connection: {}", cause.empty() ? "no reason given" : cause);
  }
  metrics_.Count("kaoko_mqtt_events_total", "connection_lost");
  log::Warn("mqtt", "connection lost ({}); reconnecting", cause);
}

void MqttLink::message_arrived(mqtt::const_message_ptr msg) {
  on_message_(Inbound{msg->get_topic(), msg->get_payload_str(), std::chrono::steady_clock::now()});
}

void MqttLink::Publish(const std::string& topic, const std::string& payload, bool retained) {
  try {
    client_->publish(topic, payload.data(), payload.size(), 1, retained);
  } catch (const mqtt::exception& e) {
    metrics_.Count("kaoko_mqtt_events_total", "publish_refused");
    if (log::ShouldLog("publish_refused")) log::Error("mqtt", "publish to {} refused: {}", topic, e.what());
  }
}

}  // namespace kaoko::server
