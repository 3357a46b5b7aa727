// The kaoko-admin command line: parses arguments and calls the account and backup functions. No logic of its own.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <unistd.h>

#include <iostream>

#include "kaoko/admin/accounts.hpp"
#include "kaoko/admin/backup.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/store/passwords.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::admin {
namespace {

constexpr const char* kHelp = R"(kaoko-admin — accounts and backups of a kaoko network (บัญชีผู้ใช้และการสำรองข้อมูล)

usage:
  kaoko-admin accounts --network <file.toml> --dir <dir> [--demo-passwords]
      Writes <dir>/passwd (Mosquitto password file), <dir>/acl (Mosquitto ACL) and <dir>/credentials.toml
      (mode 0600: every account's password in plain text, to hand out; the service uses [accounts.kaoko]).
      Accounts: the service 'kaoko', every station, every person and every device (tower, siren) of the network file.
      Re-running keeps the passwords already in credentials.toml; new accounts get a random 16-character
      password. --demo-passwords sets every password to demo-<id>: for development and demos ONLY.
      สร้างไฟล์รหัสผ่าน ไฟล์สิทธิ์ และรายการรหัสผ่านสำหรับแจกผู้ใช้ รันซ้ำได้โดยรหัสผ่านเดิมไม่เปลี่ยน

  kaoko-admin add-account --dir <dir> --user <id> --role station|person|tao|service|bridge|device
                          [--village <village>]... [--password <p>] [--tambon <tambon>]
      Adds (or changes) one account and rewrites passwd, acl and credentials.toml. A station or a device (a tower
      or siren) needs exactly one --village; a person reads the alert of each --village given. A bridge from the tier below (docs/tiers.md) is
      named after its node: an edge box's, at the TAO's broker, with its one --village; a TAO's, at a province's
      broker, named after the tambon and without --village. Without --password an existing account keeps
      its password and a new one gets a random one. --tambon is needed only when <dir> has no credentials.toml.
      เพิ่มหรือแก้ไขบัญชีเดียว

  kaoko-admin set-password --db <kaoko.db> --user <id> [--password <p>]
      Sets a person's password for the web pages (stored as an argon2id hash in the service's database) and ends
      their open sessions. Without --password it is read from standard input (one line). To keep one credential for
      the pages and MQTT, give the same password to add-account. The service may run meanwhile.
      ตั้งรหัสผ่านสำหรับหน้าเว็บของผู้ใช้ (เก็บเป็นค่าแฮช argon2id)

  kaoko-admin backup <kaoko.db> <file-or-dir> [--keep N]
      Copies the database while the service runs (SQLite's online backup; the service keeps writing), checks the
      copy with PRAGMA integrity_check and prints what it holds. Given a directory, the file is
      kaoko-<UTC time>.db there and --keep N deletes all but the N newest such files. Never overwrites a file.
      สำรองฐานข้อมูลขณะระบบทำงานอยู่ ตรวจความถูกต้องของสำเนา แล้วแสดงว่ามีข้อมูลอะไรบ้าง

  kaoko-admin restore <backup.db> <kaoko.db>
      Puts a backup in place of the database. The service must be stopped first (systemctl stop kaoko): restore
      refuses while it runs, refuses a damaged backup or one from a newer kaoko, and moves the old file aside to
      <kaoko.db>.before-restore. The service upgrades an older backup's schema when it starts.
      กู้คืนฐานข้อมูลจากไฟล์สำรอง (ต้องหยุดบริการก่อน) ไฟล์เดิมถูกเก็บไว้เป็น .before-restore

  kaoko-admin check <kaoko.db>
      Runs PRAGMA integrity_check on a database or a backup (read-only) and prints what it holds.
      ตรวจความถูกต้องของฐานข้อมูลหรือไฟล์สำรอง และแสดงว่ามีข้อมูลอะไรบ้าง

  kaoko-admin --help

After a change, reload Mosquitto so it rereads passwd and acl: `systemctl reload kaoko-mosquitto` (docs/operations.md;
Debian's own unit: `systemctl reload mosquitto`) or `kill -HUP <pid>`.
หลังแก้ไข ให้สั่ง reload Mosquitto
)";

struct Args {
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> flags;
  bool Has(const std::string& flag) const { return std::find(flags.begin(), flags.end(), flag) != flags.end(); }
  std::string One(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() || it->second.empty() ? std::string() : it->second.back();
  }
  std::vector<std::string> All(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

// Parses "--key value" and "--flag" against the known sets; returns the error text or empty.
std::string Parse(const std::vector<std::string>& args, size_t from, const std::vector<std::string>& with_value,
                  const std::vector<std::string>& flags, Args& out) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string key = a;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      key = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
    }
    if (std::find(with_value.begin(), with_value.end(), key) != with_value.end()) {
      if (inline_value) {
        out.values[key].push_back(*inline_value);
      } else if (i + 1 < args.size()) {
        out.values[key].push_back(args[++i]);
      } else {
        return fmt::format("{} needs a value", key);
      }
    } else if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      out.flags.push_back(a);
    } else {
      return fmt::format("unknown argument '{}'", a);
    }
  }
  return {};
}

