#include "kaoko/ingest/engine_codec.hpp"

#include "kaoko/alerting/engine.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using namespace kaoko;
using namespace kaoko::alerting;
using namespace std::chrono_literals;
using json = nlohmann::json;

// 2026-11-27T04:15:00.250Z: milliseconds on purpose, the storage encoding must keep them.
const TimePoint kT0 = TimePoint(std::chrono::milliseconds(1795752900250));

Incident FullIncident() {
  Incident i;
  i.id = 42;
  i.kind = IncidentKind::kStation;
  i.village = "kaoko";
  i.station = "kk-bridge";
  i.origin = "health";
  i.level = Level::kCritical;
  i.declared_level = Level::kWarning;
  i.stage = Stage::kAwaitingConfirmation;
  i.exercise = true;
  i.unconfirmed = true;
  i.rejection_noted = true;
  i.station_critical = true;
  i.upstream_warned = true;
  i.siren_on = true;
  i.tao_overdue = true;
  i.district_overdue = true;
  i.corroborations = 3;
  i.problems = kProblemOffline | kProblemLowBattery;
  i.opened = kT0;
  i.updated = kT0 + 61'001ms;
  i.closed = kT0 + 2h;
  i.stage_deadline = kT0 + 15min + 7ms;
  i.deputy_at = kT0 + 10min;
  i.normal_since = kT0 + 1h;
  i.expected_arrival = kT0 + 45min;
  i.tao_overdue_since = kT0 + 20min;
  i.district_notified_at = kT0 + 20min + 3ms;
  i.district_deadline = kT0 + 50min;
  i.district_acked_by = "amphoe-dpm";
  i.upstream_village = "ban-nuea";
  i.acked_by = "somchai";
  i.confirmed_by = "headman-kk";
  i.rejected_by = "someone";
  i.declared_by = "tao-1";
  i.detail_th = "น้ำถึงคอสะพาน ที่สะพานบ้านเก้ากอ";
  i.detail_en = "water at the bridge deck, \"Kaoko\" bridge";
  i.headline_th = "เตือนภัยรุนแรง บ้านเก้ากอ: น้ำถึงคอสะพาน";
  i.headline_en = "Critical Kaoko: water at the bridge deck\nline two";
  i.asks = {Ask{"somchai", ActionNeeded::kAck, kT0, kT0 + 5min, 2, false},
            Ask{"headman-kk", ActionNeeded::kConfirm, kT0 + 1min, kT0 + 6min, 0, true},
            Ask{"tao-1", ActionNeeded::kDeclare, kT0 + 2min, kT0 + 7min, 5, true}};
  i.sources = {TriggerSource{"station", "kk-bridge", kT0, Level::kWarning},
               TriggerSource{"watcher", "somchai", kT0 + 3min, Level::kCritical},
               TriggerSource{"upstream", "ban-nuea", kT0 - 1h, Level::kWatch}};
  i.revision = 9'000'000'000ull;
  i.cap_revision = 8'999'999'999ull;
  i.cap_sent = kT0 + 9min;
  i.cap_previous_revision = 8'999'999'990ull;
  i.cap_previous_sent = kT0 + 8min;
  return i;
}

