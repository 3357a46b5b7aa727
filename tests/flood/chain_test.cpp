// Issue 4 acceptance: a flood wave that rises upstream first (watch → warning → critical at the weir) and then
// travels down the river, driven by kaoko-sim (stations, watchers, and the people of the chain answering on their own
// accounts) through a real Mosquitto into the real kaoko-server, both on the same rehearsal clock at 600×.
// Checked FROM THE OUTSIDE ONLY: a TAO officer's MQTT subscription (alert, siren, own notifications), the HTTP API, and
// the stored readings (the time each station's gauge really crossed its watch threshold).
//
// Timing tolerances. The engine's deadlines are exact (a step fires at its deadline, never before), but kaoko-server
// only looks at its clock when its core loop wakes: on every incoming message, and at least once a second of REAL time
// (the ack interval). At 600× a real second is 10 simulated minutes, so a deadline may be seen up to kSlack late in
// simulated time (in practice a few simulated seconds: a station in fast mode publishes every simulated minute =
// 0.1 s real). Nothing may ever happen EARLY, so lower bounds are exact and upper bounds get kSlack.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "flood_support.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

using namespace kaoko::testing;
using namespace kaoko::flood;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr std::int64_t kMinute = 60 * 1000;
constexpr std::int64_t kSlack = 10 * kMinute;  // one real second at 600× (see the top of the file)
// A simulated person's delay counts from the simulator's clock when the notification arrives, which may trail kaoko's
// by up to one model step (60 s) and never runs ahead of it; so a delay seen in kaoko's timeline is at least the
// person's shortest delay minus one step.
constexpr std::int64_t kStep = kMinute;
// config/tonhong.toml [escalation]
constexpr std::int64_t kCommitteeAck = 10 * kMinute;
constexpr std::int64_t kHeadmanConfirm = 15 * kMinute;
constexpr std::int64_t kDeputyAfter = 10 * kMinute;
constexpr std::int64_t kTaoDeclare = 20 * kMinute;

// Heavy rain on the hills above Ban Huai Phan, light rain below. Dry run (kaoko-sim --dry-run): the weir crosses watch
// at +2.1 h, warning +2.9 h, critical +3.9 h (rising faster than 30 cm/h, so kaoko raises it one level early); Kao Ko
// crosses watch at +3.3 h, warning +4.2 h, critical +5.7 h; Thon Hong watch +5.0 h, warning +6.0 h; Na Nuea watch
// +6.1 h. The headman and deputy of Kao Ko are silent, so the deadline path shows there. Watchers never misjudge.
const std::string kScenario = ScenarioToml(
    "flood-chain", "a flood wave from the hills: upstream first, then downstream; Kao Ko's headman and deputy silent",
    7, 4, 0.1,
    RainToml("[0, 3], [1, 12], [2.5, 24], [4, 16], [5.5, 0]", "[0, 0.5], [2, 2], [5, 0]") +
        "\n[watchers]\nwrong_probability = 0\n\n[responders]\nsilent = [\"boonmee\", \"suda\"]\n"
        "tao_on_duty = \"officer-niran\"\n");

int LevelRank(const std::string& level) {
  static const std::map<std::string, int> rank{{"normal", 0}, {"watch", 1}, {"warning", 2}, {"critical", 3}};
  return rank.at(level);
}

int StageRank(const std::string& stage) {
  static const std::map<std::string, int> rank{{"reported", 0},  {"awaiting_confirmation", 1},
                                               {"confirmed", 2}, {"escalated", 3},
                                               {"declared", 4},  {"rejected", 5},
                                               {"resolved", 5}};
  return rank.at(stage);
}

std::string VillageOf(const std::string& topic) {  // kaoko/v1/tonhong/{village}/…
  auto a = topic.find('/', std::string("kaoko/v1/").size());
  auto b = topic.find('/', a + 1);
  return topic.substr(a + 1, b - a - 1);
}

