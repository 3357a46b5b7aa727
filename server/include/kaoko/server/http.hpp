// The HTTP API (Boost.Beast): routes of the contract's HTTP table over the core's snapshots and a read-only database
// connection. HttpApi turns a request into a response and knows nothing of sockets; HttpServer (listener +
// http_session, as in Beast's examples) carries requests to it on one io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <string>

#include "kaoko/alerting/network.hpp"
#include "kaoko/server/core.hpp"
#include "kaoko/server/metrics.hpp"
#include "kaoko/server/store.hpp"

namespace kaoko::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr std::size_t kMaxRequestBody = 64 * 1024;

// What /healthz reports: each dependency's problem, empty when fine.
struct Health {
  std::string broker;
  std::string database;
};

class HttpApi {
 public:
  // `reader` is a read-only connection used only from the HTTP thread.
  HttpApi(const alerting::Network& network, Core& core, Metrics& metrics, std::unique_ptr<store::Store> reader,
          std::function<Health()> health);

  // Answers one request. Never throws: an unexpected failure is a 500 with a JSON error. Not thread-safe (one HTTP
  // thread owns it).
  Response Handle(const Request& request);

 private:
  Response Route(const Request& request);
  const alerting::Network& network_;
  Core& core_;
  Metrics& metrics_;
  std::unique_ptr<store::Store> reader_;
  std::function<Health()> health_;
};

// Accepts connections on `endpoint` and serves them with `api`. Start() begins accepting; the io_context runs it.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, HttpApi& api);
  void Start();
  unsigned short port() const;

 private:
  void Accept();
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HttpApi& api_;
};

// Decodes %XX and '+' in a query component; nullopt when malformed.
std::optional<std::string> UrlDecode(std::string_view text);

}  // namespace kaoko::server
