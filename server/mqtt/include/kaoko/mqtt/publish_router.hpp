// Which of the service's two broker connections carries each outgoing message (no Paho here: a plain Publisher).
//
// Acks go on the connection that subscribes; everything else (alerts, sirens, notifications, receipts, CAP, the
// tier's journal and heartbeats) on the second one. One TCP stream would put an alert behind every ack already
// written into it, and under load that was most of an alert's latency (docs/benchmarks.md). A tier's arbiter
// (tiers/arbiter.hpp) sits in front of this when two kaokos share a tambon.
#pragma once

#include <string>

#include "kaoko/ingest/core.hpp"

namespace kaoko::server {

// True for a station's end-to-end ack (`…/station/{station}/ack`): what may wait behind everything else.
bool IsAckTopic(const std::string& topic);

class PublishRouter : public Publisher {
 public:
  PublishRouter(Publisher& acks, Publisher& rest) : acks_(acks), rest_(rest) {}
  void Publish(const std::string& topic, const std::string& payload, bool retained) override;

 private:
  Publisher& acks_;
  Publisher& rest_;
};

}  // namespace kaoko::server
