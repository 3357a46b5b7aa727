#include "kaoko/contract/toml_reader.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace kaoko::config {

void TomlReader::Fail(const toml::source_region& where, const std::string& what) const {
  if (where.begin.line == 0) throw TomlError{fmt::format("{}: {}", name_, what)};
  throw TomlError{fmt::format("{}:{}:{}: {}", name_, where.begin.line, where.begin.column, what)};
}

void TomlReader::CheckKeys(const toml::table& table, std::initializer_list<std::string_view> allowed,
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

std::optional<std::string> TomlReader::Str(const toml::table& t, std::string_view key, std::string_view context) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) Fail(n->source(), fmt::format("'{}' in {} must be a string", key, context));
  return std::string(*n->value<std::string_view>());
}

std::optional<std::chrono::sys_days> TomlReader::Date(const toml::table& t, std::string_view key,
                                                      std::string_view context) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  std::optional<toml::date> d = n->value<toml::date>();
  if (!d && n->is_string()) {
    const std::string_view text = *n->value<std::string_view>();
    int y = 0, m = 0, day = 0;
    auto digits = [&](std::size_t from, std::size_t count, int& out) {
      const auto part = text.substr(from, count);
      return std::from_chars(part.data(), part.data() + part.size(), out).ptr == part.data() + part.size();
    };
    if (text.size() == 10 && text[4] == '-' && text[7] == '-' && digits(0, 4, y) && digits(5, 2, m) &&
        digits(8, 2, day)) {
      d = toml::date{static_cast<std::uint16_t>(y), static_cast<std::uint8_t>(m), static_cast<std::uint8_t>(day)};
    }
  }
  if (!d) Fail(n->source(), fmt::format("'{}' in {} must be a date like 2026-06-01", key, context));
  const std::chrono::year_month_day ymd{std::chrono::year(d->year), std::chrono::month(d->month),
                                        std::chrono::day(d->day)};
  if (!ymd.ok()) Fail(n->source(), fmt::format("'{}' in {} is not a real date", key, context));
  return std::chrono::sys_days(ymd);
}

std::optional<double> TomlReader::Num(const toml::table& t, std::string_view key, std::string_view context) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_number()) Fail(n->source(), fmt::format("'{}' in {} must be a number", key, context));
  const double v = *n->value<double>();
  if (!std::isfinite(v)) Fail(n->source(), fmt::format("'{}' in {} must be a finite number", key, context));
  return v;
}

std::optional<double> TomlReader::NonNegative(const toml::table& t, std::string_view key,
                                              std::string_view context) const {
  auto v = Num(t, key, context);
  if (v && *v < 0) Fail(t.get(key)->source(), fmt::format("'{}' in {} must not be negative", key, context));
  return v;
}

std::optional<bool> TomlReader::Bool(const toml::table& t, std::string_view key, std::string_view context) const {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_boolean()) Fail(n->source(), fmt::format("'{}' in {} must be true or false", key, context));
  return *n->value<bool>();
}

std::string TomlReader::RequiredStr(const toml::table& t, std::string_view key, std::string_view context) const {
  auto v = Str(t, key, context);
  if (!v) Fail(t.source(), fmt::format("{} is missing '{}'", context, key));
  return std::move(*v);
}

double TomlReader::RequiredNum(const toml::table& t, std::string_view key, std::string_view context) const {
  auto v = Num(t, key, context);
  if (!v) Fail(t.source(), fmt::format("{} is missing '{}'", context, key));
  return *v;
}

std::vector<std::string> TomlReader::Strings(const toml::table& t, std::string_view key,
                                             const std::string& what) const {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) Fail(n->source(), what);
  for (const toml::node& v : *arr) {
    if (!v.is_string()) Fail(v.source(), what);
    out.emplace_back(*v.value<std::string_view>());
  }
  return out;
}

std::pair<double, double> TomlReader::NumberPair(const toml::node& node, const std::string& what) const {
  const toml::array* pair = node.as_array();
  if (!pair || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_number()) Fail(node.source(), what);
  return {*(*pair)[0].value<double>(), *(*pair)[1].value<double>()};
}

const toml::table* TomlReader::Table(const toml::table& t, std::string_view key, std::string_view context) const {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) Fail(n->source(), fmt::format("'{}' in {} must be a table", key, context));
  return n->as_table();
}

std::vector<const toml::table*> TomlReader::Tables(const toml::table& t, std::string_view key) const {
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

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace kaoko::config
