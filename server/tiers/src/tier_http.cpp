// The tier's HTTP endpoints (docs/tiers.md): GET /api/v1/tiers on every tier (this node, its journal, the nodes it
// watches and their incidents); at a province also the villages of every tambon and their CAP documents. Called on
// the HTTP thread: everything read here is under mu_.
#include <fmt/format.h>

#include "kaoko/contract/wire.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {
namespace {

Response TextResponse(const Request& req, http::status status, const char* content_type, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response JsonResponse(const Request& req, http::status status, const json& body) {
  return TextResponse(req, status, "application/json; charset=utf-8",
                      body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The decoded value of `name` in a query string; nullopt when absent or malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    auto eq = part.find('=');
    if (part.substr(0, eq) == name) return UrlDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

json Tier::StatusJson() const {
  TimePoint now = Now();
  json out{{"node", options_.node}, {"tier", ToString(options_.mode)}, {"tambon", network_.tambon}};
  if (options_.mode == Mode::kEdge) out["village"] = options_.village;
  std::lock_guard lock(mu_);
  if (Sends()) {
    out["uplink"] =
        json{{"epoch", epoch_},          {"link", LinkName(sender_.link())}, {"appended", sender_.appended()},
             {"acked", sender_.acked()}, {"backlog", sender_.backlog()},     {"resends", sender_.resends()}};
  }
  if (arbiter_) {
    auto v = arbiter_->Snapshot();
    out["mode"] = !arbiter_->decided() ? "undecided" : v.following ? "following" : "acting_alone";
    out["handovers"] = v.handovers;
    out["own_siren"] = v.own_siren ? Parse(*v.own_siren) : json(nullptr);
    out["tao_siren"] = v.tao_siren ? Parse(*v.tao_siren) : json(nullptr);
  }
  json nodes = json::array();
  for (const auto& [name, n] : nodes_) {
    json j{{"node", name},
           {"tambon", n.tambon},
           {"tier", n.tier},
           {"village", n.village},
           {"interval_s", n.interval_s},
           {"last_heard", n.last_heard ? json(wire::FormatTime(*n.last_heard)) : json(nullptr)},
           {"silent", n.incident.has_value()},
           {"incident", n.incident ? json(*n.incident) : json(nullptr)}};
    if (n.last_heard) {
      j["silent_for_s"] = std::chrono::duration_cast<std::chrono::seconds>(now - *n.last_heard).count();
    }
    if (n.last.is_object()) j["heartbeat"] = n.last;
    nodes.push_back(std::move(j));
  }
  out["nodes"] = std::move(nodes);
  out["incidents"] = incidents_;
  out["received_entries"] = received_entries_;
  out["duplicate_entries"] = duplicate_entries_;
  out["gaps"] = gaps_;
  return out;
}

json Tier::VillagesJson() const {
  json list = json::array();
  std::lock_guard lock(mu_);
  for (const auto& n : tambons_) {
    int order = 0;
    for (const auto& v : n.villages) {
      json a;
      if (auto it = alerts_.find(n.tambon + "/" + v.id); it != alerts_.end()) a = Parse(it->second);
      if (!a.is_object())
        a = json{{"village", v.id}, {"level", "normal"}, {"incident", nullptr}, {"status", "resolved"}};
      a["tambon"] = n.tambon;
      a["tambon_name_th"] = n.tambon_name_th;
      a["tambon_name_en"] = n.tambon_name_en;
      a["name_th"] = v.name_th;
      a["name_en"] = v.name_en;
      a["order"] = order++;
      a["moo"] = v.moo;
      list.push_back(std::move(a));
    }
  }
  return list;
}

json Tier::ProvinceCapJson() const {
  json list = json::array();
  std::lock_guard lock(mu_);
  for (const auto& n : tambons_) {
    auto it = caps_.find(n.tambon);
    list.push_back(json{{"tambon", n.tambon},
                        {"name_th", n.tambon_name_th},
                        {"name_en", n.tambon_name_en},
                        {"cap", it == caps_.end() ? json(nullptr) : json(it->second)}});
  }
  return list;
}

std::optional<Response> Tier::Http(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == "/api/v1/tiers") {
    if (!get) return std::nullopt;
    return JsonResponse(req, http::status::ok, StatusJson());
  }
  if (options_.mode != Mode::kProvince || !get) return std::nullopt;
  if (path == "/api/v1/villages") return JsonResponse(req, http::status::ok, VillagesJson());
  if (path == "/api/v1/province/cap") return JsonResponse(req, http::status::ok, ProvinceCapJson());
  if (path != "/api/v1/cap") return std::nullopt;
  auto tambon = QueryParam(query, "tambon");
  if (!tambon) {
    return JsonResponse(req, http::status::bad_request, json{{"error", "which tambon? /api/v1/cap?tambon=<id>"}});
  }
  std::lock_guard lock(mu_);
  auto it = caps_.find(*tambon);
  if (it == caps_.end()) {
    return JsonResponse(req, http::status::not_found,
                        json{{"error", fmt::format("no CAP document from tambon '{}' yet", *tambon)}});
  }
  return TextResponse(req, http::status::ok, "application/cap+xml; charset=utf-8", it->second);
}

}  // namespace kaoko::server::tier
