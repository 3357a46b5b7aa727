// Three tiers on Mosquitto bridges (docs/tiers.md): a village edge box, the TAO, a province — one codebase.
//
//   edge      kaoko-server --tier edge --village kaoko   the village's own stations, sirens and people; runs the same
//             engine for its village; journals every stored reading, report, decision and timeline event up to the
//             TAO; sounds the siren itself while cut off; relays the TAO's state when linked and caught up.
//   tao       kaoko-server [--uplink]                    today's service; also takes the journals of its edge boxes
//             (readings into the normal ingest path, events into its log with via "edge:<node>"), watches their
//             heartbeats, and with --uplink journals its own readings and events up to a province.
//   province  kaoko-server --tier province --tambon-network A.toml --tambon-network B.toml …
//             no escalation engine: stores each tambon's journal once, shows every village's alert state and every
//             tambon's CAP document, watches the TAOs' heartbeats.
//
// Transport is Mosquitto's bridges (broker-config/edge.conf.in, tao-bridge.conf.in, province.conf.in). A tier publishes
// what goes up under "kaoko/tier/out/<topic>" and its bridge maps it to <topic> above; what the bridge brings down
// from above arrives under "kaoko/tier/up/<topic>". Reliability across each hop is the journal (journal.hpp).
//
// The Tier is the core's tap (CoreTap): it sees every message before the core and every stored reading and timeline
// event, on the core thread and inside the batch's transaction, so the journal is written with what it records.
// Its own thread publishes the journal, heartbeats, and runs the dead-man's switch.
//
// The Tier's work is split by role over its sources: tier.cpp (start-up, the thread, the CoreTap entry points),
// journal_sending.cpp, journal_receiving.cpp, watchdog.cpp (heartbeats below and the dead-man's switch),
// edge_province.cpp (what each of those modes takes from MQTT), tier_http.cpp; the Arbiter (arbiter.hpp) and the
// network slicing (network_slice.hpp) are apart. Every SQL statement is the store's (kaoko/store/tier_rows.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kaoko/alerting/network.hpp"
#include "kaoko/common/metrics.hpp"
#include "kaoko/contract/result.hpp"
#include "kaoko/http/http.hpp"
#include "kaoko/ingest/core.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/tiers/arbiter.hpp"
#include "kaoko/tiers/journal.hpp"
#include "kaoko/tiers/network_slice.hpp"
#include "kaoko/tiers/tier_options.hpp"

namespace kaoko::store {
class TierRows;
}

namespace kaoko::server::tier {

class Tier : public CoreTap {
 public:
  // Opens the tier's own database connections, loads the journal's position, the watched nodes and (province) the
  // tambons' networks, and prepares the edge's incident numbering. Call before the Core is created.
  static Result<std::unique_ptr<Tier>> Create(TierOptions options, const alerting::Network& network,
                                              store::Store& writer, const std::string& db_path, Metrics& metrics);
  ~Tier() override;

  // What the core must publish through (the edge's arbiter, or `mqtt` itself), once the MQTT link exists.
  Publisher& Output(Publisher& mqtt);
  // After the Core exists.
  void Attach(Core& core) { core_ = &core; }
  // Extra MQTT subscriptions of this tier (added to the contract's).
  std::vector<std::string> Subscriptions() const;
  // The journal sender, heartbeats and the dead-man's switch. Stop before the core thread stops.
  void Start();
  void Stop();
  // Routes the tier adds to the HTTP API (GET /api/v1/tiers; the province's villages and CAP); nullopt: not ours.
  // Called on the HTTP thread.
  std::optional<Response> Http(const Request& request);
  const TierOptions& options() const { return options_; }
  // One round of the tier thread's work (the journal, a heartbeat when due, the dead-man's switch, the edge's
  // choice of source), for tests that drive a tier without its thread; and its parts.
  void Tick();
  void Pump();
  void Heartbeat(TimePoint now);
  void Watchdog(TimePoint now);

  // ---- CoreTap (core thread, inside the batch's transaction)
  bool Intercept(const Inbound& in, TimePoint now) override;
  void ReadingStored(std::string_view station, const wire::Reading& reading, TimePoint now) override;
  void TimelineStored(const alerting::TimelineEvent& event, const alerting::Incident* incident) override;
  void Committed(TimePoint now) override;
  void RolledBack() override;

 private:
  Tier(TierOptions options, const alerting::Network& network, store::Store& writer, Metrics& metrics);
  struct Node;
  struct Pending;

