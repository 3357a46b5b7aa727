// One ESME connection to kaoko-smsc (private to kaoko::smsc): reads PDUs, checks the bind, answers, and writes
// deliver_sm. Lives on the server's one IO thread; a shared_ptr keeps it alive while an operation is in flight.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "kaoko/sim/smsc_network.hpp"
#include "kaoko/sim/smsc_pdu.hpp"
#include "kaoko/sim/smsc_server.hpp"

namespace kaoko::sim::smsc {

class SmppSession : public std::enable_shared_from_this<SmppSession> {
 public:
  SmppSession(boost::asio::ip::tcp::socket socket, SmscServer& server, int id);

  void Start();
  // Closes the connection; the server forgets the session and puts its unanswered deliver_sm back in the queue.
  void Close(const std::string& why);
  bool receives() const { return bound_ == Bound::kReceiver || bound_ == Bound::kTransceiver; }
  void SendDeliver(ShortMessage message);
  SessionInfo info() const;
  // deliver_sm written but not answered yet: back to the Network when the link closes.
  std::map<uint32_t, ShortMessage> TakeOutstanding() { return std::move(outstanding_); }

 private:
  enum class Bound { kNone, kTransmitter, kReceiver, kTransceiver };

  void ReadHeader();
  void ReadBody(Header header);
  void Handle(const Header& header, const std::string& pdu);
  void HandleBind(const Header& header, const std::string& pdu);
  void HandleSubmit(const Header& header, const std::string& pdu);
  void HandleDeliverResp(const Header& header);
  void Write(std::string pdu);
  void WriteNext();
  void Log(const std::string& what);

  boost::asio::ip::tcp::socket socket_;
  SmscServer& server_;
  int id_;
  std::string peer_;
  Bound bound_ = Bound::kNone;
  std::string system_id_;
  std::array<char, kHeaderSize> header_{};
  std::string body_;
  std::deque<std::string> writes_;
  bool close_after_writes_ = false;
  bool closed_ = false;
  uint32_t next_sequence_ = 1;
  std::map<uint32_t, ShortMessage> outstanding_;
};

}  // namespace kaoko::sim::smsc
