#include "kaoko/server/http.hpp"

#include <fmt/format.h>

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "kaoko/server/engine_codec.hpp"
#include "kaoko/server/log.hpp"
#include "kaoko/server/render.hpp"

namespace kaoko::server {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

Response Json(const Request& req, http::status status, const json& body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response ErrorJson(const Request& req, http::status status, std::string_view message) {
  return Json(req, status, json{{"error", message}});
}

json ThresholdJson(const alerting::Threshold& t) {
  return json{{"cm", t.cm}, {"landmark_th", t.landmark_th}, {"landmark_en", t.landmark_en}};
}

json ReadingJson(const store::StoredReading& r) {
  json j{{"seq", r.seq}, {"ts", wire::FormatTime(r.ts)}, {"level_cm", r.level_cm}};
  if (r.rain_mm) j["rain_mm"] = *r.rain_mm;
  if (r.battery_v) j["battery_v"] = *r.battery_v;
  return j;
}

// Splits "/a/b?x=1&y=2" into the path and its decoded query parameters.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
  bool ok = true;
};
Target ParseTarget(std::string_view target) {
  Target t;
  auto q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto key = UrlDecode(pair.substr(0, eq));
    auto value = UrlDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) t.ok = false;
    else t.query[*key] = *value;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return t;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

// One connection: read a request, answer it, repeat while keep-alive (after Beast's http_session).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, HttpApi& api) : stream_(std::move(socket)), api_(api) {}
  void Run() {
    // Post our work to the strand: the session's members are then never touched concurrently.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
  }
  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      return Send(ErrorJson(req, http::status::payload_too_large,
                            fmt::format("request body is larger than {} bytes", kMaxRequestBody)));
    }
    if (ec) {
      Request req;
      req.version(11);
      req.keep_alive(false);
      return Send(ErrorJson(req, http::status::bad_request, fmt::format("malformed HTTP request: {}", ec.message())));
    }
    Send(api_.Handle(parser_->release()));
  }
  void Send(Response res) {
    res_ = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *res_, beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(),
                                                                 res_->keep_alive()));
  }
  void OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return Close();
    if (!keep_alive) return Close();
    res_.reset();
    Read();
  }
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  HttpApi& api_;
};

}  // namespace

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

HttpApi::HttpApi(const alerting::Network& network, Core& core, Metrics& metrics,
                 std::unique_ptr<store::Store> reader, std::function<Health()> health)
    : network_(network), core_(core), metrics_(metrics), reader_(std::move(reader)), health_(std::move(health)) {}

Response HttpApi::Handle(const Request& req) {
  try {
    auto res = Route(req);
    metrics_.Count("kaoko_http_requests_total", std::to_string(res.result_int()));
    return res;
  } catch (const std::exception& e) {
    log::Error("http", "{} {} failed: {}", std::string(req.method_string()), std::string(req.target()), e.what());
    return ErrorJson(req, http::status::internal_server_error, "internal error; see the service log");
  }
}

