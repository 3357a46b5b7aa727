#include "kaoko/sim/scenario_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>

#include "kaoko/contract/toml_reader.hpp"

namespace kaoko::sim {
namespace {

using config::TomlReader;

void ReadRiver(const TomlReader& r, const toml::table& t, RiverDefaults& d) {
  const char* ctx = "[river]";
  r.CheckKeys(
      t,
      {"headwater_area_km2", "local_area_km2", "runoff_coefficient", "nash_n", "nash_k_hours", "baseflow_m3s_per_km2",
       "bankfull_m3s_per_km2", "base_fraction_of_watch", "rating_b", "lag_fraction", "reach_reservoirs"},
      ctx);
  d.headwater_area_km2 = r.NonNegative(t, "headwater_area_km2", ctx).value_or(d.headwater_area_km2);
  d.local_area_km2 = r.NonNegative(t, "local_area_km2", ctx).value_or(d.local_area_km2);
  d.runoff_coefficient = r.NonNegative(t, "runoff_coefficient", ctx).value_or(d.runoff_coefficient);
  if (d.runoff_coefficient > 1) r.Fail(t.get("runoff_coefficient")->source(), "runoff_coefficient must be 0..1");
  d.nash_n = static_cast<int>(r.NonNegative(t, "nash_n", ctx).value_or(d.nash_n));
  if (d.nash_n < 1) r.Fail(t.get("nash_n")->source(), "nash_n must be at least 1");
  d.nash_k_hours = r.NonNegative(t, "nash_k_hours", ctx).value_or(d.nash_k_hours);
  d.baseflow_m3s_per_km2 = r.NonNegative(t, "baseflow_m3s_per_km2", ctx).value_or(d.baseflow_m3s_per_km2);
  d.bankfull_m3s_per_km2 = r.NonNegative(t, "bankfull_m3s_per_km2", ctx).value_or(d.bankfull_m3s_per_km2);
  d.base_fraction_of_watch = r.NonNegative(t, "base_fraction_of_watch", ctx).value_or(d.base_fraction_of_watch);
  d.rating_b = r.NonNegative(t, "rating_b", ctx).value_or(d.rating_b);
  d.lag_fraction = r.NonNegative(t, "lag_fraction", ctx).value_or(d.lag_fraction);
  if (d.lag_fraction > 1) r.Fail(t.get("lag_fraction")->source(), "lag_fraction must be 0..1");
  d.reach_reservoirs = static_cast<int>(r.NonNegative(t, "reach_reservoirs", ctx).value_or(d.reach_reservoirs));
  if (d.bankfull_m3s_per_km2 <= d.baseflow_m3s_per_km2) {
    r.Fail(t.source(), "bankfull_m3s_per_km2 must be larger than baseflow_m3s_per_km2");
  }
}

void ReadRain(const TomlReader& r, const toml::table& t, Scenario& s) {
  const char* ctx = "a [[rain]] block";
  r.CheckKeys(t, {"catchments", "points", "from_hours", "to_hours", "mm_h"}, ctx);
  RainBlock block;
  block.catchments = r.Strings(t, "catchments", "'catchments' must be a list of village ids");
  if (const toml::node* n = t.get("points")) {
    if (t.get("mm_h")) r.Fail(n->source(), "a [[rain]] block has either 'points' or 'from_hours/to_hours/mm_h'");
    const toml::array* arr = n->as_array();
    if (!arr) r.Fail(n->source(), "'points' must be a list of [hours, mm_h] pairs");
    for (const toml::node& p : *arr) {
      auto [h, mm] = r.NumberPair(p, "each rain point must be [hours, mm_h] with two numbers");
      if (h < 0 || mm < 0) r.Fail(p.source(), "rain points must not be negative");
      if (!block.points.empty() && h < block.points.back().first) {
        r.Fail(p.source(), "rain points must be in increasing hours");
      }
      block.points.emplace_back(h, mm);
    }
  } else {
    auto from = r.NonNegative(t, "from_hours", ctx);
    auto to = r.NonNegative(t, "to_hours", ctx);
    auto mm = r.NonNegative(t, "mm_h", ctx);
    if (!from || !to || !mm)
      r.Fail(t.source(), "a [[rain]] block needs 'points' or 'from_hours', 'to_hours' and 'mm_h'");
    if (*to <= *from) r.Fail(t.get("to_hours")->source(), "'to_hours' must be after 'from_hours'");
    block.points = {{*from, *mm}, {*to, *mm}};
  }
  s.rain.push_back(std::move(block));
}

void ReadFault(const TomlReader& r, const toml::table& t, Scenario& s) {
  const char* ctx = "a [[faults]] entry";
  r.CheckKeys(t, {"station", "kind", "from_hours", "to_hours", "value", "probability"}, ctx);
  StationFault f;
  auto station = r.Str(t, "station", ctx);
  if (!station) r.Fail(t.source(), "a [[faults]] entry needs 'station'");
  f.station = *station;
  auto kind = r.Str(t, "kind", ctx);
  if (!kind) r.Fail(t.source(), "a [[faults]] entry needs 'kind'");
  if (*kind == "offline")
    f.kind = FaultKind::kOffline;
  else if (*kind == "stuck")
    f.kind = FaultKind::kStuck;
  else if (*kind == "spike")
    f.kind = FaultKind::kSpike;
  else if (*kind == "drift")
    f.kind = FaultKind::kDrift;
  else if (*kind == "battery")
    f.kind = FaultKind::kBatteryDrain;
  else
    r.Fail(t.get("kind")->source(),
           fmt::format("unknown fault kind '{}' (offline, stuck, spike, drift, battery)", *kind));
  f.from_hours = r.NonNegative(t, "from_hours", ctx).value_or(0);
  f.to_hours = r.NonNegative(t, "to_hours", ctx).value_or(1e18);
  if (f.to_hours <= f.from_hours) r.Fail(t.get("to_hours")->source(), "'to_hours' must be after 'from_hours'");
  f.value = r.Num(t, "value", ctx).value_or(f.kind == FaultKind::kSpike ? 250 : f.kind == FaultKind::kDrift ? 5 : 6);
  f.probability = r.NonNegative(t, "probability", ctx).value_or(f.probability);
  s.faults.push_back(std::move(f));
}

void ReadWatchers(const TomlReader& r, const toml::table& t, WatcherBehaviour& w) {
  const char* ctx = "[watchers]";
  r.CheckKeys(t,
              {"enabled", "check_minutes", "concerned_check_minutes", "delay_min_minutes", "delay_max_minutes",
               "wrong_probability", "report_when_calm", "events"},
              ctx);
  w.enabled = r.Bool(t, "enabled", ctx).value_or(w.enabled);
  w.check_minutes = r.NonNegative(t, "check_minutes", ctx).value_or(w.check_minutes);
  w.concerned_check_minutes = r.NonNegative(t, "concerned_check_minutes", ctx).value_or(w.concerned_check_minutes);
  w.delay_min_minutes = r.NonNegative(t, "delay_min_minutes", ctx).value_or(w.delay_min_minutes);
  w.delay_max_minutes = r.NonNegative(t, "delay_max_minutes", ctx).value_or(w.delay_max_minutes);
  if (w.delay_max_minutes < w.delay_min_minutes) r.Fail(t.source(), "delay_max_minutes must be >= delay_min_minutes");
  if (w.check_minutes <= 0 || w.concerned_check_minutes <= 0) r.Fail(t.source(), "check intervals must be > 0");
  w.wrong_probability = r.NonNegative(t, "wrong_probability", ctx).value_or(w.wrong_probability);
  w.report_when_calm = r.Bool(t, "report_when_calm", ctx).value_or(w.report_when_calm);
  for (const toml::table* e : r.Tables(t, "events")) {
    const char* ectx = "a [[watchers.events]] entry";
    r.CheckKeys(*e, {"at_hours", "user", "concern", "level_cm", "trend", "note"}, ectx);
    WatcherEvent ev;
    auto at = r.NonNegative(*e, "at_hours", ectx);
    auto user = r.Str(*e, "user", ectx);
    auto concern = r.Str(*e, "concern", ectx);
    if (!at || !user || !concern) r.Fail(e->source(), "a watcher event needs 'at_hours', 'user' and 'concern'");
    if (*concern != "watch" && *concern != "warning" && *concern != "critical") {
      r.Fail(e->get("concern")->source(), "'concern' must be watch, warning or critical");
    }
    ev.at_hours = *at;
    ev.user = *user;
    ev.concern = *concern;
    ev.level_cm = r.Num(*e, "level_cm", ectx);
    ev.trend = r.Str(*e, "trend", ectx).value_or("");
    if (!ev.trend.empty() && ev.trend != "rising" && ev.trend != "steady" && ev.trend != "falling") {
      r.Fail(e->get("trend")->source(), "'trend' must be rising, steady or falling");
    }
    ev.note = r.Str(*e, "note", ectx).value_or("");
    w.events.push_back(std::move(ev));
  }
}

void ReadResponders(const TomlReader& r, const toml::table& t, ResponderBehaviour& b) {
  const char* ctx = "[responders]";
  r.CheckKeys(t,
              {"enabled", "committee_minutes", "headman_minutes", "deputy_minutes", "tao_minutes", "silent",
               "tao_on_duty", "all_clear_after_hours"},
              ctx);
  b.enabled = r.Bool(t, "enabled", ctx).value_or(b.enabled);
  for (auto [key, into] :
       {std::pair{"committee_minutes", &b.committee_minutes}, std::pair{"headman_minutes", &b.headman_minutes},
        std::pair{"deputy_minutes", &b.deputy_minutes}, std::pair{"tao_minutes", &b.tao_minutes}}) {
    const toml::node* n = t.get(key);
    if (!n) continue;
    auto [lo, hi] = r.NumberPair(*n, fmt::format("'{}' in {} must be [min, max] minutes", key, ctx));
    if (lo < 0 || hi < lo) r.Fail(n->source(), fmt::format("'{}' in {} needs 0 <= min <= max", key, ctx));
    *into = {lo, hi};
  }
  b.silent = r.Strings(t, "silent", "'silent' in [responders] must be a list of person ids");
  b.tao_on_duty = r.Str(t, "tao_on_duty", ctx).value_or("");
  b.all_clear_after_hours = r.NonNegative(t, "all_clear_after_hours", ctx).value_or(b.all_clear_after_hours);
}

void ReadTowers(const TomlReader& r, const toml::table& t, TowerBehaviour& b) {
  const char* ctx = "[towers]";
  r.CheckKeys(t, {"enabled", "delay_seconds", "silent"}, ctx);
  b.enabled = r.Bool(t, "enabled", ctx).value_or(b.enabled);
  b.delay_seconds = r.NonNegative(t, "delay_seconds", ctx).value_or(b.delay_seconds);
  if (b.delay_seconds > 3600) r.Fail(t.get("delay_seconds")->source(), "'delay_seconds' in [towers] is over an hour");
  b.silent = r.Strings(t, "silent", "'silent' in [towers] must be a list of device ids");
}

Scenario Build(const toml::table& root, const TomlReader& r) {
  Scenario s;
  r.CheckKeys(
      root,
      {"scenario", "river", "catchments", "stations", "rain", "faults", "watchers", "responders", "towers", "outages"},
      "the scenario file");
  const toml::table* head = r.Table(root, "scenario", "the scenario file");
  if (!head) r.Fail(root.source(), "the scenario file needs a [scenario] table");
  const char* ctx = "[scenario]";
  r.CheckKeys(*head, {"name", "description", "duration_hours", "step_seconds", "seed", "rain_variability"}, ctx);
  s.name = r.Str(*head, "name", ctx).value_or("");
  s.description = r.Str(*head, "description", ctx).value_or("");
  auto hours = r.NonNegative(*head, "duration_hours", ctx);
  if (!hours || *hours <= 0) r.Fail(head->source(), "[scenario] needs 'duration_hours' > 0");
  s.duration = Seconds(static_cast<long long>(*hours * 3600 + 0.5));
  auto step = r.NonNegative(*head, "step_seconds", ctx).value_or(60);
  if (step < 1 || step > 600) r.Fail(head->get("step_seconds")->source(), "'step_seconds' must be 1..600");
  s.step = Seconds(static_cast<long long>(step));
  if (const toml::node* n = head->get("seed")) {
    if (!n->is_integer() || *n->value<std::int64_t>() < 0) r.Fail(n->source(), "'seed' must be a non-negative integer");
    s.seed = static_cast<std::uint64_t>(*n->value<std::int64_t>());
  }
  s.rain_variability = r.NonNegative(*head, "rain_variability", ctx).value_or(s.rain_variability);

  if (const toml::table* t = r.Table(root, "river", "the scenario file")) ReadRiver(r, *t, s.river);
  if (const toml::table* t = r.Table(root, "catchments", "the scenario file")) {
    for (auto&& [key, node] : *t) {
      std::string sub = fmt::format("[catchments.{}]", key.str());
      if (!node.is_table()) r.Fail(node.source(), sub + " must be a table");
      const toml::table& c = *node.as_table();
      r.CheckKeys(c, {"area_km2", "runoff_coefficient", "nash_n", "nash_k_hours", "baseflow_m3s_per_km2"}, sub);
      CatchmentOverride o;
      o.area_km2 = r.NonNegative(c, "area_km2", sub);
      o.runoff_coefficient = r.NonNegative(c, "runoff_coefficient", sub);
      if (auto n = r.NonNegative(c, "nash_n", sub)) o.nash_n = std::max(1, static_cast<int>(*n));
      o.nash_k_hours = r.NonNegative(c, "nash_k_hours", sub);
      o.baseflow_m3s_per_km2 = r.NonNegative(c, "baseflow_m3s_per_km2", sub);
      s.catchments[std::string(key.str())] = o;
    }
  }
  if (const toml::table* t = r.Table(root, "stations", "the scenario file")) {
    for (auto&& [key, node] : *t) {
      std::string sub = fmt::format("[stations.{}]", key.str());
      if (!node.is_table()) r.Fail(node.source(), sub + " must be a table");
      const toml::table& st = *node.as_table();
      r.CheckKeys(st, {"rating", "mount_cm", "noise_cm"}, sub);
      StationOverride o;
      if (const toml::table* rt = r.Table(st, "rating", sub)) {
        std::string rsub = sub + " rating";
        r.CheckKeys(*rt, {"h0_cm", "a", "b"}, rsub);
        RatingOverride ro;
        ro.h0_cm = r.Num(*rt, "h0_cm", rsub).value_or(0);
        auto a = r.NonNegative(*rt, "a", rsub);
        if (!a) r.Fail(rt->source(), rsub + " needs 'a'");
        ro.a = *a;
        ro.b = r.NonNegative(*rt, "b", rsub).value_or(0.5);
        o.rating = ro;
      }
      o.mount_cm = r.NonNegative(st, "mount_cm", sub);
      o.noise_cm = r.NonNegative(st, "noise_cm", sub);
      s.stations[std::string(key.str())] = o;
    }
  }
  for (const toml::table* t : r.Tables(root, "rain")) ReadRain(r, *t, s);
  for (const toml::table* t : r.Tables(root, "faults")) ReadFault(r, *t, s);
  if (const toml::table* t = r.Table(root, "watchers", "the scenario file")) ReadWatchers(r, *t, s.watchers);
  if (const toml::table* t = r.Table(root, "responders", "the scenario file")) ReadResponders(r, *t, s.responders);
  if (const toml::table* t = r.Table(root, "towers", "the scenario file")) ReadTowers(r, *t, s.towers);
  for (const toml::table* t : r.Tables(root, "outages")) {
    const char* octx = "an [[outages]] entry";
    r.CheckKeys(*t, {"what", "from_hours", "to_hours"}, octx);
    OutageWindow o;
    o.what = r.Str(*t, "what", octx).value_or("broker");
    auto from = r.NonNegative(*t, "from_hours", octx);
    auto to = r.NonNegative(*t, "to_hours", octx);
    if (!from || !to || *to <= *from) r.Fail(t->source(), "an outage needs 'from_hours' < 'to_hours'");
    o.from_hours = *from;
    o.to_hours = *to;
    s.outages.push_back(o);
  }
  return s;
}

}  // namespace

Result<Scenario> ParseScenario(std::string_view text, const std::string& name) {
  return config::ParseToml<Scenario>(text, name, {"scenario_syntax", "scenario_invalid"}, Build);
}

Result<Scenario> LoadScenario(const std::string& path) {
  auto text = config::ReadTextFile(path);
  if (!text) return MakeError("scenario_unreadable", fmt::format("{}: cannot open the scenario file", path));
  return ParseScenario(*text, path);
}

}  // namespace kaoko::sim
