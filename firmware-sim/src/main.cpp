// kaoko-sim: wires the command line to kaoko::sim::Run (see simulation.hpp and docs/firmware-sim.md).
#include <iostream>

#include "kaoko/sim/simulation.hpp"

int main(int argc, char** argv) {
  auto options = kaoko::sim::ParseCommandLine(argc, argv);
  if (!options) {
    std::cerr << "kaoko-sim: " << options.error().reason << '\n';
    return 1;
  }
  return kaoko::sim::Run(*options, std::cout, std::cerr);
}
