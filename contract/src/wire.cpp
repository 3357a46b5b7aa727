#include "kaoko/contract/wire.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace kaoko::wire {
namespace {

using json = nlohmann::json;
using namespace std::chrono;

bool IsId(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Parses a JSON object payload, with the contract's size limit; the error says what is wrong with it.
Result<json> ParseObject(std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    return MakeError("too_large",
                     fmt::format("payload is {} bytes; the limit is {}", payload.size(), kMaxPayloadBytes));
  }
  if (payload.empty()) return MakeError("empty", "payload is empty");
  json j = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("bad_json", "payload is not valid JSON (UTF-8)");
  if (!j.is_object()) return MakeError("not_object", "payload must be a JSON object");
  return j;
}

Result<TimePoint> RequiredTime(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return MakeError(fmt::format("missing_{}", key), fmt::format("{} is required", key));
  if (!it->is_string()) {
    return MakeError(fmt::format("bad_{}", key), fmt::format("{} must be an RFC 3339 time string", key));
  }
  auto t = ParseTime(it->get_ref<const std::string&>());
  if (!t) return MakeError(fmt::format("bad_{}", key), fmt::format("{}: {}", key, t.error().reason));
  return t;
}

// Optional number: absent is fine, present must be a number.
Result<std::optional<double>> OptionalNumber(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>{};
  if (!it->is_number()) return MakeError(fmt::format("bad_{}", key), fmt::format("{} must be a number", key));
  return std::optional<double>(it->get<double>());
}

Result<std::string> RequiredId(const json& j) {
  auto it = j.find("id");
  if (it == j.end()) return MakeError("missing_id", "id is required");
  if (!it->is_string()) return MakeError("bad_id", "id must be a string");
  const auto& id = it->get_ref<const std::string&>();
  if (id.empty() || id.size() > 64) return MakeError("bad_id", "id must be 1-64 characters");
  return id;
}

// Counts Unicode code points (the payload is already valid UTF-8: nlohmann checked it).
size_t CodePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Result<std::string> OptionalNote(const json& j) {
  auto it = j.find("note");
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return MakeError("bad_note", "note must be a string");
  const auto& note = it->get_ref<const std::string&>();
  if (CodePoints(note) > kMaxNoteChars) {
    return MakeError("note_too_long", fmt::format("note is longer than {} characters", kMaxNoteChars));
  }
  return note;
}

std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ fast reading path
//
// A reading is parsed twice at most. First by FastReading below: one pass over the bytes, no allocation, for the plain
// shape stations send (a flat object; keys and string values of printable ASCII without escapes; numbers; true,
// false, null). It answers only "this is a good reading, with these values" or "not sure". On "not sure" — anything
// else: nesting, escapes, non-ASCII text, a BOM, a repeated field, a number it would have to round, a value to refuse
// — the DOM parser below decides, and it alone writes every refusal. So every malformed kind keeps its specific reason,
// and the fast path can only ever accept what the DOM parser accepts, with the same values.

// A JSON value the fast scanner saw, as its source text.
struct FastValue {
  enum Kind : unsigned char { kAbsent, kString, kInteger, kFloat, kNull, kBool };
  Kind kind = kAbsent;
  std::string_view text;  // a string's contents (without quotes) or a number's token
};

class FastScanner {
 public:
  explicit FastScanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  // Scans the whole payload; false when it is not the plain shape (the DOM parser then decides).
  bool Object(FastValue& seq, FastValue& ts, FastValue& level, FastValue& rain, FastValue& battery) {
    SkipWs();
    if (!Eat('{')) return false;
    SkipWs();
    if (p_ < end_ && *p_ == '}') return false;  // {}: the DOM parser names what is missing
    while (true) {
      std::string_view key;
      if (!String(key)) return false;
      SkipWs();
      if (!Eat(':')) return false;
      SkipWs();
      FastValue v;
      if (!Value(v)) return false;
      FastValue* slot = key == "seq"         ? &seq
                        : key == "ts"        ? &ts
                        : key == "level_cm"  ? &level
                        : key == "rain_mm"   ? &rain
                        : key == "battery_v" ? &battery
                                             : nullptr;
      if (slot) {
        if (slot->kind != FastValue::kAbsent) return false;  // a repeated field: the DOM parser keeps the last one
        *slot = v;
      }
      SkipWs();
      if (Eat(',')) {
        SkipWs();
        continue;
      }
      if (!Eat('}')) return false;
      SkipWs();
      return p_ == end_;
    }
  }

