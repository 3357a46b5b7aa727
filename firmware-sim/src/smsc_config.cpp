// kaoko-smsc's TOML configuration (smsc_config.hpp).
#include "kaoko/sim/smsc_config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <set>

#include "kaoko/contract/toml_reader.hpp"

namespace kaoko::sim::smsc {
namespace {

using config::TomlReader;

PhoneBehaviour ReadBehaviour(const TomlReader& r, const toml::table& t) {
  const auto does = r.Str(t, "does", "a [[phone]]").value_or("deliver");
  if (does == "deliver") return PhoneBehaviour::kDeliver;
  if (does == "off") return PhoneBehaviour::kOff;
  if (does == "expire") return PhoneBehaviour::kExpire;
  if (does == "barred") return PhoneBehaviour::kBarred;
  r.Fail(t.get("does")->source(), fmt::format("'does' is \"{}\"; it must be deliver, off, expire or barred", does));
}

PhoneConfig ReadPhone(const TomlReader& r, const toml::table& t) {
  const char* ctx = "a [[phone]]";
  r.CheckKeys(
      t, {"number", "name", "does", "receipt_after_s", "expire_after_s", "refuse_status", "reply", "reply_after_s"},
      ctx);
  PhoneConfig p;
  p.number = r.RequiredStr(t, "number", ctx);
  if (p.number.size() < 4 || p.number[0] != '+' || p.number.find_first_not_of("0123456789", 1) != std::string::npos) {
    r.Fail(t.get("number")->source(), fmt::format("number \"{}\" must be +<digits> (e.g. +66812345001)", p.number));
  }
  p.name = r.Str(t, "name", ctx).value_or(p.number);
  p.does = ReadBehaviour(r, t);
  p.receipt_after_s = r.NonNegative(t, "receipt_after_s", ctx).value_or(p.receipt_after_s);
  p.expire_after_s = r.NonNegative(t, "expire_after_s", ctx).value_or(p.expire_after_s);
  const double refuse = r.NonNegative(t, "refuse_status", ctx).value_or(p.refuse_status);
  if (refuse < 1 || refuse > 0xFFFF) r.Fail(t.get("refuse_status")->source(), "refuse_status must be 1..65535");
  p.refuse_status = static_cast<uint32_t>(refuse);
  p.reply = r.Str(t, "reply", ctx);
  p.reply_after_s = r.NonNegative(t, "reply_after_s", ctx).value_or(p.reply_after_s);
  return p;
}

SmscConfig Build(const toml::table& root, const TomlReader& r) {
  r.CheckKeys(root, {"smsc", "phone"}, "the smsc file");
  SmscConfig c;
  if (const toml::table* t = r.Table(root, "smsc", "the smsc file")) {
    const char* ctx = "[smsc]";
    r.CheckKeys(*t, {"system_id", "password", "short_code", "message_ids", "unknown_numbers"}, ctx);
    c.system_id = r.Str(*t, "system_id", ctx).value_or(c.system_id);
    c.password = r.Str(*t, "password", ctx).value_or(c.password);
    if (c.system_id.size() > 15) r.Fail(t->get("system_id")->source(), "system_id has at most 15 characters (SMPP)");
    if (c.password.size() > 8) r.Fail(t->get("password")->source(), "password has at most 8 characters (SMPP)");
    c.short_code = r.Str(*t, "short_code", ctx).value_or(c.short_code);
    const auto ids = r.Str(*t, "message_ids", ctx).value_or("hex");
    if (ids != "hex" && ids != "decimal") r.Fail(t->get("message_ids")->source(), "message_ids is hex or decimal");
    c.message_ids = ids == "hex" ? MessageIdStyle::kHex : MessageIdStyle::kDecimal;
    const auto unknown = r.Str(*t, "unknown_numbers", ctx).value_or("deliver");
    if (unknown != "deliver" && unknown != "refuse") {
      r.Fail(t->get("unknown_numbers")->source(), "unknown_numbers is deliver or refuse");
    }
    c.refuse_unknown = unknown == "refuse";
  }
  std::set<std::string> seen;
  for (const toml::table* t : r.Tables(root, "phone")) {
    c.phones.push_back(ReadPhone(r, *t));
    if (!seen.insert(c.phones.back().number).second) {
      r.Fail(t->source(), fmt::format("number {} is listed twice", c.phones.back().number));
    }
  }
  return c;
}

}  // namespace

std::string_view BehaviourName(PhoneBehaviour b) {
  switch (b) {
    case PhoneBehaviour::kDeliver:
      return "deliver";
    case PhoneBehaviour::kOff:
      return "off";
    case PhoneBehaviour::kExpire:
      return "expire";
    case PhoneBehaviour::kBarred:
      return "barred";
  }
  return "?";
}

Result<SmscConfig> ParseSmscConfig(std::string_view text, const std::string& name) {
  return config::ParseToml<SmscConfig>(text, name, {"smsc_config_syntax", "smsc_config_invalid"}, Build);
}

Result<SmscConfig> LoadSmscConfig(const std::string& path) {
  auto text = config::ReadTextFile(path);
  if (!text) return MakeError("smsc_config_unreadable", fmt::format("{}: cannot open the smsc file", path));
  return ParseSmscConfig(*text, path);
}

std::string NormaliseNumber(uint8_t ton, std::string_view digits) {
  if (digits.empty()) return "";
  if (digits[0] == '+') return std::string(digits);
  const bool all_digits = digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!all_digits) return std::string(digits);
  if (ton == 1) return "+" + std::string(digits);
  if ((ton == 2 || ton == 0) && digits.size() >= 9 && digits[0] == '0') return "+66" + std::string(digits.substr(1));
  if (ton == 0 && digits.size() >= 10 && digits.substr(0, 2) == "66") return "+" + std::string(digits);
  return std::string(digits);
}

}  // namespace kaoko::sim::smsc
