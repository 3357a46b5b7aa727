// Inside the HTTP API: what its handlers share (ApiContext), one routed request (Call), and the handlers, one file a
// resource (health.cpp, people.cpp, stations.cpp, villages.cpp, incidents.cpp, decisions.cpp, report.cpp,
// static_files.cpp), reached through the route table of router.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kaoko/http/http.hpp"
#include "responses.hpp"

namespace kaoko::server {

// The service's parts an API request reads or changes. Used only from the HTTP thread.
struct ApiContext {
  const alerting::Network& network;
  Core& core;
  Metrics& metrics;
  std::unique_ptr<store::Store> reader;  // read-only
  std::function<Health()> health;
  std::unique_ptr<Auth> auth;  // null: nobody can log in
  WebOptions web;
  delivery::Delivery* delivery = nullptr;  // the gateways' callbacks; null: none configured
};

// "/a/b?x=1&y=2" split into the path and its decoded query parameters.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
  bool ok = true;  // false: a query component was not valid %-encoding
};
Target ParseTarget(std::string_view target);
// The non-empty segments of a path.
std::vector<std::string_view> Segments(std::string_view path);

// One request as the router hands it to a handler.
struct Call {
  const Request& req;
  const std::string& client;  // the peer's address
  const Target& target;
  const std::vector<std::string_view>& seg;  // the path's segments after /api/v1 (the whole path outside it)
  std::string Arg(std::size_t i) const { return std::string(seg.at(i)); }
};

using Handler = Response (*)(ApiContext&, const Call&);

// The session of the request (and, for state-changing requests, its CSRF header checked), or the refusal.
std::variant<Principal, Response> SessionOf(ApiContext& ctx, const Request& req, bool state_changing);

// An incident id of the path ("12"), or nullopt unless a positive number.
std::optional<std::int64_t> ParseIncidentId(std::string_view text);
Response BadIncidentId(const Request& req, std::string_view text);
// Incident `id` as stored, decoded; or the refusal: 404 when there is none, 500 when its state is unreadable.
std::variant<alerting::Incident, Response> StoredIncident(ApiContext& ctx, const Request& req, std::int64_t id);

// The list filter `?village=ID` (kaoko's addition, docs/protocol.md): empty when absent; a 400 or 404 refusal when
// empty or unknown.
std::variant<std::string, Response> VillageFilter(ApiContext& ctx, const Call& call);

// health.cpp
Response Healthz(ApiContext& ctx, const Call& call);
Response MetricsPage(ApiContext& ctx, const Call& call);
// GET /api/v1/clock: {"now", "rate", "rehearsal", "human_deadlines": "real" | "rehearsal"}.
Response ClockNow(ApiContext& ctx, const Call& call);
// GET /api/v1/delivery/sms/report and /reply: Kannel's dlr-url and sms-service get-url (delivery_callbacks.cpp).
Response SmsReport(ApiContext& ctx, const Call& call);
// Every delivery of an incident, per person and channel, with the time of each fact (report.cpp); no address.
nlohmann::json DeliveriesJson(store::Store& reader, std::int64_t incident);
// Who an open incident waits for and how far kaoko got in reaching them: per open ask, the best delivery state and its
// channel, and whether they were found not reached (the TAO dashboard's "must act" column).
nlohmann::json ReachJson(store::Store& reader, const alerting::Incident& incident);
Response SmsReply(ApiContext& ctx, const Call& call);
// POST /api/v1/delivery/line/webhook and GET/POST /api/v1/me/line-link (line_webhook_route.cpp).
Response LineWebhookRoute(ApiContext& ctx, const Call& call);
Response MeLineLink(ApiContext& ctx, const Call& call);
// people.cpp
Response Login(ApiContext& ctx, const Call& call);
Response Logout(ApiContext& ctx, const Call& call);
Response Me(ApiContext& ctx, const Call& call);
Response MyNotifications(ApiContext& ctx, const Call& call);
// POST me/notifications/seen {"notifications": [ids]}: the person's own page showed them (Delivery::Seen).
Response MyNotificationsSeen(ApiContext& ctx, const Call& call);
// stations.cpp
Response StationList(ApiContext& ctx, const Call& call);
Response StationReadings(ApiContext& ctx, const Call& call);
Response Silence(ApiContext& ctx, const Call& call);
// villages.cpp
Response VillageList(ApiContext& ctx, const Call& call);
Response Drill(ApiContext& ctx, const Call& call);
// incidents.cpp
Response IncidentList(ApiContext& ctx, const Call& call);
Response IncidentDetail(ApiContext& ctx, const Call& call);
Response CapDocument(ApiContext& ctx, const Call& call);
// decisions.cpp
Response Decisions(ApiContext& ctx, const Call& call);
// report.cpp
Response ReportPage(ApiContext& ctx, const Call& call);
Response ReportCsv(ApiContext& ctx, const Call& call);
// static_files.cpp: the pages of server/web for any path outside /api/.
Response StaticFile(ApiContext& ctx, const Request& req, const std::string& path);

// router.cpp: answers `req` from the route table.
Response RouteRequest(ApiContext& ctx, const Request& req, const std::string& client);

}  // namespace kaoko::server