int Accounts(const Args& args, std::ostream& out, std::ostream& err) {
  std::string network_file = args.One("--network");
  std::string dir = args.One("--dir");
  if (network_file.empty() || dir.empty()) {
    err << "kaoko-admin accounts: --network and --dir are required (see kaoko-admin --help)\n";
    return 2;
  }
  auto network = config::LoadNetwork(network_file);
  if (!network) {
    err << network.error().reason << "\n";  // already "<file>:<line>:<col>: <what>"
    return 1;
  }
  auto existing = ReadCredentials(dir);
  if (!existing) {
    err << existing.error().reason << "\n";
    return 1;
  }
  bool demo = args.Has("--demo-passwords");
  auto set = MergeNetwork(*network, *existing, demo);
  if (!set) {
    err << set.error().reason << "\n";
    return 1;
  }
  size_t kept = 0;
  if (*existing && !demo) {
    for (const Account& a : set->accounts) {
      const Account* old = (*existing)->Find(a.id);
      if (old && old->password == a.password) ++kept;
    }
  }
  if (auto e = WriteAccountsDir(dir, *set, network_file)) {
    err << e->reason << "\n";
    return 1;
  }
  out << fmt::format("wrote {0}/passwd, {0}/acl and {0}/credentials.toml (mode 0600): {1} accounts for tambon '{2}'",
                     dir, set->accounts.size(), set->tambon);
  if (demo) {
    out << ", DEMO passwords demo-<id>\n";
  } else {
    out << fmt::format(", {} passwords kept, {} new\n", kept, set->accounts.size() - kept);
  }
  return 0;
}

