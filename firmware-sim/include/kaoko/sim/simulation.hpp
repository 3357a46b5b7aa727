// kaoko-sim's run loop: loads the network and a scenario, drives the river model, one StationFirmware per station,
// one Watcher per watcher and one Responder per committee member, headman, deputy and TAO officer in simulated time
// paced against the wall clock (`speed` simulated seconds per real second), carries their messages over real MQTT
// connections, and reports progress and a summary. Also the dry run (model only, CSV and plot). main.cpp only parses
// the command line and calls Run().
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"
#include "kaoko/sim/scenario.hpp"
#include "kaoko/sim/time.hpp"

namespace kaoko::sim {

struct SimOptions {
  std::string network_path;
  std::string scenario_path;
  std::string broker = "tcp://127.0.0.1:1883";
  std::string credentials_path;
  std::string password_pattern;  // e.g. "demo-{id}"
  std::string user, password;    // one account for every connection
  std::string state_dir = "kaoko-sim-state";
  double speed = 60;             // simulated seconds per real second; 0 = as fast as possible
  std::optional<SimTime> start;  // default: now, rounded down to the minute
  // With `start`: run on kaoko-server's rehearsal clock (--time-origin start --time-scale speed), i.e. simulated time
  // = start + (wall now - start) * speed: wait for `start` when it is ahead, catch up flat out when it has passed.
  bool anchor_start = false;
  std::string produced_log;  // every reading the stations take: "<station> <seq> <payload>" per line
  std::optional<Seconds> duration;
  std::optional<std::uint64_t> seed;
  bool watchers = true;
  bool responders = true;  // committee, headmen, deputies and TAO officers answer kaoko's notifications
  bool dry_run = false;
  std::string csv_path;
  Seconds csv_step{600};
  std::string plot_path;        // PNG via gnuplot (dry run)
  std::size_t scale = 0;        // synthetic stations s-000000…; 0 = the network's stations
  std::size_t connections = 0;  // 0 = one MQTT connection per station; K = K shared connections
  bool exit_when_drained = false;
  Seconds drain_timeout{120};
  std::string outage_hook;   // run as `<hook> begin|end <what>` at the edges of each outage window
  bool local_acker = false;  // ack readings ourselves (testing without the kaoko service)
  bool offline_at_exit = true;
  std::size_t buffer_capacity = 20000;
  double ack_timeout_s = 30;
  Seconds connect_wait{15};  // wait this long (real) for the links before starting the clock
  int progress = -1;         // -1 auto (TTY: live line), 0 plain periodic lines, 1 live line
  // Only the stations, watchers and responders of these villages (the whole river is still modelled): a village's
  // edge box serves its own (docs/tiers.md). Empty: everyone. Not with --scale.
  std::vector<std::string> villages;
  // People played by humans (./kaoko demo's printed accounts, a drill with volunteers): no simulated watcher or
  // responder uses their accounts, and the villages they live in are left to their people (the simulated TAO officer
  // answers nothing there).
  std::vector<std::string> humans;
  bool list_people = false;  // print who is simulated (SimulatedPeople) and stop
  bool help = false;
};

// Who the simulator plays on these options: every watcher (of a village with a gauge) and every committee member,
// headman, deputy and TAO officer, minus --humans, --villages, --no-watchers and --no-responders. `answers` is false
// for one who only reads (silent in the scenario, or a TAO officer off duty). Pure: the run uses the same list.
struct SimulatedPerson {
  std::string id;
  alerting::Role role = alerting::Role::kWatcher;
  bool answers = true;
};
std::vector<SimulatedPerson> SimulatedPeople(const SimOptions& options, const alerting::Network& network,
                                             const Scenario& scenario);
// --list-people: one line per simulated person, "<id> <role> answers|reads". Returns 0.
int ListSimulatedPeople(const SimOptions& options, const alerting::Network& network, const Scenario& scenario,
                        std::ostream& out);
// The villages where a --humans person lives: left to their people.
std::vector<std::string> VillagesLeftToPeople(const SimOptions& options, const alerting::Network& network);

// Parses kaoko-sim's command line (argv[0] skipped). Errors name the option.
Result<SimOptions> ParseCommandLine(int argc, const char* const* argv);
std::string Usage();

// Runs a whole simulation as the options say; writes progress and the summary to `out`, problems to `err`.
// Returns the process exit code: 0 ok, 1 bad input, 2 could not connect, 3 readings still unacked at the end of
// --exit-when-drained. Its MQTT clients are never torn down (a Paho C++ 1.2.0 crash at teardown): call it once, and
// end the process with std::_Exit after it (as main.cpp does).
int Run(const SimOptions& options, std::ostream& out, std::ostream& err);

// What in the scenario or the options does not fit the network (a fault for an unknown station, a watcher event for
// someone who is no watcher, …, or a river the model refuses), as the message to print; nullopt when all fits. Pure.
std::optional<std::string> CheckScenario(const SimOptions& options, const alerting::Network& network,
                                         const Scenario& scenario);

// --dry-run: the model alone, as CSV (to --csv or `out`) and a gnuplot chart (--plot), then each station's peak.
// Returns the exit code (1: a file that could not be written, or gnuplot failed, said on `err`).
int DryRun(const SimOptions& options, const alerting::Network& network, const Scenario& scenario, SimTime start,
           std::ostream& out, std::ostream& err);

// The model alone: levels of every station (and rain of every sub-catchment) every `csv_step`, as CSV text with a
// header "ts,hours,<station>...,rain_<village>...". Pure.
std::string LevelsCsv(const alerting::Network& network, const Scenario& scenario, SimTime start, Seconds csv_step);

// A gnuplot script that draws the CSV: a rain panel, then one panel per station with its watch / warning /
// critical thresholds as dashed lines. Pure.
std::string GnuplotScript(const alerting::Network& network, const Scenario& scenario, const std::string& csv_path,
                          const std::string& png_path);

}  // namespace kaoko::sim
