// Boost's assertion handler for the builds with assertions on (the test build, the fuzzers): every failed
// BOOST_ASSERT is reported and aborts, as the default does, except one assertion of Boost.Beast 1.74 (Debian 12)
// that is known to be wrong: basic_parser::parse_chunk_header asserts `n >= 5` where a chunked body's final chunk
// can legally arrive in pieces of fewer bytes ("0\r\n" then "\r" then "\n"); the code after it returns need_more
// correctly, and builds without assertions (the service's) never see it. Fixed upstream (boostorg/beast#2861,
// Boost 1.86); tests/fuzz's http_request harness found it. CMake defines BOOST_ENABLE_ASSERT_HANDLER only where
// assertions are on (server/CMakeLists.txt, tests/fuzz/CMakeLists.txt).
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(function, "parse_chunk_header") != nullptr &&
      std::strstr(file, "beast/http/impl/basic_parser.ipp") != nullptr) {
    return;  // the known false assertion above
  }
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
