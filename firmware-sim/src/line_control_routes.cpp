// The control side's routes (line_routes.hpp): JSON for tests and the demo, plain HTTP on loopback.
#include <fmt/format.h>

#include "kaoko/sim/line_routes.hpp"

namespace kaoko::sim {
namespace {

using nlohmann::json;

LineReply Json(int status, const json& body) {
  LineReply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

LineReply Problem(int status, const std::string& message) { return Json(status, {{"error", message}}); }

std::int64_t Ms(LineClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json Received(const LinePlatform& platform, const std::string& user_id) {
  json out = json::array();
  for (const auto& d : platform.Deliveries(user_id)) {
    out.push_back({{"userId", d.user_id},
                   {"message", d.message},
                   {"messageId", d.message_id},
                   {"requestId", d.request_id},
                   {"retryKey", d.retry_key},
                   {"via", d.via},
                   {"at", Ms(d.at)}});
  }
  return out;
}

std::string Query(const std::string& target, const std::string& key) {
  auto q = target.find('?');
  if (q == std::string::npos) return "";
  std::string query = target.substr(q + 1);
  std::string prefix = key + "=";
  for (std::size_t start = 0; start < query.size();) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    if (query.compare(start, prefix.size(), prefix) == 0)
      return query.substr(start + prefix.size(), end - start - prefix.size());
    start = end + 1;
  }
  return "";
}

LineFault ParseFault(const json& body) {
  LineFault fault;
  fault.status = body.value("status", 0);
  fault.count = body.value("count", 1);
  fault.user = body.value("userId", "");
  fault.retry_after_s = body.value("retryAfter", 0);
  fault.message = body.value("message", "");
  fault.delivered = body.value("delivered", false);
  fault.delay = std::chrono::milliseconds(body.value("delayMs", 0));
  fault.hang = body.value("hang", false);
  return fault;
}

// POST routes that act for a user: press, text, follow, unfollow.
LineReply UserAction(LinePlatform& platform, LineWebhook& webhook, const std::string& action, const json& body) {
  std::string user = body.value("userId", "");
  if (!platform.HasUser(user)) return Problem(404, fmt::format("unknown user '{}'", user));
  auto after = std::chrono::milliseconds(body.value("afterMs", 0));
  if (action == "press") {
    if (!body.contains("data") || !body["data"].is_string()) return Problem(400, "'data' (the postback data) missing");
    webhook.Press(user, body["data"].get<std::string>(), after);
  } else if (action == "text") {
    webhook.Text(user, body.value("text", ""), after);
  } else if (action == "follow") {
    webhook.Follow(user, after);
  } else {
    webhook.Unfollow(user, after);
  }
  return Json(202, {{"scheduled", action}, {"userId", user}, {"afterMs", after.count()}});
}

LineReply Forge(LinePlatform& platform, LineWebhook& webhook, const json& body) {
  std::string how = body.value("how", "");
  std::string user = body.value("userId", "");
  std::string data = body.value("data", "forged");
  if (how == "replay") return webhook.Replay() ? Json(202, {{"forged", how}}) : Problem(409, "no webhook sent yet");
  if (how == "redelivery") {
    return webhook.Redeliver() ? Json(202, {{"forged", how}}) : Problem(409, "no webhook sent yet");
  }
  if (!platform.HasUser(user)) return Problem(404, fmt::format("unknown user '{}'", user));
  if (how == "unsigned") {
    webhook.Forge(LineSigning::kUnsigned, user, data);
  } else if (how == "wrong-secret") {
    webhook.Forge(LineSigning::kWrongSecret, user, data);
  } else if (how == "tampered") {
    webhook.Forge(LineSigning::kTampered, user, data);
  } else {
    return Problem(400, "'how' is one of unsigned, wrong-secret, tampered, replay, redelivery");
  }
  return Json(202, {{"forged", how}});
}

}  // namespace

LineReply RouteLineControl(LinePlatform& platform, LineWebhook& webhook, const LineRequest& request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  const std::string& m = request.method;
  if (m == "GET") {
    if (path == "/control/health") return Json(200, {{"ok", true}});
    if (path == "/control/users") return Json(200, platform.UsersJson());
    if (path == "/control/received") return Json(200, Received(platform, Query(request.target, "userId")));
    if (path == "/control/webhooks") return Json(200, webhook.AttemptsJson());
    if (path == "/control/counters") {
      json counters = platform.CountersJson();
      counters["webhooksPending"] = webhook.pending();
      return Json(200, counters);
    }
    return Problem(404, "no such control route");
  }
  if (m == "DELETE" && path == "/control/faults") {
    platform.ClearFaults();
    return Json(200, {{"faults", 0}});
  }
  json body = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return Problem(400, "the body must be a JSON object");
  if (m == "POST" && (path == "/control/press" || path == "/control/text" || path == "/control/follow" ||
                      path == "/control/unfollow")) {
    return UserAction(platform, webhook, path.substr(std::string_view("/control/").size()), body);
  }
  if (m == "POST" && path == "/control/faults") {
    platform.AddFault(ParseFault(body));
    return Json(201, {{"fault", body}});
  }
  if (m == "POST" && path == "/control/forge") return Forge(platform, webhook, body);
  if (m == "PUT" && path == "/control/webhook-url") {
    webhook.SetUrl(body.value("url", ""));
    return Json(200, {{"url", webhook.url()}});
  }
  return Problem(404, "no such control route");
}

}  // namespace kaoko::sim
