// The HTTP API (Boost.Beast): routes of the contract's HTTP table over the core's snapshots and a read-only database
// connection, the people's logins and actions (docs/screens.md), the after-action reports, and the static pages of
// server/web. HttpApi turns a request into a response and knows nothing of sockets (http_api.cpp; its route table:
// router.cpp; one handler file a resource); HttpServer (listener.cpp + session.cpp, as in Beast's examples) carries
// requests to it on one io_context thread, and hands WebSocket upgrades of /api/v1/live to the LiveHub.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "kaoko/alerting/network.hpp"
#include "kaoko/common/metrics.hpp"
#include "kaoko/http/auth.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/live/live.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::delivery {
class Delivery;
}

namespace kaoko::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr std::size_t kMaxRequestBody = 64 * 1024;

// What /healthz reports: each dependency's problem, empty when fine.
struct Health {
  std::string broker;
  std::string database;
  std::string delivery;  // a gateway that is down: degraded, the core is still ok (docs/delivery.md)
};

// What the people's pages need beyond the API.
struct WebOptions {
  std::string web_root;     // static files (server/web); empty: none are served
  std::string mqtt_ws_url;  // the broker's MQTT-over-WebSockets URL the watcher page connects to (GET /api/v1/me)
  // kaoko's clock as the pages keep it (GET /api/v1/clock): how many of its seconds pass in a real one, whether it
  // is a rehearsal's, and whether the people's deadlines last their real durations (--rehearsal-human-time).
  double clock_rate = 1.0;
  bool rehearsal = false;
  bool human_real_time = true;
};

struct ApiContext;

class HttpApi {
 public:
  // `reader` is a read-only connection used only from the HTTP thread. Without `auth` nobody can log in, and every
  // state-changing endpoint answers 401.
  HttpApi(const alerting::Network& network, Core& core, Metrics& metrics, std::unique_ptr<store::Store> reader,
          std::function<Health()> health, std::unique_ptr<Auth> auth = nullptr, WebOptions web = {});
  ~HttpApi();

  // Answers one request from `client` (the peer's address, for login rate limits). Never throws: an unexpected
  // failure is a 500 with a JSON error. Not thread-safe (one HTTP thread owns it).
  Response Handle(const Request& request, const std::string& client = "");

  // For a WebSocket upgrade of /api/v1/live: what the request's session may see, or the refusal to send (401 without
  // a session, 403 from another site's page). Not thread-safe (the HTTP thread).
  std::variant<LiveFilter, Response> LiveUpgrade(const Request& request);

  // Routes answered before the API's own (a tier's: tier.hpp); nullopt from `routes` falls through. Set before the
  // server starts.
  void SetExtraRoutes(std::function<std::optional<Response>(const Request&)> routes) { extra_ = std::move(routes); }
  // The delivery room whose gateway callbacks (/api/v1/delivery/sms/…) this API answers; null: they answer 404.
  void SetDelivery(delivery::Delivery* delivery);

  // The public JSON of an incident as stored (for the live hub), or nullopt. Not thread-safe (the HTTP thread).
  std::optional<nlohmann::json> IncidentJson(std::int64_t id);

 private:
  std::unique_ptr<ApiContext> ctx_;  // what the handlers share (src/api.hpp)
  std::function<std::optional<Response>(const Request&)> extra_;
};

// Accepts connections on `endpoint` and serves them with `api`. Start() begins accepting; the io_context runs it.
class HttpServer {
 public:
  // `hub` (may be null: no live updates) takes the WebSocket upgrades of /api/v1/live.
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, HttpApi& api,
             LiveHub* hub = nullptr);
  void Start();
  unsigned short port() const;

 private:
  void Accept();
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HttpApi& api_;
  LiveHub* hub_;
};

// Decodes %XX and '+' in a query component; nullopt when malformed.
std::optional<std::string> UrlDecode(std::string_view text);

}  // namespace kaoko::server
