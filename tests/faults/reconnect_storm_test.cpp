// Fault 4: a reconnect storm. Hundreds of stations (kaoko-sim --scale, on a network file made for them, over
// a few shared MQTT connections) buffer two simulated hours of readings while the broker is down, then all reconnect
// at the same moment when it comes back and send everything they kept at once. The broker is stopped cleanly here
// (SIGTERM: it saves the service's persistent session), so the whole burst queues for the service at the broker and
// reaches it at once when it is back; fault 1 covers SIGKILL.
// Afterwards every reading is stored exactly once, and the service stayed healthy through it: /healthz answered 200,
// quickly, from the moment it was back on the broker until the backlog was drained, and its queue emptied.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "fault_support.hpp"

using namespace kaoko::testing;
using namespace kaoko::faults;
using namespace std::chrono_literals;
namespace flood = kaoko::flood;

namespace {

// Rain over every village: the upstream stations go to fast mode (a reading a simulated minute) before the outage.
const std::string kScenario = flood::ScenarioToml(
    "reconnect-storm", "every station reconnects at once after two hours without a broker (tests/faults)", 2.75, 7, 0.1,
    "[[rain]]\npoints = [[0, 8], [1, 16], [2.75, 12]]\n\n" + flood::BrokerOutageToml(0.5, 2.5));

// config/tonhong.toml with its six stations replaced by `n` stations s-000000… spread over the five villages, each a
// copy of one of the six (thresholds and landmarks): the ids kaoko-sim --scale gives its synthetic stations.
std::string ScaledNetwork(std::size_t n) {
  std::ifstream in(TonHong());
  std::string text(std::istreambuf_iterator<char>(in), {});
  const auto first = text.find("\n[[stations]]");
  const auto people = text.find("\n# ---------------------------------------------------------------- people");
  if (first == std::string::npos || people == std::string::npos || people < first) {
    throw std::runtime_error("config/tonhong.toml changed shape: cannot find its stations");
  }
  // The six originals, as text blocks.
  std::vector<std::string> blocks;
  for (auto at = first + 1; at < people;) {
    auto next = text.find("\n[[stations]]", at + 1);
    auto end = std::min(next == std::string::npos ? people : next, people);
    blocks.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  std::string stations;
  for (std::size_t i = 0; i < n; ++i) {
    std::string b = blocks[i % blocks.size()];
    auto id_at = b.find("id = \"");
    auto id_end = b.find('"', id_at + 6);
    b.replace(id_at + 6, id_end - id_at - 6, fmt::format("s-{:06}", i));
    stations += b + "\n";
  }
  return text.substr(0, first + 1) + stations + text.substr(people);
}

}  // namespace

TEST_CASE(
    "faults: a reconnect storm — hundreds of stations send two buffered hours at once after a broker restart: all "
    "stored exactly once, the service stays healthy",
    "[faults][integration]") {
  const std::size_t kStations = LongRun() ? 2000 : 300;
  Broker broker;  // the project's accounts for Ton Hong: the service account is all the shared links need
  TempDir dir;
  const std::string network = dir.path() + "/scaled.toml";
  const std::string scenario = dir.path() + "/storm.toml";
  const std::string produced = dir.path() + "/produced.log";
  const std::string db = dir.path() + "/kaoko.db";
  WriteText(network, ScaledNetwork(kStations));
  WriteText(scenario, kScenario);
  OutageHook hook(dir.path() + "/hook");

  const std::string speed = "3600";  // a simulated hour a second: the two hours without a broker pass in 2 s
  const std::string start = PastOrigin(2s);
  ServiceProcess kaoko(broker, db, {"--network", network, "--time-scale", speed, "--time-origin", start});
  SimSpec spec;
  spec.network = network;
  spec.scenario = scenario;
  spec.broker_url = broker.url();
  spec.state_dir = dir.path() + "/sim-state";
  spec.produced_log = produced;
  spec.speed = speed;
  spec.start = start;
  spec.anchor = false;      // trails kaoko's clock (PastOrigin); the hook's own time does not count
  spec.ack_timeout = "10";  // the burst is queued for the service, not lost: no resend while it catches up
  spec.drain_timeout = "120";
  spec.extra = {"--scale",       std::to_string(kStations),
                "--connections", "4",
                "--user",        "kaoko",
                "--password",    broker.Password("kaoko"),
                "--no-watchers", "--no-responders",
                "--outage-hook", hook.path()};
  Process sim(SimArgs(spec), dir.path() + "/kaoko-sim.log");

  std::int64_t rows_before_outage = 0;
  std::chrono::steady_clock::time_point restarted{};
  double back_s = -1, worst_health_s = 0;
  int health_checks = 0, unhealthy = 0;
  double peak_queue = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(LongRun() ? 900 : 180);
  while (sim.running()) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    if (auto r = hook.Next()) {
      if (r->edge == "begin") {
        REQUIRE(kaoko.WaitHealthy(10s));
        rows_before_outage = Db(db).Readings();
        broker.Stop();
      } else {
        broker.Start();
        restarted = std::chrono::steady_clock::now();
      }
      hook.Answer(*r);
      continue;
    }
    if (restarted != std::chrono::steady_clock::time_point{}) {
      // From the restart on: how long until the service is back, then every /healthz during the storm.
      auto t0 = std::chrono::steady_clock::now();
      auto res = kaoko.Get("/healthz");
      double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (back_s < 0) {
        if (res.status == 200)
          back_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
        // A liveness bound, not a speed goal: Paho retries at most every 16 s and the link's watchdog kicks it after
        // that; under the sanitizers on a busy 2-core machine the first retry that finds the broker took just over
        // 30 s once. How long it took is printed below (and measured by ./kaoko bench, not here).
        REQUIRE(std::chrono::steady_clock::now() - restarted < 90s);
      } else {
        ++health_checks;
        worst_health_s = std::max(worst_health_s, took);
        if (res.status != 200) ++unhealthy;
        peak_queue = std::max(peak_queue, Metric(kaoko, "kaoko_ingest_queue_depth"));
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  const double storm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  const int rc = sim.Wait();
  const std::string log = sim.Log();
  INFO("kaoko-sim log (end):\n" << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  const std::string m = kaoko.Get("/metrics").body;
  INFO(
      fmt::format("kaoko: {} rows stored; accepted {}, duplicate {}, acks published {}, queue {}, mqtt connected {}, "
                  "lost {}, publish refused {}; broker clients: {}",
                  Db(db).Readings(), Metric(m, "kaoko_readings_accepted_total"),
                  Metric(m, "kaoko_readings_duplicate_total"), Metric(m, "kaoko_acks_published_total"),
                  Metric(m, "kaoko_ingest_queue_depth"), Metric(m, "kaoko_mqtt_events_total{event=\"connected\"}"),
                  Metric(m, "kaoko_mqtt_events_total{event=\"connection_lost\"}"),
                  Metric(m, "kaoko_mqtt_events_total{event=\"publish_refused\"}"),
                  fmt::format("{}", fmt::join(ConnectedClients(broker), ", "))));
  REQUIRE(hook.answered() == 2);
  REQUIRE(rc == 0);
  REQUIRE(log.ends_with("buffered: 0\n"));
  const std::string stations = LogLine(log, "  stations ");
  REQUIRE(NumberAfter(stations, "dropped ") == 0);

  const Ledger ledger = CompareExactlyOnce(produced, db);
  INFO(ledger.Summary());
  REQUIRE(ledger.problems.empty());
  REQUIRE(ledger.stations == kStations);
  REQUIRE(flood::RefusedReadings(db).empty());
  const std::int64_t stormed = static_cast<std::int64_t>(ledger.stored) - rows_before_outage;
  // The stations really kept hours of readings: at least one every 10 simulated minutes each, for two hours.
  REQUIRE(stormed >= static_cast<std::int64_t>(kStations) * 12);

  INFO("/healthz during the storm: " << health_checks << " checks, " << unhealthy << " not 200, slowest "
                                     << worst_health_s << " s");
  REQUIRE(back_s >= 0);
  REQUIRE(health_checks >= 3);
  REQUIRE(unhealthy == 0);
  REQUIRE(worst_health_s < 2.0);
  REQUIRE(Metric(kaoko, "kaoko_ingest_queue_depth") == 0);
  REQUIRE(kaoko.Get("/healthz").status == 200);
  WARN(fmt::format(
      "reconnect storm: {} stations, {} readings stored ({} sent after the restart) in {:.1f} s from the "
      "restart to drained; service back on the broker after {:.2f} s; /healthz {} checks, slowest {:.3f} s; "
      "queue depth seen up to {:.0f}; service RSS {} KiB; {}",
      kStations, ledger.stored, stormed, storm_s, back_s, health_checks, worst_health_s, peak_queue,
      RssKiB(kaoko.pid()), LogLine(log, "  links ")));
}
