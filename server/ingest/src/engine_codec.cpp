#include "kaoko/ingest/engine_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "kaoko/contract/wire.hpp"

// Storage keys, version 1. Every key is the struct member's name, so the struct is the documentation; these are the
// only encodings that are not the member as it is:
//
//   all three          "v": 1, the encoding version (ignored on decode for now; bump it when a key changes meaning)
//   TimePoint          integer milliseconds since the Unix epoch; std::optional<...> empty → null
//   enums              wire strings: Level "normal", Stage "reported", ActionNeeded "none", IncidentKind "flood"...
//   Incident           every member; "asks": [{user, action, asked, next_reminder, reminders, open}],
//                      "sources": [{kind, id, ts, level}]
//   StationTrack       every scalar member ("max_seq" may be missing: then latest_seq); "over_count": [3 ints],
//                      "over_since": [3 ms],
//                      "recent": [[ts_ms, level_cm], ...] the whole ring in slot order (recent_head, recent_count),
//                      "rain_slots": size of rain_bucket / rain_mm,
//                      "rain": [[slot, bucket, mm], ...] only the slots that differ from an empty one
//                              (bucket INT64_MIN, 0 mm), so a dry day costs nothing
//   EngineMeta         next_incident, next_notification,
//                      "alerts": [{village, level, incident, status, since, updated, headline_th, headline_en,
//                                  exercise}],
//                      "sirens": [{village, on, level, incident, exercise}],
//                      "seen": [{key, user, village, ref, ok, incident, error}]: a SeenMessage, receipt flattened

namespace kaoko::server {
namespace {

using json = nlohmann::json;
using alerting::TimePoint;

constexpr int kVersion = 1;
// 0001-01-01 .. 9999-12-31: far from the int64 overflow that time arithmetic in the engine would hit, and every value
// formats as RFC 3339.
constexpr std::int64_t kMinMs = -62135596800000;
constexpr std::int64_t kMaxMs = 253402300799999;
// Upper bound of the rain buffer size on decode, so that a corrupt row cannot ask for gigabytes.
constexpr std::int64_t kMaxRainSlots = 1 << 16;
constexpr std::int64_t kEmptyRainBucket = std::numeric_limits<std::int64_t>::min();

// ------------------------------------------------------------------------------------------------ encode helpers

std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

json Opt(const std::optional<TimePoint>& t) { return t ? json(Ms(*t)) : json(nullptr); }
template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
template <typename T>
json Opt(const alerting::Maybe<T>& v) {
  return Opt(std::optional<T>(v));
}

// dump() throws on invalid UTF-8 by default; state text can carry a truncated Thai byte sequence, and losing the
// whole incident over it would be worse than a replacement character.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json EncodeAsk(const alerting::Ask& a) {
  return json{{"user", a.user},
              {"action", alerting::ToString(a.action)},
              {"asked", Ms(a.asked)},
              {"next_reminder", Ms(a.next_reminder)},
              {"reminders", a.reminders},
              {"open", a.open}};
}

json EncodeSource(const alerting::TriggerSource& s) {
  return json{{"kind", s.kind}, {"id", s.id}, {"ts", Ms(s.ts)}, {"level", alerting::ToString(s.level)}};
}

json EncodeAlert(const alerting::AlertState& a) {
  return json{{"village", a.village},
              {"level", alerting::ToString(a.level)},
              {"incident", Opt(a.incident)},
              {"status", alerting::ToString(a.status)},
              {"since", Ms(a.since)},
              {"updated", Ms(a.updated)},
              {"headline_th", a.headline_th},
              {"headline_en", a.headline_en},
              {"exercise", a.exercise}};
}

json EncodeSiren(const alerting::Siren& s) {
  return json{{"village", s.village},
              {"on", s.on},
              {"level", alerting::ToString(s.level)},
              {"incident", Opt(s.incident)},
              {"exercise", s.exercise}};
}

json EncodeSeen(const alerting::SeenMessage& m) {
  const alerting::Receipt& r = m.receipt;
  return json{{"key", m.key},
              {"user", r.user},
              {"village", r.village},
              {"ref", r.ref},
              {"ok", r.ok},
              {"incident", Opt(r.incident)},
              {"error", r.error}};
}

// ------------------------------------------------------------------------------------------------ decode helpers

std::optional<alerting::IncidentKind> ParseIncidentKind(std::string_view text) {
  if (text == "flood") return alerting::IncidentKind::kFlood;
  if (text == "station") return alerting::IncidentKind::kStation;
  return std::nullopt;
}

// Reads JSON values into struct members, keeping the path of the value being read ("incident.asks[1].action") for
// the error. After the first error every further read is a no-op, so a decoder reads all its fields unconditionally
// and checks once at the end. Never throws: every get<>() is behind a type check.
class Reader {
 public:
  explicit Reader(std::string root) { path_.push_back(std::move(root)); }