int AddAccountCommand(const Args& args, std::ostream& out, std::ostream& err) {
  std::string dir = args.One("--dir");
  std::string user = args.One("--user");
  std::string role_text = args.One("--role");
  if (dir.empty() || user.empty() || role_text.empty()) {
    err << "kaoko-admin add-account: --dir, --user and --role are required (see kaoko-admin --help)\n";
    return 2;
  }
  auto role = ParseAccountRole(role_text);
  if (!role) {
    err << fmt::format(
        "kaoko-admin add-account: --role must be station, person, tao, service, bridge or device, not '{}'\n",
        role_text);
    return 2;
  }
  auto existing = ReadCredentials(dir);
  if (!existing) {
    err << existing.error().reason << "\n";
    return 1;
  }
  AccountSet set;
  std::string tambon = args.One("--tambon");
  if (*existing) {
    set = std::move(**existing);
    if (!tambon.empty() && tambon != set.tambon) {
      err << fmt::format("{}/credentials.toml is for tambon '{}', not '{}'\n", dir, set.tambon, tambon);
      return 1;
    }
  } else {
    if (!config::IsIdentifier(tambon)) {
      err << fmt::format("{}/credentials.toml does not exist yet: give --tambon <id> (a-z 0-9 -)\n", dir);
      return 2;
    }
    set.tambon = tambon;
  }
  Account account;
  account.id = user;
  account.role = *role;
  account.villages = args.All("--village");
  account.password = args.One("--password");
  bool is_new = set.Find(user) == nullptr;
  auto added = AddAccount(set, account);
  if (!added) {
    err << "kaoko-admin add-account: " << added.error().reason << "\n";
    return 1;
  }
  if (auto e = WriteAccountsDir(dir, set, "kaoko-admin add-account")) {
    err << e->reason << "\n";
    return 1;
  }
  out << fmt::format("{} {} account '{}'; wrote {}/passwd, acl and credentials.toml. Reload Mosquitto (SIGHUP).\n",
                     is_new ? "added" : "updated", ToString(*role), user, dir);
  return 0;
}

int SetPasswordCommand(const Args& args, std::ostream& out, std::ostream& err) {
  std::string db_path = args.One("--db");
  std::string user = args.One("--user");
  if (db_path.empty() || user.empty()) {
    err << "kaoko-admin set-password: --db and --user are required (see kaoko-admin --help)\n";
    return 2;
  }
  if (!config::IsIdentifier(user)) {
    err << fmt::format("kaoko-admin set-password: '{}' is not a user id (1-32 of a-z 0-9 -)\n", user);
    return 2;
  }
  std::string password = args.One("--password");
  if (password.empty() && args.values.count("--password") == 0) {
    if (isatty(STDIN_FILENO)) out << "password: " << std::flush;
    std::getline(std::cin, password);
  }
  if (password.size() < 8) {
    err << "kaoko-admin set-password: the password needs at least 8 characters\n";
    return 2;
  }
  auto db = store::Store::Open(db_path);
  if (!db) {
    err << db.error().reason << "\n";
    return 1;
  }
  server::SetWebPassword(**db, user, password);
  out << fmt::format("set the web password of '{}' in {} (argon2id); their open sessions have ended\n", user, db_path);
  return 0;
}

// "<a> <b> [--keep N]": the positional arguments in order and the options; the error text or empty.
std::string ParsePositional(const std::vector<std::string>& args, size_t count, bool allow_keep,
                            std::vector<std::string>& positional, int& keep, bool& help) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (allow_keep && (a == "--keep" || a.starts_with("--keep="))) {
      std::string v = a == "--keep" ? (i + 1 < args.size() ? args[++i] : std::string()) : a.substr(7);
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos) {
        return fmt::format("--keep wants a number of backups, not '{}'", v);
      }
      keep = std::stoi(v);
    } else if (a.starts_with("--")) {
      return fmt::format("unknown argument '{}'", a);
    } else {
      positional.push_back(a);
    }
  }
  if (!help && positional.size() != count) return fmt::format("wants {} file names, got {}", count, positional.size());
  return {};
}

