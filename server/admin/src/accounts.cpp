#include "kaoko/admin/accounts.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kaoko/contract/network_file.hpp"

namespace kaoko::admin {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr int kSaltBytes = 12;  // as mosquitto_passwd (SALT_LEN)
constexpr int kHashBytes = 64;  // SHA-512 output

void InitSodium() {
  // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
  static const int ready = sodium_init();
  if (ready < 0) throw std::runtime_error("libsodium cannot be initialised");
}

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock does not strip the bytes that the '=' padding stands for.
  size_t pad = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  unsigned char hash[kHashBytes];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha512(), kHashBytes, hash) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return Base64(hash, kHashBytes);
}

int RoleOrder(AccountRole role) {
  switch (role) {
    case AccountRole::kService:
      return 0;
    case AccountRole::kStation:
      return 1;
    case AccountRole::kPerson:
      return 2;
    case AccountRole::kTao:
      return 3;
    case AccountRole::kDevice:
      return 4;
    case AccountRole::kBridge:
      return 5;
  }
  return 5;
}

void SortAccounts(AccountSet& set) {
  std::stable_sort(set.accounts.begin(), set.accounts.end(),
                   [](const Account& a, const Account& b) { return RoleOrder(a.role) < RoleOrder(b.role); });
}

// A TOML basic string with the escapes the spec requires.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::optional<Error> CheckPassword(std::string_view password) {
  if (password.empty()) return MakeError("bad_password", "a password must not be empty");
  for (char c : password) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return MakeError("bad_password", "a password must not contain control characters");
    }
  }
  if (password.size() > 256) return MakeError("bad_password", "a password must be at most 256 characters");
  return std::nullopt;
}

std::string PasswordFor(const AccountSet& set, std::string_view id) {
  return set.demo ? DemoPassword(id) : RandomPassword();
}

