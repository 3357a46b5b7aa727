#include "kaoko/http/http.hpp"

#include <fmt/format.h>

#include <malloc.h>
#include <sodium.h>
#include <sys/stat.h>

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kaoko/alerting/cap.hpp"
#include "kaoko/ingest/engine_codec.hpp"
#include "kaoko/common/log.hpp"
#include "kaoko/contract/render.hpp"
#include "kaoko/store/retention.hpp"

namespace kaoko::server {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

// A JSON answer from its text.
Response JsonText(const Request& req, http::status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response Json(const Request& req, http::status status, const json& body) { return JsonText(req, status, Dump(body)); }

// A long list written one element at a time: only one element's tree is ever built (the trees of 150,000 stations
// at once took 600 MB more than the text they make).
class JsonList {
 public:
  void Reserve(std::size_t bytes) { body_.reserve(bytes); }
  void Add(const json& element) {
    body_ += body_.empty() ? '[' : ',';
    body_ += Dump(element);
  }
  Response Done(const Request& req, http::status status) {
    body_ += body_.empty() ? "[]" : "]";
    return JsonText(req, status, std::move(body_));
  }

 private:
  std::string body_;
};

Response ErrorJson(const Request& req, http::status status, std::string_view message) {
  return Json(req, status, json{{"error", message}});
}

json ThresholdJson(const alerting::Station& s, alerting::Level level) {
  const alerting::Threshold* t = alerting::ThresholdOf(s, level);
  return json{{"cm", t->cm}, {"landmark_th", s.landmark_th(level)}, {"landmark_en", s.landmark_en(level)}};
}

json ReadingJson(const store::StoredReading& r) {
  json j{{"seq", r.seq}, {"ts", wire::FormatTime(r.ts)}, {"level_cm", r.level_cm}};
  if (r.rain_mm) j["rain_mm"] = *r.rain_mm;
  if (r.battery_v) j["battery_v"] = *r.battery_v;
  return j;
}

// An hour that retention folded (retention.hpp): at the hour's start, level_cm is the hour's mean; "hourly": true
// tells it from a raw reading (kaoko's addition to the contract).
json HourlyJson(const store::HourlyReading& h) {
  json j{{"ts", wire::FormatTime(h.hour)}, {"level_cm", h.level_mean_cm},       {"hourly", true},
         {"count", h.count},               {"level_min_cm", h.level_min_cm},     {"level_max_cm", h.level_max_cm}};
  if (h.rain_mm) j["rain_mm"] = *h.rain_mm;
  if (h.battery_min_v) j["battery_min_v"] = *h.battery_min_v;
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
  HttpSession(tcp::socket&& socket, HttpApi& api, LiveHub* hub) : stream_(std::move(socket)), api_(api), hub_(hub) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
  }
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
    Request req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
      std::string_view target(req.target().data(), req.target().size());
      if (hub_ && target.substr(0, target.find('?')) == "/api/v1/live") {
        auto verdict = api_.LiveUpgrade(req);
        if (auto* filter = std::get_if<LiveFilter>(&verdict)) {
          // The hub's session takes the socket over; this HTTP session ends here.
          stream_.expires_never();
          hub_->Accept(stream_.release_socket(), std::move(req), std::move(*filter));
          return;
        }
        return Send(std::move(std::get<Response>(verdict)));
      }
    }
    Send(api_.Handle(req, client_));
  }
  void Send(Response res) {
    res_ = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *res_, beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(),
                                                                 res_->keep_alive()));
  }
  void OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
    // A large answer (every station of a country-sized network: 90 MB of text, built from 150,000 views) leaves
    // freed memory that glibc keeps: about 170 MB more resident until it is given back here (docs/architecture.md).
    const bool large = res_ && res_->body().size() > kGiveBackAfter;
    res_.reset();
    if (large) malloc_trim(0);
    if (ec) return Close();
    if (!keep_alive) return Close();
    Read();
  }
  static constexpr std::size_t kGiveBackAfter = 8u << 20;
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  HttpApi& api_;
  LiveHub* hub_;
  std::string client_;
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
                 std::unique_ptr<store::Store> reader, std::function<Health()> health, std::unique_ptr<Auth> auth,
                 WebOptions web)
    : network_(network),
      core_(core),
      metrics_(metrics),
      reader_(std::move(reader)),
      health_(std::move(health)),
      auth_(std::move(auth)),
      web_(std::move(web)) {}

