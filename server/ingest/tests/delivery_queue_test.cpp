// The core's half of delivery (src/delivery_queue.hpp): what is queued for whom, on which channels and when (the
// ladder counted from each person's first real channel), idempotent, and a decision marking the person's deliveries.
#include "../src/delivery_queue.hpp"

#include <catch2/catch.hpp>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using alerting::Channel;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {

alerting::Notification Note(std::string user, alerting::Level level, alerting::ActionNeeded action) {
  alerting::Notification n;
  n.user = std::move(user);
  n.village = "kaoko";
  n.id = "n-1";
  n.incident = 3;
  n.level = level;
  n.action_needed = action;
  n.deadline = T("2026-12-07T02:15:00Z");
  n.text_th = "ยืนยัน";
  return n;
}

}  // namespace

TEST_CASE("delivery queue: consented contacts on configured channels, the ladder from the first real channel",
          "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  // LINE first, SMS ten minutes later at watch; both configured.
  net->delivery.ladder[alerting::Level::kWatch] = {{Channel::kLine, std::chrono::seconds(0)},
                                                   {Channel::kSms, std::chrono::minutes(10)}};
  ScratchDir tmp("delivery-queue");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  server::DeliveryQueue queue(*net, **s, {Channel::kSms, Channel::kLine});
  const auto now = T("2026-12-07T02:00:00Z");
  alerting::Effects fx;
  fx.notifications.push_back(Note("boonmee", alerting::Level::kWatch, alerting::ActionNeeded::kConfirm));
  auto somchai = Note("somchai", alerting::Level::kWatch, alerting::ActionNeeded::kNone);
  somchai.id = "n-2";  // a watcher's SMS has no consent in config/tonhong.toml: nothing for him
  fx.notifications.push_back(somchai);
  (*s)->Begin();
  queue.Queue(fx, now);
  queue.Queue(fx, now);  // a replayed batch adds nothing
  (*s)->Commit();
  store::Outbox box(**s);
  const auto rows = box.OfIncident(3);
  // His LINE contact has consent and may be linked from his page: it is queued first; his SMS follows the ladder
  // (the delivery room brings it forward at once when LINE fails, "not linked yet").
  REQUIRE(rows.size() == 2);
  const auto& line = rows[0].channel == Channel::kLine ? rows[0] : rows[1];
  const auto& sms = rows[0].channel == Channel::kSms ? rows[0] : rows[1];
  CHECK(line.channel == Channel::kLine);
  CHECK(line.due == now);
  CHECK(sms.person == "boonmee");
  CHECK(sms.channel == Channel::kSms);
  CHECK(sms.due == now + std::chrono::minutes(10));
  CHECK(sms.urgency == alerting::Urgency::kActNow);
  CHECK(sms.expires == T("2026-12-07T02:15:00Z"));
  REQUIRE(box.Message("n-1"));
  CHECK_FALSE(box.Message("n-2"));

  // He confirms (through any path): his delivery is acted.
  alerting::Effects decided;
  decided.timeline.push_back({3, T("2026-12-07T02:03:00Z"), "decision", "boonmee", "sms", "", ""});
  (*s)->Begin();
  queue.Queue(decided, T("2026-12-07T02:03:00Z"));
  (*s)->Commit();
  CHECK(box.Find(sms.id)->state == alerting::DeliveryState::kActed);
  CHECK(box.Find(line.id)->state == alerting::DeliveryState::kActed);
}

TEST_CASE("delivery queue: the ladder counts from the first channel the person really has", "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  net->delivery.ladder[alerting::Level::kWatch] = {{Channel::kLine, std::chrono::seconds(0)},
                                                   {Channel::kSms, std::chrono::minutes(10)}};
  ScratchDir tmp("delivery-queue");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  // Only SMS is configured: boonmee's SMS goes at once, not ten minutes after a LINE that will never be sent.
  server::DeliveryQueue queue(*net, **s, {Channel::kSms});
  const auto now = T("2026-12-07T02:00:00Z");
  alerting::Effects fx;
  fx.notifications.push_back(Note("boonmee", alerting::Level::kWatch, alerting::ActionNeeded::kConfirm));
  (*s)->Begin();
  queue.Queue(fx, now);
  (*s)->Commit();
  const auto rows = store::Outbox(**s).OfIncident(3);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].channel == Channel::kSms);
  CHECK(rows[0].due == now);
}

TEST_CASE("delivery queue: no gateway configured, nothing is queued", "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  ScratchDir tmp("delivery-queue");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  server::DeliveryQueue queue(*net, **s, {});
  alerting::Effects fx;
  fx.notifications.push_back(Note("boonmee", alerting::Level::kCritical, alerting::ActionNeeded::kConfirm));
  (*s)->Begin();
  queue.Queue(fx, T("2026-12-07T02:00:00Z"));
  (*s)->Commit();
  CHECK(store::Outbox(**s).OfIncident(3).empty());
}

TEST_CASE("delivery queue: a consented web contact gets a row due at once that holds back no other channel",
          "[delivery]") {
  auto net = config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  REQUIRE(net.ok());
  net->delivery.ladder[alerting::Level::kWatch] = {{Channel::kLine, std::chrono::seconds(0)},
                                                   {Channel::kSms, std::chrono::minutes(10)}};
  ScratchDir tmp("delivery-queue");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  // SMS and the page: boonmee has both (and LINE, not configured here).
  server::DeliveryQueue queue(*net, **s, {Channel::kSms, Channel::kWeb});
  const auto now = T("2026-12-07T02:00:00Z");
  alerting::Effects fx;
  fx.notifications.push_back(Note("boonmee", alerting::Level::kWatch, alerting::ActionNeeded::kConfirm));
  auto info = Note("prasert", alerting::Level::kWatch, alerting::ActionNeeded::kNone);
  info.id = "n-2";  // information only: no page shows it as something to do, so no web row
  fx.notifications.push_back(info);
  (*s)->Begin();
  queue.Queue(fx, now);
  queue.Queue(fx, now);  // a replay adds nothing
  (*s)->Commit();
  store::Outbox box(**s);
  const auto rows = box.OfIncident(3);
  int web = 0, sms = 0;
  for (const auto& r : rows) {
    INFO(r.person << " " << alerting::ToString(r.channel));
    if (r.channel == Channel::kWeb) {
      ++web;
      CHECK(r.person == "boonmee");
      CHECK(r.due == now);
      CHECK(r.state == alerting::DeliveryState::kQueued);
      CHECK(r.expires == T("2026-12-07T02:15:00Z"));
    }
    if (r.channel == Channel::kSms && r.person == "boonmee") {
      ++sms;
      CHECK(r.due == now);  // the page does not make his SMS wait its ten minutes
    }
  }
  CHECK(web == 1);
  CHECK(sms == 1);
  // The delivery room never takes the web row to send: it is due only to expire.
  for (const auto& d : box.Due(now + std::chrono::minutes(1), 10)) CHECK(d.channel != Channel::kWeb);
  REQUIRE(box.Due(T("2026-12-07T02:15:00Z"), 10).size() >= 2);

  // He confirms: the web row is acted like the rest.
  alerting::Effects decided;
  decided.timeline.push_back({3, T("2026-12-07T02:03:00Z"), "decision", "boonmee", "web", "", ""});
  (*s)->Begin();
  queue.Queue(decided, T("2026-12-07T02:03:00Z"));
  (*s)->Commit();
  for (const auto& r : box.OfIncident(3)) {
    if (r.person == "boonmee") CHECK(r.state == alerting::DeliveryState::kActed);
  }
}