 private:
  void SkipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  // "…" of printable ASCII (0x20..0x7f) without escapes.
  bool String(std::string_view& out) {
    if (!Eat('"')) return false;
    const char* start = p_;
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    return false;
  }
  bool Digits() {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }
  // JSON's number grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number(FastValue& v) {
    const char* start = p_;
    bool integer = true;
    Eat('-');
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!Digits()) {
      return false;
    }
    if (Eat('.')) {
      integer = false;
      if (!Digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      integer = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return false;
    }
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    // A long token may overflow to infinity, which the DOM parser refuses as bad JSON; leave those to it.
    if (v.text.size() > 40) return false;
    v.kind = integer ? FastValue::kInteger : FastValue::kFloat;
    if (!integer) {
      // The DOM parser refuses a number that overflows a double ("1e400"); leave anything out of range to it.
      double d = 0;
      auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
      if (ec != std::errc() || ptr != v.text.data() + v.text.size()) return false;
    }
    return true;
  }
  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  bool Value(FastValue& v) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '"':
        v.kind = FastValue::kString;
        return String(v.text);
      case 't':
        v.kind = FastValue::kBool;
        return Literal("true");
      case 'f':
        v.kind = FastValue::kBool;
        return Literal("false");
      case 'n':
        v.kind = FastValue::kNull;
        return Literal("null");
      default:
        return Number(v);  // nested objects and arrays are not the plain shape
    }
  }

  const char* p_;
  const char* end_;
};

// The number a JSON token stands for, as nlohmann's get<double>() gives it: an integer token converted from its
// integer value (so "-0" is +0.0), any other from the correctly rounded decimal.
std::optional<double> FastNumber(const FastValue& v) {
  const char* first = v.text.data();
  const char* last = first + v.text.size();
  if (v.kind == FastValue::kInteger) {
    if (v.text.front() == '-') {
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(first, last, n);
      if (ec != std::errc() || ptr != last) return std::nullopt;
      return static_cast<double>(n);
    }
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || ptr != last) return std::nullopt;
    return static_cast<double>(n);
  }
  if (v.kind != FastValue::kFloat) return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(first, last, d);
  if (ec != std::errc() || ptr != last || !std::isfinite(d)) return std::nullopt;
  return d;
}

// An optional number: absent or null is empty; a number within [lo, hi] is its value; anything else is "not sure".
bool FastOptional(const FastValue& v, double lo, double hi, std::optional<double>& out) {
  if (v.kind == FastValue::kAbsent || v.kind == FastValue::kNull) return true;
  auto n = FastNumber(v);
  if (!n || *n < lo || *n > hi) return false;
  out = *n;
  return true;
}

// The reading, when the payload is a good reading of the plain shape; nullopt for "let the DOM parser decide".
std::optional<Reading> FastReading(std::string_view payload, const alerting::Station& station, TimePoint now,
                                   std::chrono::milliseconds max_future) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) return std::nullopt;
  FastValue seq, ts, level, rain, battery;
  if (!FastScanner(payload).Object(seq, ts, level, rain, battery)) return std::nullopt;
  if (seq.kind != FastValue::kInteger || seq.text.front() == '-') return std::nullopt;
  Reading r;
  auto [ptr, ec] = std::from_chars(seq.text.data(), seq.text.data() + seq.text.size(), r.seq);
  if (ec != std::errc() || ptr != seq.text.data() + seq.text.size() || r.seq > static_cast<std::uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  if (ts.kind != FastValue::kString) return std::nullopt;
  auto t = ParseTime(ts.text);
  if (!t || *t > now + max_future) return std::nullopt;
  r.ts = *t;
  auto l = FastNumber(level);
  if (!l || *l < station.min_level_cm || *l > station.max_level_cm) return std::nullopt;
  r.level_cm = *l;
  if (!FastOptional(rain, 0, 1000, r.rain_mm) || !FastOptional(battery, 0, 60, r.battery_v)) return std::nullopt;
  r.station = station.id;
  return r;
}

}  // namespace