void CheckSame(const Incident& a, const Incident& b) {
  CHECK(a.id == b.id);
  CHECK(a.kind == b.kind);
  CHECK(a.village == b.village);
  CHECK(a.station == b.station);
  CHECK(a.origin == b.origin);
  CHECK(a.level == b.level);
  CHECK(a.declared_level == b.declared_level);
  CHECK(a.stage == b.stage);
  CHECK(a.exercise == b.exercise);
  CHECK(a.unconfirmed == b.unconfirmed);
  CHECK(a.rejection_noted == b.rejection_noted);
  CHECK(a.station_critical == b.station_critical);
  CHECK(a.upstream_warned == b.upstream_warned);
  CHECK(a.siren_on == b.siren_on);
  CHECK(a.tao_overdue == b.tao_overdue);
  CHECK(a.district_overdue == b.district_overdue);
  CHECK(a.tao_overdue_since == b.tao_overdue_since);
  CHECK(a.district_notified_at == b.district_notified_at);
  CHECK(a.district_deadline == b.district_deadline);
  CHECK(a.district_acked_by == b.district_acked_by);
  CHECK(a.corroborations == b.corroborations);
  CHECK(a.problems == b.problems);
  CHECK(a.opened == b.opened);
  CHECK(a.updated == b.updated);
  CHECK(a.closed == b.closed);
  CHECK(a.stage_deadline == b.stage_deadline);
  CHECK(a.deputy_at == b.deputy_at);
  CHECK(a.normal_since == b.normal_since);
  CHECK(a.expected_arrival == b.expected_arrival);
  CHECK(a.upstream_village == b.upstream_village);
  CHECK(a.acked_by == b.acked_by);
  CHECK(a.confirmed_by == b.confirmed_by);
  CHECK(a.rejected_by == b.rejected_by);
  CHECK(a.declared_by == b.declared_by);
  CHECK(a.detail_th == b.detail_th);
  CHECK(a.detail_en == b.detail_en);
  CHECK(a.headline_th == b.headline_th);
  CHECK(a.headline_en == b.headline_en);
  REQUIRE(a.asks.size() == b.asks.size());
  for (std::size_t k = 0; k < a.asks.size(); ++k) {
    CHECK(a.asks[k].user == b.asks[k].user);
    CHECK(a.asks[k].action == b.asks[k].action);
    CHECK(a.asks[k].asked == b.asks[k].asked);
    CHECK(a.asks[k].next_reminder == b.asks[k].next_reminder);
    CHECK(a.asks[k].reminders == b.asks[k].reminders);
    CHECK(a.asks[k].open == b.asks[k].open);
  }
  REQUIRE(a.sources.size() == b.sources.size());
  for (std::size_t k = 0; k < a.sources.size(); ++k) {
    CHECK(a.sources[k].kind == b.sources[k].kind);
    CHECK(a.sources[k].id == b.sources[k].id);
    CHECK(a.sources[k].ts == b.sources[k].ts);
    CHECK(a.sources[k].level == b.sources[k].level);
  }
  CHECK(a.revision == b.revision);
  CHECK(a.cap_revision == b.cap_revision);
  CHECK(a.cap_sent == b.cap_sent);
  CHECK(a.cap_previous_revision == b.cap_previous_revision);
  CHECK(a.cap_previous_sent == b.cap_previous_sent);
}

StationTrack FullTrack() {
  StationTrack t;
  t.threshold_level = Level::kWarning;
  t.fast_rise = true;
  t.rain_watch = true;
  t.level = Level::kCritical;
  t.triggered_level = Level::kWarning;
  t.over_count[0] = 7;
  t.over_count[1] = 4;
  t.over_count[2] = 1;
  t.over_since[0] = kT0;
  t.over_since[1] = kT0 + 30min;
  t.over_since[2] = kT0 + 59min + 1ms;
  t.latest_ts = kT0 + 1h;
  t.latest_seq = 18'446'744'073'709'551'615ull;  // the largest seq must survive (it is unsigned in JSON)
  t.max_seq = 18'446'744'073'709'551'614ull;
  t.latest_level_cm = 412.3;
  t.accepted_cm = 0.1 + 0.2;  // not exactly representable in decimal: the shortest round-trip form must come back
  t.battery_v = 3.71;
  t.last_heard = kT0 + 1h + 5s;
  t.watching_since = kT0 - 24h;
  t.recent.resize(StationTrack::kRecentCapacity);
  for (std::size_t k = 0; k < t.recent.size(); ++k) {
    t.recent[k] = RecentReading{kT0 + std::chrono::minutes(k), 100.0 + static_cast<double>(k) / 3.0};
  }
  t.recent_head = 5;
  t.recent_count = StationTrack::kRecentCapacity;
  t.rain_bucket.assign(StationTrack::kRainBuckets, std::numeric_limits<std::int64_t>::min());
  t.rain_mm.assign(StationTrack::kRainBuckets, 0.0);
  for (std::size_t s = 0; s < 20; ++s) {
    const std::size_t slot = (s * 7) % StationTrack::kRainBuckets;
    t.rain_bucket[slot] = 2'993'000 + static_cast<std::int64_t>(s);
    t.rain_mm[slot] = 0.2 * static_cast<double>(s);  // slot 0 gets 0 mm but a real bucket: still stored
  }
  t.rain_mm[1] = 1.5;  // mm in a slot whose bucket is still the empty marker: odd, but it must come back as it was
  t.rain_1h_mm = 12.25;
  t.rain_24h_mm = 101.5;
  t.rise_cm_per_hour = -35.5;
  t.same_count = 2;
  t.moving = true;
  t.suspect_run = 1;
  t.suspect_cm = 1999.9;
  t.good_run = 6;
  t.problems = kProblemStuck | kProblemSpike;
  t.silenced_until = kT0 + 3h;
  t.health_incident = 17;
  t.clock_ahead_s = 7200;
  t.clock_good_run = 2;
  t.backlog_count = 40;
  t.backlog_first = kT0 - 2h;
  t.backlog_last = kT0 - 10min;
  return t;
}

