// HttpApi (http.hpp): one request in, one answer out, through the route table (router.cpp); the live feed's
// handshake and incidents; UrlDecode.
#include <fmt/format.h>

#include "api.hpp"
#include "kaoko/common/log.hpp"
#include "kaoko/ingest/engine_codec.hpp"

namespace kaoko::server {

using json = nlohmann::json;

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

HttpApi::HttpApi(const alerting::Network& network, Core& core, Metrics& metrics, std::unique_ptr<store::Store> reader,
                 std::function<Health()> health, std::unique_ptr<Auth> auth, WebOptions web)
    : ctx_(new ApiContext{network, core, metrics, std::move(reader), std::move(health), std::move(auth),
                          std::move(web)}) {}

HttpApi::~HttpApi() = default;

Response HttpApi::Handle(const Request& req, const std::string& client) {
  try {
    std::optional<Response> res;
    if (extra_) res = extra_(req);
    if (!res) res = RouteRequest(*ctx_, req, client);
    ctx_->metrics.Count("kaoko_http_requests_total", std::to_string(res->result_int()));
    return std::move(*res);
  } catch (const std::exception& e) {
    log::Error("http", "{} {} failed: {}", std::string(req.method_string()), std::string(req.target()), e.what());
    return ErrorJson(req, http::status::internal_server_error, "internal error; see the service log");
  }
}

std::variant<LiveFilter, Response> HttpApi::LiveUpgrade(const Request& req) {
  // A page of another site must not ride the cookie into our live feed (cross-site WebSocket hijacking).
  if (auto origin = req.find(http::field::origin); origin != req.end()) {
    auto host = req.find(http::field::host);
    std::string_view o(origin->value().data(), origin->value().size());
    auto scheme = o.find("://");
    if (host == req.end() || scheme == std::string_view::npos ||
        o.substr(scheme + 3) != std::string_view(host->value().data(), host->value().size())) {
      return ErrorJson(req, http::status::forbidden, "the live feed is for this service's own pages");
    }
  }
  auto who = SessionOf(*ctx_, req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const auto& p = *std::get<Principal>(who).person;
  return LiveFilter{p.id, p.village, alerting::IsTambonWide(p.role)};
}

std::optional<json> HttpApi::IncidentJson(std::int64_t id) {
  try {
    auto row = ctx_->reader->Incident(id);
    if (!row) return std::nullopt;
    auto inc = DecodeIncident(row->state);
    if (!inc) return std::nullopt;
    return IncidentPublicJson(*inc);
  } catch (const std::exception& e) {
    if (log::ShouldLog("live_incident")) log::Warn("live", "incident {} not readable: {}", id, e.what());
    return std::nullopt;
  }
}

void HttpApi::SetDelivery(delivery::Delivery* delivery) { ctx_->delivery = delivery; }

}  // namespace kaoko::server