Result<TimePoint> ParseTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int y, mo, d, h, mi, sec;
  if (!(Digits(s, 0, 4, y) && s.size() > 4 && s[4] == '-' && Digits(s, 5, 2, mo) && s.size() > 7 && s[7] == '-' &&
        Digits(s, 8, 2, d) && s.size() > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && Digits(s, 11, 2, h) &&
        s.size() > 13 && s[13] == ':' && Digits(s, 14, 2, mi) && s.size() > 16 && s[16] == ':' &&
        Digits(s, 17, 2, sec))) {
    return MakeError("bad_time", "time must be RFC 3339, like 2026-11-27T04:15:00Z");
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return MakeError("bad_time", "time has a malformed fraction of a second");
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!(Digits(s, pos + 1, 2, oh) && pos + 3 < s.size() && s[pos + 3] == ':' && Digits(s, pos + 4, 2, om)) ||
        oh > 23 || om > 59) {
      return MakeError("bad_time", "time has a malformed UTC offset");
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return MakeError("bad_time", "time must end in Z (UTC) or a UTC offset");
  }
  if (pos != s.size()) return MakeError("bad_time", "time has trailing characters");
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return MakeError("bad_time", "time is not a real date and time");
  if (sec == 60) sec = 59;  // a leap second is stored as the second before it
  auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + milliseconds(millis) - minutes(offset_minutes);
  return TimePoint(duration_cast<milliseconds>(t.time_since_epoch()));
}

std::string FormatTime(TimePoint t) {
  auto day_point = floor<days>(t);
  year_month_day ymd(day_point);
  hh_mm_ss<milliseconds> tod(t - day_point);
  auto ms = tod.subseconds().count();
  std::string base = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                 static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                 tod.hours().count(), tod.minutes().count(), tod.seconds().count());
  if (ms != 0) return fmt::format("{}.{:03}Z", base, ms);
  return base + "Z";
}

Result<Topic> ParseTopic(std::string_view topic) {
  // At most 7 levels mean anything in the contract; an 8th only says "too many" (no allocation per message).
  struct Parts {
    std::array<std::string_view, 8> v;
    std::size_t n = 0;
    std::size_t size() const { return n; }
    std::string_view operator[](std::size_t i) const { return v[i]; }
  } parts;
  size_t start = 0;
  while (parts.n < parts.v.size()) {
    size_t slash = topic.find('/', start);
    parts.v[parts.n++] = topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() < 3 || parts[0] != "kaoko" || parts[1] != "v1") {
    return MakeError("bad_topic", fmt::format("topic '{}' is not a kaoko/v1 topic", topic));
  }
  if (!IsId(parts[2])) return MakeError("bad_topic", fmt::format("tambon '{}' is not a valid identifier", parts[2]));
  Topic t;
  t.tambon = parts[2];
  if (parts.size() == 4 && parts[3] == "cap") {
    t.kind = TopicKind::kCap;
    return t;
  }
  if (parts.size() < 4 || !IsId(parts[3]))
    return MakeError("bad_topic", fmt::format("topic '{}' has no valid village", topic));
  t.village = parts[3];
  if (parts.size() == 5) {
    if (parts[4] == "alert")
      t.kind = TopicKind::kAlert;
    else if (parts[4] == "siren")
      t.kind = TopicKind::kSiren;
    else if (parts[4] == "announce")
      t.kind = TopicKind::kAnnounce;
    else
      return MakeError("bad_topic", fmt::format("topic '{}' is not in the contract", topic));
    return t;
  }
  if (parts.size() == 6) {
    if (!IsId(parts[5])) return MakeError("bad_topic", fmt::format("user '{}' is not a valid identifier", parts[5]));
    t.name = parts[5];
    if (parts[4] == "report")
      t.kind = TopicKind::kReport;
    else if (parts[4] == "decision")
      t.kind = TopicKind::kDecision;
    else if (parts[4] == "receipt")
      t.kind = TopicKind::kReceipt;
    else if (parts[4] == "notify")
      t.kind = TopicKind::kNotify;
    else
      return MakeError("bad_topic", fmt::format("topic '{}' is not in the contract", topic));
    return t;
  }
  if (parts.size() == 7 && parts[4] == "station") {
    if (!IsId(parts[5])) return MakeError("bad_topic", fmt::format("station '{}' is not a valid identifier", parts[5]));
    t.name = parts[5];
    if (parts[6] == "reading")
      t.kind = TopicKind::kReading;
    else if (parts[6] == "status")
      t.kind = TopicKind::kStatus;
    else if (parts[6] == "ack")
      t.kind = TopicKind::kAck;
    else
      return MakeError("bad_topic", fmt::format("topic '{}' is not in the contract", topic));
    return t;
  }
  if (parts.size() == 7 && parts[4] == "device") {
    if (!IsId(parts[5])) return MakeError("bad_topic", fmt::format("device '{}' is not a valid identifier", parts[5]));
    t.name = parts[5];
    if (parts[6] == "sounded")
      t.kind = TopicKind::kDeviceSounded;
    else if (parts[6] == "status")
      t.kind = TopicKind::kDeviceStatus;
    else
      return MakeError("bad_topic", fmt::format("topic '{}' is not in the contract", topic));
    return t;
  }
  return MakeError("bad_topic", fmt::format("topic '{}' is not in the contract", topic));
}

