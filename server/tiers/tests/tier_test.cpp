// The tier journal (journal.hpp) and the tier tap (tier.hpp): the go-back-N sender and receiver on their own, then an
// edge box and a TAO in one process, each a real Core on a real SQLite file, with the "bridge" between them played by
// the test — which loses, repeats and delays journal messages and restarts either side — and the edge's siren rule.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <mutex>

#include "kaoko/contract/network_file.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/store/query.hpp"
#include "kaoko/testing/scratch_dir.hpp"
#include "kaoko/tiers/journal.hpp"
#include "kaoko/tiers/tier.hpp"

using namespace kaoko;
using namespace kaoko::server::tier;
using namespace std::chrono_literals;
using wire::TimePoint;

TEST_CASE("tier journal: the sender batches in order, goes back on timeout, gap, and link up", "[tier]") {
  JournalSender s(JournalSender::Options{4, 10, 5000ms, 1000ms});
  SteadyTime t0{};
  s.Restore(0, 0);
  CHECK_FALSE(s.Next(t0));
  s.Appended(9);
  CHECK(s.Next(t0) == std::pair<std::uint64_t, std::uint64_t>{1, 4});
  CHECK(s.Next(t0) == std::pair<std::uint64_t, std::uint64_t>{5, 8});
  CHECK(s.Next(t0) == std::pair<std::uint64_t, std::uint64_t>{9, 9});
  CHECK_FALSE(s.Next(t0));
  SECTION("a cumulative ack moves on; the window bounds what is in flight") {
    CHECK(s.OnAck(4, false, t0 + 1s));
    CHECK(s.backlog() == 5);
    s.Appended(30);
    CHECK(s.Next(t0 + 1s) == std::pair<std::uint64_t, std::uint64_t>{10, 13});
    CHECK(s.Next(t0 + 1s) == std::pair<std::uint64_t, std::uint64_t>{14, 14});  // acked 4 + window 10
    CHECK_FALSE(s.Next(t0 + 1s));
    CHECK_FALSE(s.OnAck(4, false, t0 + 2s));   // a repeated ack is no progress
    CHECK_FALSE(s.OnAck(99, false, t0 + 2s));  // beyond what was appended: not ours
    CHECK(s.acked() == 4);
  }
  SECTION("no ack for resend_after: back to the first unacknowledged entry") {
    CHECK_FALSE(s.TimedOut(t0 + 4s));
    CHECK(s.TimedOut(t0 + 5s));
    CHECK(s.Next(t0 + 5s) == std::pair<std::uint64_t, std::uint64_t>{1, 4});
    CHECK(s.resends() == 1);
  }
  SECTION("a gap ack goes back at once, but once per backoff") {
    CHECK(s.OnAck(4, true, t0 + 1500ms));  // 5..8 lost, 9 refused after the gap
    CHECK(s.Next(t0 + 1500ms) == std::pair<std::uint64_t, std::uint64_t>{5, 8});
    CHECK(s.Next(t0 + 1500ms) == std::pair<std::uint64_t, std::uint64_t>{9, 9});
    s.OnAck(4, true, t0 + 1600ms);  // the same gap reported by a later message: not again
    CHECK_FALSE(s.Next(t0 + 1600ms));
  }
  SECTION("link down: nothing is sent; link up: everything unacknowledged again") {
    s.OnLinkDown();
    s.Appended(12);
    CHECK_FALSE(s.Next(t0 + 10s));
    s.OnLinkUp(t0 + 11s);
    CHECK(s.Next(t0 + 11s) == std::pair<std::uint64_t, std::uint64_t>{1, 4});
  }
  SECTION("rewind: the publisher took less than the range") {
    s.OnAck(4, false, t0 + 1s);
    s.Rewind(2);  // below the ack: stays at the ack
    CHECK(s.sent() == 4);
  }
}