  // start-up (Create): each throws on a database error
  void LoadJournalPosition();
  void LoadWatched();
  void LoadProvince();

  // journal, sending side
  bool Sends() const { return options_.mode == Mode::kEdge || (options_.mode == Mode::kTao && options_.uplink); }
  // What this tier publishes for its bridge to carry up: kOutPrefix + its own tier topic `leaf`.
  std::string OutTopic(std::string_view leaf) const;
  void Append(std::string_view kind, const nlohmann::json& body);
  void OnJournalAck(const std::string& payload, TimePoint now);
  void OnLink(const std::string& payload);
  void UpdateMode(std::string_view why);
  // journal, receiving side
  // Whether the journals and heartbeats of `tambon` are this tier's to take (its own tambon; a province's tambons).
  bool Watches(std::string_view tambon) const;
  void OnJournal(const ParsedTierTopic& t, const std::string& payload, TimePoint now);
  void ApplyEntry(const ParsedTierTopic& t, const std::string& epoch, const nlohmann::json& e, TimePoint now);
  void StoreEvent(const std::string& tambon, const std::string& node, std::uint64_t node_seq,
                  const std::string& node_epoch, const nlohmann::json& e, TimePoint now);
  // This TAO's own incident for what an edge's event is about: the village's, or the faulty station's.
  std::optional<std::int64_t> LocalIncident(const std::string& incident_kind, const std::string& station,
                                            const std::string& village) const;
  // The journal ack to publish after the commit: the node's position `last` in `epoch`.
  void QueueAck(const ParsedTierTopic& t, std::uint64_t last, bool gap, const std::string& epoch);
  // watchdog
  void OnHeartbeat(const ParsedTierTopic& t, const std::string& payload, TimePoint now);
  void OpenSilentIncident(const std::string& name, const Node& n, TimePoint at);
  void TierEvent(const std::string& tambon, const std::string& village, std::int64_t incident, TimePoint now,
                 const std::string& kind, const std::string& text_th, const std::string& text_en);
  // edge
  bool EdgeIntercept(const Inbound& in, TimePoint now);
  void FromAbove(const std::string& topic, const std::string& payload);
  // province
  bool ProvinceIntercept(const Inbound& in, TimePoint now);
  const alerting::Network* Tambon(std::string_view id) const;
  // Remembers a tambon's latest `value` under `key` in `states` (alerts_ or caps_) and in the database, under
  // `prefix` + `key`.
  void Keep(std::map<std::string, std::string>& states, std::string_view prefix, const std::string& key,
            const std::string& value, TimePoint now);
  // HTTP
  nlohmann::json VillagesJson() const;
  nlohmann::json ProvinceCapJson() const;

  void Loop(std::stop_token stop);
  nlohmann::json StatusJson() const;
  TimePoint Now() const;

  TierOptions options_;
  const alerting::Network& network_;
  store::Store& writer_;  // core thread only
  Metrics& metrics_;
  Core* core_ = nullptr;
  Publisher* mqtt_ = nullptr;
  std::unique_ptr<Arbiter> arbiter_;
  std::unique_ptr<store::TierRows> rows_;         // the tier tables through the writer: core thread only
  std::unique_ptr<store::Store> sender_db_;       // read-only, the tier thread's
  std::unique_ptr<store::TierRows> sender_rows_;  // the outbox through sender_db_: the tier thread's
  std::vector<alerting::Network> tambons_;        // province
  std::string epoch_;                             // this node's journal epoch

  // core thread only: what the batch did, carried out after the commit (or dropped on rollback)
  std::unique_ptr<Pending> pending_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  JournalSender sender_;
  std::map<std::string, Node> nodes_;          // watched nodes below, by name
  std::vector<nlohmann::json> incidents_;      // recent tier incidents, newest last (for the API)
  std::map<std::string, std::string> alerts_;  // province: "tambon/village" → alert payload
  std::map<std::string, std::string> caps_;    // province: tambon → CAP document
  std::optional<TimePoint> last_heartbeat_;
  // When the tier above last answered (a journal ack; it answers every heartbeat with one), on kaoko's clock.
  std::optional<TimePoint> last_answer_;
  std::chrono::steady_clock::time_point started_{};
  std::uint64_t received_entries_ = 0, duplicate_entries_ = 0, gaps_ = 0;

  std::jthread thread_;
};

}  // namespace kaoko::server::tier
