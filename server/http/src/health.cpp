// GET /healthz (each dependency's state), GET /metrics (Prometheus text) and GET /api/v1/clock (kaoko's time).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "api.hpp"

namespace kaoko::server {

using json = nlohmann::json;

Response Healthz(ApiContext& ctx, const Call& call) {
  Health h = ctx.health();
  if (h.database.empty()) {
    try {
      // A cheap read proves the file readable; counting the readings would scan years of them on every probe.
      ctx.reader->CountStations();
    } catch (const std::exception& e) {
      h.database = e.what();
    }
  }
  bool ok = h.broker.empty() && h.database.empty();
  json body{{"ok", ok},
            {"broker", h.broker.empty() ? json("ok") : json(h.broker)},
            {"database", h.database.empty() ? json("ok") : json(h.database)}};
  // Who is above the TAO (docs/district.md): the number of district people; 0 says nobody is told when the TAO
  // misses its deadline (CAP still carries it).
  body["district"] = std::count_if(ctx.network.people.begin(), ctx.network.people.end(),
                                   [](const alerting::Person& p) { return p.role == alerting::Role::kDistrict; });
  // A gateway that is down does not make kaoko unhealthy (alerts still go out on MQTT and the pages), but it is said.
  if (ctx.delivery) {
    body["delivery"] = h.delivery.empty() ? json("ok") : json(h.delivery);
    body["degraded"] = !h.delivery.empty();
  }
  return Json(call.req, ok ? http::status::ok : http::status::service_unavailable, body);
}

Response MetricsPage(ApiContext& ctx, const Call& call) {
  return Text(call.req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8", ctx.metrics.Render());
}

// The pages keep kaoko's time from this (common.js K.now()): in a rehearsal it runs `rate` times faster than the
// browser's, and a page that counted from its own clock would show wrong countdowns and send real-time `ts`. Public:
// the login page shows the rehearsal banner too, and nothing here is about anyone.
Response ClockNow(ApiContext& ctx, const Call& call) {
  const double rate = ctx.web.clock_rate;
  const bool whole = rate == std::floor(rate) && rate < 1e9;
  json body{{"now", wire::FormatTime(ctx.core.Now())},
            {"rate", whole ? json(static_cast<std::int64_t>(rate)) : json(rate)},
            {"rehearsal", ctx.web.rehearsal},
            {"human_deadlines", ctx.web.human_real_time ? "real" : "rehearsal"}};
  return Json(call.req, http::status::ok, body);
}

}  // namespace kaoko::server
