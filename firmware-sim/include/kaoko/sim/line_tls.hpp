// The stand-in for LINE's Messaging API: TLS for its HTTPS side. A self-signed certificate for the loopback
// address (made with OpenSSL's API, so a test needs no `openssl` command), and the server context that uses it.
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

namespace kaoko::sim {

struct LinePem {
  std::string certificate;  // PEM; also what a client trusts (its own CA)
  std::string private_key;  // PEM
};

// A new P-256 key and a self-signed certificate valid for 30 days, for CN=localhost with subjectAltName
// DNS:localhost and IP:127.0.0.1 (curl checks the name against the address it connects to). Throws
// std::runtime_error when OpenSSL fails.
[[nodiscard]] LinePem MakeSelfSignedCertificate();
// A TLS 1.2+ server context over `pem`. Throws boost::system::system_error on a bad certificate or key.
[[nodiscard]] boost::asio::ssl::context LineServerTlsContext(const LinePem& pem);

}  // namespace kaoko::sim
