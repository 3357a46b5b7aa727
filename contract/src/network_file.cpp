#include "kaoko/contract/network_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <toml++/toml.h>
#include <unordered_set>


namespace kaoko::config {
namespace {

using alerting::Network;
using alerting::Seconds;

// Thrown inside the loader only; LoadNetwork turns it into an Error value.
struct ConfigError {
  std::string message;
};

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void Fail(const toml::source_region& where, const std::string& what) const {
    if (where.begin.line == 0) throw ConfigError{fmt::format("{}: {}", name_, what)};
    throw ConfigError{fmt::format("{}:{}:{}: {}", name_, where.begin.line, where.begin.column, what)};
  }

  // Every key in `table` must be one of `allowed`: a typo must not silently become a default.
  void CheckKeys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                 std::string_view context) const {
    for (auto&& [key, node] : table) {
      bool known = false;
      for (auto a : allowed) known = known || key.str() == a;
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Fail(key.source(), fmt::format("unknown key '{}' in {} (known keys: {})", key.str(), context, list));
      }
    }
  }

  std::string Str(const toml::table& t, std::string_view key, std::string_view context, bool required,
                  std::string fallback = {}) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) Fail(t.source(), fmt::format("{} is missing '{}'", context, key));
      return fallback;
    }
    if (!n->is_string()) Fail(n->source(), fmt::format("'{}' in {} must be a string", key, context));
    return std::string(*n->value<std::string_view>());
  }

  double Num(const toml::table& t, std::string_view key, std::string_view context, bool required,
             double fallback = 0) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) Fail(t.source(), fmt::format("{} is missing '{}'", context, key));
      return fallback;
    }
    if (!n->is_number()) Fail(n->source(), fmt::format("'{}' in {} must be a number", key, context));
    // TOML has inf and nan: neither is a threshold, a place or a duration (and casting them is undefined).
    const double v = *n->value<double>();
    if (!std::isfinite(v)) Fail(n->source(), fmt::format("'{}' in {} must be a finite number", key, context));
    return v;
  }

  double NonNegative(const toml::table& t, std::string_view key, std::string_view context, double fallback) const {
    double v = Num(t, key, context, false, fallback);
    if (v < 0) Fail(t.get(key)->source(), fmt::format("'{}' in {} must not be negative", key, context));
    return v;
  }

  Seconds Minutes(const toml::table& t, std::string_view key, std::string_view context, Seconds fallback) const {
    double v = NonNegative(t, key, context, static_cast<double>(fallback.count()) / 60.0);
    return Duration(t, key, context, v * 60.0);
  }

  Seconds Hours(const toml::table& t, std::string_view key, std::string_view context, Seconds fallback) const {
    double v = NonNegative(t, key, context, static_cast<double>(fallback.count()) / 3600.0);
    return Duration(t, key, context, v * 3600.0);
  }

  // A whole count (readings, a village number): at most `max`, so that it fits an int.
  int Count(const toml::table& t, std::string_view key, std::string_view context, int fallback,
            int max = 1'000'000) const {
    double v = NonNegative(t, key, context, fallback);
    if (v > max) Fail(t.get(key)->source(), fmt::format("'{}' in {} must be at most {}", key, context, max));
    return static_cast<int>(v);
  }

  std::string Id(const toml::table& t, std::string_view context) const {
    std::string id = Str(t, "id", context, true);
    if (!IsIdentifier(id)) {
      Fail(t.get("id")->source(),
           fmt::format("id '{}' in {} must be 1-32 characters of a-z, 0-9 and '-'", id, context));
    }
    return id;
  }

  const toml::table* Table(const toml::table& t, std::string_view key, std::string_view context) const {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) Fail(n->source(), fmt::format("'{}' in {} must be a table", key, context));
    return n->as_table();
  }

  // An array of tables, written either as [[key]] or as key = [ {…}, … ].
  std::vector<const toml::table*> Tables(const toml::table& t, std::string_view key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* arr = n->as_array();
    if (!arr) Fail(n->source(), fmt::format("'{}' must be a list of tables ([[{}]])", key, key));
    for (const toml::node& item : *arr) {
      if (!item.is_table()) Fail(item.source(), fmt::format("each entry of '{}' must be a table", key));
      out.push_back(item.as_table());
    }
    return out;
  }

 private:
  // Ten years at most: far beyond any real deadline, and the engine adds these to times in milliseconds.
  static constexpr double kMaxDurationSeconds = 10 * 366 * 24 * 3600.0;

  Seconds Duration(const toml::table& t, std::string_view key, std::string_view context, double seconds) const {
    if (seconds > kMaxDurationSeconds) {
      Fail(t.get(key)->source(), fmt::format("'{}' in {} is longer than ten years", key, context));
    }
    return Seconds(static_cast<long long>(seconds + 0.5));
  }

  std::string name_;
};

