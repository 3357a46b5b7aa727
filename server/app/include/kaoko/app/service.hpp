// The kaoko service put together: network file → database → core thread → MQTT link → HTTP server.
// main() only parses options and calls Service::Create and Run.
#pragma once

#include <memory>
#include <string>

#include "kaoko/contract/result.hpp"
#include "kaoko/tiers/tier_options.hpp"

namespace kaoko::server {

struct ServiceOptions {
  std::string network_file;
  std::string db_path = "kaoko.db";
  std::string broker_url = "tcp://127.0.0.1:1883";
  std::string mqtt_user = "kaoko";
  std::string mqtt_password;
  std::string alert_trace;  // KAOKO_ALERT_TRACE: where each alert's time went, for ./kaoko bench (CoreOptions)
  std::string client_id;    // default: kaoko-<tambon>
  std::string http_address = "127.0.0.1";
  unsigned short http_port = 8080;  // 0 picks a free port (tests)
  std::string web_root;             // static pages, if any (server/web)
  std::string mqtt_ws_url;          // the broker's MQTT-over-WebSockets URL, for the watcher page
  // credentials.toml from kaoko-admin: a person with no web password yet may log in with this password once, which
  // then becomes their stored argon2id hash (docs/screens.md). Empty: only `kaoko-admin set-password` sets them.
  std::string credentials_file;
  // Rehearsal time: kaoko's clock runs `time_scale` times faster than real time from `time_origin_ms` (ms since the
  // epoch, UTC; 0 = the moment the service starts). 1 = real time. Deadlines and readings' ts follow this clock.
  double time_scale = 1.0;
  long long time_origin_ms = 0;
  // --rehearsal-human-time: in a rehearsal, the people's steps (ack, confirm, declare, not reached, reminders, the
  // channel ladder) last their real durations while the river runs `time_scale` times faster
  // (HumanDeadlinesAtRealTime).
  bool human_real_time = false;
  // Retention (docs/operations.md): raw readings older than this many days (on kaoko's clock) become hourly rows in
  // small steps on the core thread; 0 keeps every raw reading forever.
  int raw_days = 400;
  // Which tier this service is (docs/tiers.md): the TAO (default), a village's edge box, or a province.
  tier::TierOptions tier;
  // The SMS gateway (docs/delivery.md, docs/delivery-sms.md): Kannel's sendsms URL, its account and the callback
  // token from the credentials file's [sms] table. Empty sendsms URL: no SMS is sent, and nothing is queued for it.
  std::string sms_sendsms_url;
  double sms_per_minute = 30;
  std::string sms_username, sms_password, sms_callback_token, sms_from = "KAOKO";
  // Where the gateway reaches kaoko's HTTP API (its delivery reports); default http://<--http>/.
  std::string callback_url;
  int gateway_down_minutes = 5;  // a gateway failing this long is reported down
  // LINE's Messaging API (docs/delivery-line.md): on when the credentials file has a [line] table (channel_token,
  // channel_secret); --line-api, --line-ca, --line-rate.
  bool line = false;
  std::string line_api = "https://api.line.me";
  std::string line_ca_file;
  double line_per_minute = 600;
  std::string line_channel_token, line_channel_secret;
};

// The LINE channel's access token and secret from the credentials file's [line] table (channel_token,
// channel_secret): true when read, false when the file has no [line] table; an error names the file and what is
// missing, never the values.
Result<bool> ReadLineAccount(const std::string& credentials_file, ServiceOptions& options);

// The SMS gateway's account and callback token from the credentials file's [sms] table (username, password,
// callback_token, from); an error names the file and what is missing.
Result<bool> ReadSmsAccount(const std::string& credentials_file, ServiceOptions& options);

class Service {
 public:
  // Loads the network file and opens the database; an error says what and where. Does not connect yet.
  static Result<std::unique_ptr<Service>> Create(ServiceOptions options);
  virtual ~Service() = default;
  // Connects, serves, and blocks until Stop() (from any thread or a signal handler thread) — then shuts down in
  // order: stop taking messages, commit and ack what was taken, disconnect.
  virtual void Run() = 0;
  virtual void Stop() = 0;
  // The HTTP port actually bound (after Create).
  virtual unsigned short http_port() const = 0;
};

// Reads the password of `user` from a credentials file written by kaoko-admin (TOML; `[accounts]` table or top
// level). Returns an error naming the file and the problem.
Result<std::string> ReadPassword(const std::string& credentials_file, const std::string& user);

}  // namespace kaoko::server
