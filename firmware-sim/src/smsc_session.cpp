// One ESME connection to kaoko-smsc (smsc_session.hpp).
#include "smsc_session.hpp"

#include <fmt/format.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "kaoko/sim/smsc_text.hpp"

namespace kaoko::sim::smsc {

namespace asio = boost::asio;

SmppSession::SmppSession(asio::ip::tcp::socket socket, SmscServer& server, int id)
    : socket_(std::move(socket)), server_(server), id_(id) {
  boost::system::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
}

void SmppSession::Log(const std::string& what) { server_.Log(fmt::format("[link {} {}] {}", id_, peer_, what)); }

void SmppSession::Start() {
  Log("connected");
  ReadHeader();
}

SessionInfo SmppSession::info() const {
  static const char* kNames[] = {"", "transmitter", "receiver", "transceiver"};
  return SessionInfo{id_, peer_, kNames[static_cast<int>(bound_)], system_id_};
}

void SmppSession::Close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  Log(fmt::format("closed: {}", why));
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  server_.Closed(this);
}

void SmppSession::ReadHeader() {
  asio::async_read(socket_, asio::buffer(header_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
    if (self->closed_) return;
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return self->Close("the ESME closed the link");
    if (ec) return self->Close(fmt::format("reading a PDU header failed: {}", ec.message()));
    const Header h = smsc::ReadHeader(std::string_view(self->header_.data(), self->header_.size()));
    if (h.length < kHeaderSize || h.length > kMaxPduSize) {
      // The stream is out of step: nothing after this can be framed, so the link goes (SMPP 3.4 section 2.5).
      self->Write(EncodeHeaderOnly(command::kGenericNack, status::kInvalidCommandLength, h.sequence));
      self->close_after_writes_ = true;
      return self->Log(
          fmt::format("refused a PDU with command_length {} (must be 16..{}): generic_nack "
                      "ESME_RINVCMDLEN, closing",
                      h.length, kMaxPduSize));
    }
    self->ReadBody(h);
  });
}

void SmppSession::ReadBody(Header header) {
  body_.assign(header.length - kHeaderSize, '\0');
  asio::async_read(socket_, asio::buffer(body_),
                   [self = shared_from_this(), header](boost::system::error_code ec, size_t) {
                     if (self->closed_) return;
                     if (ec) return self->Close(fmt::format("reading a PDU body failed: {}", ec.message()));
                     const std::string pdu = std::string(self->header_.data(), kHeaderSize) + self->body_;
                     self->Handle(header, pdu);
                     if (!self->closed_ && !self->close_after_writes_) self->ReadHeader();
                   });
}

void SmppSession::Handle(const Header& h, const std::string& pdu) {
  switch (h.command_id) {
    case command::kBindReceiver:
    case command::kBindTransmitter:
    case command::kBindTransceiver:
      return HandleBind(h, pdu);
    case command::kEnquireLink:
      return Write(EncodeHeaderOnly(command::kEnquireLinkResp, status::kOk, h.sequence));
    case command::kEnquireLinkResp:
      return;
    case command::kUnbind:
      Log("unbind: answering unbind_resp and closing");
      Write(EncodeHeaderOnly(command::kUnbindResp, status::kOk, h.sequence));
      close_after_writes_ = true;
      return;
    case command::kUnbindResp:
      return Close("unbind_resp received");
    case command::kSubmitSm:
      return HandleSubmit(h, pdu);
    case command::kDeliverSmResp:
      return HandleDeliverResp(h);
    case command::kGenericNack:
      return Log(fmt::format("generic_nack from the ESME for sequence {}: {}", h.sequence, StatusName(h.status)));
    default:
      Log(fmt::format("unsupported command {} (sequence {}): generic_nack ESME_RINVCMDID", CommandName(h.command_id),
                      h.sequence));
      return Write(EncodeHeaderOnly(command::kGenericNack, status::kInvalidCommandId, h.sequence));
  }
}

