// kaoko-line's TOML configuration (LoadLineSimOptions in line_sim.hpp).
#include <fmt/format.h>

#include <toml++/toml.h>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kaoko/sim/line_sim.hpp"
#include "kaoko/sim/line_validate.hpp"

namespace kaoko::sim {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// `key` or, read from the file it names, `key`_file.
std::string Secret(const toml::table& channel, const std::string& key) {
  if (auto file = channel[key + "_file"].value<std::string>()) return Trimmed(ReadFile(*file));
  return channel[key].value_or(std::string());
}

}  // namespace

LineSimOptions LoadLineSimOptions(const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.description()));
  }
  auto fail = [&path](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", path, what)); };

  LineSimOptions options;
  const toml::table* channel = doc["channel"].as_table();
  if (channel == nullptr) throw fail("[channel] missing");
  options.channel.access_token = Secret(*channel, "access_token");
  options.channel.channel_secret = Secret(*channel, "channel_secret");
  options.channel.bot_user_id = (*channel)["bot_user_id"].value_or(std::string());
  if (options.channel.access_token.empty()) throw fail("[channel] access_token (or access_token_file) missing");
  if (options.channel.channel_secret.empty()) throw fail("[channel] channel_secret (or channel_secret_file) missing");
  if (!IsLineUserId(options.channel.bot_user_id)) throw fail("[channel] bot_user_id must be U + 32 hex digits");

  options.api_port = static_cast<unsigned short>(doc["api"]["port"].value_or(0));
  if (auto cert = doc["api"]["cert_file"].value<std::string>()) options.tls.certificate = ReadFile(*cert);
  if (auto key = doc["api"]["key_file"].value<std::string>()) options.tls.private_key = ReadFile(*key);
  options.control_port = static_cast<unsigned short>(doc["control"]["port"].value_or(0));
  options.webhook_url = doc["webhook"]["url"].value_or(std::string());
  options.webhook_ca_file = doc["webhook"]["ca_file"].value_or(std::string());

  if (const toml::array* users = doc["users"].as_array()) {
    for (const auto& node : *users) {
      const toml::table* u = node.as_table();
      if (u == nullptr) throw fail("[[users]] entries must be tables");
      LineUserConfig user;
      user.id = (*u)["id"].value_or(std::string());
      if (!IsLineUserId(user.id)) throw fail(fmt::format("user id '{}' is not U + 32 lower-case hex digits", user.id));
      user.display_name = (*u)["name"].value_or(user.id);
      user.language = (*u)["language"].value_or(std::string("th"));
      user.blocked = (*u)["blocked"].value_or(false);
      if (auto ms = (*u)["auto_press_after_ms"].value<std::int64_t>()) {
        user.auto_press_after = std::chrono::milliseconds(*ms);
      }
      user.auto_press_index = (*u)["auto_press_index"].value_or(0);
      options.channel.users.push_back(std::move(user));
    }
  }
  return options;
}

}  // namespace kaoko::sim