std::string ReadingTopic(std::string_view tb, std::string_view v, std::string_view s) {
  return Join({"kaoko/v1", tb, v, "station", s, "reading"});
}
std::string StatusTopic(std::string_view tb, std::string_view v, std::string_view s) {
  return Join({"kaoko/v1", tb, v, "station", s, "status"});
}
std::string AckTopic(std::string_view tb, std::string_view v, std::string_view s) {
  return Join({"kaoko/v1", tb, v, "station", s, "ack"});
}
std::string ReportTopic(std::string_view tb, std::string_view v, std::string_view u) {
  return Join({"kaoko/v1", tb, v, "report", u});
}
std::string DecisionTopic(std::string_view tb, std::string_view v, std::string_view u) {
  return Join({"kaoko/v1", tb, v, "decision", u});
}
std::string ReceiptTopic(std::string_view tb, std::string_view v, std::string_view u) {
  return Join({"kaoko/v1", tb, v, "receipt", u});
}
std::string AlertTopic(std::string_view tb, std::string_view v) { return Join({"kaoko/v1", tb, v, "alert"}); }
std::string NotifyTopic(std::string_view tb, std::string_view v, std::string_view u) {
  return Join({"kaoko/v1", tb, v, "notify", u});
}
std::string SirenTopic(std::string_view tb, std::string_view v) { return Join({"kaoko/v1", tb, v, "siren"}); }
std::string CapTopic(std::string_view tb) { return Join({"kaoko/v1", tb, "cap"}); }
std::string AnnounceTopic(std::string_view tb, std::string_view v) { return Join({"kaoko/v1", tb, v, "announce"}); }
std::string SoundedTopic(std::string_view tb, std::string_view v, std::string_view d) {
  return Join({"kaoko/v1", tb, v, "device", d, "sounded"});
}
std::string DeviceStatusTopic(std::string_view tb, std::string_view v, std::string_view d) {
  return Join({"kaoko/v1", tb, v, "device", d, "status"});
}

ReadingParse ParseReading(std::string_view payload, const alerting::Station& station, TimePoint now,
                          std::chrono::milliseconds max_future) {
  ReadingParse out;
  if (auto fast = FastReading(payload, station, now, max_future)) {
    out.reading = *fast;
    return out;
  }
  return ParseReadingDom(payload, station, now, max_future);
}

