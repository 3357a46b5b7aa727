// kaoko-smsc's command line.
#pragma once

#include <string>

#include "kaoko/contract/result.hpp"

namespace kaoko::sim::smsc {

struct SmscOptions {
  std::string config_path;  // --config, required
  int smpp_port = 2775;     // --port (0: any free port)
  int control_port = 2776;  // --control-port (0: any free port)
  double speed = 1;         // --speed: simulated seconds per real second; the phones' delays are divided by it
};

inline constexpr const char* kSmscUsage =
    "usage: kaoko-smsc --config FILE.toml [--port 2775] [--control-port 2776] [--speed 1]\n"
    "  a simulated SMSC (SMPP 3.4 on 127.0.0.1) with the phones of FILE; see firmware-sim/README.md\n";

// Errors: "usage" with what is wrong ("help" for --help). Thread-safe.
Result<SmscOptions> ParseSmscOptions(int argc, const char* const* argv);

}  // namespace kaoko::sim::smsc
