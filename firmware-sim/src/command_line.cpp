// kaoko-sim's command line: its usage text and the options it parses into (SimOptions).
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "kaoko/sim/simulation.hpp"

namespace kaoko::sim {
namespace {

std::optional<double> ToNumber(const std::string& s) {
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::string Usage() {
  return R"(kaoko-sim — a river that floods, stations that behave like real firmware, watchers who report
(แบบจำลองสถานีวัดระดับน้ำและผู้เฝ้าระวัง สำหรับทดสอบ kaoko)

usage: kaoko-sim --network FILE --scenario FILE [options]

  --network FILE          the tambon's network file (config/tonhong.toml)
  --scenario FILE         a scenario (firmware-sim/scenarios/*.toml)
  --broker URI            MQTT broker, only 127.0.0.1 (default tcp://127.0.0.1:1883)
  --credentials FILE      credentials.toml written by kaoko-admin ([accounts] id = "password")
  --password-pattern P    every account's password is P with {id} replaced (e.g. 'demo-{id}')
  --user U --password P   one account for every connection (scale runs with the service account)
  --state-dir DIR         station buffers, seq numbers and watcher report ids (default ./kaoko-sim-state)
  --speed X               simulated seconds per real second (default 60; 3600 = an hour a second; 0 = flat out)
  --start TIME            simulated start, RFC 3339 UTC (default: now, rounded down to the minute)
  --duration HOURS        override the scenario's duration
  --seed N                override the scenario's seed
  --no-watchers           no watchers' reports
  --no-responders         nobody answers kaoko's notifications (committee, headmen, deputies, TAO officers)
  --anchor-start          with --start T: run on kaoko-server's rehearsal clock (--time-origin T --time-scale SPEED),
                          simulated = T + (wall now - T) x SPEED: wait for T if ahead, catch up if it has passed
  --produced-log FILE     write every reading the stations take as "<station> <seq> <payload>" lines
  --scale N               N synthetic stations s-000000… (copies of the network's stations) for load tests
  --connections K         with --scale: K shared MQTT connections instead of one per station
  --exit-when-drained     after the scenario, wait until every reading is acked; exit 3 if some are not
  --drain-timeout S       how long to wait for that (default 120 s)
  --outage-hook CMD       run `CMD begin broker` / `CMD end broker` at the scenario's outage window edges
  --local-acker           ack readings ourselves (no kaoko service running; for trying the simulator alone)
  --villages A,B          only the stations, watchers and responders of these villages (the whole river is still
                          modelled): what a village's edge box serves (docs/tiers.md)
  --humans A,B            people played by humans (a drill, ./kaoko demo's printed accounts): no simulated watcher
                          or responder for them, and their villages' asks are left to them (the TAO bot answers none)
  --list-people           print who is simulated (id, role, answers|reads) and stop
  --connect-wait S        wait up to S real seconds for the connections before the clock starts (default 15)
  --buffer N              readings each station can buffer on disk (default 20000; the oldest go first)
  --ack-timeout S         resend unacked readings after S real seconds without ack progress (default 30)
  --no-offline-at-exit    do not publish the retained offline status when the simulation ends
  --progress live|lines   progress display (default: live on a terminal, lines otherwise)
  --dry-run               run the model only, no broker
  --csv FILE              with --dry-run: levels per station over time
  --csv-step MINUTES      CSV row interval (default 10)
  --plot FILE.png         with --dry-run: draw the levels with gnuplot (Debian: gnuplot-nox)
  --help                  this text

Exit codes: 0 ok · 1 bad input · 2 no broker connection · 3 readings still unacked after --exit-when-drained.
)";
}

Result<SimOptions> ParseCommandLine(int argc, const char* const* argv) {
  SimOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& into) -> bool {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    std::string v;
    auto need = [&]() -> Result<std::string> {
      if (!value(v)) return MakeError("usage", fmt::format("{} needs a value", a));
      return v;
    };
    auto number = [&]() -> Result<double> {
      auto s = need();
      if (!s) return s.error();
      auto n = ToNumber(*s);
      if (!n || *n < 0) return MakeError("usage", fmt::format("{} needs a non-negative number, not '{}'", a, *s));
      return *n;
    };
#define KAOKO_STR(field)      \
  {                           \
    auto s = need();          \
    if (!s) return s.error(); \
    o.field = *s;             \
  }
#define KAOKO_NUM(expr)       \
  {                           \
    auto n = number();        \
    if (!n) return n.error(); \
    double x = *n;            \
    expr;                     \
  }
    if (a == "--help" || a == "-h")
      o.help = true;
    else if (a == "--network")
      KAOKO_STR(network_path)
    else if (a == "--scenario")
      KAOKO_STR(scenario_path)
    else if (a == "--broker")
      KAOKO_STR(broker)
    else if (a == "--credentials")
      KAOKO_STR(credentials_path)
    else if (a == "--password-pattern")
      KAOKO_STR(password_pattern)
    else if (a == "--user")
      KAOKO_STR(user)
    else if (a == "--password")
      KAOKO_STR(password)
    else if (a == "--state-dir")
      KAOKO_STR(state_dir)
    else if (a == "--csv")
      KAOKO_STR(csv_path)
    else if (a == "--plot")
      KAOKO_STR(plot_path)
    else if (a == "--outage-hook")
      KAOKO_STR(outage_hook)
    else if (a == "--produced-log")
      KAOKO_STR(produced_log)
    else if (a == "--speed")
      KAOKO_NUM(o.speed = x)
    else if (a == "--duration")
      KAOKO_NUM(o.duration = Seconds(static_cast<long long>(x * 3600 + 0.5)))
    else if (a == "--seed")
      KAOKO_NUM(o.seed = static_cast<std::uint64_t>(x))
    else if (a == "--scale")
      KAOKO_NUM(o.scale = static_cast<std::size_t>(x))
    else if (a == "--connections")
      KAOKO_NUM(o.connections = static_cast<std::size_t>(x))
    else if (a == "--drain-timeout")
      KAOKO_NUM(o.drain_timeout = Seconds(static_cast<long long>(x)))
    else if (a == "--connect-wait")
      KAOKO_NUM(o.connect_wait = Seconds(static_cast<long long>(x)))
    else if (a == "--buffer")
      KAOKO_NUM(o.buffer_capacity = static_cast<std::size_t>(std::max(1.0, x)))
    else if (a == "--ack-timeout")
      KAOKO_NUM(o.ack_timeout_s = std::max(0.1, x))
    else if (a == "--csv-step")
      KAOKO_NUM(o.csv_step = Seconds(static_cast<long long>(std::max(1.0, x * 60))))
    else if (a == "--villages" || a == "--humans") {
      auto s = need();
      if (!s) return s.error();
      std::vector<std::string>& into = a == "--villages" ? o.villages : o.humans;
      std::string list = *s;
      std::size_t at = 0;
      while (at <= list.size()) {
        auto comma = list.find(',', at);
        std::string v = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        if (!v.empty()) into.push_back(v);
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else if (a == "--list-people")
      o.list_people = true;
    else if (a == "--no-watchers")
      o.watchers = false;
    else if (a == "--no-responders")
      o.responders = false;
    else if (a == "--anchor-start")
      o.anchor_start = true;
    else if (a == "--dry-run")
      o.dry_run = true;
    else if (a == "--exit-when-drained")
      o.exit_when_drained = true;
    else if (a == "--local-acker")
      o.local_acker = true;
    else if (a == "--no-offline-at-exit")
      o.offline_at_exit = false;
    else if (a == "--start") {
      auto s = need();
      if (!s) return s.error();
      auto t = ParseRfc3339(*s);
      if (!t) return MakeError("usage", fmt::format("--start needs an RFC 3339 UTC time, not '{}'", *s));
      o.start = *t;
    } else if (a == "--progress") {
      auto s = need();
      if (!s) return s.error();
      if (*s == "live")
        o.progress = 1;
      else if (*s == "lines")
        o.progress = 0;
      else
        return MakeError("usage", "--progress is live or lines");
    } else {
      return MakeError("usage", fmt::format("unknown option '{}' (see --help)", a));
    }
#undef KAOKO_STR
#undef KAOKO_NUM
  }
  if (o.help) return o;
  if (o.network_path.empty()) return MakeError("usage", "--network is required (see --help)");
  if (o.scenario_path.empty()) return MakeError("usage", "--scenario is required (see --help)");
  if (!o.dry_run && o.broker.find("127.0.0.1") == std::string::npos &&
      o.broker.find("localhost") == std::string::npos) {
    return MakeError("usage", "--broker must be on 127.0.0.1 (the simulator never talks to other hosts)");
  }
  if ((!o.csv_path.empty() || !o.plot_path.empty()) && !o.dry_run) {
    return MakeError("usage", "--csv and --plot go with --dry-run");
  }
  if (o.connections > 0 && o.scale == 0) return MakeError("usage", "--connections goes with --scale");
  if (!o.villages.empty() && o.scale > 0) return MakeError("usage", "--villages does not go with --scale");
  if (o.anchor_start && (!o.start || o.speed <= 0)) {
    return MakeError("usage", "--anchor-start needs --start and a --speed above 0");
  }
  return o;
}

}  // namespace kaoko::sim
