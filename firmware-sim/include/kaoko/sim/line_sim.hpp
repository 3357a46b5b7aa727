// The stand-in for LINE's Messaging API, whole: the HTTPS API side, the plain-HTTP control side and the users'
// webhooks, on one io_context and one thread. kaoko-line's main and the tests both use it.
//
//   LineSim line(options);
//   line.Start();   // https://127.0.0.1:line.api_port(), http://127.0.0.1:line.control_port()
//
// Start and Stop from one thread; platform() and webhook() are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "kaoko/sim/line_http_server.hpp"
#include "kaoko/sim/line_platform.hpp"
#include "kaoko/sim/line_tls.hpp"
#include "kaoko/sim/line_webhook.hpp"

namespace kaoko::sim {

struct LineSimOptions {
  LineChannelConfig channel;
  unsigned short api_port = 0;      // 0: any free port
  unsigned short control_port = 0;  // 0: any free port
  LinePem tls;                      // the API side's certificate and key; empty: a new self-signed one
  std::string webhook_url;          // the bot's webhook; http:// only for loopback tests
  std::string webhook_ca_file;      // trusted for an https webhook; empty: the system's trust store
};

class LineSim {
 public:
  // Binds both ports. Throws std::runtime_error / boost::system::system_error when it cannot.
  explicit LineSim(LineSimOptions options);
  ~LineSim();
  LineSim(const LineSim&) = delete;
  LineSim& operator=(const LineSim&) = delete;

  void Start();
  void Stop();

  [[nodiscard]] unsigned short api_port() const { return api_->port(); }
  [[nodiscard]] unsigned short control_port() const { return control_->port(); }
  // The certificate of the API side: what a client must trust.
  [[nodiscard]] const std::string& certificate_pem() const { return options_.tls.certificate; }
  [[nodiscard]] LinePlatform& platform() { return platform_; }
  [[nodiscard]] LineWebhook& webhook() { return webhook_; }

 private:
  LineSimOptions options_;
  boost::asio::io_context io_;
  boost::asio::ssl::context server_tls_;
  boost::asio::ssl::context client_tls_;
  LinePlatform platform_;
  LineWebhook webhook_;
  std::unique_ptr<LineHttpServer> api_;
  std::unique_ptr<LineHttpServer> control_;
  std::thread thread_;
};

// Reads kaoko-line's TOML configuration (README.md shows one). Throws std::runtime_error naming the file and the
// problem. The access token and the channel secret may be given as files (access_token_file, channel_secret_file)
// so that they stay out of the configuration.
[[nodiscard]] LineSimOptions LoadLineSimOptions(const std::string& path);

}  // namespace kaoko::sim
