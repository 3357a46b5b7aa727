// kaoko-smsc's SMPP listener, its sessions and the timer for what falls due (smsc_server.hpp).
#include "kaoko/sim/smsc_server.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "smsc_session.hpp"

namespace kaoko::sim::smsc {

namespace asio = boost::asio;
using asio::ip::tcp;

int ListenOnLoopback(tcp::acceptor& acceptor, int port) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  // A restarted kaoko-smsc must get its port back at once, while the last run's links sit in TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  return acceptor.local_endpoint().port();
}

SmscServer::SmscServer(asio::io_context& io, Network& network, std::ostream& log, int smpp_port)
    : io_(io), network_(network), log_(log), acceptor_(io), timer_(io) {
  port_ = ListenOnLoopback(acceptor_, smpp_port);
  Accept();
}

SmscServer::~SmscServer() = default;

void SmscServer::Log(const std::string& what) {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  log_ << fmt::format("{:%Y-%m-%dT%H:%M:%S}Z kaoko-smsc: {}\n", now, what) << std::flush;
}

void SmscServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      Log(fmt::format("accepting an SMPP connection failed: {}", ec.message()));
    } else {
      auto session = std::make_shared<SmppSession>(std::move(socket), *this, next_session_id_++);
      sessions_.push_back(session);
      session->Start();
    }
    Accept();
  });
}

void SmscServer::Closed(SmppSession* session) {
  const auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& s) { return s.get() == session; });
  if (it == sessions_.end()) return;
  const auto keep = *it;  // the session may be running this call: keep it alive until we return
  sessions_.erase(it);
  const auto outstanding = keep->TakeOutstanding();
  if (!outstanding.empty()) {
    Log(fmt::format("{} deliver_sm unanswered on the closed link go back in the queue", outstanding.size()));
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& [sequence, message] : outstanding) network_.Requeue(message, now);
  asio::post(io_, [this] { Pump(); });
}

void SmscServer::DropAll(std::chrono::milliseconds refuse_for) {
  binds_refused_until_ = std::chrono::steady_clock::now() + refuse_for;
  Log(fmt::format("dropping {} link(s); binds refused for {} ms", sessions_.size(), refuse_for.count()));
  const auto all = sessions_;
  for (const auto& s : all) s->Close("dropped by the control interface");
}

std::vector<SessionInfo> SmscServer::Sessions() const {
  std::vector<SessionInfo> out;
  for (const auto& s : sessions_) out.push_back(s->info());
  return out;
}

void SmscServer::Pump() {
  const auto receiver = std::find_if(sessions_.begin(), sessions_.end(), [](const auto& s) { return s->receives(); });
  if (receiver == sessions_.end()) return;  // nobody to deliver to: keep the queue until an ESME binds to receive
  const auto now = std::chrono::system_clock::now();
  for (auto& message : network_.TakeDue(now)) (*receiver)->SendDeliver(std::move(message));
  const auto next = network_.NextDue();
  if (!next) return;
  timer_.expires_after(std::max<std::chrono::system_clock::duration>(*next - now, {}));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Pump();
  });
}

}  // namespace kaoko::sim::smsc
