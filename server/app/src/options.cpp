// kaoko-server's command line (options.hpp).
#include "kaoko/app/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/contract/wire.hpp"

namespace kaoko::server {
namespace {

const char* kUsage = R"(kaoko-server — the kaoko flood early-warning service

Usage: kaoko-server --network FILE [options]

  --network FILE         the tambon's network file (TOML)                  (required)
  --db FILE              the SQLite database (created if missing)          [kaoko.db]
  --broker URL           the MQTT broker                                   [tcp://127.0.0.1:1883]
  --mqtt-user NAME       the service's broker account                      [kaoko]
  --credentials FILE     credentials.toml from kaoko-admin (password of --mqtt-user)
  --mqtt-password PW     the password itself (or env KAOKO_MQTT_PASSWORD)
  --client-id ID         MQTT client id; keep it stable (persistent session) [kaoko-<tambon>]
  --http ADDR:PORT       where the HTTP API listens                       [127.0.0.1:8080]
  --web-root DIR         the people's pages (static files)                [the source tree's server/web]
  --mqtt-ws URL          the broker's MQTT-over-WebSockets URL for the watcher page, e.g. ws://127.0.0.1:9001
                         (default: ws://<the page's host>:9001)
  --raw-days N           keep every raw reading this many days; older ones become hourly rows (lowest, mean,
                         highest level, count, rain, lowest battery); 0 keeps them forever; at least 7  [400]
  --time-scale N         REHEARSAL: kaoko's clock runs N times faster than real time
  --time-origin TIME     REHEARSAL: the simulated time (RFC 3339) at the wall-clock moment TIME; simulated time is
                         TIME + (now - TIME) * N, the rule kaoko-sim --start TIME --speed N follows
  --rehearsal-human-time REHEARSAL: the people's deadlines (ack, confirm, declare, reminders, not reached) keep
                         their real durations while the river runs N times faster (a drill with volunteers)

  Tiers (docs/tiers.md): a village edge box, the TAO (the default), a province
  --tier edge|tao|province                                                  [tao]
  --village ID           edge: the village this box serves
  --node ID              this node's name in tier topics and its bridge account above
                         [edge: edge-<village>; tao: the tambon's id; province: province]
  --uplink               tao: journal readings and incident events up to a province (through the broker's bridge)
  --tambon-network FILE  province: the network file of one tambon (repeat for each); --network is not needed
  --heartbeat SECONDS    seconds between heartbeats to the tier above, on kaoko's clock                  [60]
  --silent-after N       heartbeats a node below may miss before a technician incident is opened       [3]
  --journal-resend MS    resend unacknowledged journal entries after this long without progress      [5000]

  Reaching people (docs/delivery.md)
  --sms-gateway URL      Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms; its account and callback
                         token come from --credentials' [sms] table (none: no SMS is sent)
  --sms-rate N           messages a minute the gateway may be given (a modem: a few; an operator: the contract) [30]
  --callback-url URL     where the gateway reaches this service's HTTP API      [http://<--http>]
  --line-api URL         LINE's Messaging API; its channel token and secret come from --credentials' [line] table
                         (no [line] table: nothing is sent on LINE)                           [https://api.line.me]
  --line-ca FILE         the CA certificate(s) to trust for --line-api (a stand-in or a proxy) [the system's]
  --line-rate N          pushes a minute kaoko hands to LINE                                             [600]
  --help                 this text
Environment: KAOKO_MQTT_PASSWORD (as --mqtt-password); KAOKO_ALERT_TRACE=FILE appends one line per reading that
caused an alert, with where its time went (measurement: ./kaoko bench, docs/benchmarks.md)
)";

// Every option Usage() names.
constexpr std::string_view kOptions[] = {
    "--network",        "--db",
    "--broker",         "--mqtt-user",
    "--mqtt-password",  "--credentials",
    "--client-id",      "--http",
    "--web-root",       "--mqtt-ws",
    "--raw-days",       "--time-scale",
    "--time-origin",    "--rehearsal-human-time",
    "--tier",           "--village",
    "--node",           "--uplink",
    "--tambon-network", "--heartbeat",
    "--silent-after",   "--journal-resend",
    "--sms-gateway",    "--sms-rate",
    "--callback-url",   "--gateway-down-after",
    "--line-api",       "--line-ca",
    "--line-rate",
};

Error Usage(std::string reason) { return MakeError("usage", std::move(reason)); }
Error Plain(std::string reason) { return MakeError("options", std::move(reason)); }

// The gateways' accounts from the credentials file (docs/delivery.md): [sms] when --sms-gateway is given, [line] when
// the file has one (LINE is on then). Why they cannot be used, or nothing.
std::optional<Error> GatewayAccounts(const std::string& credentials, bool line_asked, ServiceOptions& o) {
  if (!o.sms_sendsms_url.empty()) {
    if (credentials.empty())
      return Plain("--sms-gateway needs --credentials with an [sms] table (docs/delivery-sms.md)");
    if (auto sms = ReadSmsAccount(credentials, o); !sms) return Plain(sms.error().reason);
  }
  if (!credentials.empty()) {
    auto line = ReadLineAccount(credentials, o);
    if (!line) return Plain(line.error().reason);
    o.line = *line;
  }
  if (line_asked && !o.line) {
    return Plain(
        "--line-api, --line-ca and --line-rate need --credentials with a [line] table (docs/delivery-line.md)");
  }
  return std::nullopt;
}

// --line-api, --line-ca, --line-rate (docs/delivery-line.md): why the value is refused, or nothing.
std::optional<Error> LineOption(const std::string& a, const std::string& v, ServiceOptions& o) {
  if (a == "--line-api") {
    if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
      return Plain(fmt::format("--line-api wants an https:// URL, got '{}'", v));
    }
    o.line_api = v;
  } else if (a == "--line-ca") {
    o.line_ca_file = v;
  } else {
    double rate = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rate);
    if (ec != std::errc() || end != v.data() + v.size() || !(rate > 0) || !(rate <= 100000)) {
      return Plain(fmt::format("--line-rate wants pushes a minute above 0, got '{}'", v));
    }
    o.line_per_minute = rate;
  }
  return std::nullopt;
}

// --time-scale, --time-origin (a rehearsal's clock): why the value is refused, or nothing.
std::optional<Error> TimeOption(const std::string& a, const std::string& v, ServiceOptions& o) {
  if (a == "--time-scale") {
    double scale = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), scale);
    if (ec != std::errc() || end != v.data() + v.size() || !(scale > 0) || !std::isfinite(scale)) {
      return Plain(fmt::format("--time-scale wants a number above 0, got '{}'", v));
    }
    o.time_scale = scale;
    return std::nullopt;
  }
  auto t = kaoko::wire::ParseTime(v);
  if (!t) return Plain(fmt::format("--time-origin: {}", t.error().reason));
  o.time_origin_ms = t->time_since_epoch().count();
  return std::nullopt;
}

// A whole number of at most nine digits (every option that takes one wants far less).
Result<int> WholeNumber(const std::string& option, const std::string& v) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || v.size() > 9 || ec != std::errc() || end != v.data() + v.size() || n < 0) {
    return Plain(fmt::format("{} wants a whole number, got '{}'", option, v));
  }
  return n;
}

}  // namespace

