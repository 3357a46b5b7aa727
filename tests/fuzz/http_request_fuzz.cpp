// Fuzzes the HTTP request parsing of the service as it is configured in server/http/src/session.cpp: Boost.Beast's
// request_parser<string_body> with a 64 KiB body limit and a 16 KiB header limit, fed the way http::async_read feeds
// it (a growing buffer, the unconsumed part handed again after each read). A request that parses is then treated as
// the decisions endpoint does: the body as JSON, completed with incident, id and ts, through wire::ParseDecision;
// query values go through wire::ParseTime, as `since` and `until` do.
//
// UrlDecode itself lives in http_api.cpp with the whole HTTP server; it is not compiled here (see README.md).
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

namespace http = boost::beast::http;
using json = nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte decides how the rest arrives: in reads of 1..256 bytes, as a slow or chunky client sends it.
  const std::size_t step = 1 + data[0];
  const char* text = reinterpret_cast<const char*>(data + 1);
  const std::size_t total = size - 1;

  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  parser.header_limit(16 * 1024);
  boost::beast::error_code ec;
  std::size_t consumed = 0;
  std::size_t received = 0;
  while (!parser.is_done()) {
    if (received == consumed || ec == http::error::need_more) {
      if (received == total) {
        // The client closed the connection: as http::read does, a parser that saw nothing reports end_of_stream.
        if (!parser.got_some()) return 0;
        parser.put_eof(ec);
        break;
      }
      received = std::min(total, received + step);
    }
    ec = {};
    consumed += parser.put(boost::asio::const_buffer(text + consumed, received - consumed), ec);
    if (ec && ec != http::error::need_more) return 0;  // a 400 or 413 for the client
  }
  if (ec || !parser.is_done()) return 0;
  const http::request<http::string_body>& req = parser.get();

  // Query values, undecoded: the readings endpoint hands `since` and `until` to ParseTime.
  std::string_view target(req.target().data(), req.target().size());
  if (auto q = target.find('?'); q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      if (auto eq = pair.find('='); eq != std::string_view::npos) (void)kaoko::wire::ParseTime(pair.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
  }

  // POST /api/v1/incidents/{id}/decisions: as ParseWebDecision (server/http/src/decisions.cpp) prepares the body for
  // ParseDecision.
  (void)kaoko::wire::ParseDecision(req.body());
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object()) return 0;
  const std::int64_t id = 17;
  if (!body.contains("incident")) body["incident"] = id;
  if (!body.contains("id")) body["id"] = "web-0123456789abcdef";
  if (!body.contains("ts")) body["ts"] = "2026-11-27T04:31:00Z";
  if (!body["incident"].is_number_integer() || body["incident"].get<std::int64_t>() != id) return 0;
  auto decision = kaoko::wire::ParseDecision(body.dump());
  if (decision) KAOKO_FUZZ_CHECK(decision->incident == id);
  return 0;
}