ReadingParse ParseReadingDom(std::string_view payload, const alerting::Station& station, TimePoint now,
                             std::chrono::milliseconds max_future) {
  ReadingParse out;
  auto refuse = [&](Error e, std::optional<std::uint64_t> seq = {}, std::optional<TimePoint> ts = {}) {
    out.refused = ReadingError{std::move(e), seq, ts};
    return out;
  };
  auto obj = ParseObject(payload);
  if (!obj) return refuse(obj.error());
  const json& j = *obj;
  auto seq_it = j.find("seq");
  if (seq_it == j.end()) return refuse(MakeError("missing_seq", "seq is required"));
  if (!seq_it->is_number_unsigned()) return refuse(MakeError("bad_seq", "seq must be an unsigned integer"));
  std::uint64_t seq = seq_it->get<std::uint64_t>();
  if (seq > static_cast<std::uint64_t>(INT64_MAX)) return refuse(MakeError("bad_seq", "seq is larger than 2^63-1"));
  auto ts = RequiredTime(j, "ts");
  if (!ts) return refuse(ts.error(), seq);
  if (*ts > now + max_future) {
    return refuse(
        MakeError("future_ts", fmt::format("ts {} is ahead of kaoko's clock ({}): is the station's clock wrong?",
                                           FormatTime(*ts), FormatTime(now))),
        seq, *ts);
  }
  auto level_it = j.find("level_cm");
  if (level_it == j.end()) return refuse(MakeError("missing_level_cm", "level_cm is required"), seq, *ts);
  if (!level_it->is_number()) return refuse(MakeError("bad_level_cm", "level_cm must be a number"), seq, *ts);
  double level = level_it->get<double>();
  if (!std::isfinite(level) || level < station.min_level_cm || level > station.max_level_cm) {
    return refuse(
        MakeError("level_out_of_range", fmt::format("level_cm {} is outside the possible range {} to {} for station {}",
                                                    level, station.min_level_cm, station.max_level_cm, station.id)),
        seq, *ts);
  }
  auto rain = OptionalNumber(j, "rain_mm");
  if (!rain) return refuse(rain.error(), seq, *ts);
  if (*rain && (**rain < 0 || **rain > 1000)) {
    return refuse(MakeError("rain_out_of_range", fmt::format("rain_mm {} is outside 0 to 1000", **rain)), seq, *ts);
  }
  auto battery = OptionalNumber(j, "battery_v");
  if (!battery) return refuse(battery.error(), seq, *ts);
  if (*battery && (**battery < 0 || **battery > 60)) {
    return refuse(MakeError("battery_out_of_range", fmt::format("battery_v {} is outside 0 to 60", **battery)), seq,
                  *ts);
  }
  out.reading = Reading{station.id, seq, *ts, level, *rain, *battery};
  return out;
}

Result<StatusMsg> ParseStatus(std::string_view payload) {
  auto obj = ParseObject(payload);
  if (!obj) return obj.error();
  const json& j = *obj;
  auto state = j.find("state");
  if (state == j.end() || !state->is_string()) return MakeError("bad_state", "state must be \"online\" or \"offline\"");
  StatusMsg s;
  const auto& v = state->get_ref<const std::string&>();
  if (v == "online")
    s.online = true;
  else if (v == "offline")
    s.online = false;
  else
    return MakeError("bad_state", "state must be \"online\" or \"offline\"");
  if (j.contains("ts")) {
    auto ts = RequiredTime(j, "ts");
    if (!ts) return ts.error();
    s.ts = *ts;
  }
  if (auto fw = j.find("fw"); fw != j.end()) {
    if (!fw->is_string()) return MakeError("bad_fw", "fw must be a string");
    s.fw = fw->get<std::string>();
  }
  return s;
}

const char* ToString(Trend trend) {
  switch (trend) {
    case Trend::kRising:
      return "rising";
    case Trend::kSteady:
      return "steady";
    case Trend::kFalling:
      return "falling";
  }
  return "steady";
}

namespace {
// What a phone's report and decision both start with: a JSON object with the message's id and its time.
struct PhoneMessage {
  json object;
  std::string id;
  TimePoint ts{};
};

Result<PhoneMessage> PhoneMessageOf(json obj) {
  auto id = RequiredId(obj);
  if (!id) return id.error();
  auto ts = RequiredTime(obj, "ts");
  if (!ts) return ts.error();
  return PhoneMessage{std::move(obj), std::move(*id), *ts};
}

Result<PhoneMessage> ParsePhoneMessage(std::string_view payload) {
  auto obj = ParseObject(payload);
  if (!obj) return obj.error();
  return PhoneMessageOf(std::move(*obj));
}

Result<DecisionMsg> DecisionOf(const PhoneMessage& msg);
}  // namespace

