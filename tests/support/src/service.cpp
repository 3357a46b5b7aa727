#include "kaoko/testing/service.hpp"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace kaoko::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

HttpResult HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  HttpResult out;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, fmt::format("127.0.0.1:{}", port));
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") {
      req.body() = body;
      if (req.find(http::field::content_type) == req.end()) req.set(http::field::content_type, "application/json");
      req.prepare_payload();
    }
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto res = parser.release();
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

std::string ServerTool() { return KAOKO_SERVER_TOOL; }

ServiceProcess::ServiceProcess(const Broker& broker, std::string db_path, std::vector<std::string> extra_args,
                               bool wait_healthy)
    : broker_(broker),
      db_path_(std::move(db_path)),
      extra_args_(std::move(extra_args)),
      wait_healthy_(wait_healthy),
      http_port_(FreePort()),
      log_path_(db_path_ + ".log") {
  Start();
}

ServiceProcess::~ServiceProcess() = default;

void ServiceProcess::Start() {
  std::vector<std::string> argv{ServerTool(),
                                "--network",
                                SourceDir() + "/config/tonhong.toml",
                                "--db",
                                db_path_,
                                "--broker",
                                broker_.url(),
                                "--credentials",
                                broker_.accounts_dir() + "/credentials.toml",
                                "--http",
                                fmt::format("127.0.0.1:{}", http_port_)};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Process>(argv, log_path_);
  if (wait_healthy_ && !WaitHealthy(std::chrono::seconds(20))) {
    throw std::runtime_error(fmt::format("kaoko-server did not become healthy:\n{}", Tail(log_path_)));
  }
}

bool ServiceProcess::WaitHealthy(std::chrono::milliseconds timeout) const {
  return WaitFor([&] { return Get("/healthz").status == 200; }, timeout);
}

void ServiceProcess::Kill(int sig) {
  if (!process_) return;
  process_->Kill(sig);
  process_->Wait();
}

bool ServiceProcess::running() { return process_ && process_->running(); }

pid_t ServiceProcess::pid() const { return process_ ? process_->pid() : -1; }

std::string ServiceProcess::Log() const { return process_ ? process_->Log() : std::string(); }

}  // namespace kaoko::testing
