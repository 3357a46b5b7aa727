#include "acker.hpp"

namespace kaoko::server {

namespace {
std::int64_t Ms(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

Acker::Acker(const alerting::Network& network, ReadModel& views, Publisher& publisher, Metrics& metrics,
             std::chrono::milliseconds interval)
    : network_(network), views_(views), publisher_(publisher), metrics_(metrics), interval_(interval) {}

void Acker::Committed(const std::vector<std::pair<StationSlot*, std::uint64_t>>& acks) {
  for (const auto& [slot, seq] : acks) {
    auto& pending = pending_[slot];
    if (pending.empty() && !slot->ack_waiting) acking_.push_back(slot);
    pending.push_back(seq);
  }
}

std::optional<std::chrono::steady_clock::time_point> Acker::NextDue() const {
  if (waiting_.empty()) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::milliseconds(waiting_.top().first));
}

void Acker::PublishAck(StationSlot& slot, std::int64_t now_ms) {
  auto it = pending_.find(&slot);
  if (it == pending_.end()) return;
  auto ranges = wire::ToRanges(std::move(it->second));
  pending_.erase(it);
  slot.acked_at = now_ms;
  const alerting::Station& station = views_.StationOf(slot);
  publisher_.Publish(wire::AckTopic(network_.tambon, station.village, station.id), wire::RenderAck(ranges), false);
  ++metrics_.acks_published;
}

void Acker::AckDue(std::chrono::steady_clock::time_point now) {
  const std::int64_t now_ms = Ms(now);
  const std::int64_t interval = interval_.count();
  for (StationSlot* slot : acking_) {
    if (!pending_.count(slot) || slot->ack_waiting) continue;
    if (slot->acked_at == kNone || now_ms - slot->acked_at >= interval) {
      PublishAck(*slot, now_ms);
    } else {
      slot->ack_waiting = true;
      waiting_.emplace(slot->acked_at + interval, slot);
    }
  }
  acking_.clear();
  while (!waiting_.empty() && waiting_.top().first <= now_ms) {
    StationSlot* slot = waiting_.top().second;
    waiting_.pop();
    slot->ack_waiting = false;
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
}

void Acker::FlushAcks() {
  const std::int64_t now_ms = Ms(std::chrono::steady_clock::now());
  for (StationSlot* slot : acking_) {
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
  acking_.clear();
  while (!waiting_.empty()) {
    StationSlot* slot = waiting_.top().second;
    waiting_.pop();
    slot->ack_waiting = false;
    PublishAck(*slot, now_ms);  // if it has acks to send
  }
}

}  // namespace kaoko::server