  bool ok() const { return !error_.has_value(); }
  Error error() const { return *error_; }

  void Fail(const char* code, std::string_view what) {
    if (error_) return;
    std::string path;
    for (const std::string& part : path_) {
      if (!path.empty() && part.front() != '[') path += '.';
      path += part;
    }
    error_ = MakeError(code, fmt::format("{}: {}", path, what));
  }

  // True when `v` is an object; otherwise records the error.
  bool Object(const json& v) {
    if (v.is_object()) return true;
    Fail("bad_type", "must be an object");
    return false;
  }

  // Reads obj[key] into `out` when the key is present; a missing key leaves `out` as it is (its default).
  template <typename T>
  void Field(const json& obj, const char* key, T& out) {
    if (error_) return;
    auto it = obj.find(key);
    if (it == obj.end()) return;
    path_.emplace_back(key);
    Value(*it, out);
    path_.pop_back();
  }

  // Like Field, for a member encoded with a reader of its own (fn(const json&)).
  template <typename Fn>
  void Custom(const json& obj, const char* key, Fn&& fn) {
    if (error_) return;
    auto it = obj.find(key);
    if (it == obj.end()) return;
    path_.emplace_back(key);
    fn(*it);
    path_.pop_back();
  }

  // Runs fn(element, index) for each element of an array, with "[i]" on the path.
  template <typename Fn>
  void Each(const json& v, Fn&& fn) {
    if (error_) return;
    if (!v.is_array()) return Fail("bad_type", "must be an array");
    for (std::size_t i = 0; i < v.size() && !error_; ++i) {
      path_.push_back(fmt::format("[{}]", i));
      fn(v[i], i);
      path_.pop_back();
    }
  }

  void Value(const json& v, std::string& out) {
    if (!v.is_string()) return Fail("bad_type", "must be a string");
    out = v.get_ref<const std::string&>();
  }

  void Value(const json& v, bool& out) {
    if (!v.is_boolean()) return Fail("bad_type", "must be true or false");
    out = v.get<bool>();
  }

  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void Value(const json& v, T& out) {
    if (v.is_number_unsigned()) {
      const auto n = v.get<std::uint64_t>();
      if (!std::in_range<T>(n)) return Fail("bad_value", fmt::format("{} is out of range", n));
      out = static_cast<T>(n);
    } else if (v.is_number_integer()) {
      const auto n = v.get<std::int64_t>();
      if (!std::in_range<T>(n)) return Fail("bad_value", fmt::format("{} is out of range", n));
      out = static_cast<T>(n);
    } else {
      Fail("bad_type", "must be an integer");
    }
  }

