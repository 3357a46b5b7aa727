#include "kaoko/contract/network_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "kaoko/contract/toml_reader.hpp"

namespace kaoko::config {
namespace {

using alerting::Network;
using alerting::Seconds;

// Ten years at most: far beyond any real deadline, and the engine adds these to times in milliseconds.
constexpr double kMaxDurationSeconds = 10 * 366 * 24 * 3600.0;

Seconds Duration(const TomlReader& r, const toml::table& t, std::string_view key, std::string_view context,
                 double seconds) {
  if (seconds > kMaxDurationSeconds) {
    r.Fail(t.get(key)->source(), fmt::format("'{}' in {} is longer than ten years", key, context));
  }
  return Seconds(static_cast<long long>(seconds + 0.5));
}

Seconds Minutes(const TomlReader& r, const toml::table& t, std::string_view key, std::string_view context,
                Seconds fallback) {
  double v = r.NonNegative(t, key, context).value_or(static_cast<double>(fallback.count()) / 60.0);
  return Duration(r, t, key, context, v * 60.0);
}

Seconds Hours(const TomlReader& r, const toml::table& t, std::string_view key, std::string_view context,
              Seconds fallback) {
  double v = r.NonNegative(t, key, context).value_or(static_cast<double>(fallback.count()) / 3600.0);
  return Duration(r, t, key, context, v * 3600.0);
}

// A whole count (readings, a village number): at most `max`, so that it fits an int.
int Count(const TomlReader& r, const toml::table& t, std::string_view key, std::string_view context, int fallback,
          int max = 1'000'000) {
  double v = r.NonNegative(t, key, context).value_or(fallback);
  if (v > max) r.Fail(t.get(key)->source(), fmt::format("'{}' in {} must be at most {}", key, context, max));
  return static_cast<int>(v);
}

std::string Id(const TomlReader& r, const toml::table& t, std::string_view context) {
  std::string id = r.RequiredStr(t, "id", context);
  if (!IsIdentifier(id)) {
    r.Fail(t.get("id")->source(),
           fmt::format("id '{}' in {} must be 1-32 characters of a-z, 0-9 and '-'", id, context));
  }
  return id;
}

// A threshold; its landmarks, when named, into *landmark_th and *landmark_en.
alerting::Threshold ReadThreshold(const TomlReader& r, const toml::table& station, std::string_view key,
                                  const std::string& context, std::string* landmark_th, std::string* landmark_en) {
  const toml::node* n = station.get(key);
  if (!n) r.Fail(station.source(), fmt::format("{} is missing its '{}' threshold", context, key));
  alerting::Threshold th;
  if (n->is_number()) {
    th.cm = *n->value<double>();
    return th;
  }
  if (!n->is_table()) {
    r.Fail(n->source(),
           fmt::format("'{}' in {} must be a number of cm or {{ cm = …, landmark_th = … }}", key, context));
  }
  const toml::table& t = *n->as_table();
  std::string sub = fmt::format("the {} threshold of {}", key, context);
  r.CheckKeys(t, {"cm", "landmark_th", "landmark_en"}, sub);
  th.cm = r.RequiredNum(t, "cm", sub);
  *landmark_th = r.Str(t, "landmark_th", sub).value_or("");
  *landmark_en = r.Str(t, "landmark_en", sub).value_or("");
  return th;
}

void ReadTambon(const TomlReader& r, const toml::table& root, Network& net) {
  const toml::table* tambon = r.Table(root, "tambon", "the network file");
  if (!tambon) r.Fail(root.source(), "the network file has no [tambon] table");
  r.CheckKeys(*tambon, {"id", "name_th", "name_en", "district_th", "province_th", "province_en", "geocode"},
              "[tambon]");
  net.tambon = Id(r, *tambon, "[tambon]");
  net.tambon_name_th = r.RequiredStr(*tambon, "name_th", "[tambon]");
  net.tambon_name_en = r.RequiredStr(*tambon, "name_en", "[tambon]");
  net.district_th = r.Str(*tambon, "district_th", "[tambon]").value_or("");
  net.province_th = r.Str(*tambon, "province_th", "[tambon]").value_or("");
  net.province_en = r.Str(*tambon, "province_en", "[tambon]").value_or("");
  net.geocode = r.Str(*tambon, "geocode", "[tambon]").value_or("");
}

// [escalation], [health] and [rain]: each optional, each key overriding the default it names.
void ReadPolicies(const TomlReader& r, const toml::table& root, Network& net) {
  if (const toml::table* e = r.Table(root, "escalation", "the network file")) {
    r.CheckKeys(*e,
                {"committee_ack_minutes", "headman_confirm_minutes", "deputy_after_minutes", "tao_declare_minutes",
                 "district_minutes", "reminder_minutes", "auto_resolve_hours", "corroboration_minutes"},
                "[escalation]");
    auto& p = net.escalation;
    p.committee_ack = Minutes(r, *e, "committee_ack_minutes", "[escalation]", p.committee_ack);
    p.headman_confirm = Minutes(r, *e, "headman_confirm_minutes", "[escalation]", p.headman_confirm);
    p.deputy_after = Minutes(r, *e, "deputy_after_minutes", "[escalation]", p.deputy_after);
    p.tao_declare = Minutes(r, *e, "tao_declare_minutes", "[escalation]", p.tao_declare);
    p.district_act = Minutes(r, *e, "district_minutes", "[escalation]", p.district_act);
    if (p.district_act.count() == 0) r.Fail(e->get("district_minutes")->source(), "district_minutes must be > 0");
    p.reminder_interval = Minutes(r, *e, "reminder_minutes", "[escalation]", p.reminder_interval);
    p.auto_resolve_after = Hours(r, *e, "auto_resolve_hours", "[escalation]", p.auto_resolve_after);
    p.corroboration_window = Minutes(r, *e, "corroboration_minutes", "[escalation]", p.corroboration_window);
    if (p.reminder_interval.count() == 0) r.Fail(e->get("reminder_minutes")->source(), "reminder_minutes must be > 0");
  }
  if (const toml::table* h = r.Table(root, "health", "the network file")) {
    r.CheckKeys(*h,
                {"offline_after_minutes", "stuck_readings", "spike_cm_per_reading", "low_battery_v",
                 "clock_tolerance_minutes", "late_minutes", "backlog_minutes"},
                "[health]");
    auto& p = net.health;
    p.offline_after = Minutes(r, *h, "offline_after_minutes", "[health]", p.offline_after);
    p.clock_tolerance = Minutes(r, *h, "clock_tolerance_minutes", "[health]", p.clock_tolerance);
    p.late_after = Minutes(r, *h, "late_minutes", "[health]", p.late_after);
    p.backlog_after = Minutes(r, *h, "backlog_minutes", "[health]", p.backlog_after);
    if (p.backlog_after < p.late_after) {
      r.Fail(h->get("backlog_minutes") ? h->get("backlog_minutes")->source() : h->source(),
             "backlog_minutes must not be less than late_minutes");
    }
    p.stuck_readings = Count(r, *h, "stuck_readings", "[health]", p.stuck_readings);
    p.spike_cm_per_reading = r.NonNegative(*h, "spike_cm_per_reading", "[health]").value_or(p.spike_cm_per_reading);
    p.low_battery_v = r.NonNegative(*h, "low_battery_v", "[health]").value_or(p.low_battery_v);
  }
  if (const toml::table* rain = r.Table(root, "rain", "the network file")) {
    r.CheckKeys(*rain, {"watch_mm_1h", "watch_mm_24h", "heavy_mm_24h"}, "[rain]");
    auto& p = net.rain;
    p.watch_mm_1h = r.NonNegative(*rain, "watch_mm_1h", "[rain]").value_or(p.watch_mm_1h);
    p.watch_mm_24h = r.NonNegative(*rain, "watch_mm_24h", "[rain]").value_or(p.watch_mm_24h);
    p.heavy_mm_24h = r.NonNegative(*rain, "heavy_mm_24h", "[rain]").value_or(p.heavy_mm_24h);
  }
}

// [delivery]: not_reached_minutes, and [delivery.ladder.watch] / [delivery.ladder.warning] tables of channel =
// minutes after the notification (critical always sends on every channel at once).
void ReadDelivery(const TomlReader& r, const toml::table& root, Network& net) {
  const toml::table* d = r.Table(root, "delivery", "the network file");
  if (!d) return;
  r.CheckKeys(*d, {"not_reached_minutes", "ladder"}, "[delivery]");
  if (auto m = r.NonNegative(*d, "not_reached_minutes", "[delivery]")) {
    net.delivery.not_reached = alerting::Seconds(static_cast<std::int64_t>(*m * 60));
  }
  const toml::table* ladder = r.Table(*d, "ladder", "[delivery]");
  if (!ladder) return;
  for (const auto& [key, node] : *ladder) {
    const std::string level_name(key.str());
    const auto level = alerting::ParseLevel(level_name);
    if (!level || (*level != alerting::Level::kWatch && *level != alerting::Level::kWarning)) {
      r.Fail(node.source(), fmt::format("[delivery.ladder] names levels watch and warning, not '{}' (critical always "
                                        "sends on every channel at once)",
                                        level_name));
    }
    const toml::table* steps = node.as_table();
    if (!steps)
      r.Fail(node.source(), fmt::format("[delivery.ladder.{}] must be a table of channel = minutes", level_name));
    const std::string context = fmt::format("[delivery.ladder.{}]", level_name);
    for (const auto& [channel_key, minutes] : *steps) {
      const auto channel = alerting::ParseChannel(channel_key.str());
      if (!channel) {
        r.Fail(minutes.source(),
               fmt::format("{}: unknown channel '{}' (sms, line or web)", context, std::string(channel_key.str())));
      }
      auto m = r.NonNegative(*steps, channel_key.str(), context);
      net.delivery.ladder[*level][*channel] = alerting::Seconds(static_cast<std::int64_t>(*m * 60));
    }
  }
}

alerting::Village ReadVillage(const TomlReader& r, const toml::table* v, std::unordered_set<std::string>* village_ids) {
  r.CheckKeys(*v, {"id", "name_th", "name_en", "moo", "travel_to_next_minutes", "lat", "lon"}, "a [[villages]] entry");
  alerting::Village village;
  village.id = Id(r, *v, "a [[villages]] entry");
  std::string ctx = fmt::format("village '{}'", village.id);
  if (!village_ids->insert(village.id).second) {
    r.Fail(v->get("id")->source(), fmt::format("village '{}' is listed twice", village.id));
  }
  if (village.id == "tier") {  // kaoko/v1/{tambon}/tier/… are the tiers' topics (docs/tiers.md)
    r.Fail(v->get("id")->source(), "the village id 'tier' is reserved for the links between tiers (docs/tiers.md)");
  }
  village.name_th = r.RequiredStr(*v, "name_th", ctx);
  village.name_en = r.RequiredStr(*v, "name_en", ctx);
  village.moo = Count(r, *v, "moo", ctx, 0);
  village.travel_to_next = Minutes(r, *v, "travel_to_next_minutes", ctx, Seconds(0));
  village.lat = r.Num(*v, "lat", ctx).value_or(0);
  village.lon = r.Num(*v, "lon", ctx).value_or(0);
  return village;
}

// Fails at `id_node` when `id` is reserved (ReservedId); `what` is "station", "person" or "device".
void CheckReserved(const TomlReader& r, const toml::node* id_node, std::string_view id, std::string_view what) {
  if (auto why = ReservedId(id)) {
    r.Fail(id_node->source(), fmt::format("{} id '{}' is reserved: {}; choose another id", what, id, *why));
  }
}

// `ids` holds the station and person ids so far: they share the broker's user-name space.
alerting::Station ReadStation(const TomlReader& r, const toml::table* s, const Network& net,
                              std::set<std::string>* ids) {
  r.CheckKeys(*s,
              {"id", "village", "name_th", "name_en", "watch", "warning", "critical", "persistence_readings",
               "persistence_minutes", "hysteresis_cm", "fast_rise_cm_per_hour", "min_level_cm", "max_level_cm",
               "interval_minutes", "fast_interval_minutes", "lat", "lon"},
              "a [[stations]] entry");
  alerting::Station st;
  st.id = Id(r, *s, "a [[stations]] entry");
  std::string ctx = fmt::format("station '{}'", st.id);
  CheckReserved(r, s->get("id"), st.id, "station");
  if (!ids->insert(st.id).second) r.Fail(s->get("id")->source(), fmt::format("'{}' is used twice", st.id));
  st.village = r.RequiredStr(*s, "village", ctx);
  if (!net.FindVillage(st.village)) {
    r.Fail(s->get("village")->source(),
           fmt::format("{} names village '{}', which is not in [[villages]]", ctx, st.village));
  }
  using T = alerting::StationTexts;
  std::array<std::string, T::kCount> texts;
  texts[T::kNameTh] = r.RequiredStr(*s, "name_th", ctx);
  texts[T::kNameEn] = r.RequiredStr(*s, "name_en", ctx);
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
  st.persistence_readings = Count(r, *s, "persistence_readings", ctx, st.persistence_readings);
  if (st.persistence_readings < 1)
    r.Fail(s->get("persistence_readings")->source(), "persistence_readings must be at least 1");
  st.persistence_time = Minutes(r, *s, "persistence_minutes", ctx, st.persistence_time);
  st.hysteresis_cm = r.NonNegative(*s, "hysteresis_cm", ctx).value_or(st.hysteresis_cm);
  st.fast_rise_cm_per_hour = r.NonNegative(*s, "fast_rise_cm_per_hour", ctx).value_or(st.fast_rise_cm_per_hour);
  st.min_level_cm = r.Num(*s, "min_level_cm", ctx).value_or(st.min_level_cm);
  st.max_level_cm = r.Num(*s, "max_level_cm", ctx).value_or(st.max_level_cm);
  if (st.min_level_cm >= st.max_level_cm)
    r.Fail(s->source(), fmt::format("{}: min_level_cm must be below max_level_cm", ctx));
  st.interval = Minutes(r, *s, "interval_minutes", ctx, st.interval);
  st.fast_interval = Minutes(r, *s, "fast_interval_minutes", ctx, st.fast_interval);
  st.lat = r.Num(*s, "lat", ctx).value_or(0);
  st.lon = r.Num(*s, "lon", ctx).value_or(0);
  return st;
}

// A Thai mobile number in the form SMS gateways take: +66, then 9 digits starting 6, 8 or 9 (a landline, +66 2…, takes
// no SMS).
bool IsThaiMobile(std::string_view n) {
  if (n.size() != 12 || !n.starts_with("+66") || (n[3] != '6' && n[3] != '8' && n[3] != '9')) return false;
  return std::all_of(n.begin() + 3, n.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A LINE user id: "U" and 32 lowercase hex digits.
bool IsLineUserId(std::string_view u) {
  if (u.size() != 33 || u[0] != 'U') return false;
  return std::all_of(u.begin() + 1, u.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Who holds each SMS number and LINE user id so far: a reply by SMS or a LINE postback must name one person.
using AddressOwners = std::map<std::string, std::string>;

alerting::Contact ReadContact(const TomlReader& r, const toml::table& c, const std::string& ctx, std::size_t n,
                              const std::string& person, AddressOwners* owners) {
  const std::string where = fmt::format("{}, contact {}", ctx, n);
  r.CheckKeys(c, {"channel", "number", "user", "consent"}, where);
  alerting::Contact contact;
  const std::string channel = r.RequiredStr(c, "channel", where);
  auto parsed = alerting::ParseChannel(channel);
  if (!parsed) {
    r.Fail(c.get("channel")->source(),
           fmt::format("{} has channel '{}'; the channels are sms, line, web", where, channel));
  }
  contact.channel = *parsed;
  const auto number = r.Str(c, "number", where);
  const auto user = r.Str(c, "user", where);
  if (number && contact.channel != alerting::Channel::kSms)
    r.Fail(c.get("number")->source(), fmt::format("{}: only an sms contact has a number", where));
  if (user && contact.channel != alerting::Channel::kLine)
    r.Fail(c.get("user")->source(), fmt::format("{}: only a line contact has a user", where));
  if (contact.channel == alerting::Channel::kSms) {
    if (!number) r.Fail(c.source(), fmt::format("{} is an sms contact without a number", where));
    if (!IsThaiMobile(*number)) {
      // The number itself stays out of the message: it is personal data, and this message goes to the log.
      const bool local = number->size() == 10 && number->starts_with('0');
      r.Fail(c.get("number")->source(),
             fmt::format("{}: the number is not a Thai mobile number in +66 form{}", where,
                         local ? " (drop the leading 0 and write +66: 081… becomes +6681…)"
                               : " (+66, then the 9 digits after the leading 0, no spaces)"));
    }
    contact.address = *number;
  }
  if (user) {
    if (!IsLineUserId(*user))
      r.Fail(c.get("user")->source(), fmt::format("{}: the user is not a LINE user id (U and 32 hex digits)", where));
    contact.address = *user;
  }
  if (!contact.address.empty()) {
    auto [it, fresh] = owners->emplace(contact.address, person);
    if (!fresh) {
      r.Fail(
          c.get(contact.channel == alerting::Channel::kSms ? "number" : "user")->source(),
          fmt::format("{}: {} is given to both '{}' and '{}': a reply must name one person", where,
                      contact.channel == alerting::Channel::kSms ? "the number" : "the LINE user", it->second, person));
    }
  }
  contact.consent = r.Date(c, "consent", where);
  return contact;
}

std::vector<alerting::Contact> ReadContacts(const TomlReader& r, const toml::table& p, const std::string& ctx,
                                            const std::string& person, AddressOwners* owners) {
  std::vector<alerting::Contact> out;
  const auto tables = r.Tables(p, "contacts");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    alerting::Contact c = ReadContact(r, *tables[i], ctx, i + 1, person, owners);
    for (const auto& earlier : out) {
      if (earlier.channel == c.channel) {
        r.Fail(tables[i]->source(), fmt::format("{}, contact {}: a second {} contact (one per channel)", ctx, i + 1,
                                                alerting::ToString(c.channel)));
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

alerting::Person ReadPerson(const TomlReader& r, const toml::table* p, const Network& net, std::set<std::string>* ids,
                            AddressOwners* owners) {
  r.CheckKeys(*p, {"id", "name_th", "name_en", "role", "village", "phone", "contacts"}, "a [[people]] entry");
  alerting::Person person;
  person.id = Id(r, *p, "a [[people]] entry");
  std::string ctx = fmt::format("person '{}'", person.id);
  CheckReserved(r, p->get("id"), person.id, "person");
  if (!ids->insert(person.id).second)
    r.Fail(p->get("id")->source(),
           fmt::format("'{}' is used twice (station and person ids share the broker's user names)", person.id));
  person.name_th = r.RequiredStr(*p, "name_th", ctx);
  person.name_en = r.Str(*p, "name_en", ctx).value_or("");
  std::string role = r.RequiredStr(*p, "role", ctx);
  auto parsed = alerting::ParseRole(role);
  if (!parsed) {
    r.Fail(
        p->get("role")->source(),
        fmt::format("{} has role '{}'; the roles are watcher, committee, headman, deputy, tao, district", ctx, role));
  }
  person.role = *parsed;
  const bool tambon_wide = alerting::IsTambonWide(person.role);
  person.village = tambon_wide ? r.Str(*p, "village", ctx).value_or("") : r.RequiredStr(*p, "village", ctx);
  if (!person.village.empty() && !net.FindVillage(person.village)) {
    r.Fail(p->get("village")->source(),
           fmt::format("{} names village '{}', which is not in [[villages]]", ctx, person.village));
  }
  if (tambon_wide && !person.village.empty()) {
    r.Fail(p->get("village")->source(),
           fmt::format("{} is {} and belongs to the whole tambon: remove 'village'", ctx,
                       person.role == alerting::Role::kTao ? "a TAO officer" : "the district (above the TAO)"));
  }
  person.phone = r.Str(*p, "phone", ctx).value_or("");
  person.contacts = ReadContacts(r, *p, ctx, person.id, owners);
  return person;
}

// Longest a device may take to answer an announcement: beyond an hour, "did not answer" tells the TAO too late.
constexpr double kMaxAnswerSeconds = 3600;

// A tower or siren of a village (network.hpp, Device). `ids` holds the station and person ids: a device's id is its
// broker user name too.
alerting::Device ReadDevice(const TomlReader& r, const toml::table* d, const Network& net, std::set<std::string>* ids) {
  r.CheckKeys(*d, {"id", "village", "kind", "name_th", "name_en", "answer_seconds"}, "a [[devices]] entry");
  alerting::Device dev;
  dev.id = Id(r, *d, "a [[devices]] entry");
  const std::string ctx = fmt::format("device '{}'", dev.id);
  CheckReserved(r, d->get("id"), dev.id, "device");
  if (!ids->insert(dev.id).second)
    r.Fail(d->get("id")->source(),
           fmt::format("'{}' is used twice (station, person and device ids share the broker's user names)", dev.id));
  dev.village = r.RequiredStr(*d, "village", ctx);
  if (!net.FindVillage(dev.village)) {
    r.Fail(d->get("village")->source(),
           fmt::format("{} names village '{}', which is not in [[villages]]", ctx, dev.village));
  }
  const std::string kind = r.RequiredStr(*d, "kind", ctx);
  auto parsed = alerting::ParseDeviceKind(kind);
  if (!parsed) {
    r.Fail(d->get("kind")->source(), fmt::format("{} has kind '{}'; the kinds are tower, siren", ctx, kind));
  }
  dev.kind = *parsed;
  dev.name_th = r.RequiredStr(*d, "name_th", ctx);
  dev.name_en = r.Str(*d, "name_en", ctx).value_or("");
  if (auto seconds = r.NonNegative(*d, "answer_seconds", ctx)) {
    if (*seconds < 1 || *seconds > kMaxAnswerSeconds) {
      r.Fail(d->get("answer_seconds")->source(),
             fmt::format("'answer_seconds' in {} must be between 1 and {}", ctx, kMaxAnswerSeconds));
    }
    dev.answer_after = Duration(r, *d, "answer_seconds", ctx, *seconds);
  }
  return dev;
}

Network Build(const toml::table& root, const TomlReader& r) {
  Network net;
  net.texts = std::make_shared<alerting::TextArena>();  // the stations' names and landmarks (network.hpp, StationTexts)
  r.CheckKeys(root, {"tambon", "escalation", "health", "rain", "delivery", "villages", "stations", "people", "devices"},
              "the network file");

  ReadTambon(r, root, net);
  ReadPolicies(r, root, net);
  ReadDelivery(r, root, net);

  std::set<std::string> ids;
  // Exactly as many as there are (a network of 150,000 stations would otherwise carry ~100,000 empty ones).
  const auto villages = r.Tables(root, "villages");
  const auto stations = r.Tables(root, "stations");
  const auto people = r.Tables(root, "people");
  net.villages.reserve(villages.size());
  net.stations.reserve(stations.size());
  net.people.reserve(people.size());
  std::unordered_set<std::string> village_ids;  // (a hash set: a large network has tens of thousands of villages)
  for (const toml::table* v : villages) net.villages.push_back(ReadVillage(r, v, &village_ids));
  if (net.villages.empty()) r.Fail(root.source(), "the network file has no [[villages]]");
  net.BuildIndex();  // the villages are complete: FindVillage below is a hash look-up

  for (const toml::table* s : stations) net.stations.push_back(ReadStation(r, s, net, &ids));
  AddressOwners owners;
  for (const toml::table* p : people) net.people.push_back(ReadPerson(r, p, net, &ids, &owners));
  for (const toml::table* d : r.Tables(root, "devices")) net.devices.push_back(ReadDevice(r, d, net, &ids));
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

std::optional<std::string> ReservedId(std::string_view id) {
  if (id == "kaoko") return std::string("'kaoko' is the service's own broker account (kaoko-admin writes it)");
  if (id.starts_with("edge-")) {
    return fmt::format(
        "'{}' starts with 'edge-', the names of the edge boxes' bridge accounts at the TAO's broker and of their "
        "nodes in the tier topics (edge-<village>, docs/tiers.md)",
        id);
  }
  if (id == "province") {
    return std::string("'province' is the province tier's node name in the tier topics (docs/tiers.md)");
  }
  return std::nullopt;
}

Result<alerting::Network> ParseNetwork(std::string_view text, const std::string& name) {
  return ParseToml<Network>(text, name, {"config", "config"}, Build);
}

Result<alerting::Network> LoadNetwork(const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text) return MakeError("config", fmt::format("{}: cannot open the network file", path));
  return ParseNetwork(*text, path);
}

}  // namespace kaoko::config
