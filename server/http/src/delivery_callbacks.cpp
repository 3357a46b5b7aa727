// GET /api/v1/delivery/sms/report and /api/v1/delivery/sms/reply: the SMS gateway's callbacks (Kannel's dlr-url and
// sms-service get-url, docs/delivery-sms.md), handed to the delivery room, which checks their token and answers.
#include "api.hpp"
#include "kaoko/delivery/delivery.hpp"

namespace kaoko::server {
namespace {

Response Forward(ApiContext& ctx, const Call& call,
                 delivery::Answer (delivery::Delivery::*handler)(const std::map<std::string, std::string>&)) {
  if (!ctx.delivery) return ErrorJson(call.req, http::status::not_found, "no SMS gateway is configured");
  if (!call.target.ok)
    return ErrorJson(call.req, http::status::bad_request, "a query parameter is not valid %-encoding");
  const delivery::Answer a = (ctx.delivery->*handler)(call.target.query);
  return Text(call.req, static_cast<http::status>(a.status), "text/plain; charset=utf-8", a.body);
}

}  // namespace

Response SmsReport(ApiContext& ctx, const Call& call) { return Forward(ctx, call, &delivery::Delivery::SmsReport); }
Response SmsReply(ApiContext& ctx, const Call& call) { return Forward(ctx, call, &delivery::Delivery::SmsReply); }

}  // namespace kaoko::server