  void Value(const json& v, double& out) {
    if (!v.is_number()) return Fail("bad_type", "must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) return Fail("bad_value", "must be a finite number");
    out = d;
  }

  void Value(const json& v, TimePoint& out) {
    if (!v.is_number_integer()) return Fail("bad_type", "must be integer milliseconds since the epoch");
    std::int64_t ms = 0;
    Value(v, ms);
    if (error_) return;
    if (ms < kMinMs || ms > kMaxMs) return Fail("bad_value", fmt::format("{} ms is not a date in years 1-9999", ms));
    out = TimePoint(std::chrono::milliseconds(ms));
  }

  void Value(const json& v, alerting::Level& out) { Enum(v, out, alerting::ParseLevel, "level"); }
  void Value(const json& v, alerting::Stage& out) { Enum(v, out, alerting::ParseStage, "stage"); }
  void Value(const json& v, alerting::ActionNeeded& out) { Enum(v, out, alerting::ParseActionNeeded, "action"); }
  void Value(const json& v, alerting::IncidentKind& out) { Enum(v, out, ParseIncidentKind, "incident kind"); }

  // null is the empty optional; anything else must be a T.
  template <typename T>
  void Value(const json& v, std::optional<T>& out) {
    if (v.is_null()) {
      out.reset();
      return;
    }
    T value{};
    Value(v, value);
    if (!error_) out = std::move(value);
  }
  template <typename T>
  void Value(const json& v, alerting::Maybe<T>& out) {
    std::optional<T> value = out;
    Value(v, value);
    out = value;
  }

  // A fixed-size member array: exactly N elements.
  template <typename T, std::size_t N>
  void Value(const json& v, T (&out)[N]) {
    if (!v.is_array()) return Fail("bad_type", "must be an array");
    if (v.size() != N) return Fail("bad_value", fmt::format("must have {} elements, not {}", N, v.size()));
    Each(v, [&](const json& e, std::size_t i) { Value(e, out[i]); });
  }

  template <typename T>
  void Value(const json& v, std::vector<T>& out) {
    std::vector<T> items;
    if (v.is_array()) items.reserve(v.size());
    Each(v, [&](const json& e, std::size_t) {
      T item{};
      Value(e, item);
      items.push_back(std::move(item));
    });
    if (!error_) out = std::move(items);
  }

  void Value(const json& v, alerting::Ask& a) {
    if (!Object(v)) return;
    Field(v, "user", a.user);
    Field(v, "action", a.action);
    Field(v, "asked", a.asked);
    Field(v, "next_reminder", a.next_reminder);
    Field(v, "reminders", a.reminders);
    Field(v, "open", a.open);
  }

  void Value(const json& v, alerting::TriggerSource& s) {
    if (!Object(v)) return;
    Field(v, "kind", s.kind);
    Field(v, "id", s.id);
    Field(v, "ts", s.ts);
    Field(v, "level", s.level);
  }

  // A ring slot: [ts_ms, level_cm].
  void Value(const json& v, alerting::RecentReading& r) {
    if (!v.is_array() || v.size() != 2) return Fail("bad_type", "must be [ts_ms, level_cm]");
    Each(v, [&](const json& e, std::size_t i) {
      if (i == 0) Value(e, r.ts);
      else Value(e, r.level_cm);
    });
  }

  void Value(const json& v, alerting::AlertState& a) {
    if (!Object(v)) return;
    Field(v, "village", a.village);
    Field(v, "level", a.level);
    Field(v, "incident", a.incident);
    Field(v, "status", a.status);
    Field(v, "since", a.since);
    Field(v, "updated", a.updated);
    Field(v, "headline_th", a.headline_th);
    Field(v, "headline_en", a.headline_en);
    Field(v, "exercise", a.exercise);
  }

  void Value(const json& v, alerting::Siren& s) {
    if (!Object(v)) return;
    Field(v, "village", s.village);
    Field(v, "on", s.on);
    Field(v, "level", s.level);
    Field(v, "incident", s.incident);
    Field(v, "exercise", s.exercise);
  }

  void Value(const json& v, alerting::SeenMessage& m) {
    if (!Object(v)) return;
    Field(v, "key", m.key);
    Field(v, "user", m.receipt.user);
    Field(v, "village", m.receipt.village);
    Field(v, "ref", m.receipt.ref);
    Field(v, "ok", m.receipt.ok);
    Field(v, "incident", m.receipt.incident);
    Field(v, "error", m.receipt.error);
  }

 private:
  template <typename E, typename Parse>
  void Enum(const json& v, E& out, Parse parse, const char* what) {
    if (!v.is_string()) return Fail("bad_type", fmt::format("must be a string ({})", what));
    const auto& text = v.get_ref<const std::string&>();
    const std::optional<E> parsed = parse(text);
    if (!parsed) return Fail("bad_value", fmt::format("unknown {} \"{}\"", what, text));
    out = *parsed;
  }

  std::vector<std::string> path_;
  std::optional<Error> error_;
};

// Parses the text into a JSON object; the error names `what` ("incident", "station track", "engine meta").
Result<json> ParseObject(std::string_view text, const char* what) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("bad_json", fmt::format("{}: not valid JSON", what));
  if (!j.is_object()) return MakeError("bad_type", fmt::format("{}: must be a JSON object", what));
  return j;
}

// Runs a decoder, turning anything it might still throw (std::bad_alloc on a huge input) into an error, so that the
// functions of this file keep their promise never to throw.
template <typename T, typename Fn>
Result<T> Guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return MakeError("bad_json", fmt::format("{}: {}", what, e.what()));
  }
}

