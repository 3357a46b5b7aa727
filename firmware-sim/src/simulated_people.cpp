// Who kaoko-sim plays (simulation.hpp SimulatedPeople): the run sets up exactly these, and --list-people prints them,
// so that ./kaoko demo can show that no simulated person uses an account it hands to a human.
#include <algorithm>
#include <ostream>

#include "kaoko/sim/responder.hpp"
#include "kaoko/sim/simulation.hpp"

namespace kaoko::sim {
namespace {

bool Listed(const std::vector<std::string>& list, const std::string& id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

bool Serves(const SimOptions& o, const std::string& village) {
  return o.villages.empty() || Listed(o.villages, village);
}

// The TAO officer who answers: the scenario's, else the first who is neither silent nor a human. None when the
// scenario's is a human: the human is on duty.
std::string OnDutyTao(const SimOptions& o, const alerting::Network& network, const ResponderBehaviour& b) {
  if (!b.tao_on_duty.empty()) return Listed(o.humans, b.tao_on_duty) ? std::string() : b.tao_on_duty;
  for (const auto& p : network.people) {
    if (p.role == alerting::Role::kTao && !Listed(b.silent, p.id) && !Listed(o.humans, p.id)) return p.id;
  }
  return {};
}

bool HasGauge(const alerting::Network& network, const std::string& village) {
  return std::any_of(network.stations.begin(), network.stations.end(),
                     [&](const alerting::Station& s) { return s.village == village; });
}

}  // namespace

std::vector<std::string> VillagesLeftToPeople(const SimOptions& options, const alerting::Network& network) {
  std::vector<std::string> out;
  for (const auto& p : network.people) {
    if (Listed(options.humans, p.id) && !p.village.empty() && !Listed(out, p.village)) out.push_back(p.village);
  }
  return out;
}

std::vector<SimulatedPerson> SimulatedPeople(const SimOptions& o, const alerting::Network& network,
                                             const Scenario& scenario) {
  std::vector<SimulatedPerson> out;
  const bool watchers = o.watchers && scenario.watchers.enabled;
  const bool responders = o.responders && scenario.responders.enabled;
  const std::string on_duty = OnDutyTao(o, network, scenario.responders);
  for (const auto& p : network.people) {
    if (Listed(o.humans, p.id)) continue;
    if (p.role == alerting::Role::kWatcher) {
      if (watchers && Serves(o, p.village) && HasGauge(network, p.village)) out.push_back({p.id, p.role, true});
      continue;
    }
    if (!responders) continue;
    if (p.role != alerting::Role::kTao && !network.FindVillage(p.village)) continue;
    if (!o.villages.empty() && (p.role == alerting::Role::kTao || !Serves(o, p.village))) continue;
    const bool silent = ResponderConfigFor(p, network.tambon, scenario.responders).silent;
    const bool off_duty = p.role == alerting::Role::kTao && p.id != on_duty;
    out.push_back({p.id, p.role, !silent && !off_duty});
  }
  return out;
}

int ListSimulatedPeople(const SimOptions& options, const alerting::Network& network, const Scenario& scenario,
                        std::ostream& out) {
  for (const SimulatedPerson& p : SimulatedPeople(options, network, scenario)) {
    out << p.id << ' ' << alerting::ToString(p.role) << ' ' << (p.answers ? "answers" : "reads") << '\n';
  }
  return 0;
}

}  // namespace kaoko::sim
