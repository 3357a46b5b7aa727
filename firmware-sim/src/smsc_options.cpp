// kaoko-smsc's command line (smsc_options.hpp).
#include "kaoko/sim/smsc_options.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>

namespace kaoko::sim::smsc {

Result<SmscOptions> ParseSmscOptions(int argc, const char* const* argv) {
  SmscOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return MakeError("help", kSmscUsage);
    if (i + 1 >= argc) return MakeError("usage", fmt::format("{} needs a value\n{}", a, kSmscUsage));
    const std::string v = argv[++i];
    const auto number = [&](double lo, double hi) -> std::optional<double> {
      try {
        size_t used = 0;
        const double x = std::stod(v, &used);
        if (used == v.size() && std::isfinite(x) && x >= lo && x <= hi) return x;
      } catch (const std::exception&) {}
      return std::nullopt;
    };
    if (a == "--config") {
      o.config_path = v;
    } else if (a == "--port" || a == "--control-port") {
      const auto port = number(0, 65535);
      if (!port || *port != std::floor(*port)) {
        return MakeError("usage", fmt::format("{} must be a port number 0..65535, not \"{}\"", a, v));
      }
      (a == "--port" ? o.smpp_port : o.control_port) = static_cast<int>(*port);
    } else if (a == "--speed") {
      const auto speed = number(0, 1e9);
      if (!speed) return MakeError("usage", fmt::format("--speed must be a number >= 0, not \"{}\"", v));
      o.speed = *speed;
    } else {
      return MakeError("usage", fmt::format("unknown option {}\n{}", a, kSmscUsage));
    }
  }
  if (o.config_path.empty()) return MakeError("usage", fmt::format("--config is required\n{}", kSmscUsage));
  return o;
}

}  // namespace kaoko::sim::smsc