// RFC 3339 UTC as the rest of the HTTP API writes it (wire::FormatTime), or null.
json Public(const std::optional<TimePoint>& t) { return t ? json(wire::FormatTime(*t)) : json(nullptr); }

}  // namespace

// ------------------------------------------------------------------------------------------------ Incident

std::string EncodeIncident(const alerting::Incident& i) {
  json asks = json::array();
  for (const auto& a : i.asks) asks.push_back(EncodeAsk(a));
  json sources = json::array();
  for (const auto& s : i.sources) sources.push_back(EncodeSource(s));
  const json j{{"v", kVersion},
               {"id", i.id},
               {"kind", alerting::ToString(i.kind)},
               {"village", i.village},
               {"station", i.station},
               {"origin", i.origin},
               {"level", alerting::ToString(i.level)},
               {"declared_level", i.declared_level ? json(alerting::ToString(*i.declared_level)) : json(nullptr)},
               {"stage", alerting::ToString(i.stage)},
               {"exercise", i.exercise},
               {"unconfirmed", i.unconfirmed},
               {"rejection_noted", i.rejection_noted},
               {"station_critical", i.station_critical},
               {"upstream_warned", i.upstream_warned},
               {"siren_on", i.siren_on},
               {"tao_overdue", i.tao_overdue},
               {"corroborations", i.corroborations},
               {"problems", i.problems},
               {"opened", Ms(i.opened)},
               {"updated", Ms(i.updated)},
               {"closed", Opt(i.closed)},
               {"stage_deadline", Opt(i.stage_deadline)},
               {"deputy_at", Opt(i.deputy_at)},
               {"normal_since", Opt(i.normal_since)},
               {"expected_arrival", Opt(i.expected_arrival)},
               {"upstream_village", i.upstream_village},
               {"acked_by", i.acked_by},
               {"confirmed_by", i.confirmed_by},
               {"rejected_by", i.rejected_by},
               {"declared_by", i.declared_by},
               {"detail_th", i.detail_th},
               {"detail_en", i.detail_en},
               {"headline_th", i.headline_th},
               {"headline_en", i.headline_en},
               {"asks", std::move(asks)},
               {"sources", std::move(sources)},
               {"revision", i.revision}};
  return Dump(j);
}