// Timeline entries of `kind` (all kinds when empty) whose actor is `actor` (any when empty) and whose English text
// contains `text`.
std::vector<json> Entries(const json& incident, const std::string& kind, const std::string& actor = "",
                          const std::string& text = "") {
  std::vector<json> out;
  for (const auto& e : incident.at("timeline")) {
    if (!kind.empty() && e["kind"] != kind) continue;
    if (!actor.empty() && e["actor"] != actor) continue;
    if (!text.empty() && e["text_en"].get<std::string>().find(text) == std::string::npos) continue;
    out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "flood: a flood wave through the whole chain — upstream warns downstream, a silent headman still reaches "
    "the TAO, and the timeline shows who did what when",
    "[integration][flood]") {
  Broker broker;
  TempDir dir;
  const std::string db = dir.path() + "/kaoko.db";
  const std::string scenario = dir.path() + "/flood-chain.toml";
  {
    std::ofstream f(scenario);
    f << kScenario;
  }
  // The TAO officer's view. officer-pim is off duty in the simulator (it only reads); this client is a second
  // connection of the same account, as the officer's phone beside the office PC.
  MqttClient tao(broker.url(), "officer-pim", broker.Password("officer-pim"), "flood-test-officer-pim");
  tao.Subscribe("kaoko/v1/tonhong/+/alert");
  tao.Subscribe("kaoko/v1/tonhong/+/siren");
  tao.Subscribe("kaoko/v1/tonhong/+/notify/officer-pim");
  tao.Subscribe("kaoko/v1/tonhong/cap");

  // Both clocks run from `start`, a few seconds ahead: kaoko-sim connects its 33 links, then waits for it
  // (--anchor-start). kaoko-server is started only about two real seconds before it, because its station-offline
  // check (30 simulated minutes = 3 real seconds here) counts from the moment it starts.
  const std::string speed = "600";
  const std::string start = StartTime(10s);
  Process sim({SimTool(),
               "--network",
               SourceDir() + "/config/tonhong.toml",
               "--scenario",
               scenario,
               "--broker",
               broker.url(),
               "--password-pattern",
               "demo-{id}",
               "--state-dir",
               dir.path() + "/sim-state",
               "--speed",
               speed,
               "--start",
               start,
               "--anchor-start",
               "--exit-when-drained",
               "--drain-timeout",
               "60",
               "--no-offline-at-exit",
               "--progress",
               "lines"},
              dir.path() + "/kaoko-sim.log");
  REQUIRE(WaitForLog(sim, " responders, ", 30s));
  const auto origin = std::chrono::system_clock::time_point(std::chrono::milliseconds(Ms(start)));
  if (auto left = origin - std::chrono::system_clock::now(); left > 2s) std::this_thread::sleep_for(left - 2s);
  ServiceProcess kaoko(broker, db, {"--time-scale", speed, "--time-origin", start});

  // 7 simulated hours at 600× = 42 s.
  REQUIRE(WaitFor([&] { return !sim.running(); }, 150s));
  const int rc = sim.Wait();
  const std::string sim_log = sim.Log();
  INFO("kaoko-sim log (tail):\n" << sim_log.substr(sim_log.size() > 5000 ? sim_log.size() - 5000 : 0));
  REQUIRE(rc == 0);
  std::this_thread::sleep_for(500ms);  // the last alerts on their way to the subscriber

  const std::int64_t t0 = Ms(start);
  const std::int64_t t_end = t0 + 7 * 60 * kMinute + 30 * kMinute;  // the scenario plus the drain, generously

  // ------------------------------------------------------------------ what the outside sees
  std::map<std::string, std::vector<json>> alerts;  // by village, in order of arrival
  std::map<std::string, std::vector<json>> sirens;
  std::vector<std::pair<std::string, json>> notes;  // (village, notification) to officer-pim
  for (const auto& m : tao.Received()) {
    if (m.topic.ends_with("/cap")) continue;  // CAP is XML (searched for personal data below)
    json j = json::parse(m.payload);
    if (m.topic.ends_with("/alert"))
      alerts[VillageOf(m.topic)].push_back(j);
    else if (m.topic.ends_with("/siren"))
      sirens[VillageOf(m.topic)].push_back(j);
    else if (m.topic.ends_with("/notify/officer-pim"))
      notes.emplace_back(VillageOf(m.topic), j);
  }
  auto villages = json::parse(kaoko.Get("/api/v1/villages").body);
  REQUIRE(villages.size() == 5);
  {
    // Personal data (PDPA): no contact of anyone in the network file appears in an alert, a siren, a notification,
    // CAP, a public answer or the service's log, through a whole flood.
    const auto network = kaoko::config::LoadNetwork(SourceDir() + "/config/tonhong.toml");
    REQUIRE(network.ok());
    std::vector<std::string> addresses;
    for (const auto& p : network->people)
      for (const auto& c : p.contacts)
        if (!c.address.empty()) addresses.push_back(c.address);
    REQUIRE(addresses.size() >= 20);
    std::string seen = kaoko.Log();
    int caps = 0;
    for (const auto& m : tao.Received()) {
      seen += m.payload;
      caps += m.topic.ends_with("/cap") ? 1 : 0;
    }
    CHECK(caps > 0);  // the TAO declared: CAP went out and is searched too
    for (const char* path : {"/api/v1/villages", "/api/v1/stations", "/api/v1/incidents", "/healthz", "/metrics"})
      seen += kaoko.Get(path).body;
    for (const auto& a : addresses) {
      INFO(a);
      CHECK(seen.find(a) == std::string::npos);
      if (a.starts_with("+66")) CHECK(seen.find("0" + a.substr(3)) == std::string::npos);  // nor as dialled locally
    }
  }
  {
    // CAP's thread (docs/protocol.md, "One incident's thread"): a district system reading the topic can follow every
    // incident by <references>: each names a message this reader received before, either a document
    // (sender,identifier,sent) or an incident's message carried in a document of several (its kaoko-message).
    auto tag = [](const std::string& xml, const std::string& name, std::size_t from = 0) {
      const std::string open = "<" + name + ">";
      const auto at = xml.find(open, from);
      if (at == std::string::npos) return std::string();
      const auto begin = at + open.size();
      return xml.substr(begin, xml.find("</" + name + ">", begin) - begin);
    };
    std::set<std::string> documents;                   // sender,identifier,sent
    std::set<std::string> messages;                    // identifiers: documents and the incident messages they carry
    std::map<std::string, std::string> by_identifier;  // a message sent again is the same message, never another
    std::map<std::string, int> types;
    for (const auto& m : tao.Received()) {
      if (!m.topic.ends_with("/cap")) continue;
      const std::string& xml = m.payload;
      INFO(xml);
      const std::string identifier = tag(xml, "identifier");
      CHECK(by_identifier.emplace(identifier, xml).first->second == xml);
      documents.insert(tag(xml, "sender") + "," + identifier + "," + tag(xml, "sent"));
      ++types[tag(xml, "msgType")];
      std::stringstream refs(tag(xml, "references"));
      for (std::string ref; refs >> ref;) {
        INFO("reference " << ref);
        const auto first = ref.find(',');
        const std::string id = ref.substr(first + 1, ref.rfind(',') - first - 1);
        CHECK((documents.count(ref) > 0 || messages.count(id) > 0));
      }
      messages.insert(identifier);
      const std::string key = "<valueName>kaoko-message</valueName>";
      for (auto at = xml.find(key); at != std::string::npos; at = xml.find(key, at + 1)) {
        messages.insert(tag(xml, "value", at));
      }
    }
    CHECK(types["Alert"] > 0);
    CHECK(types["Update"] > 0);  // the incidents moved on, each change an Update of what came before
  }
  auto stations = json::parse(kaoko.Get("/api/v1/stations").body);
  std::map<std::string, json> incidents;  // flood incidents by id, each with its timeline
  // The flood episode of each village: its latest flood incident (an early fast-rise alarm may have been closed before
  // the wave came; the wave then opened a new one).
  std::map<std::string, json> episode;
  for (const auto& i : json::parse(kaoko.Get("/api/v1/incidents?status=all").body)) {
    if (i["kind"] != "flood") continue;  // technician incidents are for another test
    auto res = kaoko.Get(fmt::format("/api/v1/incidents/{}", i["id"].get<std::int64_t>()));
    REQUIRE(res.status == 200);
    json full = json::parse(res.body);
    incidents[std::to_string(full["id"].get<std::int64_t>())] = full;
    auto& latest = episode[full["village"].get<std::string>()];
    if (latest.is_null() || full["id"] > latest["id"]) latest = full;
  }
  REQUIRE(episode.count("huaiphan") == 1);
  REQUIRE(episode.count("kaoko") == 1);
  const json& up = episode.at("huaiphan");
  const json& kaoko_inc = episode.at("kaoko");

  // ------------------------------------------------------------------ (a) alert states per village
  for (const auto& [village, seq] : alerts) {
    INFO("village " << village);
    std::int64_t last_updated = 0;
    std::map<std::int64_t, int> max_level_before_declared, max_stage;
    for (const auto& a : seq) {
      INFO("alert " << a.dump());
      REQUIRE(a["village"] == village);
      const std::int64_t since = Ms(a["since"]);
      const std::int64_t updated = Ms(a["updated"]);
      CHECK(since <= updated);
      CHECK(updated >= last_updated);  // a retained state never goes back in time
      CHECK(updated >= t0);
      CHECK(updated <= t_end);
      last_updated = updated;
      if (a["level"] == "normal") {
        CHECK(a["incident"].is_null());
        continue;
      }
      REQUIRE(a["incident"].is_number_integer());
      const std::int64_t id = a["incident"];
      const json& inc = incidents.at(std::to_string(id));
      CHECK(inc["village"] == village);
      CHECK(since == Ms(inc["opened"]));  // `since` is when the incident opened, the same in every state of it
      // Stages only move along the chain: reported → awaiting_confirmation → confirmed → escalated → declared.
      const int stage = StageRank(a["status"]);
      CHECK(stage >= max_stage[id]);
      max_stage[id] = std::max(max_stage[id], stage);
      // Levels only rise until the TAO declares (its declaration is the official level from then on).
      if (a["status"] != "declared") {
        const int level = LevelRank(a["level"]);
        CHECK(level >= max_level_before_declared[id]);
        max_level_before_declared[id] = std::max(max_level_before_declared[id], level);
      }
    }
  }
  {
    // Upstream: the weir's incident rises to critical, from below it, and walks the chain to the TAO's declaration.
    const auto& seq = alerts.at("huaiphan");
    REQUIRE_FALSE(seq.empty());
    std::vector<int> levels;
    std::set<std::string> stages;
    for (const auto& a : seq) {
      if (a["incident"] != up["id"]) continue;
      levels.push_back(LevelRank(a["level"]));
      stages.insert(a["status"]);
    }
    REQUIRE_FALSE(levels.empty());
    CHECK(levels.front() < 3);
    CHECK(*std::max_element(levels.begin(), levels.end()) == 3);
    CHECK(stages.count("reported") == 1);
    CHECK(stages.count("escalated") == 1);
    CHECK(stages.count("declared") == 1);
    // Its siren sounded for that incident (the station at critical, or the TAO's declaration at warning or above).
    bool siren_on = false;
    for (const auto& s : sirens["huaiphan"]) siren_on = siren_on || (s["on"] == true && s["incident"] == up["id"]);
    CHECK(siren_on);
  }

  // ------------------------------------------------------------------ (b) upstream warns downstream in time
  // When each downstream village's river really rose: the first stored reading at or above its station's watch.
  std::map<std::string, double> watch_cm;
  std::map<std::string, std::string> village_of;
  for (const auto& s : stations) {
    watch_cm[s["id"]] = s["thresholds"]["watch"]["cm"].get<double>();
    village_of[s["id"]] = s["village"];
  }
  std::map<std::string, std::int64_t> wave_arrives;
  for (const auto& [station, rows] : StoredReadings(db)) {
    for (const auto& r : rows) {
      if (r.level_cm < watch_cm.at(station)) continue;
      auto& t = wave_arrives[village_of.at(station)];
      if (t == 0 || r.ts_ms < t) t = r.ts_ms;
      break;
    }
  }
  REQUIRE(wave_arrives.count("huaiphan") == 1);
  REQUIRE(wave_arrives.count("kaoko") == 1);
  REQUIRE(wave_arrives.count("thonhong") == 1);  // the scenario brings the wave at least this far
  int warned_from_upstream = 0;
  for (const auto& [village, arrives] : wave_arrives) {
    if (village == "huaiphan") continue;
    INFO("village " << village << ": the river reached watch at " << Rfc3339(arrives));
    const auto& seq = alerts[village];
    auto first = std::find_if(seq.begin(), seq.end(), [](const json& a) { return a["level"] != "normal"; });
    REQUIRE(first != seq.end());
    const std::int64_t warned = Ms((*first)["updated"]);
    INFO("first warned at " << Rfc3339(warned) << " (" << (arrives - warned) / kMinute << " min ahead)");
    CHECK(warned < arrives);
    const json& inc = incidents.at(std::to_string((*first)["incident"].get<std::int64_t>()));
    if (inc["origin"] == "upstream") {
      ++warned_from_upstream;
      CHECK(inc["upstream_village"] == "huaiphan");
      CHECK_FALSE(inc["expected_arrival"].is_null());
      CHECK(Entries(inc, "upstream", "huaiphan").size() >= 1);
    }
  }
  CHECK(warned_from_upstream >= 2);
  // Kao Ko's episode heard from upstream (it may have been opened earlier by its own stations' fast rise), before the
  // wave got there, with the expected arrival.
  {
    auto from_up = Entries(kaoko_inc, "upstream", "huaiphan");
    REQUIRE_FALSE(from_up.empty());
    CHECK(Ms(from_up[0]["ts"]) < wave_arrives.at("kaoko"));
    CHECK(kaoko_inc["upstream_village"] == "huaiphan");
    CHECK_FALSE(kaoko_inc["expected_arrival"].is_null());
  }

  // ------------------------------------------------------------------ (c) a silent headman does not stop the TAO
  {
    const std::string k = std::to_string(kaoko_inc["id"].get<std::int64_t>());
    const json& inc = incidents.at(k);
    INFO("Kao Ko incident " << inc.dump(1).substr(0, 4000));
    bool escalated_seen = false;
    for (const auto& a : alerts.at("kaoko"))
      escalated_seen = escalated_seen || (a["incident"] == inc["id"] && a["status"] == "escalated");
    CHECK(escalated_seen);
    CHECK(inc["unconfirmed"] == true);
    CHECK(inc["confirmed_by"] == "");
    CHECK(inc["rejected_by"] == "");
    CHECK(Entries(inc, "decision", "boonmee").empty());
    CHECK(Entries(inc, "decision", "suda").empty());

    const std::int64_t opened = Ms(inc["opened"]);
    auto awaiting = Entries(inc, "stage", "", "stage awaiting_confirmation");
    REQUIRE(awaiting.size() == 1);
    const std::int64_t t_await = Ms(awaiting[0]["ts"]);
    // A committee member acknowledged (2–8 simulated minutes after being told), within the committee's deadline.
    CHECK(t_await - opened >= 2 * kMinute - kStep);
    CHECK(t_await - opened <= kCommitteeAck + kSlack);
    CHECK((awaiting[0]["actor"] == "prasert" || awaiting[0]["actor"] == "wanna"));
    // The headman was asked at once, reminded, the deputy asked after deputy_after; both stayed silent.
    auto asked_headman = Entries(inc, "notification", "kaoko", "to boonmee (action: confirm)");
    REQUIRE_FALSE(asked_headman.empty());
    CHECK(Ms(asked_headman[0]["ts"]) == t_await);
    CHECK_FALSE(Entries(inc, "reminder", "kaoko", "to boonmee").empty());
    auto asked_deputy = Entries(inc, "notification", "kaoko", "to suda (action: confirm)");
    REQUIRE_FALSE(asked_deputy.empty());
    CHECK(Ms(asked_deputy[0]["ts"]) >= t_await + kDeputyAfter);
    CHECK(Ms(asked_deputy[0]["ts"]) <= t_await + kDeputyAfter + kSlack);
    // At the headman's deadline (never before it) the incident went to the TAO, unconfirmed.
    auto missed = Entries(inc, "escalation", "kaoko", "the headman did not confirm");
    REQUIRE(missed.size() == 1);
    auto escalated = Entries(inc, "stage", "", "stage escalated");
    REQUIRE_FALSE(escalated.empty());
    const std::int64_t t_esc = Ms(escalated[0]["ts"]);
    CHECK(t_esc >= t_await + kHeadmanConfirm);
    CHECK(t_esc <= t_await + kHeadmanConfirm + kSlack);
    // The TAO was told to declare, with its deadline counted from the missed one (exact: the engine's rule).
    std::optional<json> told;
    for (const auto& [village, n] : notes) {
      if (village == "kaoko" && n["incident"] == inc["id"] && n["action_needed"] == "declare") {
        told = n;
        break;
      }
    }
    REQUIRE(told.has_value());
    CHECK(Ms((*told)["deadline"]) == t_await + kHeadmanConfirm + kTaoDeclare);
    CHECK_FALSE(Entries(inc, "notification", "kaoko", "to officer-niran (action: declare)").empty());
    // …and the officer on duty declared it.
    auto declared = Entries(inc, "decision", "officer-niran", "declare");
    REQUIRE_FALSE(declared.empty());
    CHECK(Ms(declared[0]["ts"]) >= t_esc + 5 * kMinute - kStep);  // the simulated officer's shortest delay
    CHECK(inc["declared_by"] == "officer-niran");
  }

  // ------------------------------------------------------------------ (d) the timeline: who did what, when
  for (const json* inc : {&up, &kaoko_inc}) {
    INFO("incident " << (*inc)["id"] << " at " << (*inc)["village"]);
    const json& full = incidents.at(std::to_string((*inc)["id"].get<std::int64_t>()));
    std::int64_t last = Ms(full["opened"]);
    std::set<std::string> kinds;
    for (const auto& e : full["timeline"]) {
      INFO("entry " << e.dump());
      CHECK(Ms(e["ts"]) >= last);  // in time order, none before the incident opened
      last = Ms(e["ts"]);
      CHECK(Ms(e["ts"]) <= t_end);
      CHECK_FALSE(e["actor"].get<std::string>().empty());
      CHECK_FALSE(e["via"].get<std::string>().empty());
      CHECK_FALSE(e["text_th"].get<std::string>().empty());
      CHECK_FALSE(e["text_en"].get<std::string>().empty());
      kinds.insert(e["kind"]);
    }
    for (const char* kind : {"notification", "decision", "receipt", "stage"}) CHECK(kinds.count(kind) == 1);
    CHECK((kinds.count("trigger") == 1 || kinds.count("upstream") == 1));
    // Every decision came after kaoko asked that person, over MQTT, and got a receipt.
    for (const auto& d : Entries(full, "decision")) {
      const std::string who = d["actor"];
      INFO("decision " << d.dump());
      auto asked = Entries(full, "notification", "kaoko", "to " + who + " (");
      REQUIRE_FALSE(asked.empty());
      CHECK(Ms(asked[0]["ts"]) <= Ms(d["ts"]));
      CHECK(d["via"] == "mqtt");
      CHECK_FALSE(Entries(full, "receipt", who).empty());
    }
  }
  // Upstream: the station triggered it; the committee acknowledged; the TAO declared.
  CHECK_FALSE(Entries(up, "trigger", "huaiphan-weir").empty());
  const json& up_full = incidents.at(std::to_string(up["id"].get<std::int64_t>()));
  CHECK_FALSE(Entries(up_full, "decision", "kanya", "ack").empty());
  CHECK_FALSE(Entries(up_full, "decision", "officer-niran", "declare").empty());
  CHECK(Entries(up_full, "decision", "officer-pim").empty());  // off duty: read, never answered
  // Kao Ko: opened by the upstream warning; its committee acknowledged.
  const json& k_full = incidents.at(std::to_string(kaoko_inc["id"].get<std::int64_t>()));
  CHECK_FALSE(Entries(k_full, "upstream", "huaiphan").empty());
  CHECK((Entries(k_full, "decision", "prasert", "ack").size() + Entries(k_full, "decision", "wanna", "ack").size()) >=
        1);
  // The villages' current states as the API shows them agree with the last retained alert of each.
  for (const auto& v : villages) {
    const auto& seq = alerts[v["village"].get<std::string>()];
    if (seq.empty()) continue;
    CHECK(v["level"] == seq.back()["level"]);
    CHECK(v["status"] == seq.back()["status"]);
    CHECK(v["incident"] == seq.back()["incident"]);
  }
}
