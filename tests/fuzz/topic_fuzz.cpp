// Fuzzes kaoko::wire::ParseTopic (MQTT topic names, chosen by whoever publishes). A topic it accepts must render back
// to exactly the same text: the service answers on topics it builds from the parsed parts.
#include "fuzz_support.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kaoko::fuzz::AsText(data, size);
  auto topic = ParseTopic(text);
  if (!topic) {
    KAOKO_FUZZ_CHECK(!topic.error().reason.empty());
    return 0;
  }
  const Topic& t = *topic;
  std::string back;
  switch (t.kind) {
    case TopicKind::kReading:
      back = ReadingTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kStatus:
      back = StatusTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kAck:
      back = AckTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kReport:
      back = ReportTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kDecision:
      back = DecisionTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kReceipt:
      back = ReceiptTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kAlert:
      back = AlertTopic(t.tambon, t.village);
      break;
    case TopicKind::kNotify:
      back = NotifyTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kSiren:
      back = SirenTopic(t.tambon, t.village);
      break;
    case TopicKind::kCap:
      back = CapTopic(t.tambon);
      break;
    case TopicKind::kAnnounce:
      back = AnnounceTopic(t.tambon, t.village);
      break;
    case TopicKind::kDeviceSounded:
      back = SoundedTopic(t.tambon, t.village, t.name);
      break;
    case TopicKind::kDeviceStatus:
      back = DeviceStatusTopic(t.tambon, t.village, t.name);
      break;
  }
  KAOKO_FUZZ_CHECK(back == text);
  return 0;
}
