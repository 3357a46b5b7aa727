// kaoko-smsc's SMPP 3.4 server: accepts ESMEs (Kannel's bearerbox) on a loopback port, checks their bind, answers
// submit_sm from the simulated Network, and sends the receipts and replies that fall due as deliver_sm to a bound
// receiver (or transceiver). One io_context thread runs everything: the Network and libsmpp34 are not thread-safe.
//
//   boost::asio::io_context io;
//   SmscServer server(io, network, std::cerr, /*smpp_port=*/0);   // 0: any free port, see smpp_port()
//   io.run();
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "kaoko/sim/smsc_network.hpp"

namespace kaoko::sim::smsc {

class SmppSession;

// Opens, binds (127.0.0.1:`port`, 0 for any free port) and listens; returns the port. Throws
// boost::system::system_error when the port is taken.
int ListenOnLoopback(boost::asio::ip::tcp::acceptor& acceptor, int port);

// A bound ESME as the control interface shows it.
struct SessionInfo {
  int id = 0;
  std::string peer;
  std::string bound_as;  // "", "transmitter", "receiver", "transceiver"
  std::string system_id;
};

class SmscServer {
 public:
  // Listens on 127.0.0.1:`smpp_port` (0: a free port). Throws boost::system::system_error when it cannot bind.
  SmscServer(boost::asio::io_context& io, Network& network, std::ostream& log, int smpp_port);
  ~SmscServer();
  SmscServer(const SmscServer&) = delete;
  SmscServer& operator=(const SmscServer&) = delete;

  int smpp_port() const { return port_; }
  Network& network() { return network_; }

  // Closes every SMPP connection now (the ESME sees the link drop) and refuses binds for `refuse_for`, so that the
  // ESME's reconnect attempts fail until then. On the IO thread only, as everything below.
  void DropAll(std::chrono::milliseconds refuse_for);
  std::vector<SessionInfo> Sessions() const;

  // Sends what has fallen due and sets the timer for the next; call after anything changed the Network.
  void Pump();

  // One log line "kaoko-smsc: <what>" with the UTC time.
  void Log(const std::string& what);

  // Used by sessions.
  bool BindsRefused() const { return std::chrono::steady_clock::now() < binds_refused_until_; }
  void Closed(SmppSession* session);

 private:
  void Accept();

  boost::asio::io_context& io_;
  Network& network_;
  std::ostream& log_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer timer_;
  int port_ = 0;
  int next_session_id_ = 1;
  std::chrono::steady_clock::time_point binds_refused_until_{};
  std::vector<std::shared_ptr<SmppSession>> sessions_;
};

}  // namespace kaoko::sim::smsc
