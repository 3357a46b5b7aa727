// kaoko-server: the service. Only parses options and wires; everything else is in the kaoko::server library.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "kaoko/common/log.hpp"
#include "kaoko/app/service.hpp"
#include "kaoko/contract/wire.hpp"

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
  --help                 this text
Environment: KAOKO_MQTT_PASSWORD (as --mqtt-password); KAOKO_ALERT_TRACE=FILE appends one line per reading that
caused an alert, with where its time went (measurement: ./kaoko bench, docs/benchmarks.md)
)";
}  // namespace

int main(int argc, char** argv) {
  kaoko::server::ServiceOptions o;
  o.web_root = KAOKO_DEFAULT_WEB_ROOT;
  std::string credentials;
  if (const char* pw = std::getenv("KAOKO_MQTT_PASSWORD")) o.mqtt_password = pw;
  if (const char* trace = std::getenv("KAOKO_ALERT_TRACE")) o.alert_trace = trace;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "kaoko-server: {} needs a value\n{}", a, kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    } else if (a == "--network") o.network_file = next();
    else if (a == "--db") o.db_path = next();
    else if (a == "--broker") o.broker_url = next();
    else if (a == "--mqtt-user") o.mqtt_user = next();
    else if (a == "--mqtt-password") o.mqtt_password = next();
    else if (a == "--credentials") credentials = next();
    else if (a == "--client-id") o.client_id = next();
    else if (a == "--web-root") o.web_root = next();
    else if (a == "--mqtt-ws") o.mqtt_ws_url = next();
    else if (a == "--raw-days") {
      std::string v = next();
      bool number = !v.empty() && v.size() <= 6 && v.find_first_not_of("0123456789") == std::string::npos;
      if (!number || (std::stoi(v) != 0 && std::stoi(v) < 7)) {
        // A week at least: the dashboard's charts and the people who look back after a flood want raw readings.
        fmt::print(stderr, "kaoko-server: --raw-days wants 0 (keep raw readings forever) or a whole number of days "
                           "of at least 7, got '{}'\n", v);
        return 2;
      }
      o.raw_days = std::stoi(v);
    }
    else if (a == "--tier") {
      auto mode = kaoko::server::tier::ParseMode(next());
      if (!mode) {
        fmt::print(stderr, "kaoko-server: --tier is edge, tao or province\n");
        return 2;
      }
      o.tier.mode = *mode;
    }
    else if (a == "--village") o.tier.village = next();
    else if (a == "--node") o.tier.node = next();
    else if (a == "--uplink") o.tier.uplink = true;
    else if (a == "--tambon-network") o.tier.tambon_networks.push_back(next());
    else if (a == "--heartbeat") o.tier.heartbeat_seconds = std::stoi(next());
    else if (a == "--silent-after") o.tier.silent_heartbeats = std::stoi(next());
    else if (a == "--journal-resend") o.tier.resend_ms = std::stoi(next());
    else if (a == "--time-scale") o.time_scale = std::stod(next());
    else if (a == "--time-origin") {
      auto t = kaoko::wire::ParseTime(next());
      if (!t) {
        fmt::print(stderr, "kaoko-server: --time-origin: {}\n", t.error().reason);
        return 2;
      }
      o.time_origin_ms = t->time_since_epoch().count();
    }
    else if (a == "--http") {
      std::string v = next();
      auto colon = v.rfind(':');
      if (colon == std::string::npos) {
        fmt::print(stderr, "kaoko-server: --http wants ADDR:PORT, got '{}'\n", v);
        return 2;
      }
      o.http_address = v.substr(0, colon);
      o.http_port = static_cast<unsigned short>(std::stoi(v.substr(colon + 1)));
    } else {
      fmt::print(stderr, "kaoko-server: unknown option '{}'\n{}", a, kUsage);
      return 2;
    }
  }
  if (o.network_file.empty() && o.tier.mode != kaoko::server::tier::Mode::kProvince) {
    fmt::print(stderr, "kaoko-server: --network is required\n{}", kUsage);
    return 2;
  }
  if (!credentials.empty()) {
    auto pw = kaoko::server::ReadPassword(credentials, o.mqtt_user);
    if (!pw) {
      fmt::print(stderr, "kaoko-server: {}\n", pw.error().reason);
      return 2;
    }
    o.mqtt_password = *pw;
    o.credentials_file = credentials;
  }
  auto service = kaoko::server::Service::Create(o);
  if (!service) {
    fmt::print(stderr, "kaoko-server: {}\n", service.error().reason);
    return 1;
  }
  // Signals are waited for on their own thread, so Stop() runs outside any signal handler.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) {
      kaoko::log::Info("service", "signal {} received", sig);
      (*service)->Stop();
    }
  });
  std::jthread signal_thread([&] { signals_io.run(); });
  (*service)->Run();
  signals_io.stop();
  return 0;
}
