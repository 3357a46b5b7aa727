// kaoko-smsc's line-based control interface (smsc_control.hpp).
#include "kaoko/sim/smsc_control.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kaoko::sim::smsc {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;

std::string Rfc3339(Time t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::milliseconds>(t));
}

json Fail(const std::string& why) { return json{{"ok", false}, {"error", why}}; }

json Status(SmscServer& server) {
  const Network& net = server.network();
  json links = json::array();
  for (const auto& s : server.Sessions()) {
    links.push_back({{"id", s.id}, {"peer", s.peer}, {"bound_as", s.bound_as}, {"system_id", s.system_id}});
  }
  const auto& c = net.counters();
  return json{{"ok", true},
              {"links", links},
              {"submitted", c.submitted},
              {"refused", c.refused},
              {"receipts_sent", c.receipts},
              {"replies_sent", c.replies},
              {"pending", net.pending()},
              {"refusing", net.refusing() ? json(StatusName(*net.refusing())) : json(nullptr)},
              {"phones", net.Numbers()}};
}

json Inbox(SmscServer& server, const std::string& number) {
  json messages = json::array();
  for (const auto& m : server.network().Inbox(number)) {
    messages.push_back({{"from", m.from},
                        {"text", m.text},
                        {"parts", m.parts_expected},
                        {"parts_received", m.parts_received},
                        {"complete", m.complete},
                        {"data_coding", m.data_coding},
                        {"first_part_at", Rfc3339(m.first_part_at)},
                        {"completed_at", m.complete ? json(Rfc3339(m.completed_at)) : json(nullptr)},
                        {"message_ids", m.message_ids}});
  }
  return json{{"ok", true}, {"number", number}, {"messages", messages}};
}

json Execute(const std::string& line, SmscServer& server) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  std::string arg;
  in >> arg;
  std::string rest;
  std::getline(in >> std::ws, rest);
  if (verb == "status") return Status(server);
  if (verb == "inbox") return arg.empty() ? Fail("inbox needs a number: inbox +66812345001") : Inbox(server, arg);
  if (verb == "reply") {
    const auto text = server.network().ReplyNow(arg, rest, std::chrono::system_clock::now());
    if (!text) return Fail(text.error().reason);
    server.Log(fmt::format("control: {} replies \"{}\"", arg, *text));
    server.Pump();
    return json{{"ok", true}, {"number", arg}, {"text", *text}};
  }
  if (verb == "refuse") {
    if (arg == "off") {
      server.network().RefuseAll(std::nullopt);
      server.Log("control: accepting submit_sm again");
      return json{{"ok", true}, {"refusing", nullptr}};
    }
    uint32_t status = status::kSubmitFailed;
    if (!arg.empty()) {
      try {
        status = static_cast<uint32_t>(std::stoul(arg, nullptr, 0));
      } catch (const std::exception&) {
        return Fail(fmt::format("refuse takes a command_status such as 0x45, or off; not \"{}\"", arg));
      }
    }
    server.network().RefuseAll(status);
    server.Log(fmt::format("control: refusing every submit_sm with {}", StatusName(status)));
    return json{{"ok", true}, {"refusing", StatusName(status)}};
  }
  if (verb == "drop") {
    double seconds = 0;
    if (!arg.empty()) {
      try {
        seconds = std::stod(arg);
      } catch (const std::exception&) {
        return Fail(fmt::format("drop takes seconds to refuse binds for; not \"{}\"", arg));
      }
    }
    const size_t links = server.Sessions().size();
    server.DropAll(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
    return json{{"ok", true}, {"dropped", links}};
  }
  return Fail(
      fmt::format("unknown command \"{}\": status, inbox <number>, reply <number> [text], "
                  "refuse [status|off], drop [seconds]",
                  verb));
}

// One control connection: reads lines, answers each. Kept alive by its own handlers.
class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(tcp::socket socket, SmscServer& server) : socket_(std::move(socket)), server_(server) {}

  void Read() {
    asio::async_read_until(socket_, buffer_, '\n', [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return;  // the client went away: normal
      std::istream in(&self->buffer_);
      std::string line;
      std::getline(in, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      self->answer_ = HandleControlLine(line, self->server_) + "\n";
      asio::async_write(self->socket_, asio::buffer(self->answer_), [self](boost::system::error_code wec, size_t) {
        if (wec) return self->server_.Log(fmt::format("control: writing an answer failed: {}", wec.message()));
        self->Read();
      });
    });
  }

 private:
  tcp::socket socket_;
  SmscServer& server_;
  asio::streambuf buffer_;
  std::string answer_;
};

}  // namespace

std::string HandleControlLine(const std::string& line, SmscServer& server) {
  json answer;
  try {
    answer = Execute(line, server);
  } catch (const std::exception& e) {
    answer = Fail(fmt::format("internal error: {}", e.what()));
  }
  if (answer["ok"] != true)
    server.Log(fmt::format("control: \"{}\" refused: {}", line, answer["error"].get<std::string>()));
  return answer.dump();
}

ControlListener::ControlListener(asio::io_context& io, SmscServer& server, int port) : acceptor_(io), server_(server) {
  port_ = ListenOnLoopback(acceptor_, port);
  Accept();
}

void ControlListener::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      server_.Log(fmt::format("control: accepting a connection failed: {}", ec.message()));
    } else {
      std::make_shared<ControlSession>(std::move(socket), server_)->Read();
    }
    Accept();
  });
}

}  // namespace kaoko::sim::smsc