Result<ReportMsg> ParseReport(std::string_view payload) {
  auto msg = ParsePhoneMessage(payload);
  if (!msg) return msg.error();
  const json& j = msg->object;
  ReportMsg r;
  r.id = msg->id;
  r.ts = msg->ts;
  auto concern = j.find("concern");
  if (concern == j.end()) return MakeError("missing_concern", "concern is required (watch, warning or critical)");
  auto level = concern->is_string() ? alerting::ParseLevel(concern->get_ref<const std::string&>()) : std::nullopt;
  if (!level || *level == alerting::Level::kNormal) {
    return MakeError("bad_concern", "concern must be watch, warning or critical");
  }
  r.concern = *level;
  auto station = j.find("station");
  bool has_station = station != j.end() && !station->is_null();
  auto level_cm = OptionalNumber(j, "level_cm");
  if (!level_cm) return level_cm.error();
  if (has_station != level_cm->has_value()) {
    return MakeError("station_level_pair", "station and level_cm go together: give both or neither");
  }
  if (has_station) {
    if (!station->is_string() || !IsId(station->get_ref<const std::string&>())) {
      return MakeError("bad_station", "station must be a station identifier");
    }
    r.station = station->get<std::string>();
    r.level_cm = *level_cm;
  }
  if (auto trend = j.find("trend"); trend != j.end() && !trend->is_null()) {
    std::string t = trend->is_string() ? trend->get<std::string>() : "";
    if (t == "rising")
      r.trend = Trend::kRising;
    else if (t == "steady")
      r.trend = Trend::kSteady;
    else if (t == "falling")
      r.trend = Trend::kFalling;
    else
      return MakeError("bad_trend", "trend must be rising, steady or falling");
  }
  auto note = OptionalNote(j);
  if (!note) return note.error();
  r.note = *note;
  auto lat = OptionalNumber(j, "lat");
  if (!lat) return lat.error();
  auto lon = OptionalNumber(j, "lon");
  if (!lon) return lon.error();
  if (*lat && (**lat < -90 || **lat > 90)) return MakeError("bad_lat", "lat must be between -90 and 90");
  if (*lon && (**lon < -180 || **lon > 180)) return MakeError("bad_lon", "lon must be between -180 and 180");
  r.lat = *lat;
  r.lon = *lon;
  return r;
}

Result<DecisionMsg> ParseDecision(std::string_view payload) {
  auto msg = ParsePhoneMessage(payload);
  if (!msg) return msg.error();
  return DecisionOf(*msg);
}

Result<DecisionMsg> ParseWebDecision(std::string_view body, const DecisionDefaults& defaults) {
  if (body.size() > kMaxPayloadBytes) {
    return MakeError("too_large", fmt::format("the body is {} bytes; the limit is {}", body.size(), kMaxPayloadBytes));
  }
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return MakeError("not_object", "the body must be a JSON decision object");
  if (!j.contains("incident")) j["incident"] = defaults.incident;
  if (!j.contains("id")) j["id"] = defaults.id;
  if (!j.contains("ts")) j["ts"] = FormatTime(defaults.ts);
  if (const json& incident = j["incident"];
      !incident.is_number_integer() || incident.get<std::int64_t>() != defaults.incident) {
    return MakeError("wrong_incident", fmt::format("the body's incident is not {}", defaults.incident));
  }
  auto msg = PhoneMessageOf(std::move(j));
  if (!msg) return msg.error();
  return DecisionOf(*msg);
}

namespace {
Result<DecisionMsg> DecisionOf(const PhoneMessage& msg) {
  const json& j = msg.object;
  DecisionMsg d;
  d.id = msg.id;
  d.ts = msg.ts;
  auto incident = j.find("incident");
  if (incident == j.end()) return MakeError("missing_incident", "incident is required");
  if (!incident->is_number_integer() || incident->get<std::int64_t>() <= 0) {
    return MakeError("bad_incident", "incident must be a positive integer");
  }
  d.incident = incident->get<std::int64_t>();
  auto action = j.find("action");
  auto parsed_action = action != j.end() && action->is_string()
                           ? alerting::ParseDecisionAction(action->get_ref<const std::string&>())
                           : std::nullopt;
  if (!parsed_action) return MakeError("bad_action", "action must be ack, confirm, reject, declare or all_clear");
  d.action = *parsed_action;
  if (auto level = j.find("level"); level != j.end() && !level->is_null()) {
    auto parsed = level->is_string() ? alerting::ParseLevel(level->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return MakeError("bad_level", "level must be normal, watch, warning or critical");
    d.level = parsed;
  }
  if (d.action == DecisionAction::kDeclare && (!d.level || *d.level == alerting::Level::kNormal)) {
    return MakeError("missing_level", "declare needs a level: watch, warning or critical");
  }
  auto note = OptionalNote(j);
  if (!note) return note.error();
  d.note = *note;
  return d;
}
}  // namespace

namespace {

// A required string field of at most `max` bytes (1 at least).
Result<std::string> RequiredString(const json& j, const char* key, std::size_t max) {
  auto it = j.find(key);
  if (it == j.end()) return MakeError(fmt::format("missing_{}", key), fmt::format("{} is required", key));
  if (!it->is_string() || it->get_ref<const std::string&>().empty() || it->get_ref<const std::string&>().size() > max) {
    return MakeError(fmt::format("bad_{}", key), fmt::format("{} must be a string of 1-{} bytes", key, max));
  }
  return it->get<std::string>();
}

Result<bool> RequiredBool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return MakeError(fmt::format("missing_{}", key), fmt::format("{} is required", key));
  if (!it->is_boolean()) return MakeError(fmt::format("bad_{}", key), fmt::format("{} must be true or false", key));
  return it->get<bool>();
}

}  // namespace

