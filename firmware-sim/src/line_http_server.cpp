// The listener and the per-connection session of kaoko-line's two HTTP servers (line_http_server.hpp), as C++20
// coroutines over Beast. One session template serves both TLS and plain streams.
#include "kaoko/sim/line_http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cctype>
#include <cstdio>

namespace kaoko::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Handler = LineHttpServer::Handler;

constexpr auto kIdleTimeout = std::chrono::seconds(60);
// A hung answer is held this long at most, then the connection is dropped without an answer.
constexpr auto kHangFor = std::chrono::minutes(10);

LineRequest ToLineRequest(const http::request<http::string_body>& req) {
  LineRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = req.body();
  return out;
}

http::response<http::string_body> ToResponse(const LineReply& reply, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "kaoko-line");
  res.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : reply.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = reply.body;
  res.prepare_payload();
  return res;
}

template <typename Stream>
asio::awaitable<void> Serve(Stream stream, std::shared_ptr<Handler> handler) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed, timed out or garbage: the client is gone or no HTTP client
    LineReply reply = (*handler)(ToLineRequest(req));
    if (reply.hang || reply.delay.count() > 0) {
      beast::get_lowest_layer(stream).expires_never();
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(reply.hang ? std::chrono::duration_cast<std::chrono::milliseconds>(kHangFor) : reply.delay);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (reply.hang) break;
    }
    bool keep_alive = req.keep_alive();
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    co_await http::async_write(stream, ToResponse(reply, req.version(), keep_alive),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  } else {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

asio::awaitable<void> ServeTls(tcp::socket socket, asio::ssl::context& tls, std::shared_ptr<Handler> handler) {
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;  // a client that does not speak TLS, or does not trust us
  co_await Serve(std::move(stream), std::move(handler));
}

}  // namespace

LineHttpServer::LineHttpServer(asio::io_context& io, unsigned short port, asio::ssl::context* tls, Handler handler)
    : io_(io), acceptor_(io), tls_(tls), handler_(std::make_shared<Handler>(std::move(handler))) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void LineHttpServer::Start() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          beast::error_code ec;
          tcp::socket socket =
              co_await acceptor_.async_accept(asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
          if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
          if (ec) continue;  // a connection that failed before it was accepted: the next one may not
          // Each connection runs on its own strand (the socket's executor), so a slow or hung answer holds only it.
          auto executor = socket.get_executor();
          if (tls_ != nullptr) {
            asio::co_spawn(executor, ServeTls(std::move(socket), *tls_, handler_), asio::detached);
          } else {
            asio::co_spawn(executor, Serve(beast::tcp_stream(std::move(socket)), handler_), asio::detached);
          }
        }
      },
      asio::detached);
}

void LineHttpServer::Stop() {
  beast::error_code ec;
  acceptor_.close(ec);
}

}  // namespace kaoko::sim
