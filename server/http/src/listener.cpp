// HttpServer: the listener (after Beast's examples) that accepts connections and gives each its own strand and
// HTTP session (session.cpp).
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>

#include "kaoko/common/log.hpp"
#include "kaoko/http/http.hpp"
#include "session.hpp"

namespace kaoko::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpApi& api, LiveHub* hub)
    : io_(io), acceptor_(asio::make_strand(io)), api_(api), hub_(hub) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

unsigned short HttpServer::port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::Start() { Accept(); }

void HttpServer::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      if (log::ShouldLog("http_accept")) log::Warn("http", "accept failed: {}", ec.message());
    } else {
      ServeConnection(std::move(socket), api_, hub_);
    }
    Accept();
  });
}

}  // namespace kaoko::server