void CheckSame(const StationTrack& a, const StationTrack& b) {
  CHECK(a.threshold_level == b.threshold_level);
  CHECK(a.fast_rise == b.fast_rise);
  CHECK(a.rain_watch == b.rain_watch);
  CHECK(a.level == b.level);
  CHECK(a.triggered_level == b.triggered_level);
  for (int k = 0; k < 3; ++k) {
    CHECK(a.over_count[k] == b.over_count[k]);
    CHECK(a.over_since[k] == b.over_since[k]);
  }
  CHECK(a.latest_ts == b.latest_ts);
  CHECK(a.latest_seq == b.latest_seq);
  CHECK(a.max_seq == b.max_seq);
  CHECK(a.latest_level_cm == b.latest_level_cm);
  CHECK(a.accepted_cm == b.accepted_cm);
  CHECK(a.battery_v == b.battery_v);
  CHECK(a.last_heard == b.last_heard);
  CHECK(a.watching_since == b.watching_since);
  REQUIRE(a.recent.size() == b.recent.size());
  for (std::size_t k = 0; k < a.recent.size(); ++k) {
    CHECK(a.recent[k].ts == b.recent[k].ts);
    CHECK(a.recent[k].level_cm == b.recent[k].level_cm);
  }
  CHECK(a.recent_head == b.recent_head);
  CHECK(a.recent_count == b.recent_count);
  CHECK(a.rain_bucket == b.rain_bucket);
  CHECK(a.rain_mm == b.rain_mm);
  CHECK(a.rain_1h_mm == b.rain_1h_mm);
  CHECK(a.rain_24h_mm == b.rain_24h_mm);
  CHECK(a.rise_cm_per_hour == b.rise_cm_per_hour);
  CHECK(a.same_count == b.same_count);
  CHECK(a.moving == b.moving);
  CHECK(a.suspect_run == b.suspect_run);
  CHECK(a.suspect_cm == b.suspect_cm);
  CHECK(a.good_run == b.good_run);
  CHECK(a.problems == b.problems);
  CHECK(a.silenced_until == b.silenced_until);
  CHECK(a.health_incident == b.health_incident);
  CHECK(a.clock_ahead_s == b.clock_ahead_s);
  CHECK(a.clock_good_run == b.clock_good_run);
  CHECK(a.backlog_count == b.backlog_count);
  CHECK(a.backlog_first == b.backlog_first);
  CHECK(a.backlog_last == b.backlog_last);
}

}  // namespace

TEST_CASE("codec: a fully populated incident round-trips exactly", "[codec]") {
  const Incident in = FullIncident();
  const std::string text = server::EncodeIncident(in);
  CHECK(text.find('\n') == std::string::npos);  // compact
  auto out = server::DecodeIncident(text);
  REQUIRE(out.ok());
  CheckSame(in, *out);

  SECTION("times are stored as integer milliseconds") {
    const json j = json::parse(text);
    CHECK(j.at("opened") == 1795752900250);
    CHECK(j.at("stage") == "awaiting_confirmation");
    CHECK(j.at("declared_level") == "warning");
  }
  SECTION("empty optionals are null and come back empty") {
    Incident bare = in;
    bare.declared_level.reset();
    bare.closed.reset();
    bare.stage_deadline.reset();
    bare.deputy_at.reset();
    bare.normal_since.reset();
    bare.expected_arrival.reset();
    bare.asks.clear();
    bare.sources.clear();
    const std::string bare_text = server::EncodeIncident(bare);
    CHECK(json::parse(bare_text).at("closed").is_null());
    auto back = server::DecodeIncident(bare_text);
    REQUIRE(back.ok());
    CheckSame(bare, *back);
  }
}