Result<alerting::Announcement> ParseAnnouncement(std::string_view payload) {
  auto obj = ParseObject(payload);
  if (!obj) return obj.error();
  const json& j = *obj;
  alerting::Announcement a;
  auto id = RequiredId(j);
  if (!id) return id.error();
  a.id = *id;
  auto incident = j.find("incident");
  if (incident == j.end() || !incident->is_number_integer()) {
    return MakeError("bad_incident", "incident must be an integer");
  }
  a.incident = incident->get<std::int64_t>();
  auto level = j.find("level");
  auto parsed_level = level != j.end() && level->is_string()
                          ? alerting::ParseLevel(level->get_ref<const std::string&>())
                          : std::nullopt;
  if (!parsed_level) return MakeError("bad_level", "level must be normal, watch, warning or critical");
  a.level = *parsed_level;
  auto on = RequiredBool(j, "on");
  if (!on) return on.error();
  a.on = *on;
  auto play = j.find("play");
  auto parsed_play =
      play != j.end() && play->is_string() ? alerting::ParsePlay(play->get_ref<const std::string&>()) : std::nullopt;
  if (!parsed_play) return MakeError("bad_play", "play must be evacuate, warning, watch, all_clear or drill");
  a.play = *parsed_play;
  for (auto [key, out] : {std::pair{"text_th", &a.text_th}, std::pair{"text_en", &a.text_en}}) {
    auto text = RequiredString(j, key, kMaxPayloadBytes);
    if (!text) return text.error();
    *out = *text;
  }
  auto ts = RequiredTime(j, "ts");
  if (!ts) return ts.error();
  a.ts = *ts;
  if (auto ex = j.find("exercise"); ex != j.end()) {
    if (!ex->is_boolean()) return MakeError("bad_exercise", "exercise must be true or false");
    a.exercise = ex->get<bool>();
  }
  if (a.exercise && a.on) return MakeError("bad_on", "an exercise never turns a real siren on");
  return a;
}

Result<SoundedMsg> ParseSounded(std::string_view payload) {
  auto obj = ParseObject(payload);
  if (!obj) return obj.error();
  const json& j = *obj;
  SoundedMsg m;
  auto announce = RequiredString(j, "announce", 64);
  if (!announce) return announce.error();
  m.announce = *announce;
  auto ts = RequiredTime(j, "ts");
  if (!ts) return ts.error();
  m.ts = *ts;
  auto ok = RequiredBool(j, "ok");
  if (!ok) return ok.error();
  m.ok = *ok;
  auto note = OptionalNote(j);
  if (!note) return note.error();
  m.note = *note;
  return m;
}

std::string RenderSounded(const SoundedMsg& m) {
  json j{{"announce", m.announce}, {"ts", FormatTime(m.ts)}, {"ok", m.ok}};
  if (!m.note.empty()) j["note"] = m.note;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> PeekId(std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) return std::nullopt;
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto id = j.find("id");
  if (id == j.end() || !id->is_string()) return std::nullopt;
  return id->get<std::string>();
}

std::string RenderAck(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges) {
  std::string out = "{\"stored\":[";
  for (size_t i = 0; i < ranges.size(); ++i) {
    out += fmt::format("{}[{},{}]", i ? "," : "", ranges[i].first, ranges[i].second);
  }
  out += "]}";
  return out;
}

std::string RenderReceipt(std::string_view ref, bool ok, std::optional<std::int64_t> incident, std::string_view error) {
  json j;
  j["ref"] = ref;
  j["ok"] = ok;
  if (ok) {
    j["incident"] = incident ? json(*incident) : json(nullptr);
  } else {
    j["error"] = error;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> ToRanges(std::vector<std::uint64_t> seqs) {
  std::sort(seqs.begin(), seqs.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (auto s : seqs) {
    if (!out.empty() && s <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, s);
    } else {
      out.emplace_back(s, s);
    }
  }
  return out;
}

}  // namespace kaoko::wire