Result<alerting::Incident> DecodeIncident(std::string_view text) {
  return Guarded<alerting::Incident>("incident", [&]() -> Result<alerting::Incident> {
    auto parsed = ParseObject(text, "incident");
    if (!parsed.ok()) return parsed.error();
    const json& j = *parsed;
    alerting::Incident i;
    Reader r("incident");
    r.Field(j, "id", i.id);
    r.Field(j, "kind", i.kind);
    r.Field(j, "village", i.village);
    r.Field(j, "station", i.station);
    r.Field(j, "origin", i.origin);
    r.Field(j, "level", i.level);
    r.Field(j, "declared_level", i.declared_level);
    r.Field(j, "stage", i.stage);
    r.Field(j, "exercise", i.exercise);
    r.Field(j, "unconfirmed", i.unconfirmed);
    r.Field(j, "rejection_noted", i.rejection_noted);
    r.Field(j, "station_critical", i.station_critical);
    r.Field(j, "upstream_warned", i.upstream_warned);
    r.Field(j, "siren_on", i.siren_on);
    r.Field(j, "tao_overdue", i.tao_overdue);
    r.Field(j, "corroborations", i.corroborations);
    r.Field(j, "problems", i.problems);
    r.Field(j, "opened", i.opened);
    r.Field(j, "updated", i.updated);
    r.Field(j, "closed", i.closed);
    r.Field(j, "stage_deadline", i.stage_deadline);
    r.Field(j, "deputy_at", i.deputy_at);
    r.Field(j, "normal_since", i.normal_since);
    r.Field(j, "expected_arrival", i.expected_arrival);
    r.Field(j, "upstream_village", i.upstream_village);
    r.Field(j, "acked_by", i.acked_by);
    r.Field(j, "confirmed_by", i.confirmed_by);
    r.Field(j, "rejected_by", i.rejected_by);
    r.Field(j, "declared_by", i.declared_by);
    r.Field(j, "detail_th", i.detail_th);
    r.Field(j, "detail_en", i.detail_en);
    r.Field(j, "headline_th", i.headline_th);
    r.Field(j, "headline_en", i.headline_en);
    r.Field(j, "asks", i.asks);
    r.Field(j, "sources", i.sources);
    r.Field(j, "revision", i.revision);
    if (!r.ok()) return r.error();
    return i;
  });
}

// ------------------------------------------------------------------------------------------------ StationTrack

namespace {

// The station track is saved often enough that building a JSON DOM for it showed in the profile: it is written
// directly, with the same keys and values as the DOM would give (a JSON string that is not plain ASCII goes through
// nlohmann for its escaping).
class TrackWriter {
 public:
  explicit TrackWriter(std::string& out) : out_(out) {}

  TrackWriter& Key(const char* key) {
    out_ += first_ ? "{\"" : ",\"";
    first_ = false;
    out_ += key;
    out_ += "\":";
    return *this;
  }
  void Close() { out_ += first_ ? "{}" : "}"; }

