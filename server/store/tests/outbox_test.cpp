// The delivery outbox's rows: queued once, taken in urgency order, each fact written only when it may follow, and
// everything there after the file is closed and opened again (a crash loses no delivery).
#include "kaoko/store/outbox.hpp"

#include <catch2/catch.hpp>

#include "kaoko/store/query.hpp"
#include "kaoko/testing/scratch_dir.hpp"

using namespace kaoko;
using alerting::Channel;
using alerting::DeliveryState;
using alerting::Urgency;
using kaoko::server_test::ScratchDir;
using kaoko::server_test::T;

namespace {

store::DeliveryRow Row(std::string notification, std::string person, Channel channel, Urgency urgency,
                       const char* due) {
  store::DeliveryRow r;
  r.notification = std::move(notification);
  r.incident = 7;
  r.person = std::move(person);
  r.channel = channel;
  r.urgency = urgency;
  r.due = T(due);
  r.queued_at = T(due);
  r.expires = T(due) + std::chrono::hours(1);
  return r;
}

}  // namespace

TEST_CASE("outbox: a delivery is queued once, whatever replays it", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto row = Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z");
  (*s)->Begin();
  const auto id = box.Queue(row);
  CHECK(box.Queue(row) == id);  // the same notification, person and channel: the same delivery
  CHECK(box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z")) != id);
  (*s)->Commit();
  store::testing::Query n(**s, "SELECT count(*) FROM deliveries");
  REQUIRE(n.Step());
  CHECK(n.Int(0) == 2);
}

TEST_CASE("outbox: those who must act now are taken first, then the oldest due", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  (*s)->Begin();
  box.Queue(Row("n-1", "somchai", Channel::kSms, Urgency::kInform, "2026-12-07T01:00:00Z"));
  box.Queue(Row("n-2", "prasert", Channel::kSms, Urgency::kAcknowledge, "2026-12-07T01:30:00Z"));
  box.Queue(Row("n-3", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T01:59:00Z"));
  box.Queue(Row("n-4", "suda", Channel::kSms, Urgency::kActNow, "2026-12-07T01:40:00Z"));
  box.Queue(Row("n-5", "niran", Channel::kSms, Urgency::kActNow, "2026-12-07T03:00:00Z"));  // not due yet
  (*s)->Commit();
  const auto due = box.Due(T("2026-12-07T02:00:00Z"), 10);
  REQUIRE(due.size() == 4);
  CHECK(due[0].person == "suda");
  CHECK(due[1].person == "boonmee");
  CHECK(due[2].person == "prasert");
  CHECK(due[3].person == "somchai");
  CHECK(box.Due(T("2026-12-07T02:00:00Z"), 2).size() == 2);
}

TEST_CASE("outbox: each fact is written once, forward only, with its time", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto id = box.Queue(Row("n-9", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  CHECK(box.Move(id, DeliveryState::kSent, T("2026-12-07T02:00:03Z"), {}, "5f3a"));
  CHECK_FALSE(box.Move(id, DeliveryState::kSent, T("2026-12-07T02:00:04Z")));  // not twice
  CHECK(box.Due(T("2026-12-07T03:00:00Z"), 10).empty());                       // sent is not due again
  CHECK(box.ByGatewayRef(Channel::kSms, "5f3a")->id == id);
  CHECK_FALSE(box.ByGatewayRef(Channel::kLine, "5f3a"));
  CHECK(box.Move(id, DeliveryState::kDelivered, T("2026-12-07T02:00:09Z")));
  CHECK_FALSE(box.Move(id, DeliveryState::kSent, T("2026-12-07T02:00:10Z")));  // never backwards
  CHECK(box.Move(id, DeliveryState::kActed, T("2026-12-07T02:03:00Z")));       // replied before the page showed it
  CHECK_FALSE(box.Move(id, DeliveryState::kFailed, T("2026-12-07T02:04:00Z"), "late report"));
  const auto r = box.Find(id);
  REQUIRE(r);
  CHECK(r->state == DeliveryState::kActed);
  CHECK(r->sent_at == T("2026-12-07T02:00:03Z"));
  CHECK(r->delivered_at == T("2026-12-07T02:00:09Z"));
  CHECK_FALSE(r->seen_at);
  CHECK(r->acted_at == T("2026-12-07T02:03:00Z"));
  CHECK(r->reason.empty());
  CHECK(r->gateway_ref == "5f3a");
  CHECK_FALSE(box.Move(12345, DeliveryState::kSent, T("2026-12-07T02:00:00Z")));  // no such delivery
}

TEST_CASE("outbox: a failed send is retried later with the reason kept, and a failure ends it", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto id = box.Queue(Row("n-2", "suda", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  CHECK(box.Retry(id, T("2026-12-07T02:00:15Z"), "LINE answered 429: try again in 15 s"));
  CHECK(box.Due(T("2026-12-07T02:00:10Z"), 10).empty());
  auto again = box.Due(T("2026-12-07T02:00:15Z"), 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].attempts == 1);
  CHECK(again[0].reason == "LINE answered 429: try again in 15 s");
  CHECK(box.Move(id, DeliveryState::kFailed, T("2026-12-07T02:05:00Z"), "LINE refused the user (400)"));
  CHECK_FALSE(box.Retry(id, T("2026-12-07T02:06:00Z"), "again"));  // failed is final for sending
  const auto r = box.Find(id);
  CHECK(r->state == DeliveryState::kFailed);
  CHECK(r->reason == "LINE refused the user (400)");
  CHECK(r->ended_at == T("2026-12-07T02:05:00Z"));
  CHECK(box.Move(id, DeliveryState::kActed, T("2026-12-07T02:07:00Z")));  // she confirmed on the page instead
  const auto counts = box.CountByState();
  CHECK(counts[static_cast<std::size_t>(DeliveryState::kActed)] == 1);
  CHECK(counts[static_cast<std::size_t>(DeliveryState::kQueued)] == 0);
}

TEST_CASE("outbox: a delivery queued in a transaction that rolls back was never queued, a committed one survives",
          "[outbox]") {
  ScratchDir tmp("outbox");
  {
    auto s = store::Store::Open(tmp.db());
    REQUIRE(s.ok());
    store::Outbox box(**s);
    (*s)->Begin();
    box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
    (*s)->Rollback();  // the state change that caused it did not happen
    (*s)->Begin();
    box.Queue(Row("n-2", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
    (*s)->Commit();
  }
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto all = box.OfIncident(7);
  REQUIRE(all.size() == 1);
  CHECK(all[0].notification == "n-2");
  CHECK(all[0].state == DeliveryState::kQueued);
  CHECK(all[0].channel == Channel::kSms);
  CHECK(all[0].urgency == Urgency::kActNow);
}

TEST_CASE("outbox: a fact written on another connection in between wins, and nothing but a known state is stored",
          "[outbox]") {
  ScratchDir tmp("outbox");
  auto core = store::Store::Open(tmp.db());
  auto worker = store::Store::Open(tmp.db());
  REQUIRE(core.ok());
  REQUIRE(worker.ok());
  store::Outbox by_core(**core), by_worker(**worker);
  const auto id = by_core.Queue(Row("n-3", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  CHECK(by_worker.Move(id, DeliveryState::kSent, T("2026-12-07T02:00:02Z"), {}, "7a"));
  CHECK(by_core.Move(id, DeliveryState::kActed, T("2026-12-07T02:01:00Z")));  // he confirmed on the page
  // The gateway's delivery report comes after: it may not take the row back from acted.
  CHECK_FALSE(by_worker.Move(id, DeliveryState::kDelivered, T("2026-12-07T02:01:05Z")));
  CHECK_FALSE(by_worker.Retry(id, T("2026-12-07T02:02:00Z"), "again"));
  CHECK(by_worker.Find(id)->state == DeliveryState::kActed);
  // The table itself refuses what the rules do not know (no row could be read back as something it is not).
  CHECK_THROWS((*core)->Exec("UPDATE deliveries SET state = 'notified' WHERE id = " + std::to_string(id)));
  CHECK_THROWS((*core)->Exec("UPDATE deliveries SET channel = 'fax' WHERE id = " + std::to_string(id)));
  CHECK(by_core.Find(id)->state == DeliveryState::kActed);
}

TEST_CASE("outbox: a person acting ends every delivery of theirs for the incident, and no one else's", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  (*s)->Begin();
  const auto sms = box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto line = box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto other = box.Queue(Row("n-1", "suda", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  REQUIRE(box.Move(line, DeliveryState::kFailed, T("2026-12-07T02:00:05Z"), "LINE answered 400"));
  CHECK(box.ActedBy(7, "boonmee", T("2026-12-07T02:03:00Z")) == 2);
  CHECK(box.ActedBy(7, "boonmee", T("2026-12-07T02:04:00Z")) == 0);  // acted once; the first time stays
  (*s)->Commit();
  CHECK(box.Find(sms)->state == DeliveryState::kActed);
  CHECK(box.Find(sms)->acted_at == T("2026-12-07T02:03:00Z"));
  CHECK(box.Find(line)->state == DeliveryState::kActed);
  CHECK(box.Find(line)->reason == "LINE answered 400");  // the failure is still told
  CHECK(box.Find(other)->state == DeliveryState::kQueued);
  CHECK(box.Due(T("2026-12-07T02:05:00Z"), 10).size() == 1);  // only suda's is still to send
}

TEST_CASE("outbox: a message is kept once and read back, and a reply code is one per step and used once", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  store::DeliveryMessage m;
  m.notification = "n-1";
  m.incident = 7;
  m.village = "kaoko";
  m.level = alerting::Level::kWarning;
  m.action = alerting::ActionNeeded::kConfirm;
  m.text_th = "ยืนยันเหตุ";
  m.text_en = "Confirm";
  m.deadline = T("2026-12-07T02:15:00Z");
  box.Remember(m);
  m.text_th = "another text";
  box.Remember(m);  // a replay does not change it
  auto back = box.Message("n-1");
  REQUIRE(back);
  CHECK(back->text_th == "ยืนยันเหตุ");
  CHECK(back->deadline == T("2026-12-07T02:15:00Z"));
  CHECK(back->level == alerting::Level::kWarning);
  CHECK_FALSE(box.Message("n-2"));

  // The generator gives 1111 first: the second step of the same person must not get it again.
  std::vector<std::string> offered = {"1111", "1111", "1111", "2222"};
  std::size_t next = 0;
  auto fresh = [&] { return offered.at(next++); };
  const auto now = T("2026-12-07T02:00:00Z");
  const auto a = box.CodeFor("boonmee", 7, alerting::ActionNeeded::kConfirm, alerting::Level::kWarning, now, fresh);
  CHECK(a == "1111");
  CHECK(box.CodeFor("boonmee", 7, alerting::ActionNeeded::kConfirm, alerting::Level::kWarning, now, fresh) == "1111");
  CHECK(next == 1);  // a reminder of the same step carries the same code
  CHECK(box.CodeFor("boonmee", 7, alerting::ActionNeeded::kDeclare, alerting::Level::kWarning, now, fresh) == "2222");
  auto code = box.Code("boonmee", "1111");
  REQUIRE(code);
  CHECK(code->action == alerting::ActionNeeded::kConfirm);
  CHECK_FALSE(box.Code("suda", "1111"));  // only for its person
  CHECK(box.UseCode("boonmee", "1111", T("2026-12-07T02:01:00Z")));
  CHECK_FALSE(box.UseCode("boonmee", "1111", T("2026-12-07T02:02:00Z")));
  CHECK(box.Code("boonmee", "1111")->used_at == T("2026-12-07T02:01:00Z"));
  std::vector<std::string> always = {"2222"};
  auto stuck = [&] { return always[0]; };
  CHECK(box.CodeFor("boonmee", 8, alerting::ActionNeeded::kAck, alerting::Level::kWatch, now, stuck).empty());
}

TEST_CASE("outbox: a report that comes after the person acted keeps its time and leaves them acted", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto id = box.Queue(Row("n-9", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  CHECK_FALSE(box.NoteLate(id, DeliveryState::kDelivered, T("2026-12-07T02:00:01Z")));  // not acted yet: Move it
  REQUIRE(box.Move(id, DeliveryState::kSent, T("2026-12-07T02:00:03Z"), {}, "5f3a"));
  REQUIRE(box.ActedBy(7, "boonmee", T("2026-12-07T02:00:20Z")) == 1);  // he replied at once
  CHECK_FALSE(box.Move(id, DeliveryState::kDelivered, T("2026-12-07T02:00:21Z")));
  CHECK(box.NoteLate(id, DeliveryState::kDelivered, T("2026-12-07T02:00:21Z")));
  CHECK_FALSE(box.NoteLate(id, DeliveryState::kDelivered, T("2026-12-07T02:00:30Z")));  // the first time stays
  CHECK_FALSE(box.NoteLate(id, DeliveryState::kFailed, T("2026-12-07T02:00:30Z")));
  const auto r = box.Find(id);
  CHECK(r->state == DeliveryState::kActed);
  CHECK(r->delivered_at == T("2026-12-07T02:00:21Z"));
  CHECK(r->gateway_ref == "5f3a");
}

TEST_CASE("outbox: a retry key is given once, before the first attempt, and kept through retries", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto id = box.Queue(Row("n-9", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  CHECK(box.SetGatewayRef(id, "3f1c0d7e-0000-4000-8000-000000000001"));
  CHECK_FALSE(box.SetGatewayRef(id, "another"));  // the first key stays
  REQUIRE(box.Retry(id, T("2026-12-07T02:00:15Z"), "LINE answered 500"));
  CHECK(box.Find(id)->gateway_ref == "3f1c0d7e-0000-4000-8000-000000000001");
  CHECK(box.ByGatewayRef(Channel::kLine, "3f1c0d7e-0000-4000-8000-000000000001")->id == id);
}

TEST_CASE(
    "outbox: the ladder's later step knows when an earlier channel reached the person, and a failure brings it "
    "forward",
    "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto line = box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  auto later = Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:10:00Z");
  later.queued_at = T("2026-12-07T02:00:00Z");
  const auto sms = box.Queue(later);
  CHECK_FALSE(box.ReachedOn("n-1", "boonmee", sms));
  REQUIRE(box.Move(line, DeliveryState::kSent, T("2026-12-07T02:00:01Z")));
  CHECK_FALSE(box.ReachedOn("n-1", "boonmee", sms));  // sent is not reached
  SECTION("seen on LINE: the SMS is not needed") {
    REQUIRE(box.Move(line, DeliveryState::kSeen, T("2026-12-07T02:01:00Z")));
    CHECK(box.ReachedOn("n-1", "boonmee", sms) == Channel::kLine);
    CHECK_FALSE(box.ReachedOn("n-1", "suda", sms));
  }
  SECTION("LINE failed: the SMS is due now") {
    REQUIRE(box.Move(line, DeliveryState::kFailed, T("2026-12-07T02:00:02Z"), "not linked"));
    CHECK(box.Due(T("2026-12-07T02:00:02Z"), 10).empty());
    CHECK(box.PullForward("n-1", "boonmee", T("2026-12-07T02:00:02Z")) == 1);
    REQUIRE(box.Due(T("2026-12-07T02:00:02Z"), 10).size() == 1);
    CHECK(box.PullForward("n-1", "boonmee", T("2026-12-07T02:00:03Z")) == 0);  // never pushed later
  }
}

TEST_CASE("outbox: people asked to act with nothing delivered in time are found once", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  auto message = [&](const char* id, alerting::ActionNeeded action) {
    store::DeliveryMessage m;
    m.notification = id;
    m.incident = 7;
    m.village = "kaoko";
    m.action = action;
    box.Remember(m);
  };
  message("n-1", alerting::ActionNeeded::kConfirm);
  message("n-2", alerting::ActionNeeded::kNone);
  message("n-3", alerting::ActionNeeded::kConfirm);
  const auto boonmee = box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  box.Queue(Row("n-2", "somchai", Channel::kSms, Urgency::kInform, "2026-12-07T02:00:00Z"));  // asks nothing
  const auto suda = box.Queue(Row("n-3", "suda", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  REQUIRE(box.Move(boonmee, DeliveryState::kSent, T("2026-12-07T02:00:01Z")));
  REQUIRE(box.Move(suda, DeliveryState::kDelivered, T("2026-12-07T02:00:09Z")));
  const auto since = T("2026-12-06T02:00:00Z");
  CHECK(box.Unreached(T("2026-12-07T01:59:00Z"), since).empty());  // not long enough yet
  auto found = box.Unreached(T("2026-12-07T02:05:00Z"), since);
  REQUIRE(found.size() == 1);
  CHECK(found[0].person == "boonmee");
  CHECK(found[0].action == alerting::ActionNeeded::kConfirm);
  CHECK(found[0].incident == 7);
  box.MarkUnreached(found[0], T("2026-12-07T02:05:00Z"));
  CHECK(box.Unreached(T("2026-12-07T02:06:00Z"), since).empty());  // told once
  CHECK(box.UnreachedOf(7, alerting::ActionNeeded::kConfirm) == std::vector<std::string>{"boonmee"});
}

TEST_CASE("outbox: a page that showed a notification marks every delivery of that person seen once", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto web = box.Queue(Row("n-1", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto sms = box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto line = box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto suda = box.Queue(Row("n-1", "suda", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  REQUIRE(box.Move(sms, DeliveryState::kDelivered, T("2026-12-07T02:00:05Z")));
  REQUIRE(box.Move(line, DeliveryState::kFailed, T("2026-12-07T02:00:02Z"), "LINE account not linked yet"));

  CHECK(box.IsFor("n-1", "boonmee") == std::optional<bool>(true));
  CHECK(box.IsFor("n-1", "somchai") == std::optional<bool>(false));  // someone else's
  CHECK_FALSE(box.IsFor("n-404", "boonmee"));                        // unknown

  CHECK(box.MarkSeen("n-1", "boonmee", T("2026-12-07T02:01:00Z")) == 2);  // the web row and the SMS he also saw
  CHECK(box.MarkSeen("n-1", "boonmee", T("2026-12-07T02:03:00Z")) == 0);  // the first time is kept
  CHECK(box.Find(web)->state == DeliveryState::kSeen);
  CHECK(box.Find(web)->seen_at == T("2026-12-07T02:01:00Z"));
  CHECK(box.Find(sms)->state == DeliveryState::kSeen);
  CHECK(box.Find(sms)->seen_at == T("2026-12-07T02:01:00Z"));
  CHECK(box.Find(sms)->delivered_at == T("2026-12-07T02:00:05Z"));
  CHECK(box.Find(line)->state == DeliveryState::kFailed);  // a failed send is not made seen
  CHECK_FALSE(box.Find(line)->seen_at);
  CHECK(box.Find(suda)->state == DeliveryState::kQueued);  // only his own rows
  // Seen counts as reached: the ladder's later step is not needed, and he is not "not reached".
  CHECK(box.ReachedOn("n-1", "boonmee", line));
  CHECK(box.ReachedOn("n-1", "suda", 0) == std::nullopt);
  CHECK(box.MarkSeen("n-404", "boonmee", T("2026-12-07T02:01:00Z")) == 0);
}

TEST_CASE("outbox: a page seen after the person acted keeps its time and never moves the row back", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto web = box.Queue(Row("n-1", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  REQUIRE(box.ActedBy(7, "boonmee", T("2026-12-07T02:00:30Z")) == 1);  // he replied by SMS first
  CHECK(box.MarkSeen("n-1", "boonmee", T("2026-12-07T02:01:00Z")) == 1);
  CHECK(box.MarkSeen("n-1", "boonmee", T("2026-12-07T02:02:00Z")) == 0);
  const auto r = box.Find(web);
  CHECK(r->state == DeliveryState::kActed);
  CHECK(r->acted_at == T("2026-12-07T02:00:30Z"));
  CHECK(r->seen_at == T("2026-12-07T02:01:00Z"));
}

TEST_CASE("outbox: a web row is never due to be sent, only to expire", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  const auto web = box.Queue(Row("n-1", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto sms = box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  auto due = box.Due(T("2026-12-07T02:10:00Z"), 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].id == sms);
  due = box.Due(T("2026-12-07T03:00:00Z"), 10);  // both past their hour: the web row comes to be ended
  REQUIRE(due.size() == 2);
  CHECK((due[0].id == web || due[1].id == web));
}

TEST_CASE("outbox: the notifications of one ask for the page that shows it", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  auto message = [&](const char* id, alerting::ActionNeeded action) {
    store::DeliveryMessage m;
    m.notification = id;
    m.incident = 7;
    m.village = "kaoko";
    m.action = action;
    box.Remember(m);
  };
  message("n-1", alerting::ActionNeeded::kAck);
  message("n-2", alerting::ActionNeeded::kConfirm);
  message("n-3", alerting::ActionNeeded::kConfirm);  // a reminder
  box.Queue(Row("n-1", "boonmee", Channel::kWeb, Urgency::kAcknowledge, "2026-12-07T02:00:00Z"));
  box.Queue(Row("n-2", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:01:00Z"));
  box.Queue(Row("n-2", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:01:00Z"));
  box.Queue(Row("n-3", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:06:00Z"));
  box.Queue(Row("n-2", "suda", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:01:00Z"));
  CHECK(box.NotificationsOf("boonmee", 7, alerting::ActionNeeded::kConfirm) == std::vector<std::string>{"n-2", "n-3"});
  CHECK(box.NotificationsOf("boonmee", 7, alerting::ActionNeeded::kAck) == std::vector<std::string>{"n-1"});
  CHECK(box.NotificationsOf("boonmee", 8, alerting::ActionNeeded::kConfirm).empty());
  CHECK(box.NotificationsOf("prasert", 7, alerting::ActionNeeded::kConfirm).empty());
}

TEST_CASE("outbox: a person whose only channel is the page is not reached until the page shows it", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  for (const char* id : {"n-1", "n-2"}) {
    store::DeliveryMessage m;
    m.notification = id;
    m.incident = 7;
    m.village = "kaoko";
    m.action = alerting::ActionNeeded::kConfirm;
    box.Remember(m);
  }
  box.Queue(Row("n-1", "boonmee", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));  // his page is closed
  box.Queue(Row("n-2", "suda", Channel::kWeb, Urgency::kActNow, "2026-12-07T02:00:00Z"));     // hers is open
  REQUIRE(box.MarkSeen("n-2", "suda", T("2026-12-07T02:00:02Z")) == 1);
  const auto found = box.Unreached(T("2026-12-07T02:05:00Z"), T("2026-12-06T02:00:00Z"));
  REQUIRE(found.size() == 1);
  CHECK(found[0].person == "boonmee");
}

TEST_CASE("outbox: a person whose every delivery failed is found at once, not after the wait", "[outbox]") {
  ScratchDir tmp("outbox");
  auto s = store::Store::Open(tmp.db());
  REQUIRE(s.ok());
  store::Outbox box(**s);
  store::DeliveryMessage m;
  m.notification = "n-1";
  m.incident = 7;
  m.village = "kaoko";
  m.action = alerting::ActionNeeded::kConfirm;
  box.Remember(m);
  const auto sms = box.Queue(Row("n-1", "boonmee", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto line = box.Queue(Row("n-1", "boonmee", Channel::kLine, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  const auto before_wait = T("2026-12-07T01:55:00Z");  // asked 2 s ago, with a 5-minute wait: not yet
  const auto since = T("2026-12-06T02:00:00Z");
  REQUIRE(box.Move(sms, DeliveryState::kFailed, T("2026-12-07T02:00:01Z"), "refused by the network"));
  CHECK(box.Unreached(before_wait, since).empty());  // LINE may still reach him
  REQUIRE(box.Move(line, DeliveryState::kFailed, T("2026-12-07T02:00:02Z"), "LINE answered 400"));
  auto found = box.Unreached(before_wait, since);
  REQUIRE(found.size() == 1);
  CHECK(found[0].person == "boonmee");
  CHECK(found[0].every_channel_failed);
  // Found after the wait with one channel still open: not every channel failed.
  box.Queue(Row("n-1", "suda", Channel::kSms, Urgency::kActNow, "2026-12-07T02:00:00Z"));
  auto later = box.Unreached(T("2026-12-07T02:05:00Z"), since);
  bool suda = false;
  for (const auto& u : later) {
    if (u.person == "suda") suda = !u.every_channel_failed;
  }
  CHECK(suda);
}
