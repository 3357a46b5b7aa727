// kaoko-smsc's control interface for tests and demos: a line protocol on a second loopback port. One command per
// line, one JSON object per line in answer ({"ok":true,…} or {"ok":false,"error":"…"}):
//
//   status                     links, counters, queue length, refusal state
//   inbox +66812345001         what that phone received: [{"from","text","parts","parts_received","complete",
//                              "data_coding","first_part_at","completed_at","message_ids"}], text in UTF-8
//   reply +66812345001 [text]  the phone sends `text` (or its configured reply) to the short code now
//   refuse [status|off]        refuse every submit_sm with `status` (default 0x45 ESME_RSUBMITFAIL), or stop
//   drop [seconds]             close every SMPP link now, and refuse binds for `seconds` (default 0)
//
// Runs on the server's IO thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "kaoko/sim/smsc_server.hpp"

namespace kaoko::sim::smsc {

// The JSON answer (one line, no newline) to one command line. Never throws.
std::string HandleControlLine(const std::string& line, SmscServer& server);

class ControlListener {
 public:
  // Listens on 127.0.0.1:`port` (0: a free port). Throws boost::system::system_error when it cannot bind.
  ControlListener(boost::asio::io_context& io, SmscServer& server, int port);
  int port() const { return port_; }

 private:
  void Accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  SmscServer& server_;
  int port_ = 0;
};

}  // namespace kaoko::sim::smsc
