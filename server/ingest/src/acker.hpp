// The acker: the end-to-end acks to stations. A station's seqs are acked only once their batch committed ("on
// disk"), at most about once per ack_interval per station (the contract), and spread out as readings commit rather
// than as one burst a second for every station (which held alerts behind it: docs/benchmarks.md). Core thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "read_model.hpp"

namespace kaoko::server {

class Acker {
 public:
  Acker(const alerting::Network& network, ReadModel& views, Publisher& publisher, Metrics& metrics,
        std::chrono::milliseconds interval);

  // The seqs a committed batch stored or refused for good: they are acked when due (AckDue).
  void Committed(const std::vector<std::pair<StationSlot*, std::uint64_t>>& acks);
  // Publishes the acks due at `now` (steady clock): at once when the station's last ack is at least the interval
  // old, else when it becomes so.
  void AckDue(std::chrono::steady_clock::time_point now);
  // Publishes every pending ack now, due or not (at shutdown; tests).
  void FlushAcks();
  // When the next waiting ack falls due (none: no ack waits for its interval).
  std::optional<std::chrono::steady_clock::time_point> NextDue() const;

 private:
  void PublishAck(StationSlot& slot, std::int64_t now_ms);

  const alerting::Network& network_;
  ReadModel& views_;
  Publisher& publisher_;
  Metrics& metrics_;
  const std::chrono::milliseconds interval_;
  // Slots with pending acks: those not yet looked at by AckDue, and those waiting for their interval to pass (a
  // min-heap on the time they fall due, steady-clock milliseconds).
  std::vector<StationSlot*> acking_;
  // The seqs committed since a station's last ack, for the stations that have some: kept here, not in every slot,
  // because at any moment few of 150,000 stations have an ack to send.
  std::unordered_map<const StationSlot*, std::vector<std::uint64_t>> pending_;
  using AckWait = std::pair<std::int64_t, StationSlot*>;
  std::priority_queue<AckWait, std::vector<AckWait>, std::greater<>> waiting_;
};

}  // namespace kaoko::server
