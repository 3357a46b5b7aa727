// The API side's routes (line_routes.hpp): api.line.me's paths onto LinePlatform.
#include "kaoko/sim/line_routes.hpp"

namespace kaoko::sim {

LineReply RouteLineApi(LinePlatform& platform, LineWebhook& webhook, const LineRequest& request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  std::vector<LinePress> presses;
  LineReply reply;
  constexpr std::string_view kProfile = "/v2/bot/profile/";
  if (request.method == "POST" && path == "/v2/bot/message/push") {
    reply = platform.Push(request, LineClock::now(), &presses);
  } else if (request.method == "POST" && path == "/v2/bot/message/reply") {
    reply = platform.Reply(request, LineClock::now(), &presses);
  } else if (request.method == "GET" && path.rfind(kProfile, 0) == 0) {
    reply = platform.Profile(request, path.substr(kProfile.size()));
  } else {
    reply.status = 404;
    reply.body = LineErrorBody("Not found");
  }
  for (const auto& press : presses) webhook.Press(press.user_id, press.data, press.after);
  return reply;
}

}  // namespace kaoko::sim
