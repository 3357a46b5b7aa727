// kaoko-sim: wires the command line to kaoko::sim::Run (see simulation.hpp and docs/firmware-sim.md).
#include <cstdlib>
#include <iostream>

#include "kaoko/sim/simulation.hpp"

int main(int argc, char** argv) {
  auto options = kaoko::sim::ParseCommandLine(argc, argv);
  if (!options) {
    std::cerr << "kaoko-sim: " << options.error().reason << '\n';
    return 1;
  }
  const int rc = kaoko::sim::Run(*options, std::cout, std::cerr);
  // Run leaves its MQTT clients to the operating system (simulation.cpp, Run): end here without destructors.
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(rc);
}
