// Live updates for the open screens: a broadcast hub and one WebSocket session per browser (after Beast's
// example/websocket/server/chat-multi: one shared state, a session per client with its own strand and send queue).
// The core calls its observer after each commit; the service posts the events to the io_context, where
// LiveHub::Broadcast filters them per session by the village and user each event names (a person sees their
// village's events and their own notifications; a TAO officer sees everything) and queues one text frame per
// session: {"events":[{"data":{…},"type":…},…]}, joined from each event's rendered text (never parsed again).
// A client that falls more than kMaxQueuedFrames behind is dropped rather than allowed to hold memory or block.
//
// Thread safety: LiveHub is used only from the io_context's thread (post to it from elsewhere), except Listening.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "kaoko/alerting/network.hpp"
#include "kaoko/common/metrics.hpp"
#include "kaoko/ingest/core.hpp"

namespace kaoko::server {

// What one session may see.
struct LiveFilter {
  std::string user;
  std::string village;  // empty with all = true
  bool all = false;     // a TAO officer
};

class LiveSession;

class LiveHub {
 public:
  static constexpr std::size_t kMaxQueuedFrames = 64;

  // `incident_json` gives the public JSON of an incident (read from the database after the commit), or nullopt. The
  // count of sessions is kept in `metrics.live_sessions` (/metrics: kaoko_live_sessions). The events say whose they
  // are, so `network` is not consulted.
  LiveHub(const alerting::Network& network, std::function<std::optional<nlohmann::json>(std::int64_t)> incident_json,
          Metrics& metrics);

  // Sends what each session may see of `events`. Call on the io_context's thread.
  void Broadcast(const std::vector<LiveEvent>& events);
  // Whether any screen is connected. Thread-safe: the core asks it before it builds a batch's events.
  bool Listening() const { return metrics_.live_sessions.load(std::memory_order_relaxed) > 0; }

  // Takes over an upgraded connection: accepts the WebSocket handshake of `request` and joins the hub.
  void Accept(boost::asio::ip::tcp::socket socket, boost::beast::http::request<boost::beast::http::string_body> request,
              LiveFilter filter);

 private:
  friend class LiveSession;
  void Join(LiveSession* session) {
    sessions_.insert(session);
    metrics_.live_sessions.store(sessions_.size(), std::memory_order_relaxed);
  }
  void Leave(LiveSession* session) {
    sessions_.erase(session);
    metrics_.live_sessions.store(sessions_.size(), std::memory_order_relaxed);
  }

  std::function<std::optional<nlohmann::json>(std::int64_t)> incident_json_;
  std::unordered_set<LiveSession*> sessions_;
  Metrics& metrics_;  // live_sessions = sessions_.size(), for other threads and /metrics
};

}  // namespace kaoko::server
