#include "kaoko/ingest/engine_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "codec_json.hpp"
#include "kaoko/contract/wire.hpp"

// Storage keys, version 1: the field lists in engine_codec_fields.hpp. Every key is the struct member's name, so the
// struct is the documentation; these are the only encodings that are not the member as it is:
//
//   all three          "v": 1, the encoding version (ignored on decode for now; bump it when a key changes meaning)
//   TimePoint          integer milliseconds since the Unix epoch; std::optional<...> empty → null
//   enums              wire strings: Level "normal", Stage "reported", ActionNeeded "none", IncidentKind "flood"...
//   records            an object of every member: Incident, Ask, TriggerSource, AlertState, Siren,
//                      TowerExpectation; a SeenMessage with its receipt's members flattened beside its key
//   StationTrack       every scalar member ("max_seq" may be missing: then latest_seq); "over_count": [3 ints],
//                      "over_since": [3 ms],
//                      "recent": [[ts_ms, level_cm], ...] the whole ring in slot order (recent_head, recent_count),
//                      "rain_slots": size of rain_bucket / rain_mm,
//                      "rain": [[slot, bucket, mm], ...] only the slots that differ from an empty one
//                              (bucket INT64_MIN, 0 mm), so a dry day costs nothing
//   EngineMeta         its scalars, and "alerts", "sirens", "seen", "towers" as arrays of records (a state saved
//                      before the towers has no "next_announcement" nor "towers": 1 and none)

namespace kaoko::server {
namespace codec {

std::optional<alerting::IncidentKind> ParseIncidentKind(std::string_view text) {
  if (text == "flood") return alerting::IncidentKind::kFlood;
  if (text == "station") return alerting::IncidentKind::kStation;
  return std::nullopt;
}

}  // namespace codec

namespace {

using namespace codec;  // NOLINT(google-build-using-namespace): this file is the codec

constexpr int kVersion = 1;
// Upper bound of the rain buffer size on decode, so that a corrupt row cannot ask for gigabytes.
constexpr std::int64_t kMaxRainSlots = 1 << 16;
constexpr std::int64_t kEmptyRainBucket = std::numeric_limits<std::int64_t>::min();

// dump() throws on invalid UTF-8 by default; state text can carry a truncated Thai byte sequence, and losing the
// whole incident over it would be worse than a replacement character.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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
  json j = ToJson(i);
  j["v"] = kVersion;
  return Dump(j);
}

Result<alerting::Incident> DecodeIncident(std::string_view text) {
  return Guarded<alerting::Incident>("incident", [&]() -> Result<alerting::Incident> {
    auto parsed = ParseObject(text, "incident");
    if (!parsed.ok()) return parsed.error();
    alerting::Incident i;
    Reader r("incident");
    Fields(Reader::In{r, *parsed}, i);
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
    if (t)
      Time(*t);
    else
      out_ += "null";
  }
  void OptNum(const std::optional<double>& v) {
    if (v)
      Num(*v);
    else
      out_ += "null";
  }
  void Raw(std::string_view text) { out_ += text; }

 private:
  std::string& out_;
  bool first_ = true;
};

// The visitor TrackFields is written with.
struct TrackOut {
  TrackWriter& w;

  template <typename T>
  void operator()(const char* key, const T& value) const {
    w.Key(key);
    Put(value);
  }

  void Put(bool v) const { w.Bool(v); }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Put(T v) const { w.Int(v); }
  void Put(double v) const { w.Num(v); }
  void Put(TimePoint t) const { w.Time(t); }
  template <typename E>
  requires std::is_enum_v<E>
  void Put(E e) const { w.Str(alerting::ToString(e)); }
  template <typename T>
  void Put(const alerting::Maybe<T>& v) const {
    if (v)
      Put(*v);
    else
      w.Raw("null");
  }
  template <typename T, std::size_t N>
  void Put(const T (&a)[N]) const {
    w.Raw("[");
    for (std::size_t k = 0; k < N; ++k) {
      if (k) w.Raw(",");
      Put(a[k]);
    }
    w.Raw("]");
  }
  // The ring, whole, in slot order: [[ts_ms, level_cm], ...].
  void Put(const std::vector<alerting::RecentReading>& recent) const {
    w.Raw("[");
    for (std::size_t k = 0; k < recent.size(); ++k) {
      w.Raw(k ? ",[" : "[");
      w.Time(recent[k].ts);
      w.Raw(",");
      w.Num(recent[k].level_cm);
      w.Raw("]");
    }
    w.Raw("]");
  }

  // "rain_slots" and "rain": [[slot, bucket, mm], ...], only the slots that differ from an empty one.
  void Rain(const alerting::StationTrack& t) const {
    // A track whose two rain vectors differ in size is malformed; the engine replaces its buffers on restore
    // anyway, so it is stored without them.
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
  }
};

// The visitor TrackFields is read with.
struct TrackIn : Reader::In {
  void Rain(alerting::StationTrack& t) const {
    std::int64_t rain_slots = 0;
    r.Custom(obj, "rain_slots", [&](const json& v) {
      r.Value(v, rain_slots);
      if (r.ok() && (rain_slots < 0 || rain_slots > kMaxRainSlots)) {
        r.Fail("bad_value", fmt::format("{} is not between 0 and {}", rain_slots, kMaxRainSlots));
      }
    });
    if (r.ok()) {
      t.rain_bucket.assign(static_cast<std::size_t>(rain_slots), kEmptyRainBucket);
      t.rain_mm.assign(static_cast<std::size_t>(rain_slots), 0.0);
    }
    r.Custom(obj, "rain", [&](const json& rain) {
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
  }
};

}  // namespace

std::string EncodeStationTrack(std::string_view station, const alerting::StationTrack& t) {
  std::string out;
  out.reserve(512 + 40 * t.recent.size() + 48 * t.rain_bucket.size());
  TrackWriter w(out);
  w.Key("v").Int(kVersion);
  w.Key("station").Str(station);
  TrackFields(TrackOut{w}, t);
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
    TrackFields(TrackIn{{r, j}}, t);
    if (!j.contains("max_seq")) t.max_seq = t.latest_seq;  // saved before max_seq existed: its newest was the highest
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
  json j = json::object();
  j["v"] = kVersion;
  MetaFields(Out{j}, s);
  return Dump(j);
}

Result<bool> DecodeEngineMeta(std::string_view text, alerting::EngineState& into) {
  return Guarded<bool>("engine meta", [&]() -> Result<bool> {
    auto parsed = ParseObject(text, "engine meta");
    if (!parsed.ok()) return parsed.error();
    alerting::EngineState meta;  // decoded apart, so that `into` changes only on success
    Reader r("engine meta");
    MetaFields(Reader::In{r, *parsed}, meta);
    if (!r.ok()) return r.error();
    MetaFields([](const char*, auto& to, auto& from) { to = std::move(from); }, into, meta);
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
              {"tao_overdue", i.tao_overdue},
              {"tao_overdue_since", i.tao_overdue ? Public(i.tao_overdue_since) : json(nullptr)},
              {"district_notified_at", Public(i.district_notified_at)},
              {"district_deadline", Public(i.district_deadline)},
              {"district_overdue", i.district_overdue},
              {"district_acked_by", i.district_acked_by},
              {"asks", std::move(asks)}};
}

}  // namespace kaoko::server
