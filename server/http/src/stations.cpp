// GET /api/v1/stations (the read model's stations), GET …/stations/{id}/readings (a station's history) and POST
// …/stations/{id}/silence (a TAO officer mutes a faulty station's alarms).
#include <fmt/format.h>

#include "api.hpp"
#include "kaoko/store/retention.hpp"

namespace kaoko::server {
namespace {

using json = nlohmann::json;

json ThresholdJson(const alerting::Station& s, alerting::Level level) {
  const alerting::Threshold* t = alerting::ThresholdOf(s, level);
  return json{{"cm", t->cm}, {"landmark_th", s.landmark_th(level)}, {"landmark_en", s.landmark_en(level)}};
}

json ReadingJson(const wire::Reading& r) {
  json j{{"seq", r.seq}, {"ts", wire::FormatTime(r.ts)}, {"level_cm", r.level_cm}};
  if (r.rain_mm) j["rain_mm"] = *r.rain_mm;
  if (r.battery_v) j["battery_v"] = *r.battery_v;
  return j;
}

// An hour that retention folded (retention.hpp): at the hour's start, level_cm is the hour's mean; "hourly": true
// tells it from a raw reading (kaoko's addition to the contract).
json HourlyJson(const store::HourlyReading& h) {
  json j{{"ts", wire::FormatTime(h.hour)}, {"level_cm", h.level_mean_cm},   {"hourly", true}, {"count", h.count},
         {"level_min_cm", h.level_min_cm}, {"level_max_cm", h.level_max_cm}};
  if (h.rain_mm) j["rain_mm"] = *h.rain_mm;
  if (h.battery_min_v) j["battery_min_v"] = *h.battery_min_v;
  return j;
}

json StationJson(const StationView& view) {
  const auto& st = *view.station;
  return json{{"id", st.id},
              {"village", st.village},
              {"name_th", st.name_th()},
              {"name_en", st.name_en()},
              {"thresholds",
               {{"watch", ThresholdJson(st, alerting::Level::kWatch)},
                {"warning", ThresholdJson(st, alerting::Level::kWarning)},
                {"critical", ThresholdJson(st, alerting::Level::kCritical)}}},
              {"latest", view.latest ? ReadingJson(*view.latest) : json(nullptr)},
              {"health", view.health},
              {"level", alerting::ToString(view.level)},
              {"problems", view.problems},
              {"problems_th", view.problems_th},
              {"silenced_until", view.silenced_until ? json(wire::FormatTime(*view.silenced_until)) : json(nullptr)},
              {"online", view.online ? json(*view.online) : json(nullptr)}};
}

}  // namespace

Response StationList(ApiContext& ctx, const Call& call) {
  auto village = VillageFilter(ctx, call);
  if (auto* refusal = std::get_if<Response>(&village)) return std::move(*refusal);
  const std::vector<StationView> views = ctx.core.Stations(std::get<std::string>(village));
  JsonList out;
  out.Reserve(views.size() * 700);  // about what a station takes: one block (a large one is mapped, freed whole)
  for (const auto& view : views) out.Add(StationJson(view));
  return out.Done(call.req, http::status::ok);
}

Response StationReadings(ApiContext& ctx, const Call& call) {
  const Request& req = call.req;
  std::string id = call.Arg(1);
  if (!ctx.network.FindStation(id)) return ErrorJson(req, http::status::not_found, fmt::format("no station '{}'", id));
  // Defaults: the last day on kaoko's clock (which runs fast in a rehearsal).
  auto now = ctx.core.Now();
  wire::TimePoint since = now - std::chrono::hours(24);
  wire::TimePoint until = now + std::chrono::hours(24);
  for (auto [key, dest] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    auto it = call.target.query.find(key);
    if (it == call.target.query.end()) continue;
    auto t = wire::ParseTime(it->second);
    if (!t) return ErrorJson(req, http::status::bad_request, fmt::format("{}: {}", key, t.error().reason));
    *dest = *t;
  }
  if (since > until) return ErrorJson(req, http::status::bad_request, "since is after until");
  int limit = 20000;
  // Raw readings, and hourly rows where retention folded older ones.
  auto rows = store::ReadingSeries(*ctx.reader, id, since, until, limit + 1);
  bool truncated = static_cast<int>(rows.size()) > limit;
  if (truncated) rows.resize(static_cast<size_t>(limit));
  json out = json::array();
  for (const auto& p : rows) {
    if (const auto* raw = std::get_if<wire::Reading>(&p))
      out.push_back(ReadingJson(*raw));
    else
      out.push_back(HourlyJson(std::get<store::HourlyReading>(p)));
  }
  auto res = Json(req, http::status::ok, out);
  if (truncated) {
    res.set("X-Kaoko-Truncated", fmt::format("first {} readings; ask again with since after the last", limit));
  }
  return res;
}

Response Silence(ApiContext& ctx, const Call& call) {
  const Request& req = call.req;
  const std::string station = call.Arg(1);
  auto who = SessionOf(ctx, req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  if (person.role != alerting::Role::kTao) {
    return ErrorJson(req, http::status::forbidden, "only a TAO officer may silence a station (เฉพาะเจ้าหน้าที่ อบต.)");
  }
  if (!ctx.network.FindStation(station)) {
    return ErrorJson(req, http::status::not_found, fmt::format("no station '{}'", station));
  }
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.contains("minutes") || !body["minutes"].is_number_integer() ||
      body["minutes"].get<std::int64_t>() < 0 || body["minutes"].get<std::int64_t>() > 7 * 24 * 60) {
    return ErrorJson(req, http::status::bad_request, R"(send {"minutes": N} with N from 0 (lift) to 10080 (a week))");
  }
  auto minutes = std::chrono::minutes(body["minutes"].get<std::int64_t>());
  wire::TimePoint until = ctx.core.Now() + minutes;
  auto error = ctx.core.Command([&](alerting::Engine& engine, wire::TimePoint now) {
    return engine.Silence(station, now + minutes, person.id, now);
  });
  if (error) return ErrorJson(req, http::status::conflict, *error);
  return Json(
      req, http::status::ok,
      json{{"station", station}, {"silenced_until", minutes.count() ? json(wire::FormatTime(until)) : json(nullptr)}});
}

}  // namespace kaoko::server