TEST_CASE("codec: a station track with a full ring and rain buckets round-trips exactly", "[codec]") {
  const StationTrack in = FullTrack();
  const std::string text = server::EncodeStationTrack("kk-bridge", in);
  auto out = server::DecodeStationTrack(text);
  REQUIRE(out.ok());
  CHECK(out->station == "kk-bridge");
  CheckSame(in, out->track);

  SECTION("dry rain slots cost nothing") {
    const json j = json::parse(text);
    CHECK(j.at("rain_slots") == StationTrack::kRainBuckets);
    CHECK(j.at("rain").size() == 21);  // 20 buckets in use + the odd slot 1
    CHECK(j.at("recent").size() == StationTrack::kRecentCapacity);
  }
  SECTION("a default track (no buffers yet) round-trips too") {
    const StationTrack empty;
    auto back = server::DecodeStationTrack(server::EncodeStationTrack("kk-bridge", empty));
    REQUIRE(back.ok());
    CheckSame(empty, back->track);
  }
  SECTION("a ring head past the ring is refused, not handed to the engine") {
    json j = json::parse(text);
    j["recent_head"] = StationTrack::kRecentCapacity;
    auto bad = server::DecodeStationTrack(j.dump());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().reason.find("recent_head") != std::string::npos);
  }
  SECTION("a rain slot outside the buffer is refused") {
    json j = json::parse(text);
    j["rain"].push_back(json::array({144, 1, 1.0}));
    auto bad = server::DecodeStationTrack(j.dump());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == "bad_value");
  }
  SECTION("a track saved before the station's clock and late data were kept loads with none of either") {
    json j = json::parse(text);
    for (const char* key : {"clock_ahead_s", "clock_good_run", "backlog_count", "backlog_first", "backlog_last"}) {
      REQUIRE(j.erase(key) == 1);
    }
    auto back = server::DecodeStationTrack(j.dump());
    REQUIRE(back.ok());
    CHECK(back->track.clock_ahead_s == 0);
    CHECK(back->track.backlog_count == 0);
    CHECK_FALSE(back->track.backlog_first.has_value());
    CHECK(back->track.problems == in.problems);
  }
  SECTION("a track saved before max_seq existed takes its newest reading's seq") {
    json j = json::parse(text);
    j.erase("max_seq");
    auto back = server::DecodeStationTrack(j.dump());
    REQUIRE(back.ok());
    CHECK(back->track.max_seq == in.latest_seq);
  }
  SECTION("the direct writer gives what the JSON DOM would, value for value") {
    StationTrack odd = in;
    const std::string station = "สถานี \"q\"\n";
    odd.suspect_cm = -0.0;
    odd.rain_1h_mm = 1e-300;
    odd.rain_24h_mm = 1e300;
    auto back = server::DecodeStationTrack(server::EncodeStationTrack(station, odd));
    REQUIRE(back.ok());
    CHECK(back->station == station);
    CheckSame(odd, back->track);
    CHECK(std::signbit(back->track.suspect_cm));
    CHECK(json::parse(server::EncodeStationTrack(station, odd)).at("station") == station);
  }
  SECTION("a huge rain buffer is refused before it is allocated") {
    json j = json::parse(text);
    j["rain_slots"] = 1'000'000'000'000;
    CHECK_FALSE(server::DecodeStationTrack(j.dump()).ok());
  }
}

