// LINE's push API (sender.hpp, docs/delivery-line.md): one POST {api_base}/v2/bot/message/push per message, with
// libcurl, the channel access token and the delivery's retry key.
//
// What LINE answers and what it means for the row: 200 accepted (a push LINE took, not yet seen: a postback proves
// that); 409 accepted earlier under this retry key (a 500 or a timeout after LINE had performed it): accepted, never
// sent twice; 429 not performed (rate or quota), tried again after Retry-After when LINE gives one; 500 and timeouts
// may or may not have been performed: tried again with the same key; 400 this message is wrong: failed with LINE's
// reason; 401 and 403 kaoko's token is wrong: the gateway is down until the operator fixes it.
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "kaoko/delivery/line.hpp"
#include "kaoko/delivery/sender.hpp"

namespace kaoko::delivery {
namespace {

using json = nlohmann::json;

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Headers {
  std::string retry_after;
  std::string request_id;
};

// The answer's headers kaoko reads: Retry-After and x-line-request-id.
std::size_t Header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string_view line(data, size * n);
  auto* h = static_cast<Headers*>(out);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    if (name == "retry-after") h->retry_after = std::string(value);
    if (name == "x-line-request-id") h->request_id = std::string(value);
  }
  return size * n;
}

// LINE's error body {"message", "details": [{"message", "property"}]} in one line, without anything of the request
// (the details name properties, such as "to", never their values).
std::string Why(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) return body.substr(0, 120);
  std::string out = j["message"].get<std::string>();
  if (j.contains("details") && j["details"].is_array()) {
    for (const auto& d : j["details"]) {
      if (!d.is_object()) continue;
      out += fmt::format("; {}: {}", d.value("property", ""), d.value("message", ""));
    }
  }
  return out.substr(0, 300);
}

class Line final : public Sender {
 public:
  Line(LineAccount account, const alerting::Network& network, std::chrono::seconds timeout)
      : account_(std::move(account)), network_(network), timeout_(timeout) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    while (!account_.api_base.empty() && account_.api_base.back() == '/') account_.api_base.pop_back();
  }
  ~Line() override { curl_easy_cleanup(curl_); }

  std::string Render(const store::DeliveryMessage& m, std::string_view code) const override {
    return LineMessage(m, code, network_);
  }
  bool wants_retry_key() const override { return true; }

  SendResult Send(const Outgoing& m) override {
    SendResult r;
    if (!curl_) {
      r.reason = "libcurl could not start";
      r.gateway_down = true;
      return r;
    }
    const json message = json::parse(m.text, nullptr, false);
    if (message.is_discarded()) {
      r.kind = SendResult::kRefused;
      r.reason = "kaoko rendered a LINE message that is not JSON";
      return r;
    }
    // A delivery is pushed to its person; an answer replies to the event it answers (LINE's reply token).
    const bool reply = m.delivery == 0;
    const std::string body =
        json{{reply ? "replyToken" : "to", m.address}, {"messages", json::array({message})}}.dump();
    const std::string url = account_.api_base + (reply ? "/v2/bot/message/reply" : "/v2/bot/message/push");
    std::string answer;
    Headers headers;
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, ("Authorization: Bearer " + account_.channel_token).c_str());
    if (!reply && !m.retry_key.empty()) list = curl_slist_append(list, ("X-Line-Retry-Key: " + m.retry_key).c_str());
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, Header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    // Verification stays on: a stand-in or a proxy with its own certificate is trusted through its CA file.
    if (!account_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, account_.ca_file.c_str());
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
      // LINE may have performed it (a timeout after it accepted): the retry carries the same key.
      r.reason = fmt::format("LINE did not answer: {}", curl_easy_strerror(rc));
      r.gateway_down = true;
      return r;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return Judge(status, answer, headers, m.retry_key);
  }

 private:
  static SendResult Judge(long status, const std::string& answer, const Headers& headers, const std::string& key) {
    SendResult r;
    const std::string request =
        headers.request_id.empty() ? "" : fmt::format(" (x-line-request-id {})", headers.request_id);
    if (status == 200 || status == 409) {
      r.kind = SendResult::kAccepted;
      r.gateway_ref = key;  // the row keeps its retry key; a 409 says LINE took it under that key before
      return r;
    }
    r.reason = fmt::format("LINE answered {}: {}{}", status, Why(answer), request);
    if (status == 429) {
      int seconds = 0;
      try {
        seconds = headers.retry_after.empty() ? 0 : std::stoi(headers.retry_after);
      } catch (const std::exception&) {
        seconds = 0;  // an HTTP date or garbage: the backoff decides
      }
      r.retry_after = std::chrono::seconds(std::clamp(seconds, 0, 3600));
    } else if (status == 401 || status == 403) {
      r.reason = fmt::format(
          "LINE refused kaoko's channel access token ({}): check channel_token in the credentials file's [line] "
          "table{}",
          status, request);
      r.gateway_down = true;
    } else if (status >= 400 && status < 500) {
      r.kind = SendResult::kRefused;  // this message is wrong: sending it again changes nothing
    } else {
      r.gateway_down = true;  // 5xx: may have been performed; the same key makes the retry safe
    }
    return r;
  }

  LineAccount account_;
  const alerting::Network& network_;
  std::chrono::seconds timeout_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<Sender> LineSender(const LineAccount& account, const alerting::Network& network,
                                   std::chrono::seconds timeout) {
  return std::make_unique<Line>(account, network, timeout);
}

}  // namespace kaoko::delivery
