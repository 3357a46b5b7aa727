// kaoko-smsc: wires the command line, the phones' file, the simulated Network, the SMPP server and the control
// listener onto one io_context (firmware-sim/README.md, "kaoko-smsc").
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <iostream>

#include "kaoko/sim/smsc_config.hpp"
#include "kaoko/sim/smsc_control.hpp"
#include "kaoko/sim/smsc_network.hpp"
#include "kaoko/sim/smsc_options.hpp"
#include "kaoko/sim/smsc_server.hpp"

int main(int argc, char** argv) {
  namespace smsc = kaoko::sim::smsc;
  const auto options = smsc::ParseSmscOptions(argc, argv);
  if (!options) {
    std::cerr << (options.error().code == "help" ? "" : "kaoko-smsc: ") << options.error().reason;
    return options.error().code == "help" ? 0 : 2;
  }
  const auto config = smsc::LoadSmscConfig(options->config_path);
  if (!config) {
    std::cerr << "kaoko-smsc: " << config.error().reason << '\n';
    return 1;
  }
  // Message ids start from the clock, so that a restarted SMSC never hands out an id Kannel still waits on.
  const auto first_id = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count())
                        << 8;
  smsc::Network network(*config, options->speed, first_id);
  boost::asio::io_context io;
  try {
    smsc::SmscServer server(io, network, std::cerr, options->smpp_port);
    smsc::ControlListener control(io, server, options->control_port);
    server.Log(fmt::format("SMPP on 127.0.0.1:{}, control on 127.0.0.1:{}, {} phone(s), speed {}, message ids {}",
                           server.smpp_port(), control.port(), config->phones.size(), options->speed,
                           config->message_ids == smsc::MessageIdStyle::kHex ? "hex" : "decimal"));
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (!ec) server.Log(fmt::format("signal {}: stopping", sig));
      io.stop();
    });
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "kaoko-smsc: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
