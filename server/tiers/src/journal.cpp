#include "kaoko/tiers/journal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace kaoko::server::tier {

void JournalSender::Restore(std::uint64_t acked, std::uint64_t appended) {
  acked_ = acked;
  appended_ = std::max(acked, appended);
  sent_ = acked_;
}

void JournalSender::Appended(std::uint64_t high) { appended_ = std::max(appended_, high); }

bool JournalSender::OnAck(std::uint64_t acked, bool gap, SteadyTime now) {
  // An ack beyond what we appended cannot be ours (a stale ack of a replaced database): ignore it.
  if (acked > appended_) return false;
  bool progress = acked > acked_;
  if (progress) {
    acked_ = acked;
    last_progress_ = now;
    if (sent_ < acked_) sent_ = acked_;
  }
  // The receiver refused an entry after a gap (one of our messages was lost on the way): go back at once rather than
  // waiting for the timeout — but only once per backoff, since every later in-flight message reports the same gap.
  if (gap && sent_ > acked_ && now - last_gap_backoff_ >= options_.gap_backoff) {
    last_gap_backoff_ = now;
    GoBack(now);
  }
  return progress;
}

void JournalSender::OnLinkUp(SteadyTime now) {
  link_ = true;
  GoBack(now);
}

void JournalSender::OnLinkDown() { link_ = false; }

void JournalSender::GoBack(SteadyTime now) {
  if (sent_ > acked_) ++resends_;
  sent_ = acked_;
  last_progress_ = now;
}

void JournalSender::Rewind(std::uint64_t last) { sent_ = std::max(acked_, std::min(sent_, last)); }

bool JournalSender::TimedOut(SteadyTime now) const {
  return sent_ > acked_ && now - last_progress_ >= options_.resend_after;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> JournalSender::Next(SteadyTime now) {
  if (link_ == false) return std::nullopt;
  if (TimedOut(now)) GoBack(now);
  if (sent_ >= appended_) return std::nullopt;
  std::uint64_t limit = acked_ + options_.window_entries;
  if (sent_ >= limit) return std::nullopt;
  if (sent_ == acked_) last_progress_ = now;  // the first message in flight starts the resend clock
  std::uint64_t first = sent_ + 1;
  std::uint64_t last = std::min({appended_, limit, first + options_.batch_entries - 1});
  sent_ = last;
  return std::pair{first, last};
}

ReceivePlan PlanReceive(std::uint64_t last_committed, const std::vector<std::uint64_t>& seqs) {
  ReceivePlan plan;
  plan.last = last_committed;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] <= plan.last) {
      ++plan.duplicates;
    } else if (seqs[i] == plan.last + 1) {
      plan.apply.push_back(i);
      plan.last = seqs[i];
    } else {
      // A gap: this entry and everything after it waits for the sender to go back. Later entries of the same message
      // cannot fill it (a sender publishes in order), so stop here.
      plan.gap = true;
      break;
    }
  }
  return plan;
}

std::string TierTopic(std::string_view tambon, std::string_view node, std::string_view leaf) {
  return fmt::format("kaoko/v1/{}/tier/{}/{}", tambon, node, leaf);
}

std::optional<ParsedTierTopic> ParseTierTopic(std::string_view topic) {
  // kaoko/v1/{tambon}/tier/{node}/{leaf}: checked without allocating, since the core asks this of every message.
  constexpr std::string_view kRoot = "kaoko/v1/";
  if (!topic.starts_with(kRoot)) return std::nullopt;
  topic.remove_prefix(kRoot.size());
  auto a = topic.find('/');
  if (a == std::string_view::npos || a == 0 || topic.substr(a, 6) != "/tier/") return std::nullopt;
  auto b = a + 6;
  auto c = topic.find('/', b);
  if (c == std::string_view::npos || c == b || c + 1 >= topic.size()) return std::nullopt;
  if (topic.find('/', c + 1) != std::string_view::npos) return std::nullopt;
  return ParsedTierTopic{std::string(topic.substr(0, a)), std::string(topic.substr(b, c - b)),
                         std::string(topic.substr(c + 1))};
}

std::string RenderJournalAck(std::uint64_t acked, bool gap, std::string_view epoch) {
  nlohmann::json j{{"acked", acked}, {"gap", gap}, {"epoch", epoch}};
  return j.dump();
}

Result<JournalAck> ParseJournalAck(std::string_view payload) {
  auto j = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return MakeError("bad_json", "a journal ack must be a JSON object");
  auto it = j.find("acked");
  if (it == j.end() || !it->is_number_unsigned()) return MakeError("bad_acked", "acked must be an unsigned integer");
  JournalAck ack;
  ack.acked = it->get<std::uint64_t>();
  if (auto g = j.find("gap"); g != j.end() && g->is_boolean()) ack.gap = g->get<bool>();
  if (auto e = j.find("epoch"); e != j.end() && e->is_string()) ack.epoch = e->get<std::string>();
  return ack;
}

}  // namespace kaoko::server::tier