void SmppSession::HandleBind(const Header& h, const std::string& pdu) {
  const auto refuse = [&](uint32_t s, const std::string& why) {
    Log(fmt::format("{} refused with {}: {}", CommandName(h.command_id), StatusName(s), why));
    Write(EncodeBindResp(h.command_id, s, h.sequence, server_.network().config().system_id));
  };
  if (bound_ != Bound::kNone) return refuse(status::kAlreadyBound, "this link is bound already");
  const auto bind = DecodeBind(pdu);
  if (!bind) return refuse(status::kBindFailed, bind.error().reason);
  const SmscConfig& config = server_.network().config();
  if (server_.BindsRefused()) return refuse(status::kBindFailed, "binds are refused for a while (control: drop)");
  if (bind->system_id != config.system_id) {
    return refuse(status::kInvalidSystemId,
                  fmt::format("system_id \"{}\" is not \"{}\"", bind->system_id, config.system_id));
  }
  if (bind->password != config.password) return refuse(status::kInvalidPassword, "wrong password");
  bound_ = h.command_id == command::kBindReceiver      ? Bound::kReceiver
           : h.command_id == command::kBindTransmitter ? Bound::kTransmitter
                                                       : Bound::kTransceiver;
  system_id_ = bind->system_id;
  Write(EncodeBindResp(h.command_id, status::kOk, h.sequence, config.system_id));
  Log(fmt::format("bound as {} by system_id \"{}\" (system_type \"{}\", interface 0x{:02x})", info().bound_as,
                  bind->system_id, bind->system_type, bind->interface_version));
  if (receives()) server_.Pump();
}

void SmppSession::HandleSubmit(const Header& h, const std::string& pdu) {
  if (bound_ != Bound::kTransmitter && bound_ != Bound::kTransceiver) {
    Log(fmt::format("submit_sm on a link not bound to transmit: ESME_RINVBNDSTS"));
    return Write(EncodeSubmitSmResp(status::kInvalidBindStatus, h.sequence, ""));
  }
  const auto submit = DecodeSubmitSm(pdu);
  if (!submit) {
    Log(fmt::format("submit_sm refused with ESME_RSUBMITFAIL: {}", submit.error().reason));
    return Write(EncodeSubmitSmResp(status::kSubmitFailed, h.sequence, ""));
  }
  const SubmitOutcome out = server_.network().Submit(*submit, std::chrono::system_clock::now());
  Log(out.log);
  Write(EncodeSubmitSmResp(out.status, h.sequence, out.message_id));
  server_.Pump();
}

void SmppSession::HandleDeliverResp(const Header& h) {
  const auto it = outstanding_.find(h.sequence);
  if (it == outstanding_.end()) {
    return Log(fmt::format("deliver_sm_resp for unknown sequence {} ({})", h.sequence, StatusName(h.status)));
  }
  if (h.status != status::kOk) {
    // Kannel answers a temporary failure (no smsbox to take an MO, say): offer it again later.
    Log(fmt::format("deliver_sm {} refused by the ESME with {}: offered again in 5 s", h.sequence,
                    StatusName(h.status)));
    server_.network().Requeue(std::move(it->second), std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_.Pump();
  }
  outstanding_.erase(it);
}

void SmppSession::SendDeliver(ShortMessage message) {
  const uint32_t sequence = next_sequence_++;
  const bool receipt = (message.esm_class & kEsmDeliveryReceipt) != 0;
  Log(fmt::format("deliver_sm {} ({}) from {} to {}: {}", sequence, receipt ? "receipt" : "phone reply",
                  message.source.digits, message.destination.digits,
                  receipt
                      ? message.short_message
                      : DecodeToUtf8(SplitUserData(message.short_message, message.esm_class).value_or(UserData{}).text,
                                     message.data_coding)));
  Write(EncodeDeliverSm(sequence, message));
  outstanding_.emplace(sequence, std::move(message));
}

void SmppSession::Write(std::string pdu) {
  if (closed_) return;
  writes_.push_back(std::move(pdu));
  if (writes_.size() == 1) WriteNext();
}

void SmppSession::WriteNext() {
  asio::async_write(socket_, asio::buffer(writes_.front()),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      if (self->closed_) return;
                      if (ec) return self->Close(fmt::format("writing a PDU failed: {}", ec.message()));
                      self->writes_.pop_front();
                      if (!self->writes_.empty()) return self->WriteNext();
                      if (self->close_after_writes_) self->Close("after unbind or a broken PDU");
                    });
}

}  // namespace kaoko::sim::smsc