int BackupCommand(const std::string& db, const std::string& out, int keep, std::ostream& o, std::ostream& err) {
  auto started = std::chrono::steady_clock::now();
  auto b = BackupDatabase(db, out, BackupOptions{.keep = keep});
  if (!b) {
    err << "kaoko-admin backup: " << b.error().reason << "\n";
    return 1;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  o << fmt::format("backed up {} to {} in {:.1f} s; integrity_check ok · สำรองข้อมูลเรียบร้อย\n", db, b->path, seconds);
  o << Describe(b->summary);
  for (const auto& p : b->pruned) o << fmt::format("deleted the older backup {} (--keep {})\n", p, keep);
  return 0;
}

int RestoreCommand(const std::string& backup, const std::string& db, std::ostream& o, std::ostream& err) {
  auto r = RestoreDatabase(backup, db);
  if (!r) {
    err << "kaoko-admin restore: " << r.error().reason << "\n";
    return 1;
  }
  o << fmt::format("restored {} from {} · กู้คืนข้อมูลเรียบร้อย\n", db, backup);
  if (!r->aside.empty()) o << fmt::format("the old database is kept as {} · ไฟล์เดิมเก็บไว้ที่นี่\n", r->aside);
  o << Describe(r->restored);
  if (r->restored.schema_version < store::CurrentSchemaVersion()) {
    o << "the service upgrades its schema when it starts · ระบบจะปรับโครงสร้างข้อมูลเมื่อเริ่มทำงาน\n";
  }
  o << "start the service again: systemctl start kaoko · เริ่มบริการอีกครั้ง\n";
  return 0;
}

int CheckCommand(const std::string& db, std::ostream& o, std::ostream& err) {
  auto s = InspectDatabase(db);
  if (!s) {
    err << "kaoko-admin check: " << s.error().reason << "\n";
    return 1;
  }
  o << fmt::format("{}: integrity_check ok · ตรวจแล้วถูกต้อง\n", db) << Describe(*s);
  if (s->schema_version > store::CurrentSchemaVersion()) {
    o << "made by a newer kaoko than this one: this kaoko cannot use it · สร้างโดย kaoko รุ่นใหม่กว่า\n";
  }
  return 0;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kHelp;
    return 2;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out << kHelp;
    return 0;
  }
  Args parsed;
  try {
    if (command == "accounts") {
      if (auto e = Parse(args, 1, {"--network", "--dir"}, {"--demo-passwords", "--help"}, parsed); !e.empty()) {
        err << "kaoko-admin accounts: " << e << " (see kaoko-admin --help)\n";
        return 2;
      }
      if (parsed.Has("--help")) {
        out << kHelp;
        return 0;
      }
      return Accounts(parsed, out, err);
    }
    if (command == "add-account") {
      if (auto e =
              Parse(args, 1, {"--dir", "--user", "--role", "--village", "--password", "--tambon"}, {"--help"}, parsed);
          !e.empty()) {
        err << "kaoko-admin add-account: " << e << " (see kaoko-admin --help)\n";
        return 2;
      }
      if (parsed.Has("--help")) {
        out << kHelp;
        return 0;
      }
      return AddAccountCommand(parsed, out, err);
    }
    if (command == "set-password") {
      if (auto e = Parse(args, 1, {"--db", "--user", "--password"}, {"--help"}, parsed); !e.empty()) {
        err << "kaoko-admin set-password: " << e << " (see kaoko-admin --help)\n";
        return 2;
      }
      if (parsed.Has("--help")) {
        out << kHelp;
        return 0;
      }
      return SetPasswordCommand(parsed, out, err);
    }
    if (command == "backup" || command == "restore" || command == "check") {
      std::vector<std::string> files;
      int keep = 0;
      bool help = false;
      size_t count = command == "check" ? 1 : 2;
      if (auto e = ParsePositional(args, count, command == "backup", files, keep, help); !e.empty()) {
        err << fmt::format("kaoko-admin {}: {} (see kaoko-admin --help)\n", command, e);
        return 2;
      }
      if (help) {
        out << kHelp;
        return 0;
      }
      if (command == "backup") return BackupCommand(files[0], files[1], keep, out, err);
      if (command == "restore") return RestoreCommand(files[0], files[1], out, err);
      return CheckCommand(files[0], out, err);
    }
  } catch (const std::exception& e) {  // only a broken environment (libsodium, OpenSSL) gets here
    err << "kaoko-admin: " << e.what() << "\n";
    return 1;
  }
  err << fmt::format("kaoko-admin: unknown command '{}' (see kaoko-admin --help)\n", command);
  return 2;
}

}  // namespace kaoko::admin
