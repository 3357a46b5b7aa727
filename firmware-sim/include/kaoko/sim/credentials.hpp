// Broker accounts for the simulated devices: from the credentials.toml that kaoko-admin writes
// (`[accounts]` user = "password"; top-level keys and `[x] user = { password = "…" }` are read too), from a pattern
// ("demo-{id}"), or one user/password for every connection (--user/--password). Immutable; thread-safe to read.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "kaoko/contract/result.hpp"

namespace kaoko::sim {

class Credentials {
 public:
  // Anonymous: every account connects without user name.
  Credentials() = default;
  // Reads a credentials file; errors name the file (and line for TOML syntax errors).
  static Result<Credentials> Load(const std::string& path);
  static Credentials FromPattern(std::string pattern);  // "{id}" is replaced by the account id
  static Credentials Single(std::string user, std::string password);

  // User name and password for the device or person `id`; nullopt when the file does not know it.
  // Anonymous credentials return {"", ""}.
  std::optional<std::pair<std::string, std::string>> For(const std::string& id) const;
  std::size_t Size() const { return passwords_.size(); }

 private:
  enum class Mode { kAnonymous, kFile, kPattern, kSingle };
  Mode mode_ = Mode::kAnonymous;
  std::map<std::string, std::string> passwords_;
  std::string pattern_, user_, password_;
};

}  // namespace kaoko::sim