  void Str(std::string_view v) {
    const bool plain = std::all_of(v.begin(), v.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
    });
    if (!plain) {
      out_ += Dump(json(std::string(v)));
      return;
    }
    out_ += '"';
    out_ += v;
    out_ += '"';
  }
  void Bool(bool v) { out_ += v ? "true" : "false"; }
  template <std::integral T>
  void Int(T v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
  }
  // As nlohmann writes a double: the shortest text that reads back to the same value, with ".0" when it would
  // otherwise read back as an integer (so that -0.0 stays -0.0); null when not finite.
  void Num(double v) {
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buf[40];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // the shortest round-trip form
    const std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out_ += text;
    if (text.find_first_of(".eE") == std::string_view::npos) out_ += ".0";
  }
  void Time(TimePoint t) { Int(Ms(t)); }
  void OptTime(const std::optional<TimePoint>& t) {
    if (t) Time(*t);
    else out_ += "null";
  }
  void OptNum(const std::optional<double>& v) {
    if (v) Num(*v);
    else out_ += "null";
  }
  void Raw(std::string_view text) { out_ += text; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

std::string EncodeStationTrack(std::string_view station, const alerting::StationTrack& t) {
  std::string out;
  out.reserve(512 + 40 * t.recent.size() + 48 * t.rain_bucket.size());
  TrackWriter w(out);
  w.Key("v").Int(kVersion);
  w.Key("station").Str(station);
  w.Key("threshold_level").Str(alerting::ToString(t.threshold_level));
  w.Key("fast_rise").Bool(t.fast_rise);
  w.Key("rain_watch").Bool(t.rain_watch);
  w.Key("level").Str(alerting::ToString(t.level));
  w.Key("triggered_level").Str(alerting::ToString(t.triggered_level));
  w.Key("over_count").Raw("[");
  for (int k = 0; k < 3; ++k) {
    if (k) w.Raw(",");
    w.Int(t.over_count[k]);
  }
  w.Raw("]");
  w.Key("over_since").Raw("[");
  for (int k = 0; k < 3; ++k) {
    if (k) w.Raw(",");
    w.Time(t.over_since[k]);
  }
  w.Raw("]");
  w.Key("latest_ts").OptTime(t.latest_ts);
  w.Key("latest_seq").Int(t.latest_seq);
  w.Key("max_seq").Int(t.max_seq);
  w.Key("latest_level_cm").OptNum(t.latest_level_cm);
  w.Key("accepted_cm").OptNum(t.accepted_cm);
  w.Key("battery_v").OptNum(t.battery_v);
  w.Key("last_heard").OptTime(t.last_heard);
  w.Key("watching_since").OptTime(t.watching_since);
  w.Key("recent").Raw("[");
  for (std::size_t k = 0; k < t.recent.size(); ++k) {
    w.Raw(k ? ",[" : "[");
    w.Time(t.recent[k].ts);
    w.Raw(",");
    w.Num(t.recent[k].level_cm);
    w.Raw("]");
  }
  w.Raw("]");
  w.Key("recent_head").Int(t.recent_head);
  w.Key("recent_count").Int(t.recent_count);
  // A track whose two rain vectors differ in size is malformed; the engine replaces its buffers on restore anyway,
  // so it is stored without them.
  const std::size_t rain_slots = t.rain_bucket.size() == t.rain_mm.size() ? t.rain_bucket.size() : 0;
  w.Key("rain_slots").Int(rain_slots);
  w.Key("rain").Raw("[");
  bool any = false;
  for (std::size_t s = 0; s < rain_slots; ++s) {
    const double mm = t.rain_mm[s];
    if (t.rain_bucket[s] == kEmptyRainBucket && mm == 0 && !std::signbit(mm)) continue;
    w.Raw(any ? ",[" : "[");
    any = true;
    w.Int(s);
    w.Raw(",");
    w.Int(t.rain_bucket[s]);
    w.Raw(",");
    w.Num(mm);
    w.Raw("]");
  }
  w.Raw("]");
  w.Key("rain_1h_mm").Num(t.rain_1h_mm);
  w.Key("rain_24h_mm").Num(t.rain_24h_mm);
  w.Key("rise_cm_per_hour").Num(t.rise_cm_per_hour);
  w.Key("same_count").Int(t.same_count);
  w.Key("moving").Bool(t.moving);
  w.Key("suspect_run").Int(t.suspect_run);
  w.Key("suspect_cm").Num(t.suspect_cm);
  w.Key("good_run").Int(t.good_run);
  w.Key("problems").Int(t.problems);
  w.Key("silenced_until").OptTime(t.silenced_until);
  w.Key("health_incident");
  if (t.health_incident) w.Int(*t.health_incident);
  else w.Raw("null");
  w.Close();
  return out;
}

Result<alerting::SavedTrack> DecodeStationTrack(std::string_view text) {
  return Guarded<alerting::SavedTrack>("station track", [&]() -> Result<alerting::SavedTrack> {
    auto parsed = ParseObject(text, "station track");
    if (!parsed.ok()) return parsed.error();
    const json& j = *parsed;
    alerting::SavedTrack saved;
    alerting::StationTrack& t = saved.track;
    Reader r("station track");
    r.Field(j, "station", saved.station);
    r.Field(j, "threshold_level", t.threshold_level);
    r.Field(j, "fast_rise", t.fast_rise);
    r.Field(j, "rain_watch", t.rain_watch);
    r.Field(j, "level", t.level);
    r.Field(j, "triggered_level", t.triggered_level);
    r.Field(j, "over_count", t.over_count);
    r.Field(j, "over_since", t.over_since);
    r.Field(j, "latest_ts", t.latest_ts);
    r.Field(j, "latest_seq", t.latest_seq);
    t.max_seq = t.latest_seq;  // a track saved before max_seq existed: its newest reading was the highest
    r.Field(j, "max_seq", t.max_seq);
    r.Field(j, "latest_level_cm", t.latest_level_cm);
    r.Field(j, "accepted_cm", t.accepted_cm);
    r.Field(j, "battery_v", t.battery_v);
    r.Field(j, "last_heard", t.last_heard);
    r.Field(j, "watching_since", t.watching_since);
    r.Field(j, "recent", t.recent);
    r.Field(j, "recent_head", t.recent_head);
    r.Field(j, "recent_count", t.recent_count);
    std::int64_t rain_slots = 0;
    r.Custom(j, "rain_slots", [&](const json& v) {
      r.Value(v, rain_slots);
      if (r.ok() && (rain_slots < 0 || rain_slots > kMaxRainSlots)) {
        r.Fail("bad_value", fmt::format("{} is not between 0 and {}", rain_slots, kMaxRainSlots));
      }
    });
    if (r.ok()) {
      t.rain_bucket.assign(static_cast<std::size_t>(rain_slots), kEmptyRainBucket);
      t.rain_mm.assign(static_cast<std::size_t>(rain_slots), 0.0);
    }
    r.Custom(j, "rain", [&](const json& rain) {
      r.Each(rain, [&](const json& e, std::size_t) {
        if (!e.is_array() || e.size() != 3) return r.Fail("bad_type", "must be [slot, bucket, mm]");
        std::int64_t slot = -1;
        std::int64_t bucket = 0;
        double mm = 0;
        r.Value(e[0], slot);
        r.Value(e[1], bucket);
        r.Value(e[2], mm);
        if (!r.ok()) return;
        if (slot < 0 || slot >= rain_slots) {
          return r.Fail("bad_value", fmt::format("slot {} is outside the {} rain slots", slot, rain_slots));
        }
        t.rain_bucket[static_cast<std::size_t>(slot)] = bucket;
        t.rain_mm[static_cast<std::size_t>(slot)] = mm;
      });
    });
    r.Field(j, "rain_1h_mm", t.rain_1h_mm);
    r.Field(j, "rain_24h_mm", t.rain_24h_mm);
    r.Field(j, "rise_cm_per_hour", t.rise_cm_per_hour);
    r.Field(j, "same_count", t.same_count);
    r.Field(j, "moving", t.moving);
    r.Field(j, "suspect_run", t.suspect_run);
    r.Field(j, "suspect_cm", t.suspect_cm);
    r.Field(j, "good_run", t.good_run);
    r.Field(j, "problems", t.problems);
    r.Field(j, "silenced_until", t.silenced_until);
    r.Field(j, "health_incident", t.health_incident);
    if (!r.ok()) return r.error();
    // The station monitor writes recent[recent_head] and reads recent_count slots back from it: out of range would
    // be out of bounds, so such a track is refused rather than handed to the engine.
    const bool ring_ok = t.recent.empty() ? (t.recent_head == 0 && t.recent_count == 0)
                                          : (t.recent_head < t.recent.size() && t.recent_count <= t.recent.size());
    if (!ring_ok) {
      return MakeError("bad_value",
                       fmt::format("station track: recent_head {} / recent_count {} do not fit a ring of {}",
                                   t.recent_head, t.recent_count, t.recent.size()));
    }
    return saved;
  });
}

// ------------------------------------------------------------------------------------------------ EngineMeta

std::string EncodeEngineMeta(const alerting::EngineState& s) {
  json alerts = json::array();
  for (const auto& a : s.alerts) alerts.push_back(EncodeAlert(a));
  json sirens = json::array();
  for (const auto& x : s.sirens) sirens.push_back(EncodeSiren(x));
  json seen = json::array();
  for (const auto& m : s.seen) seen.push_back(EncodeSeen(m));
  const json j{{"v", kVersion},
               {"next_incident", s.next_incident},
               {"next_notification", s.next_notification},
               {"alerts", std::move(alerts)},
               {"sirens", std::move(sirens)},
               {"seen", std::move(seen)}};
  return Dump(j);
}

Result<bool> DecodeEngineMeta(std::string_view text, alerting::EngineState& into) {
  return Guarded<bool>("engine meta", [&]() -> Result<bool> {
    auto parsed = ParseObject(text, "engine meta");
    if (!parsed.ok()) return parsed.error();
    const json& j = *parsed;
    alerting::EngineState meta;  // decoded apart, so that `into` changes only on success
    Reader r("engine meta");
    r.Field(j, "next_incident", meta.next_incident);
    r.Field(j, "next_notification", meta.next_notification);
    r.Field(j, "alerts", meta.alerts);
    r.Field(j, "sirens", meta.sirens);
    r.Field(j, "seen", meta.seen);
    if (!r.ok()) return r.error();
    into.next_incident = meta.next_incident;
    into.next_notification = meta.next_notification;
    into.alerts = std::move(meta.alerts);
    into.sirens = std::move(meta.sirens);
    into.seen = std::move(meta.seen);
    return true;
  });
}

// ------------------------------------------------------------------------------------------------ public JSON

json IncidentPublicJson(const alerting::Incident& i) {
  json problems = json::array();
  for (unsigned bit = 1; bit != 0 && bit <= i.problems; bit <<= 1) {
    if (!(i.problems & bit)) continue;
    std::string name = alerting::ProblemNames(bit);
    if (!name.empty()) problems.push_back(std::move(name));  // a bit this build does not know has no name
  }
  json asks = json::array();
  for (const auto& a : i.asks) {
    asks.push_back(json{{"user", a.user},
                        {"action", alerting::ToString(a.action)},
                        {"asked", wire::FormatTime(a.asked)},
                        {"next_reminder", a.open ? json(wire::FormatTime(a.next_reminder)) : json(nullptr)},
                        {"reminders", a.reminders},
                        {"open", a.open}});
  }
  return json{{"id", i.id},
              {"kind", alerting::ToString(i.kind)},
              {"village", i.village},
              {"station", i.station},
              {"origin", i.origin},
              {"level", alerting::ToString(i.level)},
              {"declared_level", i.declared_level ? json(alerting::ToString(*i.declared_level)) : json(nullptr)},
              {"status", alerting::ToString(i.stage)},
              {"exercise", i.exercise},
              {"unconfirmed", i.unconfirmed},
              {"rejection_noted", i.rejection_noted},
              {"station_critical", i.station_critical},
              {"corroborations", i.corroborations},
              {"problems", std::move(problems)},
              {"opened", wire::FormatTime(i.opened)},
              {"updated", wire::FormatTime(i.updated)},
              {"closed", Public(i.closed)},
              {"stage_deadline", Public(i.stage_deadline)},
              {"expected_arrival", Public(i.expected_arrival)},
              {"upstream_village", i.upstream_village},
              {"acked_by", i.acked_by},
              {"confirmed_by", i.confirmed_by},
              {"rejected_by", i.rejected_by},
              {"declared_by", i.declared_by},
              {"headline_th", i.headline_th},
              {"headline_en", i.headline_en},
              {"asks", std::move(asks)}};
}

}  // namespace kaoko::server