TEST_CASE("tier journal: the receiver applies in order, skips repeats, refuses after a gap", "[tier]") {
  auto p = PlanReceive(10, {9, 10, 11, 12, 14, 15});
  CHECK(p.apply == std::vector<std::size_t>{2, 3});
  CHECK(p.last == 12);
  CHECK(p.duplicates == 2);
  CHECK(p.gap);
  p = PlanReceive(0, {1, 2, 3});
  CHECK(p.last == 3);
  CHECK_FALSE(p.gap);
  p = PlanReceive(5, {7});
  CHECK(p.apply.empty());
  CHECK(p.last == 5);
  CHECK(p.gap);
  CHECK(ParseTierTopic("kaoko/v1/tonhong/tier/edge-kaoko/journal")->node == "edge-kaoko");
  CHECK_FALSE(ParseTierTopic("kaoko/v1/tonhong/kaoko/alert"));
  CHECK_FALSE(ParseTierTopic("kaoko/v1/tonhong/tier/x/journal/more"));
  auto ack = ParseJournalAck(RenderJournalAck(42, true, "e1"));
  REQUIRE(ack);
  CHECK(ack->acked == 42);
  CHECK(ack->gap);
  CHECK(ack->epoch == "e1");
  CHECK_FALSE(ParseJournalAck(R"({"acked":-1})"));
}

namespace {

struct Recorder : server::Publisher {
  std::mutex mu;
  std::vector<std::tuple<std::string, std::string, bool>> sent;
  void Publish(const std::string& t, const std::string& p, bool r) override {
    std::lock_guard lock(mu);
    sent.emplace_back(t, p, r);
  }
  // Takes (and forgets) everything published on topics starting with `prefix`.
  std::vector<std::pair<std::string, std::string>> Take(const std::string& prefix) {
    std::lock_guard lock(mu);
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::tuple<std::string, std::string, bool>> keep;
    for (auto& [t, p, r] : sent) {
      if (t.starts_with(prefix))
        out.emplace_back(t, p);
      else
        keep.emplace_back(t, p, r);
    }
    sent = std::move(keep);
    return out;
  }
  std::vector<std::string> On(const std::string& topic) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (auto& [t, p, r] : sent) {
      if (t == topic) out.push_back(p);
    }
    return out;
  }
};

TimePoint At(int minute) { return *wire::ParseTime("2026-11-27T00:00:00Z") + std::chrono::minutes(minute); }

// One kaoko (edge or TAO) in-process: a database file that outlives restarts, the tier, the core.
struct Node {
  std::string db_path;
  alerting::Network net;
  TierOptions options;
  Clock clock;
  Recorder out;
  server::Metrics metrics;
  std::unique_ptr<store::Store> db;
  std::unique_ptr<Tier> tier;
  std::unique_ptr<server::Core> core;

  Node(std::string path, alerting::Network network, TierOptions o, Clock c)
      : db_path(std::move(path)), net(std::move(network)), options(std::move(o)), clock(std::move(c)) {
    Start();
  }
  void Start() {
    db = std::move(*store::Store::Open(db_path));
    auto made = Tier::Create(options, net, *db, db_path, metrics);
    REQUIRE(made);
    tier = std::move(*made);
    server::CoreOptions co;
    co.clock = clock;
    co.tap = tier.get();
    server::Publisher& p = tier->Output(out);
    core = std::make_unique<server::Core>(net, *db, p, metrics, co);
    tier->Attach(*core);
  }
  void Restart() {
    core.reset();
    tier.reset();
    db.reset();
    Start();
  }
  void Feed(std::vector<std::pair<std::string, std::string>> msgs) {
    std::vector<server::Inbound> batch;
    for (auto& [t, p] : msgs) batch.push_back({t, p});
    REQUIRE(core->ProcessBatch(batch));
  }
  std::int64_t Count(const std::string& sql) {
    store::testing::Query s(*db, sql);
    REQUIRE(s.Step());
    return s.Int(0);
  }
};

// The options of an edge box serving village kaoko.
TierOptions EdgeOptions() {
  TierOptions o;
  o.mode = Mode::kEdge;
  o.village = "kaoko";
  return o;
}

