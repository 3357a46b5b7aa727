#include "kaoko/sim/acker.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace kaoko::sim {

std::string FormatRanges(const std::set<std::uint64_t>& seqs) {
  std::string out = "[";
  auto it = seqs.begin();
  while (it != seqs.end()) {
    std::uint64_t first = *it, last = *it;
    for (++it; it != seqs.end() && *it == last + 1; ++it) last = *it;
    out += fmt::format("{}[{},{}]", out.size() > 1 ? "," : "", first, last);
  }
  return out + "]";
}

bool AckBook::OnReading(std::string_view topic, std::string_view payload) {
  constexpr std::string_view kLeaf = "/reading";
  if (topic.size() <= kLeaf.size() || topic.substr(topic.size() - kLeaf.size()) != kLeaf) return false;
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned()) return false;
  auto seq = j["seq"].get<std::uint64_t>();
  std::string key(topic);
  auto& seen = seen_[key];
  if (seen.count(seq)) {
    ++duplicates_;
  } else {
    if (!seen.empty() && seq < *seen.rbegin()) ++out_of_order_;
    seen.insert(seq);
    ++stored_;
  }
  to_ack_[key].insert(seq);  // a repeat is acked again
  return true;
}

std::vector<std::pair<std::string, std::string>> AckBook::TakeAcks() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [topic, seqs] : to_ack_) {
    if (seqs.empty()) continue;
    std::string ack_topic = topic.substr(0, topic.size() - std::string_view("reading").size()) + "ack";
    out.emplace_back(std::move(ack_topic), fmt::format(R"({{"stored":{}}})", FormatRanges(seqs)));
    seqs.clear();
  }
  return out;
}

std::uint64_t AckBook::Gaps() const {
  std::uint64_t gaps = 0;
  for (const auto& [_, seqs] : seen_) {
    if (!seqs.empty()) gaps += *seqs.rbegin() - *seqs.begin() + 1 - seqs.size();
  }
  return gaps;
}

}  // namespace kaoko::sim
