// The options of a kaoko tier (docs/tiers.md, tier.hpp), apart so that service.hpp need not include the tier itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaoko::server::tier {

enum class Mode { kTao, kEdge, kProvince };
const char* ToString(Mode mode);  // "tao" | "edge" | "province"
std::optional<Mode> ParseMode(std::string_view text);

struct TierOptions {
  Mode mode = Mode::kTao;
  // This node's name in tier topics and its bridge account above. Default: edge "edge-<village>", tao the tambon's
  // id, province "province".
  std::string node;
  std::string village;                       // edge: the one village it serves
  bool uplink = false;                       // tao: journal up to a province (an edge always does)
  std::vector<std::string> tambon_networks;  // province: the network file of each tambon
  int heartbeat_seconds = 60;                // on kaoko's clock (a rehearsal runs it faster)
  int silent_heartbeats = 3;                 // heartbeats missed before the tier above opens a technician incident
  int resend_ms = 5000;  // real time without journal ack progress before unacknowledged entries are resent
  int stall_ms = 15000;
  int journal_batch = 50;  // journal entries per message at most         // edge: real time the TAO may leave a backlog
                           // unanswered before the edge acts alone
  // Edge: the edge's own incidents are numbered from here, so that a decision names unambiguously whose incident
  // it is (the TAO's are below it).
  std::int64_t edge_incident_base = 1'000'000'000;
};

}  // namespace kaoko::server::tier
