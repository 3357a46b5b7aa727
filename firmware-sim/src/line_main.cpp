// kaoko-line: a local stand-in for LINE's Messaging API (README.md). Only wiring: options, LineSim, wait for a
// signal. Never prints the access token or the channel secret.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "kaoko/sim/line_sim.hpp"

namespace {

int Usage() {
  std::fputs(
      "usage: kaoko-line --config FILE [--api-port N] [--control-port N] [--webhook URL]\n"
      "                  [--cert-out FILE] [--ready-file FILE]\n"
      "  --cert-out    write the API side's certificate (PEM) here, for clients to trust\n"
      "  --ready-file  write \"api=PORT control=PORT\" here once both ports listen\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config, cert_out, ready_file, webhook;
  int api_port = -1, control_port = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string value = argv[++i];
    try {
      if (arg == "--config")
        config = value;
      else if (arg == "--api-port")
        api_port = std::stoi(value);
      else if (arg == "--control-port")
        control_port = std::stoi(value);
      else if (arg == "--webhook")
        webhook = value;
      else if (arg == "--cert-out")
        cert_out = value;
      else if (arg == "--ready-file")
        ready_file = value;
      else
        return Usage();
    } catch (const std::exception&) {
      fmt::print(stderr, "kaoko-line: {} wants a number, not '{}'\n", arg, value);
      return 2;
    }
  }
  if (config.empty()) return Usage();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so that sigwait below gets them

  try {
    kaoko::sim::LineSimOptions options = kaoko::sim::LoadLineSimOptions(config);
    if (api_port >= 0) options.api_port = static_cast<unsigned short>(api_port);
    if (control_port >= 0) options.control_port = static_cast<unsigned short>(control_port);
    if (!webhook.empty()) options.webhook_url = webhook;
    std::size_t users = options.channel.users.size();
    kaoko::sim::LineSim line(std::move(options));
    if (!cert_out.empty()) std::ofstream(cert_out) << line.certificate_pem();
    line.Start();
    fmt::print("kaoko-line: api https://127.0.0.1:{} control http://127.0.0.1:{} ({} users)\n", line.api_port(),
               line.control_port(), users);
    std::fflush(stdout);
    if (!ready_file.empty()) {
      std::string tmp = ready_file + ".tmp";
      std::ofstream(tmp) << fmt::format("api={} control={}\n", line.api_port(), line.control_port());
      std::rename(tmp.c_str(), ready_file.c_str());
    }
    int signal = 0;
    sigwait(&signals, &signal);
    line.Stop();
  } catch (const std::exception& e) {
    fmt::print(stderr, "kaoko-line: {}\n", e.what());
    return 1;
  }
  return 0;
}