Response HttpApi::Route(const Request& req) {
  Target target = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  if (!target.ok) return ErrorJson(req, http::status::bad_request, "malformed query string");
  auto seg = Segments(target.path);
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  auto method_not_allowed = [&](const char* allowed) {
    auto res = ErrorJson(req, http::status::method_not_allowed,
                         fmt::format("{} is not allowed here; use {}", std::string(req.method_string()), allowed));
    res.set(http::field::allow, allowed);
    return res;
  };

  if (seg.size() == 1 && seg[0] == "healthz") {
    if (!get) return method_not_allowed("GET");
    Health h = health_();
    if (h.database.empty()) {
      try {
        reader_->CountReadings();
      } catch (const std::exception& e) {
        h.database = e.what();
      }
    }
    bool ok = h.broker.empty() && h.database.empty();
    json body{{"ok", ok},
              {"broker", h.broker.empty() ? json("ok") : json(h.broker)},
              {"database", h.database.empty() ? json("ok") : json(h.database)}};
    return Json(req, ok ? http::status::ok : http::status::service_unavailable, body);
  }
  if (seg.size() == 1 && seg[0] == "metrics") {
    if (!get) return method_not_allowed("GET");
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(req.keep_alive());
    res.body() = metrics_.Render();
    res.prepare_payload();
    return res;
  }
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") {
    return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", target.path));
  }
  seg.erase(seg.begin(), seg.begin() + 2);

  if (seg.size() == 1 && seg[0] == "villages") {
    if (!get) return method_not_allowed("GET");
    json out = json::array();
    for (const auto& a : core_.Villages()) {
      const alerting::Village* v = network_.FindVillage(a.village);
      json j = json::parse(RenderAlert(a));
      if (v) {
        j["name_th"] = v->name_th;
        j["name_en"] = v->name_en;
        j["order"] = network_.VillageIndex(v->id);
        j["travel_to_next_minutes"] = v->travel_to_next.count() / 60;
      }
      out.push_back(std::move(j));
    }
    return Json(req, http::status::ok, out);
  }
  if (seg.size() == 1 && seg[0] == "stations") {
    if (!get) return method_not_allowed("GET");
    json out = json::array();
    for (const auto& view : core_.Stations()) {
      const auto& st = *view.station;
      json j{{"id", st.id},
             {"village", st.village},
             {"name_th", st.name_th},
             {"name_en", st.name_en},
             {"thresholds",
              {{"watch", ThresholdJson(st.watch)},
               {"warning", ThresholdJson(st.warning)},
               {"critical", ThresholdJson(st.critical)}}},
             {"latest", view.latest ? ReadingJson(*view.latest) : json(nullptr)},
             {"health", view.health},
             {"level", alerting::ToString(view.level)},
             {"problems", view.problems},
             {"silenced_until", view.silenced_until ? json(wire::FormatTime(*view.silenced_until)) : json(nullptr)},
             {"online", view.online ? json(*view.online) : json(nullptr)}};
      out.push_back(std::move(j));
    }
    return Json(req, http::status::ok, out);
  }
  if (seg.size() == 3 && seg[0] == "stations" && seg[2] == "readings") {
    if (!get) return method_not_allowed("GET");
    std::string id(seg[1]);
    if (!network_.FindStation(id)) return ErrorJson(req, http::status::not_found, fmt::format("no station '{}'", id));
    // Defaults: the last day on kaoko's clock (which runs fast in a rehearsal).
    auto now = core_.Now();
    wire::TimePoint since = now - std::chrono::hours(24);
    wire::TimePoint until = now + std::chrono::hours(24);
    for (auto [key, dest] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
      auto it = target.query.find(key);
      if (it == target.query.end()) continue;
      auto t = wire::ParseTime(it->second);
      if (!t) return ErrorJson(req, http::status::bad_request, fmt::format("{}: {}", key, t.error().reason));
      *dest = *t;
    }
    if (since > until) return ErrorJson(req, http::status::bad_request, "since is after until");
    int limit = 20000;
    auto rows = reader_->Readings(id, since, until, limit + 1);
    bool truncated = static_cast<int>(rows.size()) > limit;
    if (truncated) rows.resize(static_cast<size_t>(limit));
    json out = json::array();
    for (const auto& r : rows) out.push_back(ReadingJson(r));
    auto res = Json(req, http::status::ok, out);
    if (truncated) {
      res.set("X-Kaoko-Truncated", fmt::format("first {} readings; ask again with since after the last", limit));
    }
    return res;
  }
  if (seg.size() == 1 && seg[0] == "incidents") {
    if (!get) return method_not_allowed("GET");
    auto it = target.query.find("status");
    if (it != target.query.end() && it->second != "open" && it->second != "all") {
      return ErrorJson(req, http::status::bad_request, "status must be open or all");
    }
    bool open_only = it == target.query.end() || it->second == "open";
    json out = json::array();
    for (const auto& row : reader_->Incidents(open_only, 1000)) {
      auto inc = DecodeIncident(row.state);
      if (!inc) continue;
      out.push_back(IncidentPublicJson(*inc));
    }
    return Json(req, http::status::ok, out);
  }
  if (seg.size() == 2 && seg[0] == "incidents") {
    if (!get) return method_not_allowed("GET");
    std::string id_text(seg[1]);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
      return ErrorJson(req, http::status::bad_request, fmt::format("incident id '{}' is not a positive number", id_text));
    }
    auto row = reader_->Incident(id);
    if (!row) return ErrorJson(req, http::status::not_found, fmt::format("no incident {}", id));
    auto inc = DecodeIncident(row->state);
    if (!inc) return ErrorJson(req, http::status::internal_server_error, inc.error().reason);
    json j = IncidentPublicJson(*inc);
    json timeline = json::array();
    for (const auto& e : reader_->Timeline(id)) {
      timeline.push_back(json{{"ts", wire::FormatTime(e.ts)},
                              {"kind", e.kind},
                              {"actor", e.actor},
                              {"via", e.via},
                              {"text_th", e.text_th},
                              {"text_en", e.text_en}});
    }
    j["timeline"] = std::move(timeline);
    return Json(req, http::status::ok, j);
  }
  if (seg.size() == 1 && seg[0] == "cap") {
    if (!get) return method_not_allowed("GET");
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/cap+xml; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = core_.Cap();
    res.prepare_payload();
    return res;
  }
  if (seg.size() == 3 && seg[0] == "incidents" && seg[2] == "decisions") {
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return ErrorJson(req, http::status::unauthorized, "log in first: decisions need a session of the right role");
  }
  return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", target.path));
}

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpApi& api)
    : io_(io), acceptor_(asio::make_strand(io)), api_(api) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

unsigned short HttpServer::port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::Start() { Accept(); }

void HttpServer::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      if (log::ShouldLog("http_accept")) log::Warn("http", "accept failed: {}", ec.message());
    } else {
      std::make_shared<HttpSession>(std::move(socket), api_)->Run();
    }
    Accept();
  });
}

}  // namespace kaoko::server
