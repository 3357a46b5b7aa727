// X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body)), with OpenSSL.
#include "kaoko/sim/line_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace kaoko::sim {

std::string LineSignature(std::string_view channel_secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), channel_secret.data(), static_cast<int>(channel_secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::string out(4 * ((mac_len + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool VerifyLineSignature(std::string_view channel_secret, std::string_view body, std::string_view signature) {
  std::string expected = LineSignature(channel_secret, body);
  return expected.size() == signature.size() && CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

}  // namespace kaoko::sim
