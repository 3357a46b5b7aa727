// Which part of a tambon's network file each tier runs its core with (docs/tiers.md): the whole tambon (TAO), one
// village of it (edge), none (province).
#pragma once

#include <string>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"
#include "kaoko/tiers/tier_options.hpp"

namespace kaoko::server::tier {

// The network the core runs with: the tambon's (tao); only the village, its stations, its people and the TAO
// officers (edge); none — an empty tambon named after the node (province). Errors name the file or the village.
Result<alerting::Network> CoreNetwork(const TierOptions& options, const std::string& network_file);
// The part of `network` that an edge box serves: one village (with no downstream), its stations, its people and the
// TAO officers. Pure.
alerting::Network VillageNetwork(const alerting::Network& network, const std::string& village);

}  // namespace kaoko::server::tier
