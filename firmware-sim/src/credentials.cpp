#include "kaoko/sim/credentials.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

namespace kaoko::sim {

Result<Credentials> Credentials::Load(const std::string& path) {
  Credentials c;
  c.mode_ = Mode::kFile;
  try {
    toml::table root = toml::parse_file(path);
    // Accept `user = "pw"` and `user = { password = "pw" }` at the top level and in any table (e.g. [accounts],
    // [stations], [people]): kaoko-admin's exact layout may change without breaking the simulator.
    auto take = [&c](const toml::table& t) {
      for (auto&& [key, node] : t) {
        if (node.is_string()) {
          c.passwords_[std::string(key.str())] = std::string(*node.value<std::string_view>());
        } else if (const toml::table* sub = node.as_table()) {
          if (const toml::node* pw = sub->get("password"); pw && pw->is_string()) {
            c.passwords_[std::string(key.str())] = std::string(*pw->value<std::string_view>());
          }
        }
      }
    };
    take(root);
    for (auto&& [key, node] : root) {
      if (const toml::table* t = node.as_table()) take(*t);
    }
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return MakeError("credentials", fmt::format("{}:{}:{}: {}", path, b.line, b.column, e.description()));
  }
  if (c.passwords_.empty()) return MakeError("credentials", fmt::format("{}: no accounts found", path));
  return c;
}

Credentials Credentials::FromPattern(std::string pattern) {
  Credentials c;
  c.mode_ = Mode::kPattern;
  c.pattern_ = std::move(pattern);
  return c;
}

Credentials Credentials::Single(std::string user, std::string password) {
  Credentials c;
  c.mode_ = Mode::kSingle;
  c.user_ = std::move(user);
  c.password_ = std::move(password);
  return c;
}

std::optional<std::pair<std::string, std::string>> Credentials::For(const std::string& id) const {
  switch (mode_) {
    case Mode::kAnonymous:
      return std::pair<std::string, std::string>{};
    case Mode::kSingle:
      return std::pair{user_, password_};
    case Mode::kPattern: {
      std::string pw = pattern_;
      for (auto pos = pw.find("{id}"); pos != std::string::npos; pos = pw.find("{id}", pos + id.size())) {
        pw.replace(pos, 4, id);
      }
      return std::pair{id, pw};
    }
    case Mode::kFile: {
      auto it = passwords_.find(id);
      if (it == passwords_.end()) return std::nullopt;
      return std::pair{id, it->second};
    }
  }
  return std::nullopt;
}

}  // namespace kaoko::sim
