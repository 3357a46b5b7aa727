// The stand-in for LINE's Messaging API: an HTTP/1.1 server on a loopback port, over TLS (the API side, as LINE's
// api.line.me) or plain (the control side). Each request becomes a LineRequest for a handler, whose LineReply is
// sent back, held back (`delay`) or never sent (`hang`). After Beast's async servers: a listener, and a session per
// connection on its own strand.
//
//   LineHttpServer api(io, 0, &tls, [&](const LineRequest& r) { return Route(r); });
//   api.Start();  // api.port() is the port the system chose
//
// Not thread-safe: construct, Start and Stop on the thread that runs `io`, or before it runs.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "kaoko/sim/line_types.hpp"

namespace kaoko::sim {

class LineHttpServer {
 public:
  using Handler = std::function<LineReply(const LineRequest&)>;

  // Binds 127.0.0.1:port (0: any free port). `tls` null: plain HTTP. `tls` must outlive the server.
  // Throws boost::system::system_error when the port cannot be bound.
  LineHttpServer(boost::asio::io_context& io, unsigned short port, boost::asio::ssl::context* tls, Handler handler);

  [[nodiscard]] unsigned short port() const { return port_; }
  void Start();
  // Stops accepting; sessions end with the io_context.
  void Stop();

 private:
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ssl::context* tls_;
  std::shared_ptr<Handler> handler_;
  unsigned short port_ = 0;
};

}  // namespace kaoko::sim
