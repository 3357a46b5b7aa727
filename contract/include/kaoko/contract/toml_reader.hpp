// Reading a TOML file that a person wrote (the network file, the simulator's scenarios) with every problem reported
// as "<file>:<line>:<column>: <what is wrong>": typed getters that name the key and its table when a value has the
// wrong type, and a check that refuses unknown keys, so that a typo never silently becomes a default.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kaoko/contract/result.hpp"

namespace kaoko::config {

// What TomlReader::Fail throws; ParseToml turns it into an Error value.
struct TomlError {
  std::string message;
};

// Typed access to the tables of one file. `context` names the table in messages ("[tambon]", "a [[rain]] block").
// The getters return nothing when the key is absent and throw TomlError when it is there with a wrong value.
// Thread-safe (const, no state but the file's name).
class TomlReader {
 public:
  explicit TomlReader(std::string name) : name_(std::move(name)) {}

  // Throws TomlError "<file>:<line>:<column>: <what>" (or "<file>: <what>" when `where` has no position).
  [[noreturn]] void Fail(const toml::source_region& where, const std::string& what) const;

  // Every key in `table` must be one of `allowed`.
  void CheckKeys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                 std::string_view context) const;

  std::optional<std::string> Str(const toml::table& t, std::string_view key, std::string_view context) const;
  // A finite number (TOML has inf and nan: neither is a threshold, a place or a duration, and casting them is
  // undefined).
  std::optional<double> Num(const toml::table& t, std::string_view key, std::string_view context) const;
  std::optional<double> NonNegative(const toml::table& t, std::string_view key, std::string_view context) const;
  std::optional<bool> Bool(const toml::table& t, std::string_view key, std::string_view context) const;
  // A calendar date, written as TOML writes one (2026-06-01, no quotes) or as the string "2026-06-01".
  std::optional<std::chrono::sys_days> Date(const toml::table& t, std::string_view key, std::string_view context) const;

  // The same, with "<context> is missing '<key>'" when the key is absent.
  std::string RequiredStr(const toml::table& t, std::string_view key, std::string_view context) const;
  double RequiredNum(const toml::table& t, std::string_view key, std::string_view context) const;

  // A list of strings; `what` is the whole message when it is anything else.
  std::vector<std::string> Strings(const toml::table& t, std::string_view key, const std::string& what) const;
  // Two numbers [a, b] at `node`; `what` is the whole message when it is anything else.
  std::pair<double, double> NumberPair(const toml::node& node, const std::string& what) const;

  // A sub-table, or nullptr when absent.
  const toml::table* Table(const toml::table& t, std::string_view key, std::string_view context) const;
  // An array of tables, written either as [[key]] or as key = [ {…}, … ]; empty when absent.
  std::vector<const toml::table*> Tables(const toml::table& t, std::string_view key) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// The reasons an Error from ParseToml carries.
struct TomlReasons {
  std::string syntax;   // the text is not TOML
  std::string invalid;  // it is TOML, but `build` refused it
};

// Parses `text` (named `name` in messages) and hands its root table to `build`. A TOML syntax error, a TomlError or
// any other exception from `build` becomes an Error with the matching reason. Never throws. Thread-safe.
template <class T>
Result<T> ParseToml(std::string_view text, const std::string& name, const TomlReasons& reasons,
                    const std::function<T(const toml::table&, const TomlReader&)>& build) {
  TomlReader reader(name);
  try {
    toml::table root = toml::parse(text, name);
    return build(root, reader);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return MakeError(reasons.syntax, fmt::format("{}:{}:{}: {}", name, b.line, b.column, e.description()));
  } catch (const TomlError& e) {
    return MakeError(reasons.invalid, e.message);
  } catch (const std::exception& e) {
    return MakeError(reasons.invalid, fmt::format("{}: {}", name, e.what()));
  }
}

// The whole file at `path`, or nothing when it cannot be opened. Thread-safe.
std::optional<std::string> ReadTextFile(const std::string& path);

}  // namespace kaoko::config