// An edge box (`edge_options`) and its TAO for tambon tonhong, in one scratch folder, on one clock starting at At(0).
struct EdgeAndTao {
  explicit EdgeAndTao(const TierOptions& edge_options)
      : full(*config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml")),
        edge((scratch.dir() / "edge.db").string(), VillageNetwork(full, "kaoko"), edge_options, clock),
        tao((scratch.dir() / "tao.db").string(), full, TierOptions{}, clock) {}
  kaoko::server_test::ScratchDir scratch{"tier"};
  alerting::Network full;
  Clock clock = Clock::Fake(At(0));  // one clock for both, declared before them
  Node edge;
  Node tao;
};

const std::string kUp = std::string(kUpPrefix);
const std::string kOut = std::string(kOutPrefix);
const std::string kBridgeReading = "kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading";

std::string Reading(int seq, double level, TimePoint ts) {
  return fmt::format(R"({{"seq":{},"ts":"{}","level_cm":{}}})", seq, wire::FormatTime(ts), level);
}

// The bridge, played by hand: journal messages from the edge (prefix stripped, as Mosquitto does) to the TAO.
std::vector<std::pair<std::string, std::string>> JournalOut(Node& edge) {
  edge.tier->Pump();
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [t, p] : edge.out.Take(kOut)) {
    if (t.ends_with("/journal")) out.emplace_back(t.substr(kOut.size()), p);
  }
  return out;
}
// Acks from the TAO back to the edge (under kaoko/tier/up/, as the edge's bridge brings them down).
void AcksBack(Node& tao, Node& edge) {
  std::vector<std::pair<std::string, std::string>> acks;
  for (auto& [t, p] : tao.out.Take("kaoko/v1/tonhong/tier/")) {
    if (t.ends_with("/journal-ack")) acks.emplace_back(kUp + t, p);
  }
  if (!acks.empty()) edge.Feed(acks);
}

}  // namespace

TEST_CASE("tier: an edge's village network holds its own stations and its own index", "[tier]") {
  const alerting::Network full = *config::LoadNetwork(KAOKO_SOURCE_DIR "/config/tonhong.toml");
  const alerting::Network edge = VillageNetwork(full, "kaoko");
  REQUIRE(edge.stations.size() < full.stations.size());
  REQUIRE(edge.station_index.size() == edge.stations.size());  // not the whole tambon's index, copied
  REQUIRE(edge.village_index.size() == edge.villages.size());
  REQUIRE(edge.person_index.size() == edge.people.size());
  REQUIRE(edge.StationIndex("kaoko-bridge") >= 0);
  REQUIRE(edge.stations[static_cast<std::size_t>(edge.StationIndex("kaoko-temple"))].id == "kaoko-temple");
  REQUIRE(edge.StationIndex("thonhong-bridge") == -1);  // another village's station
  // Its stations own their texts: they outlive the tambon's network and its arena.
  REQUIRE_FALSE(edge.texts);
  const auto& bridge = edge.stations[static_cast<std::size_t>(edge.StationIndex("kaoko-bridge"))];
  REQUIRE_FALSE(bridge.texts.in_arena());
  REQUIRE(bridge.name_th() == full.FindStation("kaoko-bridge")->name_th());
  REQUIRE_FALSE(bridge.name_th().empty());
  REQUIRE(edge.FindVillage("thonhong") == nullptr);
}

