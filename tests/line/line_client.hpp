// The LINE stand-in's tests: the client side, as the product will have it. libcurl for HTTPS to the stand-in
// (trusting only its certificate), a webhook listener on loopback that records each POST byte for byte, and
// X-Line-Signature computed here with OpenSSL (not with the stand-in's code, so the two are checked one against
// the other).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace kaoko::linetest {

struct CurlAnswer {
  int curl_code = 0;  // CURLcode; 0 is CURLE_OK
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names

  [[nodiscard]] std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One HTTP(S) request with libcurl. `ca_pem` non-empty: HTTPS trusting only that certificate (and checking the
// host name). Times out after `timeout`.
CurlAnswer Curl(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, const std::string& ca_pem = "",
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// base64(HMAC-SHA256(secret, body)) with OpenSSL's HMAC and EVP_EncodeBlock.
std::string HmacBase64(const std::string& secret, const std::string& body);

// A webhook POST as the bot server received it.
struct ReceivedWebhook {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // the raw bytes
};

// A plain-HTTP listener on 127.0.0.1 (a free port) that answers every request 200 and records it.
class WebhookListener {
 public:
  WebhookListener();
  ~WebhookListener();
  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] std::string url() const;
  // Waits up to `timeout` for at least `n` requests; returns them all (fewer on timeout).
  std::vector<ReceivedWebhook> WaitFor(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] std::size_t count();

 private:
  void Accept();
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedWebhook> received_;
  std::thread thread_;
};

// Polls `done` every 20 ms until it is true or `timeout` passes; returns its last value.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace kaoko::linetest
