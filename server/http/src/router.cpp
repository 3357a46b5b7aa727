// The route table of the HTTP API: method and path pattern → handler (api.hpp), judged in this order for every
// request: the tier's routes, the query string, the path (a route's method before anything of its own), then the
// static pages for paths outside /api/.
#include <fmt/format.h>

#include <array>

#include "api.hpp"

namespace kaoko::server {
namespace {

enum class Methods { kGet, kPost, kAny };  // kGet: GET or HEAD

struct Route {
  std::string_view pattern;  // segments after /api/v1 ("*": any one segment); a leading '/' is a path of its own
  Methods methods;
  Handler handler;
};

Response LiveWithoutUpgrade(ApiContext&, const Call& call) {
  return ErrorJson(call.req, http::status::upgrade_required, "this is a WebSocket: connect with ws://");
}

// The paths of the contract's HTTP table (docs/protocol.md) and of the people's pages (docs/screens.md). No two
// patterns match the same path.
constexpr std::array kRoutes = {
    Route{"/healthz", Methods::kGet, Healthz},
    Route{"/metrics", Methods::kGet, MetricsPage},
    Route{"clock", Methods::kGet, ClockNow},
    // The people's session and actions.
    Route{"login", Methods::kPost, Login},
    Route{"logout", Methods::kPost, Logout},
    Route{"me", Methods::kGet, Me},
    Route{"me/notifications", Methods::kGet, MyNotifications},
    Route{"me/notifications/seen", Methods::kPost, MyNotificationsSeen},
    Route{"me/line-link", Methods::kAny, MeLineLink},
    Route{"live", Methods::kAny, LiveWithoutUpgrade},
    Route{"stations/*/silence", Methods::kPost, Silence},
    Route{"villages/*/drill", Methods::kPost, Drill},
    Route{"incidents/*/report", Methods::kGet, ReportPage},
    Route{"incidents/*/report.csv", Methods::kGet, ReportCsv},
    Route{"incidents/*/decisions", Methods::kPost, Decisions},
    // The read model.
    Route{"villages", Methods::kGet, VillageList},
    Route{"stations", Methods::kGet, StationList},
    Route{"stations/*/readings", Methods::kGet, StationReadings},
    Route{"incidents", Methods::kGet, IncidentList},
    Route{"incidents/*", Methods::kGet, IncidentDetail},
    Route{"cap", Methods::kGet, CapDocument},
    // The SMS gateway's callbacks (docs/delivery-sms.md), answered by the delivery room.
    Route{"delivery/sms/report", Methods::kGet, SmsReport},
    Route{"delivery/sms/reply", Methods::kGet, SmsReply},
    // LINE's webhook (docs/delivery-line.md), checked and answered by the delivery room.
    Route{"delivery/line/webhook", Methods::kPost, LineWebhookRoute},
};

bool Matches(std::string_view pattern, const std::vector<std::string_view>& seg) {
  std::size_t i = 0;
  for (std::string_view part : Segments(pattern)) {
    if (i >= seg.size() || (part != "*" && part != seg[i])) return false;
    ++i;
  }
  return i == seg.size();
}

}  // namespace

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
    if (!key || !value)
      t.ok = false;
    else
      t.query[*key] = *value;
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

Response RouteRequest(ApiContext& ctx, const Request& req, const std::string& client) {
  Target target = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  if (!target.ok) return ErrorJson(req, http::status::bad_request, "malformed query string");
  const auto path = Segments(target.path);
  const bool api = path.size() >= 2 && path[0] == "api" && path[1] == "v1";
  const std::vector<std::string_view> rest(path.begin() + (api ? 2 : 0), path.end());
  for (const Route& route : kRoutes) {
    const bool own_path = route.pattern.front() == '/';
    if (!(own_path ? Matches(route.pattern, path) : api && Matches(route.pattern, rest))) continue;
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    if (route.methods == Methods::kGet && !get) return MethodNotAllowed(req, "GET");
    if (route.methods == Methods::kPost && req.method() != http::verb::post) return MethodNotAllowed(req, "POST");
    return route.handler(ctx, Call{req, client, target, own_path ? path : rest});
  }
  if (path.empty() || path[0] != "api") return StaticFile(ctx, req, target.path);
  return ErrorJson(req, http::status::not_found, fmt::format("no such path: {}", target.path));
}

}  // namespace kaoko::server
