// kaoko-smsc's SMPP server and control commands over real loopback sockets, without Kannel: the cases Kannel never
// shows (a wrong password, an unknown command, a submit before the bind).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kaoko/sim/smsc_control.hpp"
#include "kaoko/sim/smsc_pdu.hpp"
#include "kaoko/sim/smsc_server.hpp"

using namespace kaoko::sim::smsc;
namespace asio = boost::asio;

namespace {

// The SMSC on its own thread. The test's client is blocking and strictly request-response, so the test thread packs
// a PDU only while the server thread waits for it: libsmpp34's global error state is never used by both at once.
class Running {
 public:
  Running() : network_(Config(), 0, 1), server_(io_, network_, log_, 0), thread_([this] { io_.run(); }) {}
  ~Running() {
    io_.stop();
    thread_.join();
  }
  int port() const { return server_.smpp_port(); }
  std::string Control(const std::string& line) {
    std::promise<std::string> answer;
    asio::post(io_, [&] { answer.set_value(HandleControlLine(line, server_)); });
    return answer.get_future().get();
  }

 private:
  static SmscConfig Config() {
    SmscConfig c;
    c.phones = {{"+66810000009", "barred", PhoneBehaviour::kBarred, 1, 1, 0x45, std::nullopt, 1}};
    return c;
  }
  asio::io_context io_;
  std::ostringstream log_;
  Network network_;
  SmscServer server_;
  std::thread thread_;
};

std::string Exchange(asio::ip::tcp::socket& s, const std::string& pdu) {
  asio::write(s, asio::buffer(pdu));
  std::string header(kHeaderSize, '\0');
  asio::read(s, asio::buffer(header));
  std::string body(ReadHeader(header).length - kHeaderSize, '\0');
  asio::read(s, asio::buffer(body));
  return header + body;
}

}  // namespace

TEST_CASE("smsc server: binds checked, unknown commands nacked, submit before bind refused", "[smsc]") {
  Running smsc;
  asio::io_context client_io;
  asio::ip::tcp::socket s(client_io);
  s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(smsc.port())});

  ShortMessage m;
  m.destination = {1, 1, "66810000001"};
  m.short_message = "hi";
  CHECK(ReadHeader(Exchange(s, EncodeSubmitSm(1, m))).status == status::kInvalidBindStatus);
  CHECK(ReadHeader(Exchange(s, EncodeBind(2, {command::kBindTransceiver, "kaoko", "wrong", "", 0x34}))).status ==
        status::kInvalidPassword);
  CHECK(ReadHeader(Exchange(s, EncodeBind(3, {command::kBindTransceiver, "nobody", "secret", "", 0x34}))).status ==
        status::kInvalidSystemId);
  const Header bound = ReadHeader(Exchange(s, EncodeBind(4, {command::kBindTransceiver, "kaoko", "secret", "", 0x34})));
  CHECK(bound.status == status::kOk);
  CHECK(bound.command_id == (command::kBindTransceiver | command::kResponseBit));
  CHECK(bound.sequence == 4);
  CHECK(ReadHeader(Exchange(s, EncodeBind(5, {command::kBindTransmitter, "kaoko", "secret", "", 0x34}))).status ==
        status::kAlreadyBound);
  const Header nack = ReadHeader(Exchange(s, EncodeHeaderOnly(0x00000003 /* query_sm */, 0, 6)));
  CHECK(nack.command_id == command::kGenericNack);
  CHECK(nack.status == status::kInvalidCommandId);
  CHECK(ReadHeader(Exchange(s, EncodeHeaderOnly(command::kEnquireLink, 0, 7))).command_id == command::kEnquireLinkResp);
  const std::string accepted = Exchange(s, EncodeSubmitSm(8, m));
  CHECK(ReadHeader(accepted).status == status::kOk);
  CHECK(accepted.size() > kHeaderSize + 1);  // a message id
  m.destination.digits = "66810000009";
  CHECK(ReadHeader(Exchange(s, EncodeSubmitSm(9, m))).status == status::kSubmitFailed);

  const auto status = nlohmann::json::parse(smsc.Control("status"));
  CHECK(status["submitted"] == 1);
  CHECK(status["refused"] == 1);
  REQUIRE(status["links"].size() == 1);
  CHECK(status["links"][0]["bound_as"] == "transceiver");
  CHECK(nlohmann::json::parse(smsc.Control("inbox +66810000001"))["messages"][0]["text"] == "hi");
  CHECK(nlohmann::json::parse(smsc.Control("refuse nonsense"))["ok"] == false);
  CHECK(nlohmann::json::parse(smsc.Control("fly"))["ok"] == false);
  CHECK(ReadHeader(Exchange(s, EncodeHeaderOnly(command::kUnbind, 0, 10))).command_id == command::kUnbindResp);
}
