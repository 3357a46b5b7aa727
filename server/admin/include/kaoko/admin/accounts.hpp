// Broker accounts for one tambon: who may connect to Mosquitto (the password file), what each one may publish and
// read (the ACL), and the plaintext credentials the operator hands out (credentials.toml, mode 0600). The contract's
// publish/read rules (shared/spec/protocol.md, "MQTT topics") are turned into ACL lines here and nowhere else.
//
//   auto set = kaoko::admin::MergeNetwork(network, existing, /*demo=*/false);   // keeps existing passwords
//   auto error = kaoko::admin::WriteAccountsDir("/etc/kaoko/broker", set.value());
//
// Everything here is plain functions over values; only WriteAccountsDir and ReadCredentials touch the file system.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::admin {

// The service's own MQTT account; reads and writes everything under kaoko/.
inline constexpr std::string_view kServiceAccount = "kaoko";

// What an account is, as far as the broker cares. The people's roles (watcher, committee, headman, deputy) all map to
// kPerson: the broker lets every person publish report/{self} and decision/{self}, and the service refuses a decision
// the role may not take with a receipt that says why (the contract), which it could not do if the broker dropped it.
//
// kBridge is a Mosquitto bridge from the tier below (docs/tiers.md), named after the node it carries: an edge box's
// bridge at the TAO's broker has one village (its journal and heartbeat up; its journal ack and that village's alert,
// siren, notifications and receipts down); a TAO's bridge at a province's broker has none and is named after its
// tambon (its journal and heartbeat, its villages' alerts and its CAP document up; its journal ack down).
//
// kDevice is a village's broadcast tower or siren (docs/delivery.md, "The tower and the siren"), with exactly one
// village: it reads that village's siren and announce topics and publishes only its own device/{id}/sounded and
// device/{id}/status; nothing personal (no notify, no receipt) ever reaches it.
enum class AccountRole { kStation, kPerson, kTao, kService, kBridge, kDevice };
const char* ToString(AccountRole role);  // "station", "person", "tao", "service", "bridge", "device"
std::optional<AccountRole> ParseAccountRole(std::string_view text);

struct Account {
  std::string id;  // MQTT user name: a contract identifier
  AccountRole role = AccountRole::kPerson;
  std::vector<std::string>
      villages;               // a station, a device: exactly its own; a person: the villages whose alert they read
  std::string password;       // plaintext; only ever written to credentials.toml
  std::string name;           // display name for the operator's list (may be empty)
  bool from_network = false;  // true: comes from the network file and goes when it leaves it
};

struct AccountSet {
  std::string tambon;             // every topic in the ACL is tightened to kaoko/v1/<tambon>/...
  bool demo = false;              // passwords are the well-known demo-<id>; never for a real deployment
  std::vector<Account> accounts;  // sorted: service, stations, people, others; unique ids

  const Account* Find(std::string_view id) const;
  Account* Find(std::string_view id);
};

// "demo-<id>". Thread-safe.
std::string DemoPassword(std::string_view id);

// 16 characters drawn uniformly (libsodium randombytes_uniform) from letters and digits without the look-alikes
// 0 O o 1 l I, so it can be read out over the phone. About 91 bits. Thread-safe.
std::string RandomPassword();

// The Mosquitto 2.0 password-file hash of `password`: "$7$<iterations>$<base64 salt>$<base64 sha512-pbkdf2>", the
// format mosquitto_passwd writes (12-byte salt, 64-byte PBKDF2-HMAC-SHA512). A fresh random salt when `salt` is empty.
// Thread-safe.
std::string HashPassword(std::string_view password, std::string_view salt = {}, int iterations = 101);

// True when `password` matches a "$7$..." hash as written by HashPassword or mosquitto_passwd. Thread-safe.
bool VerifyPassword(std::string_view password, std::string_view hash);

// The accounts of a network file: the service, every station (its village), every person (their village; TAO
// officers none), every device (its village). Passwords are taken from `existing` where an account of the same id is
// there, so re-running does not rotate anyone by surprise; otherwise demo-<id> when `demo`, else random. A non-demo run
// replaces demo passwords. Accounts in `existing` that were added by hand (from_network false) are kept; network
// accounts that left the network file are dropped. Returns an error when `existing` belongs to another tambon. Never
// throws.
Result<AccountSet> MergeNetwork(const alerting::Network& network, const std::optional<AccountSet>& existing, bool demo);

// Adds or updates one account (by id) with validation: a contract identifier, not the service's name unless the role
// is service, a station or a device with exactly one village, villages that are identifiers. An empty password keeps
// the existing one, or picks one (demo or random) for a new account. Returns the account as stored. Never throws.
Result<Account> AddAccount(AccountSet& set, Account account);

// The Mosquitto password file for `set` (one "user:$7$..." line each). Thread-safe.
std::string PasswordFile(const AccountSet& set);

// The Mosquitto ACL file for `set`. `source` names where the accounts came from, for the header comment.
// Thread-safe.
std::string AclFile(const AccountSet& set, std::string_view source);

// credentials.toml text (plaintext passwords, with a warning header). Thread-safe.
std::string CredentialsToml(const AccountSet& set);

// Parses credentials.toml text; `name` is used in error messages ("<name>:<line>:<col>: ..."). Never throws.
Result<AccountSet> ParseCredentials(std::string_view text, const std::string& name);

// Reads <dir>/credentials.toml; nullopt when the file does not exist, an error when it cannot be read or parsed.
Result<std::optional<AccountSet>> ReadCredentials(const std::string& dir);

// Writes <dir>/passwd, <dir>/acl and <dir>/credentials.toml (mode 0600), each atomically (temp file + rename), creating
// <dir> if needed. Returns the error, or nullopt on success. Not thread-safe for the same dir.
[[nodiscard]] std::optional<Error> WriteAccountsDir(const std::string& dir, const AccountSet& set,
                                                    std::string_view source);

// The kaoko-admin command line (argv without the program name). Writes what it did to `out`, problems to `err`.
// Returns the process exit code: 0 ok, 1 failure, 2 usage error.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace kaoko::admin
