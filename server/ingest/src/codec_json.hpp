// The JSON the engine codec reads and writes (private to engine_codec.cpp): a Reader that decodes values into
// struct members with the path of each value for errors, and ToJson, which encodes them. Both take the field lists
// of engine_codec_fields.hpp for the records.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_codec_fields.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::server::codec {

using json = nlohmann::json;
using alerting::TimePoint;

// 0001-01-01 .. 9999-12-31: far from the int64 overflow that time arithmetic in the engine would hit, and every value
// formats as RFC 3339.
inline constexpr std::int64_t kMinMs = -62135596800000;
inline constexpr std::int64_t kMaxMs = 253402300799999;

inline std::int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

std::optional<alerting::IncidentKind> ParseIncidentKind(std::string_view text);

// ------------------------------------------------------------------------------------------------ encode

// A value as stored: times as milliseconds, enums as their wire strings, an empty optional as null, a record as an
// object of its fields.
json ToJson(const std::string& v);
json ToJson(TimePoint t);
template <typename T>
requires std::is_arithmetic_v<T> json ToJson(T v);
template <typename E>
requires std::is_enum_v<E> json ToJson(E e);
template <typename T>
json ToJson(const std::optional<T>& v);
template <typename T>
json ToJson(const std::vector<T>& v);
template <Record T>
json ToJson(const T& record);

// The visitor a field list is written with: each member under its key of `obj`.
struct Out {
  json& obj;
  template <typename T>
  void operator()(const char* key, const T& value) const {
    obj[key] = ToJson(value);
  }
};

inline json ToJson(const std::string& v) { return json(v); }
inline json ToJson(TimePoint t) { return json(Ms(t)); }
template <typename T>
requires std::is_arithmetic_v<T> json ToJson(T v) { return json(v); }
template <typename E>
requires std::is_enum_v<E> json ToJson(E e) { return json(alerting::ToString(e)); }
template <typename T>
json ToJson(const std::optional<T>& v) {
  return v ? ToJson(*v) : json(nullptr);
}
template <typename T>
json ToJson(const std::vector<T>& v) {
  json out = json::array();
  for (const auto& x : v) out.push_back(ToJson(x));
  return out;
}
template <Record T>
json ToJson(const T& record) {
  json out = json::object();
  Fields(Out{out}, record);
  return out;
}

// ------------------------------------------------------------------------------------------------ decode

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
  requires(!std::same_as<T, bool>) void Value(const json& v, T& out) {
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

  // A ring slot: [ts_ms, level_cm].
  void Value(const json& v, alerting::RecentReading& r) {
    if (!v.is_array() || v.size() != 2) return Fail("bad_type", "must be [ts_ms, level_cm]");
    Each(v, [&](const json& e, std::size_t i) {
      if (i == 0)
        Value(e, r.ts);
      else
        Value(e, r.level_cm);
    });
  }

  // A record of engine_codec_fields.hpp: an object of its fields.
  template <Record T>
  void Value(const json& v, T& out) {
    if (!Object(v)) return;
    Fields(In{*this, v}, out);
  }

  // The visitor a field list is read with: each key of `obj` into its member.
  struct In {
    Reader& r;
    const json& obj;
    template <typename T>
    void operator()(const char* key, T& out) const {
      r.Field(obj, key, out);
    }
  };

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

}  // namespace kaoko::server::codec
