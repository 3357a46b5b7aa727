#include "kaoko/http/auth.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include "kaoko/common/clock.hpp"
#include "kaoko/common/log.hpp"

namespace kaoko::server {
namespace {

// Sessions expire in real time, whatever a rehearsal does to kaoko's clock.
std::int64_t NowMs() { return Clock::Wall().Now().time_since_epoch().count(); }

}  // namespace

Result<std::unique_ptr<Auth>> Auth::Open(const std::string& db_path, const alerting::Network& network,
                                         std::map<std::string, std::string> seed_passwords, AuthOptions options) {
  if (sodium_init() < 0) return MakeError("sodium", "libsodium cannot initialise");
  // Sessions are written from the HTTP thread, so the login store has its own connection; NORMAL sync is enough for
  // sessions (a lost one means logging in again), and keeps the core's writer from waiting on our fsyncs.
  auto db = store::Store::Open(db_path, {.read_only = false, .synchronous_full = false});
  if (!db) return db.error();
  return std::unique_ptr<Auth>(new Auth(std::move(*db), network, std::move(seed_passwords), options));
}

Auth::Auth(std::unique_ptr<store::Store> db, const alerting::Network& network, std::map<std::string, std::string> seeds,
           AuthOptions options)
    : db_(std::move(db)), network_(network), seeds_(std::move(seeds)), options_(options) {}

std::chrono::seconds Auth::Blocked(std::deque<std::chrono::steady_clock::time_point>& failures, int max) {
  auto now = std::chrono::steady_clock::now();
  while (!failures.empty() && now - failures.front() >= options_.failure_window) failures.pop_front();
  if (static_cast<int>(failures.size()) < max) return std::chrono::seconds(0);
  auto wait = std::chrono::ceil<std::chrono::seconds>(failures.front() + options_.failure_window - now);
  return std::max(wait, std::chrono::seconds(1));
}

std::optional<std::string> Auth::StoredHash(const std::string& user) { return db_->PasswordHash(user); }

LoginResult Auth::Login(const std::string& user, const std::string& password, const std::string& client) {
  LoginResult out;
  try {
    auto& by_user = user_failures_[user.substr(0, 64)];
    auto& by_ip = ip_failures_[client];
    auto wait =
        std::max(Blocked(by_user, options_.max_failures_per_user), Blocked(by_ip, options_.max_failures_per_ip));
    if (wait.count() > 0) {
      out.status = LoginStatus::kRateLimited;
      out.retry_after = wait;
      out.error =
          fmt::format("too many failed logins; try again in {} s (ลองใหม่อีกครั้งใน {} วินาที)", wait.count(), wait.count());
      return out;
    }
    auto fail = [&] {
      auto now = std::chrono::steady_clock::now();
      by_user.push_back(now);
      by_ip.push_back(now);
      out.status = LoginStatus::kWrongCredentials;
      out.error = "wrong user name or password (ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง)";
      return out;
    };
    const alerting::Person* person = network_.FindPerson(user);
    if (!person) {
      // Spend the same time as a real check, so that the answer does not tell who exists.
      static const std::string kDummy = HashWebPassword("kaoko-no-such-user");
      (void)VerifyWebPassword(password, kDummy);
      return fail();
    }
    if (auto hash = StoredHash(user)) {
      if (!VerifyWebPassword(password, *hash)) return fail();
    } else {
      auto seed = seeds_.find(user);
      if (seed == seeds_.end() || seed->second.size() != password.size() ||
          sodium_memcmp(seed->second.data(), password.data(), password.size()) != 0) {
        return fail();
      }
      // First login with the broker's password: from now on the web password lives as its own argon2id hash.
      SetWebPassword(*db_, user, password);
      log::Info("auth", "stored the web password hash of {} (seeded from the credentials file)", user);
    }
    by_user.clear();
    std::string token = RandomToken();
    std::string csrf = RandomToken();
    std::int64_t now = NowMs();
    const store::TimePoint at{std::chrono::milliseconds(now)};
    db_->AddSession({TokenHash(token), user, csrf, at,
                     at + std::chrono::duration_cast<std::chrono::milliseconds>(options_.session_lifetime)},
                    at);
    out.status = LoginStatus::kOk;
    out.token = token;
    out.principal = Principal{person, csrf, TokenHash(token)};
    return out;
  } catch (const std::exception& e) {
    log::Error("auth", "login of {} failed: {}", user.substr(0, 64), e.what());
    out.status = LoginStatus::kError;
    out.error = "login is not possible right now; see the service log";
    return out;
  }
}

std::optional<Principal> Auth::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 128) return std::nullopt;
  try {
    std::string hash = TokenHash(token);
    auto session = db_->Session(hash);
    if (!session) return std::nullopt;
    if (session->expires.time_since_epoch().count() <= NowMs()) return std::nullopt;
    const alerting::Person* person = network_.FindPerson(session->user);
    if (!person) return std::nullopt;  // left the network file
    return Principal{person, session->csrf, hash};
  } catch (const std::exception& e) {
    if (log::ShouldLog("auth_db")) log::Error("auth", "session look-up failed: {}", e.what());
    return std::nullopt;
  }
}

void Auth::Logout(const std::string& token_hash) {
  try {
    db_->DeleteSession(token_hash);
  } catch (const std::exception& e) {
    log::Error("auth", "logout failed: {}", e.what());
  }
}

}  // namespace kaoko::server