TEST_CASE("codec: engine meta round-trips alerts, sirens and seen messages", "[codec]") {
  EngineState in;
  in.next_incident = 1234;
  in.next_notification = 98765;
  in.alerts = {
      AlertState{"kaoko", Level::kWarning, 42, Stage::kConfirmed, kT0, kT0 + 1s, "เตือนภัย", "Warning", true, "huaiphan",
                 "บ้านห้วยพาน", "Ban Huai Phan", Level::kCritical, kT0 + 90min, kT0 + 20min, kT0 + 21min},
      AlertState{"ban-nuea", Level::kNormal, std::nullopt, Stage::kResolved, kT0 - 1h, kT0, "ปกติ", "Normal", false, "",
                 "", "", Level::kNormal, std::nullopt, std::nullopt, std::nullopt}};
  in.sirens = {Siren{"kaoko", true, Level::kCritical, 42, false}, Siren{"ban-nuea", false, Level::kNormal, {}, true}};
  in.seen = {SeenMessage{"r|somchai|r-1", Receipt{"somchai", "kaoko", "r-1", true, 42, ""}},
             SeenMessage{"d|tao-1|d-9", Receipt{"tao-1", "kaoko", "d-9", false, std::nullopt, "no such incident"}}};
  in.incidents.push_back(FullIncident());  // not part of the meta

  const std::string text = server::EncodeEngineMeta(in);
  CHECK(json::parse(text).count("incidents") == 0);
  EngineState out;
  out.incidents.push_back(Incident{});
  out.stations.push_back(SavedTrack{});
  auto ok = server::DecodeEngineMeta(text, out);
  REQUIRE(ok.ok());
  CHECK(*ok);
  CHECK(out.incidents.size() == 1);  // untouched
  CHECK(out.stations.size() == 1);
  CHECK(out.next_incident == 1234);
  CHECK(out.next_notification == 98765);
  REQUIRE(out.alerts.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    const AlertState& a = in.alerts[k];
    const AlertState& b = out.alerts[k];
    CHECK(a.village == b.village);
    CHECK(a.level == b.level);
    CHECK(a.incident == b.incident);
    CHECK(a.status == b.status);
    CHECK(a.since == b.since);
    CHECK(a.updated == b.updated);
    CHECK(a.upstream_village == b.upstream_village);
    CHECK(a.upstream_name_th == b.upstream_name_th);
    CHECK(a.upstream_name_en == b.upstream_name_en);
    CHECK(a.upstream_level == b.upstream_level);
    CHECK(a.expected_arrival == b.expected_arrival);
    CHECK(a.headline_th == b.headline_th);
    CHECK(a.headline_en == b.headline_en);
    CHECK(a.exercise == b.exercise);
    CHECK(a.tao_overdue_since == b.tao_overdue_since);
    CHECK(a.district_notified_at == b.district_notified_at);
  }
  REQUIRE(out.sirens.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(in.sirens[k].village == out.sirens[k].village);
    CHECK(in.sirens[k].on == out.sirens[k].on);
    CHECK(in.sirens[k].level == out.sirens[k].level);
    CHECK(in.sirens[k].incident == out.sirens[k].incident);
    CHECK(in.sirens[k].exercise == out.sirens[k].exercise);
  }
  REQUIRE(out.seen.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(in.seen[k].key == out.seen[k].key);
    CHECK(in.seen[k].receipt.user == out.seen[k].receipt.user);
    CHECK(in.seen[k].receipt.village == out.seen[k].receipt.village);
    CHECK(in.seen[k].receipt.ref == out.seen[k].receipt.ref);
    CHECK(in.seen[k].receipt.ok == out.seen[k].receipt.ok);
    CHECK(in.seen[k].receipt.incident == out.seen[k].receipt.incident);
    CHECK(in.seen[k].receipt.error == out.seen[k].receipt.error);
  }

  SECTION("a bad meta leaves the state untouched") {
    EngineState keep = out;
    auto bad = server::DecodeEngineMeta(R"({"next_incident": 5, "sirens": [{"level": "loud"}]})", keep);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().reason == "engine meta.sirens[0].level: unknown level \"loud\"");
    CHECK(keep.next_incident == 1234);
    CHECK(keep.sirens.size() == 2);
  }
}

