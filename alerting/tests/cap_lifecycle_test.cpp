// CAP's lifecycle (cap.hpp): one incident's messages, from its Alert through its Updates to its all-clear or Cancel,
// followed by <references> as a district or provincial system reading the feed would, across a restart too.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "kaoko/alerting/cap.hpp"
#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {

// The first <tag>…</tag> of `xml`, or "" when there is none.
std::string Tag(const std::string& xml, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const auto at = xml.find(open);
  if (at == std::string::npos) return "";
  const auto from = at + open.size();
  return xml.substr(from, xml.find("</" + tag + ">", from) - from);
}

struct Message {
  std::string xml, identifier, sender, sent, type, references, incidents;
  std::string Triple() const { return sender + "," + identifier + "," + sent; }
};

Message Read(const std::string& xml) {
  return Message{xml,
                 Tag(xml, "identifier"),
                 Tag(xml, "sender"),
                 Tag(xml, "sent"),
                 Tag(xml, "msgType"),
                 Tag(xml, "references"),
                 Tag(xml, "incidents")};
}

// What the server does after each batch of inputs: Advance (which issues the CAP messages), then the document.
Message Publish(Engine& e, TimePoint now) {
  (void)e.Advance(now);
  return Read(e.Cap(now));
}

bool Has(const std::string& xml, const std::string& what) { return xml.find(what) != std::string::npos; }

// Follows `last` back by <references> through `seen` (identifier → message) to the incident's first message; returns
// the identifiers from first to last. A reference to a message never seen ends the walk.
std::vector<std::string> Thread(const std::map<std::string, Message>& seen, const Message& last) {
  std::vector<std::string> back{last.identifier};
  const Message* m = &last;
  while (!m->references.empty()) {
    REQUIRE(m->references.find(' ') == std::string::npos);  // one incident: one previous message
    bool found = false;
    for (const auto& [id, earlier] : seen) {
      if (earlier.Triple() == m->references) {
        back.push_back(id);
        m = &earlier;
        found = true;
        break;
      }
    }
    REQUIRE(found);
  }
  return {back.rbegin(), back.rend()};
}

}  // namespace

TEST_CASE("cap: one incident's messages are followed from its Alert to its all-clear by references",
          "[alerting][cap]") {
  const Network net = TonHong();
  Engine e(net);
  std::vector<Message> published;
  const std::int64_t id =
      *e.OnReport(MakeReport("thawee", "r-1", "pakkhlong", Level::kWarning, T0()), T0()).receipts.at(0).incident;
  published.push_back(Publish(e, T0()));
  (void)e.OnDecision(MakeDecision("orawan", "d-1", "pakkhlong", id, DecisionAction::kAck, T0() + 1min), T0() + 1min);
  published.push_back(Publish(e, T0() + 1min));
  (void)e.OnDecision(MakeDecision("sombat", "d-2", "pakkhlong", id, DecisionAction::kConfirm, T0() + 2min),
                     T0() + 2min);
  published.push_back(Publish(e, T0() + 2min));
  (void)e.OnDecision(
      MakeDecision("officer-niran", "d-3", "pakkhlong", id, DecisionAction::kDeclare, T0() + 3min, Level::kCritical),
      T0() + 3min);
  published.push_back(Publish(e, T0() + 3min));
  (void)e.OnDecision(MakeDecision("officer-niran", "d-4", "pakkhlong", id, DecisionAction::kAllClear, T0() + 4min),
                     T0() + 4min);
  published.push_back(Publish(e, T0() + 4min));

  std::map<std::string, Message> seen;
  for (const Message& m : published) {
    INFO(m.xml);
    CHECK(seen.emplace(m.identifier, m).second);  // every message its own identifier
    CHECK(m.incidents == "kaoko-tonhong-incident-" + std::to_string(id));
    CHECK(m.identifier.starts_with("kaoko-tonhong-incident-" + std::to_string(id) + "-"));
    CHECK(m.sender == "kaoko@tonhong");
  }
  CHECK(published.front().type == "Alert");
  CHECK(published.front().references.empty());
  for (std::size_t i = 1; i < published.size(); ++i) {
    INFO(published[i].xml);
    CHECK(published[i].type == "Update");
    CHECK(published[i].references == published[i - 1].Triple());  // the message just before, as sender,id,sent
  }
  std::vector<std::string> expected;
  for (const Message& m : published) expected.push_back(m.identifier);
  CHECK(Thread(seen, published.back()) == expected);

  // The all-clear: an Update whose urgency is Past (the flood was real; it is over).
  const Message& last = published.back();
  CHECK(Has(last.xml, "<urgency>Past</urgency>"));
  CHECK(Has(last.xml, "<responseType>AllClear</responseType>"));
  CHECK(Has(last.xml, "<valueName>kaoko-stage</valueName>\n      <value>resolved</value>"));

  // Published once, it leaves the document: a second later the tambon has no active alert.
  REQUIRE(e.NextDeadline().has_value());
  CHECK(*e.NextDeadline() <= T0() + 4min + 1s);  // the server wakes for it
  const Effects fx = e.Advance(T0() + 4min + 1s);
  CHECK(fx.cap_changed);
  const std::string after = e.Cap(T0() + 4min + 1s);
  CHECK_FALSE(Has(after, "<info>"));
  CHECK(Has(after, "No active flood alerts"));
}

