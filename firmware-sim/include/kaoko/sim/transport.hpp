// The link a simulated device publishes through. The firmware only needs "am I connected" and "publish this"; the
// real one is an MQTT connection (mqtt_link.hpp), tests use MemoryTransport. Inbound messages (acks) and connection
// changes are delivered to the firmware by its owner, on the owner's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kaoko::sim {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual bool IsConnected() const = 0;
  // Hands a message to the link. Returns false when the link refuses it now (not connected, its queue full); the
  // caller keeps the message and tries again later. Does not block.
  virtual bool Publish(const std::string& topic, const std::string& payload, int qos, bool retained) = 0;
};

// An in-memory link for tests: records what is published; can be disconnected or made to refuse after N messages.
class MemoryTransport : public Transport {
 public:
  struct Message {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = false;
  };
  bool connected = true;
  std::size_t refuse_after = SIZE_MAX;  // accept this many more publishes, then refuse
  std::vector<Message> published;

  bool IsConnected() const override { return connected; }
  bool Publish(const std::string& topic, const std::string& payload, int qos, bool retained) override {
    if (!connected || refuse_after == 0) return false;
    if (refuse_after != SIZE_MAX) --refuse_after;
    published.push_back({topic, payload, qos, retained});
    return true;
  }
};

// Contract topics (protocol.md).
std::string StationTopic(const std::string& tambon, const std::string& village, const std::string& station,
                         const char* leaf);  // leaf: "reading" | "status" | "ack"
std::string ReportTopic(const std::string& tambon, const std::string& village, const std::string& user);
std::string ReceiptTopic(const std::string& tambon, const std::string& village, const std::string& user);

}  // namespace kaoko::sim