TEST_CASE("codec: engine meta keeps the answers the villages' towers owe, and reads a state saved before them",
          "[codec][towers]") {
  EngineState in;
  in.next_announcement = 77;
  in.towers = {TowerExpectation{"tower-kaoko", "kaoko", "a-76", 42, false, kT0, kT0 + 60s, false, false},
               TowerExpectation{"siren-kaoko", "kaoko", "a-75", 41, true, kT0 - 2min, kT0 - 90s, false, true},
               TowerExpectation{"tower-nanuea", "nanuea", "a-74", 40, false, kT0 - 5min, kT0 - 4min, true, false}};
  const std::string text = server::EncodeEngineMeta(in);
  EngineState out;
  REQUIRE(server::DecodeEngineMeta(text, out).ok());
  CHECK(out.next_announcement == 77);
  REQUIRE(out.towers.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    const TowerExpectation& a = in.towers[k];
    const TowerExpectation& b = out.towers[k];
    CHECK(a.device == b.device);
    CHECK(a.village == b.village);
    CHECK(a.announce == b.announce);
    CHECK(a.incident == b.incident);
    CHECK(a.exercise == b.exercise);
    CHECK(a.sent == b.sent);  // to the millisecond
    CHECK(a.deadline == b.deadline);
    CHECK(a.answered == b.answered);
    CHECK(a.missed == b.missed);
  }

  SECTION("a meta saved before the towers decodes with none awaited and the counter at 1") {
    EngineState old;
    old.next_announcement = 9;
    old.towers = in.towers;
    REQUIRE(server::DecodeEngineMeta(R"({"v":1,"next_incident":12,"next_notification":30,"alerts":[],"sirens":[],)"
                                     R"("seen":[]})",
                                     old)
                .ok());
    CHECK(old.next_incident == 12);
    CHECK(old.next_announcement == 1);
    CHECK(old.towers.empty());
  }
  SECTION("a bad expectation names its field and leaves the state untouched") {
    EngineState keep = out;
    auto bad = server::DecodeEngineMeta(R"({"towers": [{"device": "tower-kaoko", "deadline": "soon"}]})", keep);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().reason.find("engine meta.towers[0].deadline") != std::string::npos);
    CHECK(keep.towers.size() == 3);
  }
  SECTION("what a restart reads back, the engine resumes: the silent tower is reported at its deadline") {
    Network net;
    net.tambon = "t";
    Village v;
    v.id = "kaoko";
    v.name_en = "Ban Kao Ko";
    net.villages = {v};
    Device d;
    d.id = "tower-kaoko";
    d.village = "kaoko";
    net.devices = {d};
    Engine engine(net);
    EngineState state;
    REQUIRE(server::DecodeEngineMeta(text, state).ok());
    state.towers.resize(1);  // only Kao Ko's tower, still waited for
    engine.ImportState(state);
    CHECK(engine.NextDeadline() == kT0 + 60s);
    Effects fx = engine.Advance(kT0 + 60s);
    REQUIRE(fx.timeline.size() == 1);
    CHECK(fx.timeline[0].kind == "tower");
    CHECK(fx.timeline[0].incident == 42);
    CHECK(fx.timeline[0].text_en.find("the tower in Ban Kao Ko did not answer within 60 s") != std::string::npos);
  }
}