const char* Usage() { return kUsage; }

Result<ParsedOptions> ParseOptions(int argc, const char* const* argv, const std::string& default_web_root) {
  using Parsed = ParsedOptions;
  ServiceOptions o;
  o.web_root = default_web_root;
  std::string credentials;
  bool line_asked = false;  // --line-api, --line-ca or --line-rate: LINE must be configured
  if (const char* pw = std::getenv("KAOKO_MQTT_PASSWORD")) o.mqtt_password = pw;
  if (const char* trace = std::getenv("KAOKO_ALERT_TRACE")) o.alert_trace = trace;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") return Parsed{o, true};
    if (std::find(std::begin(kOptions), std::end(kOptions), a) == std::end(kOptions)) {
      return Usage(fmt::format("unknown option '{}'", a));
    }
    // Every option but --help, --uplink and --rehearsal-human-time takes a value.
    if (a == "--uplink" || a == "--rehearsal-human-time") {
      (a == "--uplink" ? o.tier.uplink : o.human_real_time) = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(fmt::format("{} needs a value", a));
    std::string v = argv[++i];
    if (a == "--network")
      o.network_file = v;
    else if (a == "--db")
      o.db_path = v;
    else if (a == "--broker")
      o.broker_url = v;
    else if (a == "--mqtt-user")
      o.mqtt_user = v;
    else if (a == "--mqtt-password")
      o.mqtt_password = v;
    else if (a == "--credentials")
      credentials = v;
    else if (a == "--client-id")
      o.client_id = v;
    else if (a == "--web-root")
      o.web_root = v;
    else if (a == "--mqtt-ws")
      o.mqtt_ws_url = v;
    else if (a == "--raw-days") {
      bool number = !v.empty() && v.size() <= 6 && v.find_first_not_of("0123456789") == std::string::npos;
      if (!number || (std::stoi(v) != 0 && std::stoi(v) < 7)) {
        // A week at least: the dashboard's charts and the people who look back after a flood want raw readings.
        return Plain(fmt::format(
            "--raw-days wants 0 (keep raw readings forever) or a whole number of days of at least 7, got '{}'", v));
      }
      o.raw_days = std::stoi(v);
    } else if (a == "--tier") {
      auto mode = tier::ParseMode(v);
      if (!mode) {
        return Plain("--tier is edge, tao or province");
      }
      o.tier.mode = *mode;
    } else if (a == "--village")
      o.tier.village = v;
    else if (a == "--node")
      o.tier.node = v;
    else if (a == "--tambon-network")
      o.tier.tambon_networks.push_back(v);
    else if (a == "--heartbeat" || a == "--silent-after" || a == "--journal-resend") {
      auto n = WholeNumber(a, v);
      if (!n) return n.error();
      int* field = a == "--heartbeat"      ? &o.tier.heartbeat_seconds
                   : a == "--silent-after" ? &o.tier.silent_heartbeats
                                           : &o.tier.resend_ms;
      *field = *n;
    } else if (a == "--time-scale" || a == "--time-origin") {
      if (auto refused = TimeOption(a, v, o)) return *refused;
    } else if (a == "--sms-gateway") {
      if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
        return Plain(fmt::format("--sms-gateway wants an http:// or https:// URL, got '{}'", v));
      }
      o.sms_sendsms_url = v;
    } else if (a == "--sms-rate") {
      double rate = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rate);
      if (ec != std::errc() || end != v.data() + v.size() || !(rate > 0) || !(rate <= 100000)) {
        return Plain(fmt::format("--sms-rate wants messages a minute above 0, got '{}'", v));
      }
      o.sms_per_minute = rate;
    } else if (a.rfind("--line-", 0) == 0) {
      if (auto refused = LineOption(a, v, o)) return *refused;
      line_asked = true;
    } else if (a == "--callback-url") {
      o.callback_url = v;
    } else if (a == "--gateway-down-after") {
      auto n = WholeNumber(a, v);
      if (!n || *n < 1)
        return Plain(fmt::format("--gateway-down-after wants whole minutes of at least 1, got '{}'", v));
      o.gateway_down_minutes = *n;
    } else if (a == "--http") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos) {
        return Plain(fmt::format("--http wants ADDR:PORT, got '{}'", v));
      }
      auto port = WholeNumber(a, v.substr(colon + 1));
      if (!port || *port > 65535) return Plain(fmt::format("--http wants ADDR:PORT, got '{}'", v));
      o.http_address = v.substr(0, colon);
      o.http_port = static_cast<unsigned short>(*port);
    } else {
      return Usage(fmt::format("unknown option '{}'", a));
    }
  }
  if (o.human_real_time && o.time_scale == 1.0) {
    return Plain("--rehearsal-human-time is for a rehearsal: give --time-scale too");
  }
  if (o.network_file.empty() && o.tier.mode != tier::Mode::kProvince) {
    return Usage("--network is required");
  }
  if (!credentials.empty()) {
    auto pw = ReadPassword(credentials, o.mqtt_user);
    if (!pw) return Plain(pw.error().reason);
    o.mqtt_password = *pw;
    o.credentials_file = credentials;
  }
  if (auto refused = GatewayAccounts(credentials, line_asked, o)) return *refused;
  while (!o.callback_url.empty() && o.callback_url.back() == '/') o.callback_url.pop_back();
  return Parsed{std::move(o), false};
}

Clock ClockOf(const ServiceOptions& options) {
  if (options.time_origin_ms != 0) {
    return Clock::RehearsalFrom(Clock::TimePoint(std::chrono::milliseconds(options.time_origin_ms)),
                                options.time_scale);
  }
  if (options.time_scale != 1.0) return Clock::RehearsalStartingNow(options.time_scale);
  return Clock::Wall();
}

void HumanDeadlinesAtRealTime(alerting::Network& network, double scale) {
  if (!(scale > 1.0) || !std::isfinite(scale)) return;
  auto real = [scale](alerting::Seconds& d) {
    d = alerting::Seconds(static_cast<alerting::Seconds::rep>(std::llround(static_cast<double>(d.count()) * scale)));
  };
  alerting::EscalationPolicy& e = network.escalation;
  for (alerting::Seconds* d :
       {&e.committee_ack, &e.headman_confirm, &e.deputy_after, &e.tao_declare, &e.reminder_interval}) {
    real(*d);
  }
  real(network.delivery.not_reached);
  for (auto& [level, channels] : network.delivery.ladder) {
    for (auto& [channel, delay] : channels) real(delay);
  }
}

}  // namespace kaoko::server