TEST_CASE("tier: an edge's journal reaches the TAO once and in order through loss, repeats and restarts", "[tier]") {
  TierOptions eo = EdgeOptions();
  eo.journal_batch = 7;
  eo.resend_ms = 3'600'000;  // no timeouts here: losses are recovered by the gap ack, or by a reconnect (below)
  EdgeAndTao both(eo);
  Node& edge = both.edge;
  Node& tao = both.tao;
  const Clock& clock = both.clock;
  REQUIRE(edge.tier->options().node == "edge-kaoko");

  // A rise at the bridge, from normal to past critical (400 cm), a reading a minute.
  int seq = 0;
  auto rise = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ++seq;
      clock.Set(At(seq));
      edge.Feed({{kBridgeReading, Reading(seq, 200 + 8.0 * seq, clock.Now())}});
    }
  };
  rise(12);
  // First pump: two messages (batch of 7). The first is lost on the way; the second arrives after a gap.
  auto msgs = JournalOut(edge);
  REQUIRE(msgs.size() >= 2);
  tao.Feed({msgs[1]});
  AcksBack(tao, edge);
  CHECK(tao.Count("SELECT COUNT(*) FROM readings") == 0);  // nothing after the gap was stored
  CHECK(tao.Count("SELECT last_seq FROM tier_inbox WHERE node = 'edge-kaoko'") == 0);
  // The gap ack made the edge go back: everything again, and this time the TAO also sees an old message twice.
  msgs = JournalOut(edge);
  CHECK(msgs.size() >= 2);
  REQUIRE_FALSE(msgs.empty());
  tao.Feed(msgs);
  tao.Feed({msgs.front()});
  AcksBack(tao, edge);
  CHECK(tao.Count("SELECT COUNT(*) FROM readings") == 12);
  CHECK(edge.Count("SELECT COUNT(*) FROM tier_outbox") == 0);  // all acknowledged: pruned

  // The link goes down mid-rise; the edge acts alone and keeps journaling; it is restarted while cut off.
  edge.Feed({{"kaoko/v1/tonhong/tier/edge-kaoko/link", "0"}});
  rise(15);
  CHECK(JournalOut(edge).empty());  // nothing is sent while the bridge is down
  const auto backlog = edge.Count("SELECT COUNT(*) FROM tier_outbox");
  CHECK(backlog >= 15);
  edge.Restart();
  edge.Feed({{"kaoko/v1/tonhong/tier/edge-kaoko/link", "0"}});  // the retained link state, read again
  rise(5);
  // The edge's own engine reached critical and switched the siren on while cut off.
  CHECK(edge.Count("SELECT COUNT(*) FROM timeline WHERE kind = 'siren'") >= 1);
  // The link returns; the TAO is restarted too before it takes anything.
  tao.Restart();
  edge.Feed({{"kaoko/v1/tonhong/tier/edge-kaoko/link", "1"}});
  for (int round = 0; round < 20 && edge.Count("SELECT COUNT(*) FROM tier_outbox") > 0; ++round) {
    auto batch = JournalOut(edge);
    if (batch.empty()) {
      // Everything was sent and some of it refused after a gap, faster than the gap backoff allows a second go-back:
      // the bridge dropping and coming back (or the resend timeout) sends it again.
      edge.Feed({{"kaoko/v1/tonhong/tier/edge-kaoko/link", "0"}});
      edge.Feed({{"kaoko/v1/tonhong/tier/edge-kaoko/link", "1"}});
      continue;
    }
    // Deliver in reverse order once: every message but the first is refused after a gap until it is resent.
    if (round == 0) std::reverse(batch.begin(), batch.end());
    for (auto& m : batch) tao.Feed({m});
    AcksBack(tao, edge);
  }
  CHECK(edge.Count("SELECT COUNT(*) FROM tier_outbox") == 0);

  // Every reading once, in seq order; every event of the edge's log once, in the order it was written.
  CHECK(tao.Count("SELECT COUNT(*) FROM readings") == seq);
  CHECK(tao.Count("SELECT COUNT(DISTINCT seq) FROM readings") == seq);
  std::vector<std::string> edge_log, tao_log;
  {
    store::testing::Query s(*edge.db, "SELECT kind || '|' || actor || '|' || text_en FROM timeline ORDER BY id");
    while (s.Step()) edge_log.push_back(s.Text(0));
    store::testing::Query t(
        *tao.db,
        "SELECT kind || '|' || actor || '|' || text_en FROM tier_events WHERE origin = 'edge-kaoko' "
        "ORDER BY origin_id");
    while (t.Step()) tao_log.push_back(t.Text(0));
  }
  REQUIRE_FALSE(edge_log.empty());
  CHECK(tao_log == edge_log);
  // The TAO ran its own engine on the edge's readings: its own incident for the village, with the edge's events in
  // its timeline marked with the node they came through.
  CHECK(tao.Count("SELECT COUNT(*) FROM incidents WHERE village = 'kaoko' AND kind = 'flood'") >= 1);
  CHECK(tao.Count("SELECT COUNT(*) FROM timeline WHERE via = 'edge:edge-kaoko'") >= 1);
  // The edge's incidents are numbered apart from the TAO's.
  CHECK(edge.Count("SELECT MIN(id) FROM incidents") > 1'000'000'000);
}

