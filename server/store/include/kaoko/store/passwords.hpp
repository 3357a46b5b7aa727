// Web passwords and session tokens (libsodium), header-only so that both the service and `kaoko-admin set-password`
// use exactly the same hashing without kaoko-admin linking the whole service.
// Every function is thread-safe once libsodium is initialised (each calls sodium_init(), which is idempotent).
#pragma once

#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kaoko/store/store.hpp"

namespace kaoko::server {

// An argon2id hash of `password` in libsodium's string format ("$argon2id$v=19$m=65536,t=2,p=1$..."), with the
// INTERACTIVE limits (about 0.1 s and 64 MiB on a small server). Throws std::runtime_error when libsodium cannot
// initialise or allocate.
inline std::string HashWebPassword(std::string_view password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("argon2id: out of memory");
  }
  return out;
}

// True when `password` matches `hash` (whatever crypto_pwhash_str parameters it was made with).
inline bool VerifyWebPassword(std::string_view password, const std::string& hash) {
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// Stores the hash of `password` as `user`'s web password in `db` (schema 3 or later) and ends the person's open
// sessions, in one transaction. Throws on a database error.
inline void SetWebPassword(store::Store& db, std::string_view user, std::string_view password) {
  std::string hash = HashWebPassword(password);
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  db.SetPasswordHash(user, hash, now);
}

// BLAKE2b-256 of a session token, as lower-case hex: what the sessions table keeps instead of the token.
inline std::string TokenHash(std::string_view token) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr,
                     0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

// 32 random bytes as URL-safe base64 without padding (43 characters). Throws when libsodium cannot initialise.
inline std::string RandomToken() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

}  // namespace kaoko::server
