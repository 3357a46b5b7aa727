// Modes and network slicing (network_slice.hpp, tier_options.hpp): which part of the tambon's network file each tier
// runs its core with.
#include "kaoko/tiers/network_slice.hpp"

#include <fmt/format.h>

#include "kaoko/contract/network_file.hpp"

namespace kaoko::server::tier {

const char* ToString(Mode mode) {
  switch (mode) {
    case Mode::kTao:
      return "tao";
    case Mode::kEdge:
      return "edge";
    case Mode::kProvince:
      return "province";
  }
  return "?";
}

std::optional<Mode> ParseMode(std::string_view text) {
  if (text == "tao") return Mode::kTao;
  if (text == "edge") return Mode::kEdge;
  if (text == "province") return Mode::kProvince;
  return std::nullopt;
}

alerting::Network VillageNetwork(const alerting::Network& network, const std::string& village) {
  alerting::Network out = network;
  out.villages.clear();
  out.stations.clear();
  out.people.clear();
  for (const auto& v : network.villages) {
    if (v.id != village) continue;
    alerting::Village copy = v;
    copy.travel_to_next = alerting::Seconds(0);  // the edge warns no one downstream: the TAO does
    out.villages.push_back(std::move(copy));
  }
  for (const auto& s : network.stations) {
    if (s.village == village) out.stations.push_back(s);
  }
  for (const auto& p : network.people) {
    if (p.village == village || alerting::IsTambonWide(p.role)) out.people.push_back(p);
  }
  out.BuildIndex();   // the copied index is the whole tambon's: without its own, every look-up would scan
  out.texts.reset();  // the copied stations own their texts; the tambon's arena is not needed here
  return out;
}

Result<alerting::Network> CoreNetwork(const TierOptions& options, const std::string& network_file) {
  if (options.mode == Mode::kProvince) {
    alerting::Network n;
    n.tambon = options.node.empty() ? "province" : options.node;
    n.tambon_name_th = "จังหวัด";
    n.tambon_name_en = "province";
    return n;
  }
  auto network = config::LoadNetwork(network_file);
  if (!network) return network.error();
  if (options.mode != Mode::kEdge) return network;
  if (options.village.empty()) return MakeError("usage", "--tier edge needs --village <the village it serves>");
  if (!network->FindVillage(options.village)) {
    return MakeError("usage", fmt::format("{}: there is no village '{}'", network_file, options.village));
  }
  return VillageNetwork(*network, options.village);
}

}  // namespace kaoko::server::tier
