// A small result type for expected failures (bad payload, unknown station, wrong file): a value or an error with a
// specific, human-readable reason. C++20 has no std::expected; this is the minimum we need.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace kaoko {

struct Error {
  std::string reason;  // specific and readable, e.g. "level_cm must be a number"
  std::string code;    // short, stable label for counters, e.g. "bad_level"
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error MakeError(std::string code, std::string reason) { return Error{std::move(reason), std::move(code)}; }

}  // namespace kaoko