TEST_CASE("codec: malformed input is an error or the defaults, never a crash", "[codec]") {
  SECTION("not JSON") {
    for (const char* text : {"", "{", "not json", "{\"id\": }", "\xff\xfe", "[1,2", "nul"}) {
      auto r = server::DecodeIncident(text);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == "bad_json");
      CHECK_FALSE(server::DecodeStationTrack(text).ok());
      EngineState s;
      CHECK_FALSE(server::DecodeEngineMeta(text, s).ok());
    }
  }
  SECTION("JSON that is not an object") {
    for (const char* text : {"null", "[]", "42", "\"incident\"", "true"}) {
      auto r = server::DecodeIncident(text);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == "bad_type");
    }
  }
  SECTION("an empty object gives the defaults") {
    auto i = server::DecodeIncident("{}");
    REQUIRE(i.ok());
    CheckSame(Incident{}, *i);
    auto t = server::DecodeStationTrack("{}");
    REQUIRE(t.ok());
    CHECK(t->station.empty());
    CheckSame(StationTrack{}, t->track);
    EngineState s;
    s.next_incident = 77;
    s.alerts.push_back(AlertState{});
    REQUIRE(server::DecodeEngineMeta("{}", s).ok());
    CHECK(s.next_incident == 1);
    CHECK(s.alerts.empty());
  }
  SECTION("unknown keys are ignored") {
    auto i = server::DecodeIncident(R"({"id": 3, "colour": "blue", "v": 99, "future": {"x": [1]}})");
    REQUIRE(i.ok());
    CHECK(i->id == 3);
  }
  SECTION("wrong types are errors that name the field") {
    struct Case {
      const char* json;
      const char* field;
    };
    for (const Case& c :
         {Case{R"({"id": "42"})", "incident.id"}, Case{R"({"id": 4.5})", "incident.id"},
          Case{R"({"id": 99999999999999999999})", "incident.id"}, Case{R"({"exercise": 1})", "incident.exercise"},
          Case{R"({"village": null})", "incident.village"}, Case{R"({"level": "severe"})", "incident.level"},
          Case{R"({"kind": 1})", "incident.kind"}, Case{R"({"opened": "2026-11-27T04:15:00Z"})", "incident.opened"},
          Case{R"({"opened": 1e3})", "incident.opened"}, Case{R"({"closed": 9999999999999999})", "incident.closed"},
          Case{R"({"corroborations": 3000000000})", "incident.corroborations"},
          Case{R"({"problems": -1})", "incident.problems"}, Case{R"({"revision": -1})", "incident.revision"},
          Case{R"({"asks": {}})", "incident.asks"}, Case{R"({"asks": [{"user": "a"}, 7]})", "incident.asks[1]"},
          Case{R"({"asks": [{"action": "ring"}]})", "incident.asks[0].action"},
          Case{R"({"sources": [{"ts": true}]})", "incident.sources[0].ts"}}) {
      INFO(c.json);
      auto r = server::DecodeIncident(c.json);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().reason.rfind(c.field, 0) == 0);
      CHECK((r.error().code == "bad_type" || r.error().code == "bad_value"));
    }
    for (const char* text :
         {R"({"over_count": [1, 2]})", R"({"over_count": [1, 2, "3"]})", R"({"over_since": 5})", R"({"recent": [[1]]})",
          R"({"recent": [[1, "x"]]})", R"({"recent": [{"ts": 1}]})", R"({"rain": [[0, 1, 2]]})",
          R"({"rain_slots": -1})", R"({"rain": [1, 2]})", R"({"battery_v": "3.7"})", R"({"accepted_cm": 1e400})",
          R"({"recent_head": 1})", R"({"latest_seq": -3})", R"({"health_incident": 1.5})"}) {
      INFO(text);
      CHECK_FALSE(server::DecodeStationTrack(text).ok());
    }
    EngineState s;
    for (const char* text : {R"({"next_incident": "1"})", R"({"alerts": [{"incident": "42"}]})",
                             R"({"seen": [{"ok": "yes"}]})", R"({"seen": [[]]})", R"({"alerts": null})"}) {
      INFO(text);
      CHECK_FALSE(server::DecodeEngineMeta(text, s).ok());
    }
  }
  SECTION("deep nesting and odd text do not crash") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK_FALSE(server::DecodeIncident(deep).ok());
    CHECK_FALSE(server::DecodeIncident(R"({"asks": )" + deep + "}").ok());
    const char raw_nul[] = "{\"village\": \"a\0b\"}";  // a raw control character inside a string
    CHECK_FALSE(server::DecodeIncident(std::string(raw_nul, sizeof raw_nul - 1)).ok());
    CHECK(server::DecodeIncident(R"({"village": "\u0e1a\u0e49\u0e32\u0e19"})")->village == "บ้าน");
  }
  SECTION("a mangled copy of a real row never crashes") {
    // A cheap stand-in for the fuzzer: every prefix and every one-byte change of a real encoding.
    const std::string text =
        server::EncodeStationTrack("kk-bridge", FullTrack()) + server::EncodeIncident(FullIncident());
    for (std::size_t n = 0; n < text.size(); n += 7) {
      (void)server::DecodeStationTrack(std::string_view(text).substr(0, n));
      (void)server::DecodeIncident(std::string_view(text).substr(n));
      std::string changed = text;
      changed[n] = static_cast<char>(changed[n] ^ 0x5a);
      (void)server::DecodeIncident(changed);
      (void)server::DecodeStationTrack(changed);
    }
    SUCCEED();
  }
}

