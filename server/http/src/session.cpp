// One connection: read a request, answer it, repeat while keep-alive (after Beast's http_session); a WebSocket
// upgrade of /api/v1/live is judged by the API and handed to the live hub.
#include "session.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "responses.hpp"

namespace kaoko::server {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, HttpApi& api, LiveHub* hub) : stream_(std::move(socket)), api_(api), hub_(hub) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
  }
  void Run() {
    // Post our work to the strand: the session's members are then never touched concurrently.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
  }
  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec) {
      // The request could not be read whole: answer once and close (nothing says where the next one starts).
      Request req;
      req.version(11);
      req.keep_alive(false);
      if (ec == http::error::body_limit) {
        return Send(ErrorJson(req, http::status::payload_too_large,
                              fmt::format("request body is larger than {} bytes", kMaxRequestBody)));
      }
      return Send(ErrorJson(req, http::status::bad_request, fmt::format("malformed HTTP request: {}", ec.message())));
    }
    Request req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
      std::string_view target(req.target().data(), req.target().size());
      if (hub_ && target.substr(0, target.find('?')) == "/api/v1/live") {
        auto verdict = api_.LiveUpgrade(req);
        if (auto* filter = std::get_if<LiveFilter>(&verdict)) {
          // The hub's session takes the socket over; this HTTP session ends here.
          stream_.expires_never();
          hub_->Accept(stream_.release_socket(), std::move(req), std::move(*filter));
          return;
        }
        return Send(std::move(std::get<Response>(verdict)));
      }
    }
    Send(api_.Handle(req, client_));
  }
  void Send(Response res) {
    res_ = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(), res_->keep_alive()));
  }
  void OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
    // A large answer (every station of a country-sized network: 90 MB of text, built from 150,000 views) leaves
    // freed memory that glibc keeps: about 170 MB more resident until it is given back here (docs/architecture.md).
    const bool large = res_ && res_->body().size() > kGiveBackAfter;
    res_.reset();
    if (large) malloc_trim(0);
    if (ec) return Close();
    if (!keep_alive) return Close();
    Read();
  }
  static constexpr std::size_t kGiveBackAfter = 8u << 20;
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  HttpApi& api_;
  LiveHub* hub_;
  std::string client_;
};

}  // namespace

void ServeConnection(tcp::socket socket, HttpApi& api, LiveHub* hub) {
  std::make_shared<HttpSession>(std::move(socket), api, hub)->Run();
}

}  // namespace kaoko::server