TEST_CASE("tier: the edge is the only voice of the village's siren: its own alone, the TAO's when caught up",
          "[tier]") {
  server::Metrics metrics;
  Recorder out;
  Arbiter a("tonhong", "kaoko", metrics);
  a.SetOutput(&out);
  const std::string siren = "kaoko/v1/tonhong/kaoko/siren";
  const std::string on = R"({"on":true,"level":"critical","incident":1000000001})";
  const std::string tao_on = R"({"on":true,"level":"critical","incident":17})";
  const std::string tao_off = R"({"on":false,"level":"normal","incident":null})";
  a.Publish(siren, on, true);
  CHECK(out.On(siren).empty());  // undecided: nothing yet
  a.SetFollowing(false, "cut off");
  CHECK(out.On(siren) == std::vector<std::string>{on});
  a.FromAbove(siren, tao_off);  // the TAO's stale state from before the cut: not relayed while acting alone
  CHECK(out.On(siren).size() == 1);
  a.FromAbove(siren, tao_on);  // the TAO caught up on the journal and agrees
  a.SetFollowing(true, "caught up");
  CHECK(out.On(siren) == std::vector<std::string>{on, tao_on});  // on, and on: no flap
  a.Publish(siren, R"({"on":false})", true);                     // the village's own engine, following: not published
  a.Publish("kaoko/v1/tonhong/kaoko/notify/prasert", "{}", false);
  CHECK(out.On(siren).size() == 2);
  CHECK(out.On("kaoko/v1/tonhong/kaoko/notify/prasert").empty());
  a.FromAbove("kaoko/v1/tonhong/kaoko/notify/prasert", R"({"id":"n-1"})");
  CHECK(out.On("kaoko/v1/tonhong/kaoko/notify/prasert").size() == 1);
}

TEST_CASE("tier: the edge follows the TAO only while the TAO answers its heartbeats", "[tier]") {
  TierOptions eo = EdgeOptions();
  eo.heartbeat_seconds = 60;
  EdgeAndTao both(eo);
  Node& edge = both.edge;
  Node& tao = both.tao;
  const Clock& clock = both.clock;
  auto mode = [&] {
    server::Request req{server::http::verb::get, "/api/v1/tiers", 11};
    auto res = edge.tier->Http(req);
    REQUIRE(res);
    return nlohmann::json::parse(res->body()).value("mode", "undecided");
  };
  // The edge's first heartbeat (it knows nothing of the link yet: Mosquitto keeps the bridge's retained state from
  // late subscribers) goes up; the TAO answers it with the journal's position; now the edge knows the link is up.
  edge.tier->Tick();
  auto beats = edge.out.Take(kOut);
  REQUIRE(beats.size() == 1);
  REQUIRE(beats[0].first == kOut + "kaoko/v1/tonhong/tier/edge-kaoko/heartbeat");
  CHECK(mode() == "undecided");  // no answer yet: the first seconds after a start wait for one
  tao.Feed({{beats[0].first.substr(kOut.size()), beats[0].second}});
  AcksBack(tao, edge);
  CHECK(mode() == "following");
  // The TAO's kaoko dies behind a live broker: the bridge stays up, the answers stop. After as many heartbeats as the
  // TAO would wait before calling the edge silent, the edge acts alone.
  clock.Advance(std::chrono::minutes(2));
  edge.tier->Tick();
  CHECK(mode() == "following");
  clock.Advance(std::chrono::minutes(2));
  edge.tier->Tick();
  CHECK(mode() == "acting_alone");
  // It comes back and answers: following again.
  for (auto& [t, p] : edge.out.Take(kOut)) tao.Feed({{t.substr(kOut.size()), p}});
  AcksBack(tao, edge);
  CHECK(mode() == "following");
  // The TAO registered the edge as a node it watches.
  CHECK(tao.Count("SELECT COUNT(*) FROM tier_nodes WHERE node = 'edge-kaoko' AND village = 'kaoko'") == 1);
}