TEST_CASE("codec: text that is not UTF-8 is still encoded", "[codec]") {
  Incident i = FullIncident();
  i.detail_th = "\xe0\xb8";  // a Thai character cut in half
  const std::string text = server::EncodeIncident(i);
  auto back = server::DecodeIncident(text);
  REQUIRE(back.ok());
  CHECK(back->detail_th == "\xef\xbf\xbd");  // U+FFFD
  CHECK(back->headline_th == i.headline_th);
}

TEST_CASE("codec: the public JSON of an incident shows the stage as status and RFC 3339 times", "[codec]") {
  const Incident in = FullIncident();
  const json j = server::IncidentPublicJson(in);
  CHECK(j.at("status") == "awaiting_confirmation");
  CHECK(j.count("stage") == 0);
  CHECK(j.at("id") == 42);
  CHECK(j.at("kind") == "station");
  CHECK(j.at("level") == "critical");
  CHECK(j.at("declared_level") == "warning");
  CHECK(j.at("opened") == "2026-11-27T04:15:00.250Z");
  CHECK(j.at("stage_deadline") == "2026-11-27T04:30:00.257Z");
  CHECK(j.at("closed") == "2026-11-27T06:15:00.250Z");
  CHECK(j.at("problems") == json::array({"offline", "low battery"}));
  CHECK(j.at("headline_th") == in.headline_th);
  CHECK(j.count("detail_th") == 0);  // internal: the headline carries it
  REQUIRE(j.at("asks").size() == 3);
  CHECK(j.at("asks")[1] == json{{"user", "headman-kk"},
                                {"action", "confirm"},
                                {"asked", "2026-11-27T04:16:00.250Z"},
                                {"next_reminder", "2026-11-27T04:21:00.250Z"},
                                {"reminders", 0},
                                {"open", true}});
  CHECK(j.at("asks")[0].at("next_reminder").is_null());  // acted: no reminder is coming

  Incident open = in;
  open.closed.reset();
  open.stage_deadline.reset();
  open.expected_arrival.reset();
  open.declared_level.reset();
  const json o = server::IncidentPublicJson(open);
  CHECK(o.at("closed").is_null());
  CHECK(o.at("stage_deadline").is_null());
  CHECK(o.at("expected_arrival").is_null());
  CHECK(o.at("declared_level").is_null());
}

TEST_CASE("codec: an incident saved before the district step loads with none, and the public JSON shows the step",
          "[codec][district]") {
  Incident i = FullIncident();
  nlohmann::json j = nlohmann::json::parse(server::EncodeIncident(i));
  for (const char* key :
       {"district_overdue", "tao_overdue_since", "district_notified_at", "district_deadline", "district_acked_by"}) {
    REQUIRE(j.contains(key));
    j.erase(key);  // as a state saved before the district step was written
  }
  auto old = server::DecodeIncident(j.dump());
  REQUIRE(old.ok());
  CHECK(old->tao_overdue);
  CHECK_FALSE(old->tao_overdue_since);
  CHECK_FALSE(old->district_notified_at);
  CHECK_FALSE(old->district_deadline);
  CHECK_FALSE(old->district_overdue);
  CHECK(old->district_acked_by.empty());
  CHECK(old->stage_deadline == i.stage_deadline);

  const nlohmann::json pub = server::IncidentPublicJson(i);
  CHECK(pub.at("tao_overdue") == true);
  CHECK(pub.at("tao_overdue_since") == "2026-11-27T04:35:00.250Z");
  CHECK(pub.at("district_notified_at") == "2026-11-27T04:35:00.253Z");
  CHECK(pub.at("district_deadline") == "2026-11-27T05:05:00.250Z");
  CHECK(pub.at("district_acked_by") == "amphoe-dpm");
  i.tao_overdue = false;  // declared since: no longer overdue, the history stays
  CHECK(server::IncidentPublicJson(i).at("tao_overdue_since").is_null());
  CHECK(server::IncidentPublicJson(i).at("district_notified_at") == "2026-11-27T04:35:00.253Z");
}
