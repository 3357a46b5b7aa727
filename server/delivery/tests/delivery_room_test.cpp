// The delivery room without a gateway that answers: a send that cannot reach Kannel stays queued with the reason and
// its backoff, the gateway is reported down only after down_after, and a callback without the token changes nothing.
#include "kaoko/delivery/delivery.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

TEST_CASE(
    "delivery room: an unreachable gateway keeps the SMS queued with its backoff, and is reported down only "
    "after down_after",
    "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  ScratchDir tmp("delivery-room");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  const auto now = T("2026-12-07T02:00:00Z");
  store::Outbox box(**s);
  box.Remember({"n-1", 3, "kaoko", alerting::Level::kWarning, alerting::ActionNeeded::kConfirm, "ยืนยัน", "Confirm",
                now + std::chrono::minutes(15), false, false});
  store::DeliveryRow row;
  row.notification = "n-1";
  row.incident = 3;
  row.person = "boonmee";
  row.channel = alerting::Channel::kSms;
  row.urgency = alerting::Urgency::kActNow;
  row.due = row.queued_at = now;
  row.expires = now + std::chrono::minutes(15);
  const auto id = box.Queue(row);

  server::Metrics metrics;
  delivery::DeliveryOptions o;
  o.db_path = tmp.db();
  o.clock = Clock::Fake(now);
  o.down_after = std::chrono::seconds(1);
  delivery::SmsGateway gw;
  gw.sendsms_url = "http://127.0.0.1:1/cgi-bin/sendsms";  // nothing listens on port 1
  gw.callback_token = "0123456789abcdef";
  o.sms = gw;
  auto room = delivery::Delivery::Create(*net, o, metrics, nullptr);
  REQUIRE(room.ok());
  (*room)->RunOnce();
  auto r = box.Find(id);
  CHECK(r->state == alerting::DeliveryState::kQueued);
  CHECK(r->attempts == 1);
  CHECK(r->reason.find("the SMS gateway did not answer") != std::string::npos);
  CHECK(r->due == now + std::chrono::seconds(15));  // the first backoff
  CHECK((*room)->Problem().empty());                // failing, not yet for long
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  (*room)->RunOnce();  // nothing due on kaoko's clock: nothing sent, the failure stands
  CHECK(box.Find(id)->attempts == 1);
  const std::string problem = (*room)->Problem();
  CHECK(problem.rfind("sms: the gateway has failed for 1 s", 0) == 0);
  CHECK(problem.find("+668") == std::string::npos);  // no number, no password in it

  // The gateway's callbacks without the token: refused, nothing recorded.
  CHECK((*room)->SmsReport({{"d", std::to_string(id)}, {"type", "1"}}).status == 403);
  CHECK((*room)->SmsReport({{"k", "wrong-token-wrong!"}, {"d", std::to_string(id)}, {"type", "1"}}).status == 403);
  CHECK(box.Find(id)->state == alerting::DeliveryState::kQueued);
  CHECK((*room)->SmsReply({{"from", "+66810000105"}, {"text", "1 1234"}}).status == 403);
  CHECK(metrics.Get("kaoko_sms_reports_total", "refused") == 2);
  CHECK(metrics.Get("kaoko_sms_replies_total", "refused") == 1);
}

TEST_CASE("delivery room: a web row is never sent and becomes seen only from its own person's page", "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  ScratchDir tmp("delivery-room");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  const auto now = T("2026-12-07T02:00:00Z");
  store::Outbox box(**s);
  auto queue = [&](const char* notification, const char* person) {
    box.Remember({notification, 3, "kaoko", alerting::Level::kWarning, alerting::ActionNeeded::kConfirm, "ยืนยัน",
                  "Confirm", now + std::chrono::minutes(15), false, false});
    store::DeliveryRow row;
    row.notification = notification;
    row.incident = 3;
    row.person = person;
    row.channel = alerting::Channel::kWeb;
    row.urgency = alerting::Urgency::kActNow;
    row.due = row.queued_at = now;
    row.expires = now + std::chrono::minutes(15);
    return box.Queue(row);
  };
  const auto boonmee = queue("n-1", "boonmee");
  const auto suda = queue("n-2", "suda");

  server::Metrics metrics;
  delivery::DeliveryOptions o;
  o.db_path = tmp.db();
  o.clock = Clock::Fake(now);
  delivery::SmsGateway gw;
  gw.sendsms_url = "http://127.0.0.1:1/cgi-bin/sendsms";
  o.sms = gw;
  auto room = delivery::Delivery::Create(*net, o, metrics, nullptr);
  REQUIRE(room.ok());
  const auto channels = (*room)->channels();
  CHECK(std::find(channels.begin(), channels.end(), alerting::Channel::kWeb) != channels.end());
  (*room)->RunOnce();
  CHECK(box.Find(boonmee)->state == alerting::DeliveryState::kQueued);  // no gateway takes it, no "failed"
  CHECK(box.Find(boonmee)->attempts == 0);

  o.clock.Advance(std::chrono::seconds(30));
  using Outcome = delivery::Delivery::SeenOutcome;
  auto other = (*room)->Seen("boonmee", {"n-1", "n-2"});  // Suda's notification: nothing written at all
  CHECK(other.kind == Outcome::kNotYours);
  CHECK(other.notification == "n-2");
  CHECK((*room)->Seen("boonmee", {"n-404"}).kind == Outcome::kUnknown);
  CHECK(box.Find(boonmee)->state == alerting::DeliveryState::kQueued);
  auto mine = (*room)->Seen("boonmee", {"n-1"});
  CHECK(mine.kind == Outcome::kOk);
  CHECK(mine.marked == 1);
  CHECK(box.Find(boonmee)->state == alerting::DeliveryState::kSeen);
  CHECK(box.Find(boonmee)->seen_at == now + std::chrono::seconds(30));
  CHECK((*room)->Seen("boonmee", {"n-1"}).marked == 0);  // again: the first time stays

  // Suda's page never showed hers: it expires with its step, like any other row.
  o.clock.Advance(std::chrono::minutes(20));
  (*room)->RunOnce();
  CHECK(box.Find(suda)->state == alerting::DeliveryState::kExpired);
  CHECK(box.Find(boonmee)->state == alerting::DeliveryState::kSeen);
  const std::string page = metrics.Render();
  CHECK(page.find("web/seen\"} 1") != std::string::npos);
  CHECK(page.find("web/expired\"} 1") != std::string::npos);
}
