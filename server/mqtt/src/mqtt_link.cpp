#include "kaoko/mqtt/mqtt_link.hpp"

#include <fmt/format.h>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/wire.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

namespace kaoko::server {

MqttLink::MqttLink(MqttOptions options, Metrics& metrics, std::function<void(Inbound)> on_message)
    : options_(std::move(options)), metrics_(metrics), on_message_(std::move(on_message)) {
  connect_opts_ = mqtt::connect_options_builder()
                      .clean_session(false)
                      .user_name(options_.user)
                      .password(options_.password)
                      .keep_alive_interval(std::chrono::seconds(20))
                      .connect_timeout(std::chrono::seconds(5))
                      .automatic_reconnect(false)  // MqttLink::Connector reconnects
                      .max_inflight(options_.max_inflight)
                      .mqtt_version(MQTTVERSION_3_1_1)
                      .finalize();
  completion_ = std::make_unique<Completion>(*this, generation_);
  inlet_->on_message = on_message_;
  client_ = NewClient();
}

std::unique_ptr<mqtt::async_client> MqttLink::NewClient() {
  mqtt::create_options create(MQTTVERSION_3_1_1, options_.max_buffered);
  // What is handed over while the broker is away waits in Paho's buffer instead of being refused.
  create.set_send_while_disconnected(true, true);
  auto client = std::make_unique<mqtt::async_client>(options_.url, options_.client_id, create, nullptr);
  client->set_callback(*this);
  return client;
}

MqttLink::~MqttLink() {
  Stop();
  {
    std::lock_guard lock(out_mu_);  // what is left goes with this link: its share of the gauges too
    metrics_.mqtt_out_queued -= gauge_queued_;
    metrics_.mqtt_out_in_client -= gauge_in_client_;
    gauge_queued_ = gauge_in_client_ = 0;
  }
  {
    std::lock_guard lock(inlet_->mu);
    inlet_->on_message = nullptr;  // retired clients outlive us
  }
  // Before the queues and the listener it calls. A client damaged by the Paho fault Rebuild works around is not
  // destroyed (Paho would free its damaged message a second time): it is left to the process's exit.
  if (rebuild_) {
    client_->disable_callbacks();
    (void)client_.release();
  }
  client_.reset();
}

void MqttLink::Start() {
  pumper_ = std::jthread([this](std::stop_token stop) { Pump(stop); });
  connector_ = std::jthread([this](std::stop_token stop) { Connector(stop); });
}

// The only place the service's client connects: Paho's automatic reconnect is off, because a client Paho has damaged
// (see Rebuild) must never connect again. Back-off: 250 ms doubling to 5 s before the first success; after a loss,
// 1 s doubling to 16 s. Never gives up.
void MqttLink::Connector(std::stop_token stop) {
  using std::chrono::milliseconds;
  auto backoff = milliseconds(250);
  auto next_attempt = std::chrono::steady_clock::now();
  auto longest = milliseconds(5000);
  auto nap = [&](milliseconds d) {
    for (auto slept = milliseconds(0); slept < d && !stop.stop_requested(); slept += milliseconds(50)) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  while (!stop.stop_requested() && !stopping_) {
    if (rebuild_) {
      Rebuild();
      next_attempt = std::chrono::steady_clock::now();
      continue;
    }
    if (connected_) {
      CheckWindow();
      nap(milliseconds(250));
      // A loss waits a second before the first attempt: by then a publish that failed as the connection dropped has
      // been reported (its failure comes before the loss), so a damaged client is replaced, never reconnected.
      backoff = milliseconds(1000);
      longest = milliseconds(16000);
      next_attempt = std::chrono::steady_clock::now() + backoff;
      continue;
    }
    if (std::chrono::steady_clock::now() < next_attempt || client_->is_connected()) {
      nap(milliseconds(50));
      continue;
    }
    if (!ConnectOnce(stop)) backoff = std::min(backoff * 2, longest);
    next_attempt = std::chrono::steady_clock::now() + backoff;
  }
}

bool MqttLink::ConnectOnce(std::stop_token stop) {
  try {
    auto tok = client_->connect(connect_opts_);
    while (!tok->wait_for(std::chrono::milliseconds(100))) {
      if (stop.stop_requested() || stopping_) return false;  // Stop disconnects whatever this attempt becomes
    }
    return true;
  } catch (const mqtt::exception& e) {
    {
      std::lock_guard lock(problem_mu_);
      problem_ = fmt::format("cannot reach the broker at {}: {}", options_.url, e.what());
    }
    metrics_.Count("kaoko_mqtt_events_total", "connect_failed");
    if (log::ShouldLog("mqtt_connect_failed")) log::Warn("mqtt", "cannot connect to {}: {}", options_.url, e.what());
    return false;
  }
}

void MqttLink::Stop() {
  if (stopping_.exchange(true)) return;
  if (connector_.joinable()) {
    connector_.request_stop();
    connector_.join();
  }
  // Give what is queued (the last acks and alerts) a moment to reach the broker; what does not is re-sent by the
  // stations (no ack) or re-published at the next start (alert and siren states are retained from the database).
  for (int i = 0; i < 40 && connected_ && Outstanding() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (pumper_.joinable()) {
    pumper_.request_stop();
    pumper_.join();
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
  filters->push_back(base + "device/+/sounded");
  for (const auto& f : options_.extra_subscriptions) filters->push_back(f);
  mqtt::iasync_client::qos_collection qos(filters->size(), 1);
  // Called on Paho's thread: while Rebuild swaps the client, this is the retired one connecting; never wait here.
  std::shared_lock client_lock(client_mu_, std::try_to_lock);
  if (!client_lock.owns_lock()) return;
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
  if (options_.subscribe) Subscribe();
}

void MqttLink::connection_lost(const std::string& cause) {
  connected_ = false;
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

namespace {
// Clients retired by MqttLink::Rebuild live until the process exits (a global root, so that the leak checker sees
// them as reachable, which they are: Paho's own list of clients holds them too).
void Retire(mqtt::async_client* client) {
  static std::mutex mu;
  static auto* clients = new std::vector<mqtt::async_client*>;
  std::lock_guard lock(mu);
  clients->push_back(client);
}

bool IsAck(const std::string& topic) { return IsAckTopic(topic); }
}  // namespace

void MqttLink::Publish(const std::string& topic, const std::string& payload, bool retained) {
  bool wake = false;
  {
    std::lock_guard lock(out_mu_);
    if (urgent_.size() + acks_.size() >= static_cast<std::size_t>(options_.max_buffered)) {
      metrics_.Count("kaoko_mqtt_events_total", "publish_dropped");
      if (log::ShouldLog("publish_dropped"))
        log::Error("mqtt", "outgoing queue full ({} messages, broker away or too slow): dropped the publish to {}",
                   options_.max_buffered, topic);
      return;
    }
    (IsAck(topic) ? acks_ : urgent_).push_back(Outgoing{next_seq_++, topic, payload, retained});
    GaugesLocked();
    wake = in_client_.size() < static_cast<std::size_t>(options_.max_inflight);
  }
  if (wake) out_cv_.notify_one();
}

void MqttLink::SimulateLostPublishForTest(const std::string& topic, const std::string& payload) {
  std::lock_guard lock(out_mu_);
  const std::uint64_t seq = next_seq_++;
  in_client_.emplace(seq, Outgoing{seq, topic, payload, false});
  last_completion_ = std::chrono::steady_clock::now() - std::chrono::seconds(31);
  GaugesLocked();
}

std::size_t MqttLink::Outstanding() const {
  std::lock_guard lock(out_mu_);
  return urgent_.size() + acks_.size() + in_client_.size();
}

void MqttLink::Pump(std::stop_token stop) {
  std::unique_lock lock(out_mu_);
  while (!stop.stop_requested()) {
    out_cv_.wait(lock, stop, [&] {
      return !rebuild_ && in_client_.size() < static_cast<std::size_t>(options_.max_inflight) &&
             !(urgent_.empty() && acks_.empty());
    });
    if (stop.stop_requested()) break;
    auto& q = urgent_.empty() ? acks_ : urgent_;
    const Outgoing& out = in_client_.emplace(q.front().seq, std::move(q.front())).first->second;
    q.pop_front();
    const std::uint64_t seq = out.seq;
    auto msg = mqtt::make_message(out.topic, out.payload, 1, out.retained);
    Completion* listener = completion_.get();
    GaugesLocked();
    lock.unlock();
    std::string refused;
    {
      std::shared_lock client_lock(client_mu_);
      try {
        // The seq rides as the token's user context: Completed finds our copy by it.
        client_->publish(msg, reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq)), *listener);
      } catch (const mqtt::exception& e) {
        refused = e.what();
      }
    }
    lock.lock();
    if (!refused.empty()) {
      in_client_.erase(seq);
      GaugesLocked();
      metrics_.Count("kaoko_mqtt_events_total", "publish_refused");
      if (log::ShouldLog("publish_refused")) log::Error("mqtt", "publish to {} refused: {}", msg->get_topic(), refused);
    }
  }
}

void MqttLink::Completion::on_success(const mqtt::token& tok) {
  link_.Completed(generation_, reinterpret_cast<std::uintptr_t>(tok.get_user_context()), true, 0);
}
void MqttLink::Completion::on_failure(const mqtt::token& tok) {
  link_.Completed(generation_, reinterpret_cast<std::uintptr_t>(tok.get_user_context()), false, tok.get_return_code());
}

void MqttLink::GaugesLocked() {
  // The gauges are the sum over the service's links: each adds the change in its own share.
  const std::uint64_t queued = urgent_.size() + acks_.size();
  const std::uint64_t in_client = in_client_.size();
  metrics_.mqtt_out_queued += queued - gauge_queued_;
  metrics_.mqtt_out_in_client += in_client - gauge_in_client_;
  gauge_queued_ = queued;
  gauge_in_client_ = in_client;
}

void MqttLink::RequeueLocked(std::vector<Outgoing> back) {
  std::sort(back.begin(), back.end(), [](const Outgoing& a, const Outgoing& b) { return a.seq > b.seq; });
  // What went to Paho left the front of its queue, so it goes back to the front, oldest first.
  for (auto& o : back) (IsAck(o.topic) ? acks_ : urgent_).push_front(std::move(o));
  GaugesLocked();
}

// On Paho's own thread: never call Paho from here (the pump thread does).
void MqttLink::Completed(std::uint64_t generation, std::uint64_t seq, bool ok, int code) {
  {
    std::lock_guard lock(out_mu_);
    if (generation != generation_) return;  // a retired client's: Rebuild already put its messages back
    auto it = in_client_.find(seq);
    if (it == in_client_.end()) return;
    last_completion_ = std::chrono::steady_clock::now();
    if (ok) {
      in_client_.erase(it);
      GaugesLocked();
    } else {
      // Nothing is given up: the message goes out again.
      std::vector<Outgoing> back;
      back.push_back(std::move(it->second));
      in_client_.erase(it);
      RequeueLocked(std::move(back));
      if (code == MQTTASYNC_FAILURE) rebuild_ = true;  // the Paho fault described at Rebuild
    }
  }
  out_cv_.notify_one();
  if (!ok) {
    metrics_.Count("kaoko_mqtt_events_total", "publish_failed");
    if (log::ShouldLog("publish_failed"))
      log::Warn("mqtt", "a publish failed in the MQTT client (code {}); it will be sent again", code);
  }
}

void MqttLink::CheckWindow() {
  {
    std::lock_guard lock(out_mu_);
    if (in_client_.empty() || std::chrono::steady_clock::now() - last_completion_ < std::chrono::seconds(30)) return;
  }
  // Asked outside out_mu_: Paho takes its own lock here, and may hold it while it calls Completed.
  std::set<std::uint64_t> held;
  for (const auto& tok : client_->get_pending_delivery_tokens()) {
    held.insert(reinterpret_cast<std::uintptr_t>(tok->get_user_context()));
  }
  {
    std::lock_guard lock(out_mu_);
    std::vector<Outgoing> back;
    for (auto it = in_client_.begin(); it != in_client_.end();) {
      if (held.count(it->first)) {
        ++it;
        continue;
      }
      back.push_back(std::move(it->second));
      it = in_client_.erase(it);
    }
    if (!back.empty()) {
      log::Warn("mqtt", "{} publishes were never completed by the MQTT client: sending them again", back.size());
      metrics_.Count("kaoko_mqtt_events_total", "publish_window_resync");
      RequeueLocked(std::move(back));
    }
    last_completion_ = std::chrono::steady_clock::now();
  }
  out_cv_.notify_one();
}

void MqttLink::Retired::message_arrived(mqtt::const_message_ptr msg) {
  std::lock_guard lock(inlet_->mu);
  if (inlet_->on_message) {
    inlet_->on_message(Inbound{msg->get_topic(), msg->get_payload_str(), std::chrono::steady_clock::now()});
  }
}

void MqttLink::Rebuild() {
  log::Warn("mqtt",
            "the MQTT client lost a message as the connection dropped (Paho C fault): replacing the client, "
            "same persistent session; what it held is sent again");
  metrics_.Count("kaoko_mqtt_events_total", "client_rebuilt");
  {
    std::unique_lock client_lock(client_mu_);  // the pump is not inside Paho while the client is swapped
    mqtt::async_client* old = client_.release();
    old->set_callback(*new Retired(inlet_));  // leaked with the client it serves
    try {
      old->disconnect();  // still connected when the failure came without a loss; never asked to connect again
    } catch (const mqtt::exception&) {
      // Not connected (the usual case): it stays so, since only Connector connects, and only client_.
    }
    Retire(old);
    {
      std::lock_guard lock(out_mu_);
      ++generation_;
      retired_completions_.push_back(std::move(completion_));
      completion_ = std::make_unique<Completion>(*this, generation_);
      std::vector<Outgoing> back;
      for (auto& [seq, o] : in_client_) back.push_back(std::move(o));
      in_client_.clear();
      RequeueLocked(std::move(back));
      rebuild_ = false;
    }
    connected_ = false;
    client_ = NewClient();
  }
  out_cv_.notify_one();  // Connector connects the new client next
}

}  // namespace kaoko::server