// Writes `text` to `path` through a temp file in the same directory and rename(2), so a reader (Mosquitto on SIGHUP)
// never sees half a file. `mode` is applied before any byte is written.
std::optional<Error> WriteAtomically(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return MakeError("io", fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  if (::fchmod(fd, mode) != 0) {  // the umask or an older file may have left other bits
    int e = errno;
    ::close(fd);
    return MakeError("io", fmt::format("cannot chmod {}: {}", tmp, std::strerror(e)));
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return MakeError("io", fmt::format("cannot write {}: {}", tmp, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return MakeError("io", fmt::format("cannot finish {}: {}", tmp, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError("io", fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno)));
  }
  return std::nullopt;
}

// The first id that two accounts of `set` share, with both roles: Mosquitto and ParseCredentials refuse a file that
// names a user twice, so such a set must never be written (it locked the operator out of the next re-run).
std::optional<Error> DuplicateAccount(const AccountSet& set) {
  std::map<std::string_view, const Account*> seen;
  for (const Account& a : set.accounts) {
    auto [it, fresh] = seen.emplace(a.id, &a);
    if (!fresh) {
      return MakeError("duplicate_account",
                       fmt::format("two accounts are named '{}' (a {} and a {}); nothing was written: rename one of "
                                   "them in the network file or remove the account added by hand",
                                   a.id, ToString(it->second->role), ToString(a.role)));
    }
  }
  return std::nullopt;
}

}  // namespace

const char* ToString(AccountRole role) {
  switch (role) {
    case AccountRole::kStation:
      return "station";
    case AccountRole::kPerson:
      return "person";
    case AccountRole::kTao:
      return "tao";
    case AccountRole::kService:
      return "service";
    case AccountRole::kBridge:
      return "bridge";
    case AccountRole::kDevice:
      return "device";
  }
  return "?";
}

std::optional<AccountRole> ParseAccountRole(std::string_view text) {
  if (text == "station") return AccountRole::kStation;
  if (text == "person") return AccountRole::kPerson;
  if (text == "tao") return AccountRole::kTao;
  if (text == "service") return AccountRole::kService;
  if (text == "bridge") return AccountRole::kBridge;
  if (text == "device") return AccountRole::kDevice;
  return std::nullopt;
}

const Account* AccountSet::Find(std::string_view id) const {
  for (const Account& a : accounts) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

Account* AccountSet::Find(std::string_view id) {
  for (Account& a : accounts) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

std::string DemoPassword(std::string_view id) { return "demo-" + std::string(id); }

std::string RandomPassword() {
  InitSodium();
  std::string out;
  for (int i = 0; i < 16; ++i) out += kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
  return out;
}

std::string HashPassword(std::string_view password, std::string_view salt, int iterations) {
  std::string salt_bytes(salt);
  if (salt_bytes.empty()) {
    InitSodium();
    salt_bytes.resize(kSaltBytes);
    randombytes_buf(salt_bytes.data(), salt_bytes.size());
  }
  return fmt::format("$7${}${}${}", iterations,
                     Base64(reinterpret_cast<const unsigned char*>(salt_bytes.data()), salt_bytes.size()),
                     Pbkdf2(password, salt_bytes, iterations));
}

bool VerifyPassword(std::string_view password, std::string_view hash) {
  // $7$<iterations>$<salt>$<hash>
  if (!hash.starts_with("$7$")) return false;
  std::string_view rest = hash.substr(3);
  size_t a = rest.find('$');
  if (a == std::string_view::npos) return false;
  size_t b = rest.find('$', a + 1);
  if (b == std::string_view::npos) return false;
  int iterations = 0;
  for (char c : rest.substr(0, a)) {
    if (c < '0' || c > '9' || iterations > 10'000'000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations <= 0) return false;
  auto salt = Unbase64(rest.substr(a + 1, b - a - 1));
  if (!salt) return false;
  return Pbkdf2(password, *salt, iterations) == rest.substr(b + 1);
}

Result<AccountSet> MergeNetwork(const alerting::Network& network, const std::optional<AccountSet>& existing,
                                bool demo) {
  if (existing && !existing->tambon.empty() && existing->tambon != network.tambon) {
    return MakeError("other_tambon",
                     fmt::format("the accounts in this directory belong to tambon '{}', the network file to '{}'; use "
                                 "one directory per tambon",
                                 existing->tambon, network.tambon));
  }
  AccountSet set;
  set.tambon = network.tambon;
  set.demo = demo;

  auto password_for = [&](const std::string& id) {
    if (demo) return DemoPassword(id);
    const Account* old = existing ? existing->Find(id) : nullptr;
    // A demo password is public knowledge: a real (non-demo) run must not carry it over.
    if (old && !old->password.empty() && old->password != DemoPassword(id)) return old->password;
    return RandomPassword();
  };

  set.accounts.push_back(Account{std::string(kServiceAccount),
                                 AccountRole::kService,
                                 {},
                                 password_for(std::string(kServiceAccount)),
                                 "kaoko service",
                                 true});
  for (const alerting::Station& s : network.stations) {
    set.accounts.push_back(Account{s.id,
                                   AccountRole::kStation,
                                   {s.village},
                                   password_for(s.id),
                                   fmt::format("{} / {}", s.name_th(), s.name_en()),
                                   true});
  }
  for (const alerting::Person& p : network.people) {
    // The district above the TAO reads the whole tambon, as the TAO does.
    Account a{p.id,
              alerting::IsTambonWide(p.role) ? AccountRole::kTao : AccountRole::kPerson,
              {},
              password_for(p.id),
              fmt::format("{} / {} ({})", p.name_th, p.name_en, alerting::ToString(p.role)),
              true};
    if (!p.village.empty()) a.villages.push_back(p.village);
    set.accounts.push_back(std::move(a));
  }
  for (const alerting::Device& d : network.devices) {
    set.accounts.push_back(Account{d.id,
                                   AccountRole::kDevice,
                                   {d.village},
                                   password_for(d.id),
                                   fmt::format("{} / {} ({})", d.name_th, d.name_en, alerting::ToString(d.kind)),
                                   true});
  }
  // The network file loader refuses these ids already (config::ReservedId); checked again here so that no other way
  // to a Network (a test, a future loader) can make kaoko-admin write an account file it cannot read back.
  for (const Account& a : set.accounts) {
    if (a.role == AccountRole::kService) continue;
    if (auto why = config::ReservedId(a.id)) {
      return MakeError("reserved_account", fmt::format("the network file's {} '{}' cannot have an account: {}",
                                                       ToString(a.role), a.id, *why));
    }
  }
  if (auto e = DuplicateAccount(set)) return *e;
  if (existing) {
    for (const Account& old : existing->accounts) {
      if (old.from_network) continue;  // gone from the network file, or still listed in it (from its entry above)
      const Account* listed = set.Find(old.id);
      if (listed && (old.role == AccountRole::kBridge || old.role == AccountRole::kService)) {
        return MakeError("duplicate_account",
                         fmt::format("the network file's {} '{}' has the name of the {} account added by hand; "
                                     "nothing was written: rename it in the network file",
                                     ToString(listed->role), old.id, ToString(old.role)));
      }
      if (listed) continue;  // added by hand, now listed in the network file
      Account kept = old;
      if (demo) kept.password = DemoPassword(kept.id);
      set.accounts.push_back(std::move(kept));
    }
  }
  SortAccounts(set);
  return set;
}

Result<Account> AddAccount(AccountSet& set, Account account) {
  if (!config::IsIdentifier(account.id)) {
    return MakeError("bad_user",
                     fmt::format("'{}' is not a valid user name (1–32 characters of a-z 0-9 -)", account.id));
  }
  if ((account.id == kServiceAccount) != (account.role == AccountRole::kService)) {
    return MakeError("bad_user", fmt::format("the service account is '{}', with role service", kServiceAccount));
  }
  for (const std::string& v : account.villages) {
    if (!config::IsIdentifier(v)) return MakeError("bad_village", fmt::format("'{}' is not a valid village id", v));
  }
  if ((account.role == AccountRole::kStation || account.role == AccountRole::kDevice) && account.villages.size() != 1) {
    return MakeError("bad_village", fmt::format("a {} needs exactly one --village", ToString(account.role)));
  }
  if (account.role == AccountRole::kBridge && account.villages.size() > 1) {
    return MakeError("bad_village",
                     "a bridge carries one village (an edge box) or none (a TAO, named after its tambon)");
  }
  if ((account.role == AccountRole::kService || account.role == AccountRole::kTao) && !account.villages.empty()) {
    return MakeError("bad_village",
                     fmt::format("a {} account reads every village; give no --village", ToString(account.role)));
  }
  if (!account.password.empty()) {
    if (auto e = CheckPassword(account.password)) return *e;
  }
  if (Account* old = set.Find(account.id)) {
    // A person may become a TAO officer by hand (or back); a station or device of the network file keeps its role, and
    // nothing of the network file becomes a bridge or the service: the next `accounts` run would write both.
    const auto person = [](AccountRole r) { return r == AccountRole::kPerson || r == AccountRole::kTao; };
    if (old->from_network && old->role != account.role && !(person(old->role) && person(account.role))) {
      return MakeError("bad_user", fmt::format("'{}' is a {} of the network file; a {} needs a name of its own",
                                               account.id, ToString(old->role), ToString(account.role)));
    }
    if (account.password.empty()) account.password = old->password;
    if (account.name.empty()) account.name = old->name;
    account.from_network = false;  // changed by hand: a re-run of `accounts` must not silently drop it
    *old = account;
  } else {
    if (account.password.empty()) account.password = PasswordFor(set, account.id);
    set.accounts.push_back(account);
  }
  SortAccounts(set);
  return account;
}

std::string PasswordFile(const AccountSet& set) {
  std::string out;
  for (const Account& a : set.accounts) out += fmt::format("{}:{}\n", a.id, HashPassword(a.password));
  return out;
}

std::string AclFile(const AccountSet& set, std::string_view source) {
  const std::string t = "kaoko/v1/" + set.tambon;
  std::string out = fmt::format(
      "# kaoko broker ACL for tambon '{0}', generated by kaoko-admin from {1}.\n"
      "# Do not edit by hand: run kaoko-admin again (accounts / add-account), then reload Mosquitto (SIGHUP).\n"
      "# ไฟล์สิทธิ์การใช้หัวข้อ MQTT สร้างโดย kaoko-admin — อย่าแก้ด้วยมือ\n"
      "#\n"
      "# The rules are the wire contract's (protocol.md, \"MQTT topics\"). Mosquitto grants nothing that no line "
      "grants.\n"
      "# Mosquitto 2.0 accepts every SUBSCRIBE and checks read access on each message it delivers, so a filter such "
      "as\n"
      "# kaoko/v1/# only ever delivers what the account may read.\n"
      "# There are no `pattern` lines: mosquitto.conf(5) says pattern lines apply to EVERY account, so\n"
      "# `pattern write kaoko/v1/{0}/+/report/%u` would let a station publish a report under its own name and\n"
      "# `pattern write .../station/%u/reading` would let a person publish a reading. Every right is a `topic` line "
      "in\n"
      "# the account's own `user` block, with the account's name written out (what %u would have matched).\n"
      "# Comments stand on lines of their own: Mosquitto reads the rest of a `user`/`topic` line as the name.\n",
      set.tambon, source);
  for (const Account& a : set.accounts) {
    out += "\n";
    if (!a.name.empty()) out += fmt::format("# {}: {}\n", ToString(a.role), a.name);
    out += fmt::format("user {}\n", a.id);
    switch (a.role) {
      case AccountRole::kService:
        out += "topic readwrite kaoko/#\n";
        break;
      case AccountRole::kBridge:
        // A bridge from the tier below (docs/tiers.md), named after the node it carries: only its own journal and
        // heartbeat up, its own journal ack down, and what the tier below must mirror.
        if (!a.villages.empty()) {
          const std::string& v = a.villages.front();
          out += fmt::format("topic write {0}/tier/{1}/journal\ntopic write {0}/tier/{1}/heartbeat\n", t, a.id);
          out += fmt::format("topic read {}/tier/{}/journal-ack\n", t, a.id);
          for (const char* leaf : {"alert", "siren", "notify/+", "receipt/+"}) {
            out += fmt::format("topic read {}/{}/{}\n", t, v, leaf);
          }
        } else {
          const std::string up = "kaoko/v1/" + a.id;  // a TAO's bridge is named after its tambon
          out += fmt::format("topic write {0}/tier/{1}/journal\ntopic write {0}/tier/{1}/heartbeat\n", up, a.id);
          out += fmt::format("topic read {}/tier/{}/journal-ack\n", up, a.id);
          out += fmt::format("topic write {0}/+/alert\ntopic write {0}/cap\n", up);
        }
        break;
      case AccountRole::kStation:
        for (const std::string& v : a.villages) {
          out += fmt::format("topic write {}/{}/station/{}/reading\n", t, v, a.id);
          out += fmt::format("topic write {}/{}/station/{}/status\n", t, v, a.id);
          out += fmt::format("topic read {}/{}/station/{}/ack\n", t, v, a.id);
        }
        break;
      case AccountRole::kDevice:
        // A tower or siren hears only its own village's siren and announcements, and says only that it sounded (and
        // its own status, whose Last Will is "offline"): no notify, receipt or anything personal.
        for (const std::string& v : a.villages) {
          out += fmt::format("topic read {}/{}/siren\n", t, v);
          out += fmt::format("topic read {}/{}/announce\n", t, v);
          out += fmt::format("topic write {}/{}/device/{}/sounded\n", t, v, a.id);
          out += fmt::format("topic write {}/{}/device/{}/status\n", t, v, a.id);
        }
        break;
      case AccountRole::kPerson:
      case AccountRole::kTao:
        // Any village: a watcher may report what they see at the next village, and the service checks the role
        // (a decision the role may not take gets a receipt that says why, so the broker must let it through).
        out += fmt::format("topic write {}/+/report/{}\n", t, a.id);
        out += fmt::format("topic write {}/+/decision/{}\n", t, a.id);
        if (a.role == AccountRole::kTao) {
          out += fmt::format("topic read {}/#\n", t);
        } else {
          out += fmt::format("topic read {}/+/receipt/{}\n", t, a.id);
          out += fmt::format("topic read {}/+/notify/{}\n", t, a.id);
          for (const std::string& v : a.villages) {
            out += fmt::format("topic read {}/{}/alert\n", t, v);
            out += fmt::format("topic read {}/{}/siren\n", t, v);
          }
          out += fmt::format("topic read {}/cap\n", t);
        }
        break;
    }
  }
  return out;
}

std::string CredentialsToml(const AccountSet& set) {
  std::string out = fmt::format(
      "# kaoko broker credentials for tambon '{}' — PLAINTEXT PASSWORDS. Keep this file mode 0600 and off shared "
      "drives.\n"
      "# รหัสผ่านของทุกบัญชี (ข้อความธรรมดา) — เก็บเป็นความลับ ให้เฉพาะเจ้าของบัญชีแต่ละคน\n"
      "# Written by kaoko-admin; re-running it keeps these passwords. The service uses [accounts.kaoko].\n",
      set.tambon);
  if (set.demo) {
    out += "# DEMO PASSWORDS (demo-<id>): for development and demos only, never on a real network.\n";
  }
  out += fmt::format("\ntambon = {}\ndemo = {}\n", Quote(set.tambon), set.demo ? "true" : "false");
  for (const Account& a : set.accounts) {
    out += fmt::format("\n[accounts.{}]\nrole = {}\n", a.id, Quote(ToString(a.role)));
    if (!a.villages.empty()) {
      std::string list;
      for (const std::string& v : a.villages) list += (list.empty() ? "" : ", ") + Quote(v);
      out += fmt::format("villages = [{}]\n", list);
    }
    if (!a.name.empty()) out += fmt::format("name = {}\n", Quote(a.name));
    out += fmt::format("password = {}\n", Quote(a.password));
    if (!a.from_network) out += "added_by_hand = true\n";
  }
  return out;
}

Result<AccountSet> ParseCredentials(std::string_view text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return MakeError("bad_credentials", fmt::format("{}:{}:{}: {}", name, e.source().begin.line,
                                                    e.source().begin.column, e.description()));
  }
  auto fail = [&](const toml::node* n, const std::string& what) -> Error {
    if (n && n->source().begin.line != 0) {
      return MakeError("bad_credentials",
                       fmt::format("{}:{}:{}: {}", name, n->source().begin.line, n->source().begin.column, what));
    }
    return MakeError("bad_credentials", fmt::format("{}: {}", name, what));
  };
  AccountSet set;
  const toml::node* tambon = root.get("tambon");
  if (!tambon || !tambon->is_string()) return fail(&root, "'tambon' (a string) is missing");
  set.tambon = std::string(*tambon->value<std::string_view>());
  if (!config::IsIdentifier(set.tambon)) return fail(tambon, "'tambon' is not a valid identifier");
  set.demo = root["demo"].value_or(false);
  const toml::table* accounts = root["accounts"].as_table();
  if (!accounts) return set;
  for (auto&& [key, node] : *accounts) {
    const toml::table* t = node.as_table();
    std::string id(key.str());
    if (!t) return fail(&node, fmt::format("accounts.{} must be a table", id));
    Account a;
    a.id = id;
    if (!config::IsIdentifier(id)) return fail(&node, fmt::format("'{}' is not a valid user name", id));
    auto role = ParseAccountRole(t->get("role") ? t->get("role")->value_or(std::string_view{}) : std::string_view{});
    if (!role)
      return fail(&node, fmt::format("accounts.{}.role must be station, person, tao, service, bridge or device", id));
    a.role = *role;
    if (const toml::array* vs = (*t)["villages"].as_array()) {
      for (const toml::node& v : *vs) {
        auto s = v.value<std::string_view>();
        if (!s || !config::IsIdentifier(*s)) return fail(&v, fmt::format("accounts.{}.villages: bad village id", id));
        a.villages.emplace_back(*s);
      }
    }
    a.name = std::string((*t)["name"].value_or(std::string_view{}));
    auto password = (*t)["password"].value<std::string_view>();
    if (!password || password->empty()) return fail(&node, fmt::format("accounts.{}.password is missing", id));
    a.password = std::string(*password);
    a.from_network = !(*t)["added_by_hand"].value_or(false);
    set.accounts.push_back(std::move(a));
  }
  SortAccounts(set);
  return set;
}

Result<std::optional<AccountSet>> ReadCredentials(const std::string& dir) {
  std::string path = dir + "/credentials.toml";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<AccountSet>{};
    return MakeError("io", fmt::format("cannot read {}", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto set = ParseCredentials(text.str(), path);
  if (!set) return set.error();
  return std::optional<AccountSet>(std::move(set).value());
}

std::optional<Error> WriteAccountsDir(const std::string& dir, const AccountSet& set, std::string_view source) {
  if (auto e = DuplicateAccount(set)) return e;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError("io", fmt::format("cannot create {}: {}", dir, ec.message()));
  // Credentials first: if a later step fails, a re-run still finds (and keeps) the passwords.
  if (auto e = WriteAtomically(dir + "/credentials.toml", CredentialsToml(set), 0600)) return e;
  // Mosquitto reads these after dropping privileges to its own user: group-readable, not world-readable.
  if (auto e = WriteAtomically(dir + "/passwd", PasswordFile(set), 0640)) return e;
  if (auto e = WriteAtomically(dir + "/acl", AclFile(set, source), 0640)) return e;
  return std::nullopt;
}

}  // namespace kaoko::admin
