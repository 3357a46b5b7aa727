// The SMS path of integration tests: kaoko-smsc (the simulated operator) and the real Kannel (bearerbox + smsbox)
// with a generated kannel.conf, all on free loopback ports, and a small HTTP listener that records what Kannel calls
// (delivery reports on dlr-url, phones' replies on the sms-service get-url).
//
//   kaoko::testing::SmsRig rig(phones_toml);            // kaoko-smsc, bearerbox, smsbox; waits until Kannel is bound
//   rig.SendSms({{"to", "+66812345001"}, {"text", "…"}, {"coding", "2"}, {"charset", "UTF-8"}});
//   rig.Control("inbox +66812345001");                  // what the phone received, as JSON
//
// Not thread-safe, except HttpRecorder's accessors (its listener runs on its own thread).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kaoko/testing/harness.hpp"

namespace kaoko::testing {

// "%XX" and '+' decoded.
std::string UrlDecode(const std::string& s);
// Every octet but unreserved ones as %XX.
std::string UrlEncode(const std::string& s);

// The number of characters (code points) of UTF-8 text.
size_t Utf8Length(const std::string& s);

// One request Kannel made: its path and its decoded query parameters.
struct Recorded {
  std::string path;
  std::map<std::string, std::string> query;
};

// An HTTP/1.1 listener on 127.0.0.1 (a free port) that answers every request "200 ok" and records it.
class HttpRecorder {
 public:
  HttpRecorder();
  ~HttpRecorder();
  HttpRecorder(const HttpRecorder&) = delete;
  HttpRecorder& operator=(const HttpRecorder&) = delete;

  int port() const { return port_; }
  std::vector<Recorded> Requests(const std::string& path) const;  // thread-safe; in order of arrival
  std::string Dump() const;                                       // every request, for failure messages

 private:
  void Serve();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Recorded> requests_;
  std::thread thread_;
};

// A line sent to kaoko-smsc's control port and its JSON answer (null JSON when nothing answered).
nlohmann::json SmscControl(int port, const std::string& line);

// The "address:port" of every listening TCP socket (IPv4 and IPv6) that process `pid` holds, from /proc.
std::vector<std::string> ListeningAddresses(pid_t pid);

struct SmsRigOptions {
  std::string phones_toml;           // kaoko-smsc's config (its [smsc] must say system_id "kaoko", password "secret")
  std::string msg_id_type = "0x03";  // matches message_ids = "hex"
  // The sms-service get-url (Kannel's placeholders %p, %b…); empty: the rig's own recorder (/mo).
  std::string get_url;
  // smsbox's sendsms port, when the caller must know it before the rig starts (kaoko-server's --sms-gateway); 0: any.
  int sendsms_port = 0;
};

class SmsRig {
 public:
  // Starts kaoko-smsc, bearerbox and smsbox and waits (up to 20 s) until Kannel has bound to the SMSC and smsbox's
  // sendsms port answers. Throws std::runtime_error, with the logs' tails, when they do not come up.
  explicit SmsRig(SmsRigOptions options);
  ~SmsRig();

  // GET /cgi-bin/sendsms with the account, from=KAOKO, and `params` (url-encoded here); the HTTP status and body.
  std::pair<int, std::string> SendSms(const std::map<std::string, std::string>& params);
  nlohmann::json Control(const std::string& line) const { return SmscControl(control_port_, line); }
  // True once kaoko-smsc shows a link bound as transceiver.
  bool KannelBound() const;

  void KillSmsc();   // SIGKILL and wait
  void StartSmsc();  // again on the same ports
  // The inbox of `number` once a complete message is there, or null JSON after `timeout`.
  nlohmann::json WaitForMessage(const std::string& number, size_t count, std::chrono::milliseconds timeout) const;

  HttpRecorder& http() { return http_; }
  int sendsms_port() const { return sendsms_port_; }
  // Kills smsbox and bearerbox (SIGKILL, waits), and starts them again on the same ports and configuration.
  void KillKannel();
  void StartKannel();
  Process& bearerbox() { return *bearerbox_; }
  Process& smsbox() { return *smsbox_; }
  std::string DlrUrl(const std::string& tag) const;  // a dlr-url template pointing at http() with ?tag=
  std::string Logs() const;                          // the tails of every log, for failure messages
  const std::string& dir() const { return dir_.path(); }

 private:
  void WriteKannelConf(const SmsRigOptions& options);

  TempDir dir_;
  HttpRecorder http_;
  int smpp_port_ = 0, control_port_ = 0, admin_port_ = 0, smsbox_port_ = 0, sendsms_port_ = 0;
  std::unique_ptr<Process> smsc_;
  std::unique_ptr<Process> bearerbox_;
  std::unique_ptr<Process> smsbox_;
};

}  // namespace kaoko::testing