Response HttpApi::Handle(const Request& req, const std::string& client) {
  try {
    auto res = Route(req, client);
    metrics_.Count("kaoko_http_requests_total", std::to_string(res.result_int()));
    return res;
  } catch (const std::exception& e) {
    log::Error("http", "{} {} failed: {}", std::string(req.method_string()), std::string(req.target()), e.what());
    return ErrorJson(req, http::status::internal_server_error, "internal error; see the service log");
  }
}

Response HttpApi::Route(const Request& req, const std::string& client) {
  if (extra_) {
    if (auto res = extra_(req)) return std::move(*res);
  }
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
        // A cheap read proves the file readable; counting the readings would scan years of them on every probe.
        reader_->CountStations();
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
  if (seg.empty() || seg[0] != "api") return Static(req, target.path);
  if (seg.size() < 2 || seg[1] != "v1") {
    return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", target.path));
  }
  seg.erase(seg.begin(), seg.begin() + 2);

  // The people's session and actions (docs/screens.md).
  if (seg.size() == 1 && seg[0] == "login") {
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return Login(req, client);
  }
  if (seg.size() == 1 && seg[0] == "logout") {
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return Logout(req);
  }
  if (seg.size() == 1 && seg[0] == "me") {
    if (!get) return method_not_allowed("GET");
    return Me(req);
  }
  if (seg.size() == 2 && seg[0] == "me" && seg[1] == "notifications") {
    if (!get) return method_not_allowed("GET");
    return MyNotifications(req);
  }
  if (seg.size() == 1 && seg[0] == "live") {
    return ErrorJson(req, http::status::upgrade_required, "this is a WebSocket: connect with ws://");
  }
  if (seg.size() == 3 && seg[0] == "stations" && seg[2] == "silence") {
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return Silence(req, std::string(seg[1]));
  }
  if (seg.size() == 3 && seg[0] == "villages" && seg[2] == "drill") {
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return Drill(req, std::string(seg[1]));
  }
  if (seg.size() == 3 && seg[0] == "incidents" && (seg[2] == "report" || seg[2] == "report.csv" ||
                                                   seg[2] == "decisions")) {
    bool decisions = seg[2] == "decisions";
    if (decisions && req.method() != http::verb::post) return method_not_allowed("POST");
    if (!decisions && !get) return method_not_allowed("GET");
    std::string id_text(seg[1]);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
      if (decisions) {
        // The session is checked before the path, so that no probing without one learns anything.
        auto who = Session(req, true);
        if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
      }
      return ErrorJson(req, http::status::bad_request, fmt::format("incident id '{}' is not a positive number", id_text));
    }
    if (decisions) return Decide(req, id);
    return Report(req, id, seg[2] == "report.csv");
  }

  // `?village=ID` on the lists: only that village's entries (kaoko's addition, docs/protocol.md). A village's pages
  // ask for their own: on a network of thousands of villages the whole list is megabytes for a phone, and the newest
  // thousand incidents may all be other villages'.
  std::string village;
  const bool listing = seg.size() == 1 && (seg[0] == "villages" || seg[0] == "stations" || seg[0] == "incidents");
  if (auto it = target.query.find("village"); listing && get && it != target.query.end()) {
    village = it->second;
    if (village.empty()) {
      return ErrorJson(req, http::status::bad_request, "village is empty: give a village id or leave it out");
    }
    if (!network_.FindVillage(village)) {
      return ErrorJson(req, http::status::not_found, fmt::format("no village '{}' in tambon {}", village, network_.tambon));
    }
  }
  if (seg.size() == 1 && seg[0] == "villages") {
    if (!get) return method_not_allowed("GET");
    json out = json::array();
    for (const auto& a : core_.Villages(village)) {
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
    const std::vector<StationView> views = core_.Stations(village);
    JsonList out;
    out.Reserve(views.size() * 700);  // about what a station takes: one block (a large one is mapped, freed whole)
    for (const auto& view : views) {
      const auto& st = *view.station;
      json j{{"id", st.id},
             {"village", st.village},
             {"name_th", st.name_th()},
             {"name_en", st.name_en()},
             {"thresholds",
              {{"watch", ThresholdJson(st, alerting::Level::kWatch)},
               {"warning", ThresholdJson(st, alerting::Level::kWarning)},
               {"critical", ThresholdJson(st, alerting::Level::kCritical)}}},
             {"latest", view.latest ? ReadingJson(*view.latest) : json(nullptr)},
             {"health", view.health},
             {"level", alerting::ToString(view.level)},
             {"problems", view.problems},
             {"silenced_until", view.silenced_until ? json(wire::FormatTime(*view.silenced_until)) : json(nullptr)},
             {"online", view.online ? json(*view.online) : json(nullptr)}};
      out.Add(j);
    }
    return out.Done(req, http::status::ok);
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
    // Raw readings, and hourly rows where retention folded older ones.
    auto rows = store::ReadingSeries(*reader_, id, since, until, limit + 1);
    bool truncated = static_cast<int>(rows.size()) > limit;
    if (truncated) rows.resize(static_cast<size_t>(limit));
    json out = json::array();
    for (const auto& p : rows) {
      if (const auto* raw = std::get_if<store::StoredReading>(&p)) out.push_back(ReadingJson(*raw));
      else out.push_back(HourlyJson(std::get<store::HourlyReading>(p)));
    }
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
    for (const auto& row : reader_->Incidents(open_only, 1000, village)) {
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
  return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", target.path));
}

// ------------------------------------------------------------------------------------------------ people and pages

namespace {

constexpr std::string_view kSessionCookie = "kaoko_session";

std::string CookieValue(const Request& req, std::string_view name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return {};
  std::string_view all(it->value().data(), it->value().size());
  while (!all.empty()) {
    auto semi = all.find(';');
    std::string_view pair = all.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return {};
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

json PersonJson(const alerting::Network& network, const alerting::Person& p) {
  json j{{"user", p.id},
         {"role", alerting::ToString(p.role)},
         {"village", p.village.empty() ? json(nullptr) : json(p.village)},
         {"name_th", p.name_th},
         {"name_en", p.name_en}};
  if (const auto* v = network.FindVillage(p.village)) {
    j["village_name_th"] = v->name_th;
    j["village_name_en"] = v->name_en;
  }
  return j;
}

// The same escaping as CAP's XML (&apos; is valid HTML5 too; control characters are dropped).
std::string HtmlEscape(std::string_view text) { return alerting::XmlEscape(text); }

// One CSV field (RFC 4180), with a leading quote against spreadsheet formula injection.
std::string CsvField(std::string_view text) {
  std::string out = "\"";
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) out += '\'';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Thailand keeps UTC+7 all year: the time people read on their clocks.
std::string IctTime(wire::TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::floor<std::chrono::seconds>(t + std::chrono::hours(7)));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

struct ContentType {
  std::string_view ext;
  std::string_view type;
};
constexpr ContentType kContentTypes[] = {
    {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},     {".svg", "image/svg+xml"},
    {".png", "image/png"},                   {".ico", "image/x-icon"},
    {".json", "application/json; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},   {".woff2", "font/woff2"},
};

// The pages may talk to this service and to the broker's WebSocket listener (another port), nothing else.
constexpr const char* kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void SecurityHeaders(Response& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

}  // namespace

std::variant<Principal, Response> HttpApi::Session(const Request& req, bool state_changing) {
  std::optional<Principal> who;
  if (auth_) who = auth_->Authenticate(CookieValue(req, kSessionCookie));
  if (!who) {
    return ErrorJson(req, http::status::unauthorized,
                     "log in first: this needs a session of the right role (กรุณาเข้าสู่ระบบก่อน)");
  }
  if (state_changing) {
    auto it = req.find("X-CSRF-Token");
    std::string_view sent = it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
    if (!SameSecret(sent, who->csrf)) {
      return ErrorJson(req, http::status::forbidden,
                       "missing or wrong X-CSRF-Token header: take it from GET /api/v1/me or the login answer");
    }
  }
  return *who;
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
  auto who = Session(req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const auto& p = *std::get<Principal>(who).person;
  return LiveFilter{p.id, p.village, p.role == alerting::Role::kTao};
}

std::optional<json> HttpApi::IncidentJson(std::int64_t id) {
  try {
    auto row = reader_->Incident(id);
    if (!row) return std::nullopt;
    auto inc = DecodeIncident(row->state);
    if (!inc) return std::nullopt;
    return IncidentPublicJson(*inc);
  } catch (const std::exception& e) {
    if (log::ShouldLog("live_incident")) log::Warn("live", "incident {} not readable: {}", id, e.what());
    return std::nullopt;
  }
}

Response HttpApi::Login(const Request& req, const std::string& client) {
  if (!auth_) return ErrorJson(req, http::status::service_unavailable, "logins are not set up on this service");
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.contains("user") || !body["user"].is_string() || !body.contains("password") ||
      !body["password"].is_string()) {
    return ErrorJson(req, http::status::bad_request, R"(send {"user": "...", "password": "..."})");
  }
  auto r = auth_->Login(body["user"].get<std::string>(), body["password"].get<std::string>(), client);
  switch (r.status) {
    case LoginStatus::kRateLimited: {
      auto res = ErrorJson(req, http::status::too_many_requests, r.error);
      res.set(http::field::retry_after, std::to_string(r.retry_after.count()));
      return res;
    }
    case LoginStatus::kWrongCredentials: return ErrorJson(req, http::status::unauthorized, r.error);
    case LoginStatus::kError: return ErrorJson(req, http::status::service_unavailable, r.error);
    case LoginStatus::kOk: break;
  }
  json j = PersonJson(network_, *r.principal->person);
  j["csrf"] = r.principal->csrf;
  j["mqtt_ws"] = web_.mqtt_ws_url.empty() ? json(nullptr) : json(web_.mqtt_ws_url);
  j["tambon"] = network_.tambon;
  auto res = Json(req, http::status::ok, j);
  res.set(http::field::set_cookie, fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", kSessionCookie,
                                               r.token, AuthOptions{}.session_lifetime.count()));
  return res;
}

Response HttpApi::Logout(const Request& req) {
  auto who = Session(req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  auth_->Logout(std::get<Principal>(who).token_hash);
  auto res = Json(req, http::status::ok, json{{"ok", true}});
  res.set(http::field::set_cookie, fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kSessionCookie));
  return res;
}

Response HttpApi::Me(const Request& req) {
  auto who = Session(req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const Principal& p = std::get<Principal>(who);
  json j = PersonJson(network_, *p.person);
  j["csrf"] = p.csrf;
  j["mqtt_ws"] = web_.mqtt_ws_url.empty() ? json(nullptr) : json(web_.mqtt_ws_url);
  j["tambon"] = network_.tambon;
  j["tambon_name_th"] = network_.tambon_name_th;
  j["tambon_name_en"] = network_.tambon_name_en;
  return Json(req, http::status::ok, j);
}

Response HttpApi::MyNotifications(const Request& req) {
  auto who = Session(req, false);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  const std::string& me = person.id;
  json out = json::array();
  // What is waiting for this person: the open asks of open incidents (the engine reminds until they act). A village's
  // people are asked about their own village's incidents only (TAO officers, who have none, about all): looking only
  // there keeps theirs in view however many other villages have incidents open.
  for (const auto& row : reader_->Incidents(/*open_only=*/true, 1000, person.village)) {
    auto inc = DecodeIncident(row.state);
    if (!inc) continue;
    for (const auto& a : inc->asks) {
      if (a.user != me || !a.open) continue;
      out.push_back(json{{"incident", inc->id},
                         {"action_needed", alerting::ToString(a.action)},
                         {"asked", wire::FormatTime(a.asked)},
                         {"reminders", a.reminders},
                         {"deadline", inc->stage_deadline ? json(wire::FormatTime(*inc->stage_deadline)) : json(nullptr)},
                         {"village", inc->village},
                         {"kind", alerting::ToString(inc->kind)},
                         {"level", alerting::ToString(inc->level)},
                         {"status", alerting::ToString(inc->stage)},
                         {"exercise", inc->exercise},
                         {"headline_th", inc->headline_th},
                         {"headline_en", inc->headline_en}});
    }
  }
  return Json(req, http::status::ok, out);
}

namespace {
// The server's own check of who may take which decision (the engine checks again, and answers with a receipt).
std::string DecisionRefusal(const alerting::Person& p, const store::IncidentRow& inc, alerting::DecisionAction action) {
  using alerting::DecisionAction;
  using alerting::Role;
  const bool tao = p.role == Role::kTao;
  const bool local = p.village == inc.village;
  if (inc.kind == "station") {
    return tao ? "" : "only a TAO officer may act on a station fault (เฉพาะเจ้าหน้าที่ อบต.)";
  }
  switch (action) {
    case DecisionAction::kAck:
      if (local && (p.role == Role::kCommittee || p.role == Role::kHeadman || p.role == Role::kDeputy)) return "";
      return fmt::format("only a committee member, the headman or the deputy of {} may acknowledge "
                         "(เฉพาะกรรมการหมู่บ้านหรือผู้ใหญ่บ้าน)", inc.village);
    case DecisionAction::kConfirm:
    case DecisionAction::kReject:
      if (local && (p.role == Role::kHeadman || p.role == Role::kDeputy)) return "";
      return fmt::format("only the headman or deputy of {} may {} (เฉพาะผู้ใหญ่บ้าน)", inc.village,
                         alerting::ToString(action));
    case DecisionAction::kDeclare:
    case DecisionAction::kAllClear:
      return tao ? "" : fmt::format("only a TAO officer may {} (เฉพาะเจ้าหน้าที่ อบต.)", alerting::ToString(action));
  }
  return "unknown action";
}
}  // namespace

Response HttpApi::Decide(const Request& req, std::int64_t id) {
  auto who = Session(req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object()) return ErrorJson(req, http::status::bad_request, "the body must be a JSON decision object");
  // As on MQTT; for convenience the id, the time and the incident may be left to the server.
  if (!body.contains("incident")) body["incident"] = id;
  if (!body.contains("id")) body["id"] = "web-" + RandomToken().substr(0, 16);
  if (!body.contains("ts")) body["ts"] = wire::FormatTime(core_.Now());
  if (!body["incident"].is_number_integer() || body["incident"].get<std::int64_t>() != id) {
    return ErrorJson(req, http::status::bad_request, fmt::format("the body's incident is not {}", id));
  }
  auto decision = wire::ParseDecision(body.dump());
  if (!decision) return ErrorJson(req, http::status::bad_request, decision.error().reason);
  auto row = reader_->Incident(id);
  if (!row) return ErrorJson(req, http::status::not_found, fmt::format("no incident {}", id));
  if (auto why = DecisionRefusal(person, *row, decision->action); !why.empty()) {
    return ErrorJson(req, http::status::forbidden, why);
  }
  auto result = core_.Decide(person.id, *decision, "http");
  if (result.error) return ErrorJson(req, http::status::service_unavailable, *result.error);
  if (!result.receipt) return ErrorJson(req, http::status::internal_server_error, "no receipt");
  const auto& r = *result.receipt;
  json j = json::parse(wire::RenderReceipt(r.ref, r.ok, r.incident, r.error));
  if (!r.ok) j["error"] = r.error;
  return Json(req, r.ok ? http::status::ok : http::status::conflict, j);
}

Response HttpApi::Silence(const Request& req, const std::string& station) {
  auto who = Session(req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  if (person.role != alerting::Role::kTao) {
    return ErrorJson(req, http::status::forbidden, "only a TAO officer may silence a station (เฉพาะเจ้าหน้าที่ อบต.)");
  }
  if (!network_.FindStation(station)) return ErrorJson(req, http::status::not_found, fmt::format("no station '{}'", station));
  json body = json::parse(req.body(), nullptr, false);
  if (!body.is_object() || !body.contains("minutes") || !body["minutes"].is_number_integer() ||
      body["minutes"].get<std::int64_t>() < 0 || body["minutes"].get<std::int64_t>() > 7 * 24 * 60) {
    return ErrorJson(req, http::status::bad_request, R"(send {"minutes": N} with N from 0 (lift) to 10080 (a week))");
  }
  auto minutes = std::chrono::minutes(body["minutes"].get<std::int64_t>());
  wire::TimePoint until = core_.Now() + minutes;
  auto error = core_.Command([&](alerting::Engine& engine, wire::TimePoint now) {
    return engine.Silence(station, now + minutes, person.id, now);
  });
  if (error) return ErrorJson(req, http::status::conflict, *error);
  return Json(req, http::status::ok,
              json{{"station", station}, {"silenced_until", minutes.count() ? json(wire::FormatTime(until)) : json(nullptr)}});
}

Response HttpApi::Drill(const Request& req, const std::string& village) {
  auto who = Session(req, true);
  if (auto* refusal = std::get_if<Response>(&who)) return std::move(*refusal);
  const alerting::Person& person = *std::get<Principal>(who).person;
  if (!(person.role == alerting::Role::kTao || (person.role == alerting::Role::kHeadman && person.village == village))) {
    return ErrorJson(req, http::status::forbidden,
                     fmt::format("only a TAO officer or the headman of {} may start a drill", village));
  }
  if (!network_.FindVillage(village)) return ErrorJson(req, http::status::not_found, fmt::format("no village '{}'", village));
  alerting::Level level = alerting::Level::kWarning;
  if (!req.body().empty()) {
    json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object()) return ErrorJson(req, http::status::bad_request, R"(send {"level": "watch|warning|critical"})");
    if (body.contains("level")) {
      auto l = body["level"].is_string() ? alerting::ParseLevel(body["level"].get<std::string>()) : std::nullopt;
      if (!l || *l == alerting::Level::kNormal) {
        return ErrorJson(req, http::status::bad_request, "level must be watch, warning or critical");
      }
      level = *l;
    }
  }
  auto error = core_.Command([&](alerting::Engine& engine, wire::TimePoint now) {
    return engine.StartDrill(village, person.id, now, level);
  });
  if (error) return ErrorJson(req, http::status::conflict, *error);
  json j{{"ok", true}, {"village", village}, {"level", alerting::ToString(level)}};
  for (const auto& a : core_.Villages()) {
    if (a.village == village && a.exercise && a.incident) j["incident"] = *a.incident;
  }
  return Json(req, http::status::ok, j);
}

Response HttpApi::Report(const Request& req, std::int64_t id, bool csv) {
  auto row = reader_->Incident(id);
  if (!row) return ErrorJson(req, http::status::not_found, fmt::format("no incident {}", id));
  auto inc = DecodeIncident(row->state);
  if (!inc) return ErrorJson(req, http::status::internal_server_error, inc.error().reason);
  auto timeline = reader_->Timeline(id);
  const alerting::Village* village = network_.FindVillage(inc->village);
  Response res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  res.set(http::field::cache_control, "no-store");
  SecurityHeaders(res);
  if (csv) {
    // UTF-8 with a byte-order mark, so that spreadsheet programs show the Thai text.
    std::string out = "\xEF\xBB\xBF";
    out += "incident,ts_utc,time_ict,kind,actor,via,text_th,text_en\r\n";
    for (const auto& e : timeline) {
      out += fmt::format("{},{},{},{},{},{},{},{}\r\n", id, CsvField(wire::FormatTime(e.ts)), CsvField(IctTime(e.ts)),
                         CsvField(e.kind), CsvField(e.actor), CsvField(e.via), CsvField(e.text_th), CsvField(e.text_en));
    }
    res.set(http::field::content_type, "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, fmt::format("attachment; filename=\"kaoko-incident-{}.csv\"", id));
    res.body() = std::move(out);
    res.prepare_payload();
    return res;
  }
  auto cell = [](std::string_view th, std::string_view en) {
    return fmt::format("<span lang=\"th\">{}</span><br><span lang=\"en\" class=\"en\">{}</span>", HtmlEscape(th),
                       HtmlEscape(en));
  };
  auto who = [&](const std::string& user) -> std::string {
    if (user.empty()) return "—";
    if (const auto* p = network_.FindPerson(user)) return HtmlEscape(fmt::format("{} ({})", p->name_th, p->name_en));
    return HtmlEscape(user);
  };
  std::string html;
  html += "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += fmt::format("<title>ถอดบทเรียน เหตุการณ์ {0} · After-action report, incident {0}</title>", id);
  html += "<style>body{font-family:\"Loma\",\"Garuda\",\"Norasi\",\"Sarabun\",sans-serif;font-size:18px;color:#111;"
          "background:#fff;margin:2em;line-height:1.5}h1{font-size:1.6em;margin:0 0 .3em}table{border-collapse:collapse;"
          "width:100%}th,td{border:1px solid #555;padding:.35em .5em;vertical-align:top;text-align:left}"
          "th{background:#e8e8e8}.en{color:#333;font-size:.9em}dl{display:grid;grid-template-columns:max-content 1fr;"
          "gap:.2em 1em}dt{font-weight:bold}.exercise{border:3px dashed #000;padding:.3em;font-weight:bold}"
          "@media print{body{margin:0;font-size:12pt}a{color:#000}}</style></head><body>";
  html += fmt::format("<h1>ถอดบทเรียน — เหตุการณ์ที่ {0}<br><span class=\"en\">After-action report — incident {0}</span></h1>", id);
  if (inc->exercise) html += "<p class=\"exercise\">การฝึกซ้อม · EXERCISE</p>";
  html += "<dl>";
  html += fmt::format("<dt>ตำบล · Tambon</dt><dd>{}</dd>", cell(network_.tambon_name_th, network_.tambon_name_en));
  if (village) html += fmt::format("<dt>หมู่บ้าน · Village</dt><dd>{}</dd>", cell(village->name_th, village->name_en));
  html += fmt::format("<dt>เรื่อง · Headline</dt><dd>{}</dd>", cell(inc->headline_th, inc->headline_en));
  html += fmt::format("<dt>ระดับ · Level</dt><dd>{}</dd>",
                      cell(alerting::ThaiName(inc->level), alerting::ToString(inc->level)));
  html += fmt::format("<dt>สถานะ · Stage</dt><dd>{}</dd>", HtmlEscape(alerting::ToString(inc->stage)));
  html += fmt::format("<dt>เริ่ม · Opened</dt><dd>{} (เวลาไทย · ICT)</dd>", IctTime(inc->opened));
  html += fmt::format("<dt>ปิด · Closed</dt><dd>{}</dd>", inc->closed ? IctTime(*inc->closed) + " (ICT)" : "—");
  html += fmt::format("<dt>รับทราบโดย · Acknowledged by</dt><dd>{}</dd>", who(inc->acked_by));
  html += fmt::format("<dt>ยืนยันโดย · Confirmed by</dt><dd>{}</dd>", who(inc->confirmed_by));
  if (!inc->rejected_by.empty()) html += fmt::format("<dt>ปฏิเสธโดย · Rejected by</dt><dd>{}</dd>", who(inc->rejected_by));
  html += fmt::format("<dt>ประกาศโดย · Declared by</dt><dd>{}</dd>", who(inc->declared_by));
  if (inc->unconfirmed) html += "<dt>หมายเหตุ · Note</dt><dd>ส่งต่อโดยไม่มีผู้ยืนยันทันเวลา · moved up unconfirmed</dd>";
  html += "</dl>";
  html += fmt::format("<h2>ลำดับเหตุการณ์ · Timeline ({} รายการ · entries)</h2>", timeline.size());
  html += "<table><thead><tr><th>เวลา (ไทย)<br><span class=\"en\">Time (ICT)</span></th><th>ประเภท<br><span "
          "class=\"en\">Kind</span></th><th>ผู้กระทำ · ช่องทาง<br><span class=\"en\">Who · via</span></th>"
          "<th>รายละเอียด<br><span class=\"en\">What</span></th></tr></thead><tbody>";
  for (const auto& e : timeline) {
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{} · {}</td><td>{}</td></tr>", IctTime(e.ts), HtmlEscape(e.kind),
                        who(e.actor), HtmlEscape(e.via), cell(e.text_th, e.text_en));
  }
  html += "</tbody></table>";
  html += fmt::format("<p><a href=\"/api/v1/incidents/{0}/report.csv\">CSV</a> · <a href=\"/api/v1/incidents/{0}\">JSON</a>"
                      " · kaoko</p></body></html>", id);
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.body() = std::move(html);
  res.prepare_payload();
  return res;
}

Response HttpApi::Static(const Request& req, const std::string& raw_path) {
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (web_.web_root.empty()) return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", raw_path));
  auto decoded = UrlDecode(raw_path);
  // Refuse anything that could step outside the web root: "..", ".", hidden files, backslashes, NULs, "%2f".
  auto refuse = [&] { return ErrorJson(req, http::status::bad_request, "bad path"); };
  if (!decoded || decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) return refuse();
  if (raw_path.find("%2f") != std::string::npos || raw_path.find("%2F") != std::string::npos) return refuse();
  std::string rel;
  for (auto s : Segments(*decoded)) {
    if (s.empty() || s.front() == '.') return refuse();
    rel += "/";
    rel += s;
  }
  if (rel.empty()) rel = "/index.html";
  // Friendly names of the screens.
  for (std::string_view page : {"/watcher", "/village", "/tao", "/login", "/province"}) {
    if (rel == page) rel += ".html";
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(web_.web_root, ec);
  fs::path file = fs::weakly_canonical(root / rel.substr(1), ec);
  auto [rend, fend] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (ec || rend != root.end()) return refuse();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", raw_path));
  }
  if (!get) {
    auto res = ErrorJson(req, http::status::method_not_allowed,
                         fmt::format("{} is not allowed here; use GET", std::string(req.method_string())));
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::string ext = file.extension().string();
  std::string_view type = "application/octet-stream";
  for (const auto& ct : kContentTypes) {
    if (ct.ext == ext) type = ct.type;
  }
  std::string etag = fmt::format("\"{:x}-{:x}\"", static_cast<std::uint64_t>(st.st_size),
                                 static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                                     static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  Response res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  // Small files that change with releases: revalidate each time (a 304 costs a weak line almost nothing).
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, etag);
  res.set(http::field::content_type, std::string(type));
  SecurityHeaders(res);
  if (ext == ".html") res.set("Content-Security-Policy", kPageCsp);
  if (auto inm = req.find(http::field::if_none_match); inm != req.end() && inm->value() == etag) {
    res.result(http::status::not_modified);
    return res;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  res.body() = buf.str();
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpApi& api, LiveHub* hub)
    : io_(io), acceptor_(asio::make_strand(io)), api_(api), hub_(hub) {
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
      std::make_shared<HttpSession>(std::move(socket), api_, hub_)->Run();
    }
    Accept();
  });
}

}  // namespace kaoko::server
