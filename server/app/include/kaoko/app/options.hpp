// kaoko-server's command line: what each option means (Usage) and the options it asks for (ParseOptions).
#pragma once

#include <string>

#include "kaoko/alerting/network.hpp"
#include "kaoko/app/service.hpp"
#include "kaoko/common/clock.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::server {

// The whole --help text.
const char* Usage();

struct ParsedOptions {
  ServiceOptions service;
  bool help = false;  // --help: print Usage() and stop
};

// Reads argv (and the environment's KAOKO_MQTT_PASSWORD, KAOKO_ALERT_TRACE; the password from --credentials'
// file). An error's reason is one line for the operator; its code is "usage" when Usage() should follow it, else
// "options". Never throws. Not thread-safe (reads the environment).
Result<ParsedOptions> ParseOptions(int argc, const char* const* argv, const std::string& default_web_root);

// kaoko's clock for these options: the wall clock, or a rehearsal's (--time-scale, --time-origin): from the origin
// when one is given, so that a service started after the simulator agrees with it; else from now.
Clock ClockOf(const ServiceOptions& options);

// --rehearsal-human-time: multiplies every deadline that waits for a person (the escalation's ack, confirm, deputy,
// declare and reminder interval; the delivery's not-reached time and channel ladder) by `scale`, so that on a clock
// running `scale` times faster they last their real durations. The river's own times (corroboration, auto-resolve,
// station health, rain) are left on the rehearsal clock. A scale of 1 or below changes nothing.
void HumanDeadlinesAtRealTime(alerting::Network& network, double scale);

}  // namespace kaoko::server
