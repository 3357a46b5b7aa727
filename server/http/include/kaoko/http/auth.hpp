// People's web logins: argon2id password hashes and sessions in SQLite, login rate limits, and who a request is.
//
// A person is a `[[people]]` entry of the network file; their login name is their id (the same as their MQTT user).
// Passwords are stored as libsodium `crypto_pwhash_str` (argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE) in `users`; a
// session is a random 32-byte token in an HttpOnly, SameSite=Strict cookie of which only the BLAKE2b hash is stored
// (`sessions`), with a random CSRF token that state-changing requests must echo in the X-CSRF-Token header.
// A person without a stored hash may log in with the password of the broker's credentials file (the "seed"); the
// first such login stores its hash, so one credential serves both the web pages and MQTT (docs/screens.md).
//
//   auto auth = Auth::Open(db_path, network, seed_passwords);
//   auto r = auth.value()->Login("somchai", "demo-somchai", "127.0.0.1");
//   if (r.status == LoginStatus::kOk) set_cookie(r.token);
//   std::optional<Principal> who = auth.value()->Authenticate(cookie_token);
//
// Thread safety: an Auth is not thread-safe (one connection, one HTTP thread owns it). The free functions are.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"
#include "kaoko/store/passwords.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::server {

// Who is logged in, as the HTTP API sees them.
struct Principal {
  const alerting::Person* person = nullptr;  // points into the network
  std::string csrf;                          // the session's CSRF token
  std::string token_hash;
};

struct AuthOptions {
  std::chrono::seconds session_lifetime{std::chrono::hours(12)};
  // Failed logins allowed per window, per user name and per client address; past that, 429 until the window moves.
  int max_failures_per_user = 5;
  int max_failures_per_ip = 20;
  std::chrono::seconds failure_window{std::chrono::minutes(1)};
};

enum class LoginStatus { kOk, kWrongCredentials, kRateLimited, kError };

struct LoginResult {
  LoginStatus status = LoginStatus::kError;
  std::string token;  // the cookie's value (kOk)
  std::optional<Principal> principal;
  std::chrono::seconds retry_after{0};  // kRateLimited
  std::string error;
};

class Auth {
 public:
  // Opens a read-write connection to the database at `db_path` (migrated by Store::Open). `seed_passwords` maps a
  // person's id to the password of the broker's credentials file, used only while the person has no stored hash.
  // Returns an error naming the database problem.
  static Result<std::unique_ptr<Auth>> Open(const std::string& db_path, const alerting::Network& network,
                                            std::map<std::string, std::string> seed_passwords,
                                            AuthOptions options = {});

  // Checks the rate limits, then the password; on success creates a session. `client` is the peer's address.
  // Never throws. Takes about 0.1 s (argon2id) when the password is checked.
  LoginResult Login(const std::string& user, const std::string& password, const std::string& client);
  // The person of a live session token (the cookie's value); nullopt for an unknown or expired one. Never throws.
  std::optional<Principal> Authenticate(std::string_view token);
  // Ends the session of `token_hash`. Never throws.
  void Logout(const std::string& token_hash);

 private:
  Auth(std::unique_ptr<store::Store> db, const alerting::Network& network, std::map<std::string, std::string> seeds,
       AuthOptions options);
  // Seconds until `key` may try again; zero when it may now. Drops failures older than the window.
  std::chrono::seconds Blocked(std::deque<std::chrono::steady_clock::time_point>& failures, int max);
  std::optional<std::string> StoredHash(const std::string& user);

  std::unique_ptr<store::Store> db_;
  const alerting::Network& network_;
  std::map<std::string, std::string> seeds_;
  AuthOptions options_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> user_failures_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> ip_failures_;
};

}  // namespace kaoko::server