// A threshold; its landmarks, when named, into *landmark_th and *landmark_en.
alerting::Threshold ReadThreshold(const Reader& r, const toml::table& station, std::string_view key,
                                  const std::string& context, std::string* landmark_th, std::string* landmark_en) {
  const toml::node* n = station.get(key);
  if (!n) r.Fail(station.source(), fmt::format("{} is missing its '{}' threshold", context, key));
  alerting::Threshold th;
  if (n->is_number()) {
    th.cm = *n->value<double>();
    return th;
  }
  if (!n->is_table()) {
    r.Fail(n->source(), fmt::format("'{}' in {} must be a number of cm or {{ cm = …, landmark_th = … }}", key, context));
  }
  const toml::table& t = *n->as_table();
  std::string sub = fmt::format("the {} threshold of {}", key, context);
  r.CheckKeys(t, {"cm", "landmark_th", "landmark_en"}, sub);
  th.cm = r.Num(t, "cm", sub, true);
  *landmark_th = r.Str(t, "landmark_th", sub, false);
  *landmark_en = r.Str(t, "landmark_en", sub, false);
  return th;
}

Network Build(const toml::table& root, const Reader& r) {
  Network net;
  net.texts = std::make_shared<alerting::TextArena>();  // the stations' names and landmarks (network.hpp, StationTexts)
  r.CheckKeys(root, {"tambon", "escalation", "health", "rain", "villages", "stations", "people"}, "the network file");

  const toml::table* tambon = r.Table(root, "tambon", "the network file");
  if (!tambon) r.Fail(root.source(), "the network file has no [tambon] table");
  r.CheckKeys(*tambon, {"id", "name_th", "name_en", "district_th", "province_th", "province_en", "geocode"},
              "[tambon]");
  net.tambon = r.Id(*tambon, "[tambon]");
  net.tambon_name_th = r.Str(*tambon, "name_th", "[tambon]", true);
  net.tambon_name_en = r.Str(*tambon, "name_en", "[tambon]", true);
  net.district_th = r.Str(*tambon, "district_th", "[tambon]", false);
  net.province_th = r.Str(*tambon, "province_th", "[tambon]", false);
  net.province_en = r.Str(*tambon, "province_en", "[tambon]", false);
  net.geocode = r.Str(*tambon, "geocode", "[tambon]", false);

  if (const toml::table* e = r.Table(root, "escalation", "the network file")) {
    r.CheckKeys(*e, {"committee_ack_minutes", "headman_confirm_minutes", "deputy_after_minutes", "tao_declare_minutes",
                     "reminder_minutes", "auto_resolve_hours", "corroboration_minutes"}, "[escalation]");
    auto& p = net.escalation;
    p.committee_ack = r.Minutes(*e, "committee_ack_minutes", "[escalation]", p.committee_ack);
    p.headman_confirm = r.Minutes(*e, "headman_confirm_minutes", "[escalation]", p.headman_confirm);
    p.deputy_after = r.Minutes(*e, "deputy_after_minutes", "[escalation]", p.deputy_after);
    p.tao_declare = r.Minutes(*e, "tao_declare_minutes", "[escalation]", p.tao_declare);
    p.reminder_interval = r.Minutes(*e, "reminder_minutes", "[escalation]", p.reminder_interval);
    p.auto_resolve_after = r.Hours(*e, "auto_resolve_hours", "[escalation]", p.auto_resolve_after);
    p.corroboration_window = r.Minutes(*e, "corroboration_minutes", "[escalation]", p.corroboration_window);
    if (p.reminder_interval.count() == 0) r.Fail(e->get("reminder_minutes")->source(), "reminder_minutes must be > 0");
  }
  if (const toml::table* h = r.Table(root, "health", "the network file")) {
    r.CheckKeys(*h, {"offline_after_minutes", "stuck_readings", "spike_cm_per_reading", "low_battery_v"}, "[health]");
    auto& p = net.health;
    p.offline_after = r.Minutes(*h, "offline_after_minutes", "[health]", p.offline_after);
    p.stuck_readings = r.Count(*h, "stuck_readings", "[health]", p.stuck_readings);
    p.spike_cm_per_reading = r.NonNegative(*h, "spike_cm_per_reading", "[health]", p.spike_cm_per_reading);
    p.low_battery_v = r.NonNegative(*h, "low_battery_v", "[health]", p.low_battery_v);
  }
  if (const toml::table* rain = r.Table(root, "rain", "the network file")) {
    r.CheckKeys(*rain, {"watch_mm_1h", "watch_mm_24h", "heavy_mm_24h"}, "[rain]");
    auto& p = net.rain;
    p.watch_mm_1h = r.NonNegative(*rain, "watch_mm_1h", "[rain]", p.watch_mm_1h);
    p.watch_mm_24h = r.NonNegative(*rain, "watch_mm_24h", "[rain]", p.watch_mm_24h);
    p.heavy_mm_24h = r.NonNegative(*rain, "heavy_mm_24h", "[rain]", p.heavy_mm_24h);
  }

  std::set<std::string> ids;  // stations and people share the broker's user-name space
  // Exactly as many as there are (a network of 150,000 stations would otherwise carry ~100,000 empty ones).
  const auto villages = r.Tables(root, "villages");
  const auto stations = r.Tables(root, "stations");
  const auto people = r.Tables(root, "people");
  net.villages.reserve(villages.size());
  net.stations.reserve(stations.size());
  net.people.reserve(people.size());
  std::unordered_set<std::string> village_ids;  // (a hash set: a large network has tens of thousands of villages)
  for (const toml::table* v : villages) {
    r.CheckKeys(*v, {"id", "name_th", "name_en", "moo", "travel_to_next_minutes", "lat", "lon"}, "a [[villages]] entry");
    alerting::Village village;
    village.id = r.Id(*v, "a [[villages]] entry");
    std::string ctx = fmt::format("village '{}'", village.id);
    if (!village_ids.insert(village.id).second) {
      r.Fail(v->get("id")->source(), fmt::format("village '{}' is listed twice", village.id));
    }
    if (village.id == "tier") {  // kaoko/v1/{tambon}/tier/… are the tiers' topics (docs/tiers.md)
      r.Fail(v->get("id")->source(), "the village id 'tier' is reserved for the links between tiers (docs/tiers.md)");
    }
    village.name_th = r.Str(*v, "name_th", ctx, true);
    village.name_en = r.Str(*v, "name_en", ctx, true);
    village.moo = r.Count(*v, "moo", ctx, 0);
    village.travel_to_next = r.Minutes(*v, "travel_to_next_minutes", ctx, Seconds(0));
    village.lat = r.Num(*v, "lat", ctx, false);
    village.lon = r.Num(*v, "lon", ctx, false);
    net.villages.push_back(std::move(village));
  }
  if (net.villages.empty()) r.Fail(root.source(), "the network file has no [[villages]]");
  net.BuildIndex();  // the villages are complete: FindVillage below is a hash look-up

  for (const toml::table* s : stations) {
    r.CheckKeys(*s, {"id", "village", "name_th", "name_en", "watch", "warning", "critical", "persistence_readings",
                     "persistence_minutes", "hysteresis_cm", "fast_rise_cm_per_hour", "min_level_cm", "max_level_cm",
                     "interval_minutes", "fast_interval_minutes", "lat", "lon"},
                "a [[stations]] entry");
    alerting::Station st;
    st.id = r.Id(*s, "a [[stations]] entry");
    std::string ctx = fmt::format("station '{}'", st.id);
    if (!ids.insert(st.id).second) r.Fail(s->get("id")->source(), fmt::format("'{}' is used twice", st.id));
    st.village = r.Str(*s, "village", ctx, true);
    if (!net.FindVillage(st.village)) {
      r.Fail(s->get("village")->source(), fmt::format("{} names village '{}', which is not in [[villages]]", ctx, st.village));
    }
    using T = alerting::StationTexts;
    std::array<std::string, T::kCount> texts;
    texts[T::kNameTh] = r.Str(*s, "name_th", ctx, true);
    texts[T::kNameEn] = r.Str(*s, "name_en", ctx, true);
    st.watch = ReadThreshold(r, *s, "watch", ctx, &texts[T::kWatchTh], &texts[T::kWatchEn]);
    st.warning = ReadThreshold(r, *s, "warning", ctx, &texts[T::kWarningTh], &texts[T::kWarningEn]);
    st.critical = ReadThreshold(r, *s, "critical", ctx, &texts[T::kCriticalTh], &texts[T::kCriticalEn]);
    T::Values views;
    for (std::size_t i = 0; i < texts.size(); ++i) views[i] = texts[i];
    st.texts = T(views, *net.texts);
    if (!(st.watch.cm < st.warning.cm && st.warning.cm < st.critical.cm)) {
      r.Fail(s->source(), fmt::format("{}: thresholds must rise: watch {} < warning {} < critical {}", ctx, st.watch.cm,
                                      st.warning.cm, st.critical.cm));
    }
    st.persistence_readings = r.Count(*s, "persistence_readings", ctx, st.persistence_readings);
    if (st.persistence_readings < 1) r.Fail(s->get("persistence_readings")->source(), "persistence_readings must be at least 1");
    st.persistence_time = r.Minutes(*s, "persistence_minutes", ctx, st.persistence_time);
    st.hysteresis_cm = r.NonNegative(*s, "hysteresis_cm", ctx, st.hysteresis_cm);
    st.fast_rise_cm_per_hour = r.NonNegative(*s, "fast_rise_cm_per_hour", ctx, st.fast_rise_cm_per_hour);
    st.min_level_cm = r.Num(*s, "min_level_cm", ctx, false, st.min_level_cm);
    st.max_level_cm = r.Num(*s, "max_level_cm", ctx, false, st.max_level_cm);
    if (st.min_level_cm >= st.max_level_cm) r.Fail(s->source(), fmt::format("{}: min_level_cm must be below max_level_cm", ctx));
    st.interval = r.Minutes(*s, "interval_minutes", ctx, st.interval);
    st.fast_interval = r.Minutes(*s, "fast_interval_minutes", ctx, st.fast_interval);
    st.lat = r.Num(*s, "lat", ctx, false);
    st.lon = r.Num(*s, "lon", ctx, false);
    net.stations.push_back(std::move(st));
  }

  for (const toml::table* p : people) {
    r.CheckKeys(*p, {"id", "name_th", "name_en", "role", "village", "phone"}, "a [[people]] entry");
    alerting::Person person;
    person.id = r.Id(*p, "a [[people]] entry");
    std::string ctx = fmt::format("person '{}'", person.id);
    if (person.id == "kaoko") r.Fail(p->get("id")->source(), "'kaoko' is the service's own account and cannot be a person");
    if (!ids.insert(person.id).second) r.Fail(p->get("id")->source(), fmt::format("'{}' is used twice (station and person ids share the broker's user names)", person.id));
    person.name_th = r.Str(*p, "name_th", ctx, true);
    person.name_en = r.Str(*p, "name_en", ctx, false);
    std::string role = r.Str(*p, "role", ctx, true);
    auto parsed = alerting::ParseRole(role);
    if (!parsed) {
      r.Fail(p->get("role")->source(),
             fmt::format("{} has role '{}'; the roles are watcher, committee, headman, deputy, tao", ctx, role));
    }
    person.role = *parsed;
    person.village = r.Str(*p, "village", ctx, person.role != alerting::Role::kTao);
    if (!person.village.empty() && !net.FindVillage(person.village)) {
      r.Fail(p->get("village")->source(), fmt::format("{} names village '{}', which is not in [[villages]]", ctx, person.village));
    }
    if (person.role == alerting::Role::kTao && !person.village.empty()) {
      r.Fail(p->get("village")->source(), fmt::format("{} is a TAO officer and belongs to the whole tambon: remove 'village'", ctx));
    }
    person.phone = r.Str(*p, "phone", ctx, false);
    net.people.push_back(std::move(person));
  }
  net.BuildIndex();
  return net;
}

}  // namespace

bool IsIdentifier(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Result<alerting::Network> ParseNetwork(std::string_view text, const std::string& name) {
  Reader reader(name);
  try {
    toml::table root = toml::parse(text, name);
    return Build(root, reader);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return MakeError("config", fmt::format("{}:{}:{}: {}", name, b.line, b.column, e.description()));
  } catch (const ConfigError& e) {
    return MakeError("config", e.message);
  } catch (const std::exception& e) {
    return MakeError("config", fmt::format("{}: {}", name, e.what()));
  }
}

Result<alerting::Network> LoadNetwork(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("config", fmt::format("{}: cannot open the network file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseNetwork(text.str(), path);
}

}  // namespace kaoko::config
