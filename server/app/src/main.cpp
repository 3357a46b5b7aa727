// kaoko-server: the service. Reads its options (options.cpp), starts the service, stops it on SIGINT or SIGTERM.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <thread>

#include "kaoko/app/options.hpp"
#include "kaoko/app/service.hpp"
#include "kaoko/common/log.hpp"

int main(int argc, char** argv) {
  auto parsed = kaoko::server::ParseOptions(argc, argv, KAOKO_DEFAULT_WEB_ROOT);
  if (!parsed) {
    fmt::print(stderr, "kaoko-server: {}\n{}", parsed.error().reason,
               parsed.error().code == "usage" ? kaoko::server::Usage() : "");
    return 2;
  }
  if (parsed->help) {
    fmt::print("{}", kaoko::server::Usage());
    return 0;
  }
  auto service = kaoko::server::Service::Create(parsed->service);
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
