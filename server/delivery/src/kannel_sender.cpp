// SMS through Kannel's smsbox (sender.hpp): one GET /cgi-bin/sendsms per message, with libcurl.
//
// Kannel answers 202 "0: Accepted for delivery" when it took the message (it then keeps it through an SMSC outage),
// 403 when the account is refused, 400 for a bad request, 503 when its queue is full or sending failed. Thai goes as
// UCS-2 (coding=2) from UTF-8 (charset=UTF-8); dlr-mask=19 asks for delivered (1), failed (2) and SMSC-refused (16)
// reports on a dlr-url that names the delivery; only the first part of a long message asks for one
// (docs/delivery-sms.md).
#include <curl/curl.h>
#include <fmt/format.h>

#include <mutex>

#include "kaoko/delivery/sender.hpp"
#include "kaoko/delivery/sms_text.hpp"

namespace kaoko::delivery {
namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class Kannel final : public Sender {
 public:
  Kannel(SmsGateway gateway, const alerting::Network& network, std::chrono::seconds timeout)
      : gw_(std::move(gateway)), network_(network), timeout_(timeout) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~Kannel() override { curl_easy_cleanup(curl_); }

  std::string Render(const store::DeliveryMessage& m, std::string_view code) const override {
    return SmsText(m, code, network_);
  }

  SendResult Send(const Outgoing& m) override {
    SendResult r;
    if (!curl_) {
      r.reason = "libcurl could not start";
      r.gateway_down = true;
      return r;
    }
    std::string url = gw_.sendsms_url + "?username=" + Escape(gw_.username) + "&password=" + Escape(gw_.password) +
                      "&from=" + Escape(gw_.from) + "&to=" + Escape(m.address) + "&text=" + Escape(m.text) +
                      "&coding=2&charset=UTF-8";
    if (m.delivery != 0 && !gw_.callback_url.empty()) {
      const std::string dlr = fmt::format("{}/api/v1/delivery/sms/report?k={}&d={}&type=%d&reply=%A", gw_.callback_url,
                                          gw_.callback_token, m.delivery);
      url += "&dlr-mask=19&dlr-url=" + Escape(dlr);
    }
    std::string body;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) {
      // The URL holds the account's password and the number: only the library's reason is told.
      r.reason = fmt::format("the SMS gateway did not answer: {}", curl_easy_strerror(rc));
      r.gateway_down = true;
      return r;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (status == 200 || status == 202) {
      r.kind = SendResult::kAccepted;
      return r;
    }
    r.reason = fmt::format("the SMS gateway answered {}: {}", status, body.substr(0, 120));
    if (status == 400) {
      r.kind = SendResult::kRefused;  // this message is wrong: sending it again changes nothing
    } else {
      r.gateway_down = true;  // 403 (kaoko's account refused), 503 (queue full, sending failed): the gateway's state
    }
    return r;
  }

 private:
  std::string Escape(const std::string& s) {
    char* e = curl_easy_escape(curl_, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
  }

  SmsGateway gw_;
  const alerting::Network& network_;
  std::chrono::seconds timeout_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<Sender> KannelSender(const SmsGateway& gateway, const alerting::Network& network,
                                     std::chrono::seconds timeout) {
  return std::make_unique<Kannel>(gateway, network, timeout);
}

}  // namespace kaoko::delivery