TEST_CASE("cap: a restart in the middle of an incident continues its thread", "[alerting][cap]") {
  const Network net = TonHong();
  Engine before(net);
  const std::int64_t id =
      *before.OnReport(MakeReport("thawee", "r-1", "pakkhlong", Level::kWarning, T0()), T0()).receipts.at(0).incident;
  const Message first = Publish(before, T0());
  (void)before.OnDecision(MakeDecision("orawan", "d-1", "pakkhlong", id, DecisionAction::kAck, T0() + 1min),
                          T0() + 1min);
  const Message second = Publish(before, T0() + 1min);

  Engine after(net);
  after.ImportState(before.ExportState());
  CHECK(after.Cap(T0() + 1min) == second.xml);  // the same message again, not a new thread
  (void)after.OnDecision(MakeDecision("sombat", "d-2", "pakkhlong", id, DecisionAction::kConfirm, T0() + 2min),
                         T0() + 2min);
  const Message third = Publish(after, T0() + 2min);
  INFO(third.xml);
  CHECK(third.type == "Update");
  CHECK(third.references == second.Triple());
  CHECK(third.identifier != second.identifier);
  CHECK(third.identifier != first.identifier);
  CHECK(second.references == first.Triple());
}

TEST_CASE("cap: a rejected incident is a Cancel of its last message, then leaves the document", "[alerting][cap]") {
  const Network net = TonHong();
  Engine e(net);
  const std::int64_t id =
      *e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0()), T0()).receipts.at(0).incident;
  const Message first = Publish(e, T0());
  (void)e.OnDecision(MakeDecision("prasert", "d-1", "kaoko", id, DecisionAction::kAck, T0() + 1min), T0() + 1min);
  const Message second = Publish(e, T0() + 1min);
  (void)e.OnDecision(MakeDecision("boonmee", "d-2", "kaoko", id, DecisionAction::kReject, T0() + 2min), T0() + 2min);
  REQUIRE(e.FindIncident(id)->stage == Stage::kRejected);
  const Message cancel = Publish(e, T0() + 2min);
  INFO(cancel.xml);
  CHECK(cancel.type == "Cancel");
  CHECK(cancel.references == second.Triple());
  CHECK(Has(cancel.xml, "<certainty>Unlikely</certainty>"));
  CHECK(Has(cancel.xml, "<urgency>Past</urgency>"));
  CHECK(second.references == first.Triple());
  // Within the same second the Cancel stays (a batch published at once still shows it)…
  (void)e.Advance(T0() + 2min + 500ms);
  CHECK(e.Cap(T0() + 2min + 500ms) == cancel.xml);
  // …then it is gone.
  CHECK(e.Advance(T0() + 2min + 1s).cap_changed);
  CHECK_FALSE(Has(e.Cap(T0() + 2min + 1s), "<info>"));
}

TEST_CASE("cap: an overdue TAO is in the info, and several incidents reference each one's previous message",
          "[alerting][cap]") {
  const Network net = TonHong();
  SECTION("tao_overdue") {
    Incident inc;
    inc.id = 7;
    inc.village = "kaoko";
    inc.level = Level::kWarning;
    inc.stage = Stage::kEscalated;
    inc.opened = inc.updated = T0();
    inc.revision = 4;
    inc.tao_overdue = true;
    const std::string xml = RenderCap(net, {&inc}, T0());
    CHECK(Has(xml, "<valueName>kaoko-tao-overdue</valueName>\n      <value>true</value>"));
    CHECK(Has(xml, "the TAO has not decided within its deadline (overdue)"));
    CHECK(Has(xml, "อบต. ยังไม่ตัดสินใจเกินกำหนดเวลา"));
    inc.tao_overdue = false;
    CHECK_FALSE(Has(RenderCap(net, {&inc}, T0()), "overdue"));
  }
  SECTION("the district step: when the district above the TAO was told") {
    Incident inc;
    inc.id = 8;
    inc.village = "kaoko";
    inc.level = Level::kWarning;
    inc.stage = Stage::kEscalated;
    inc.opened = inc.updated = T0();
    inc.revision = 5;
    inc.tao_overdue = true;
    CHECK_FALSE(Has(RenderCap(net, {&inc}, T0()), "kaoko-district-notified"));
    inc.tao_overdue_since = T0() + 20min;
    inc.district_notified_at = T0() + 20min;
    const std::string xml = RenderCap(net, {&inc}, T0() + 20min);
    CHECK(Has(xml, "<valueName>kaoko-district-notified</valueName>\n      <value>2026-11-27T11:20:00+07:00</value>"));
    CHECK(Has(xml, "the district was told at 11:20 Thai time"));
    CHECK(Has(xml, "แจ้งอำเภอแล้วเมื่อ 11:20 น."));
  }
  SECTION("two villages at once") {
    Engine e(net);
    const std::int64_t a =
        *e.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0()), T0()).receipts.at(0).incident;
    const Message alone = Publish(e, T0());
    (void)e.OnReport(MakeReport("anan", "r-2", "huaiphan", Level::kWatch, T0() + 1min), T0() + 1min);
    const Message two = Publish(e, T0() + 1min);
    INFO(two.xml);
    // A document of several incidents carries each one's current message (its <info> names it) and references
    // what those messages follow: incident a's is the message published alone, unchanged; b's is its first.
    CHECK(two.identifier != alone.identifier);
    CHECK(two.references.empty());
    CHECK(two.type == "Alert");
    CHECK(Has(two.incidents, "kaoko-tonhong-incident-" + std::to_string(a) + " "));
    CHECK(Has(two.xml, "<valueName>kaoko-message</valueName>\n      <value>" + alone.identifier + "</value>"));
    (void)e.OnDecision(MakeDecision("prasert", "d-1", "kaoko", a, DecisionAction::kAck, T0() + 2min), T0() + 2min);
    const Message next = Publish(e, T0() + 2min);
    INFO(next.xml);
    CHECK(next.identifier != two.identifier);
    CHECK(next.type == "Update");
    CHECK(next.references == alone.Triple());  // a's next message follows the one published alone
  }
}
