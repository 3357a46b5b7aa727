// The webhook client (line_http_client.hpp): resolve, connect, TLS handshake for https, one request, one answer.
#include "kaoko/sim/line_http_client.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <openssl/ssl.h>

namespace kaoko::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

template <typename Stream>
asio::awaitable<LineHttpResult> Exchange(Stream& stream, const LineUrl& url, std::string body,
                                         const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req{http::verb::post, url.path, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::user_agent, "LineBotWebhook/2.0");
  req.set(http::field::content_type, "application/json; charset=utf-8");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();

  LineHttpResult result;
  beast::error_code ec;
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    result.error = "write: " + ec.message();
    co_return result;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    result.error = "read: " + ec.message();
    co_return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = res.body();
  co_return result;
}

}  // namespace

std::optional<LineUrl> ParseLineUrl(const std::string& url) {
  LineUrl out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
    out.port = out.tls ? "443" : "80";
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  return out;
}

asio::awaitable<LineHttpResult> LinePost(LineUrl url, std::string body,
                                         std::vector<std::pair<std::string, std::string>> headers,
                                         asio::ssl::context* tls, std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code ec;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return LineHttpResult{0, "resolve: " + ec.message(), {}};

  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(timeout);
  co_await tcp_stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return LineHttpResult{0, "connect: " + ec.message(), {}};

  if (!url.tls) {
    LineHttpResult result = co_await Exchange(tcp_stream, url, std::move(body), headers);
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return result;
  }
  if (tls == nullptr) co_return LineHttpResult{0, "https webhook without a TLS client context", {}};
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
  SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return LineHttpResult{0, "TLS handshake: " + ec.message(), {}};
  LineHttpResult result = co_await Exchange(stream, url, std::move(body), headers);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  co_return result;
}

}  // namespace kaoko::sim
