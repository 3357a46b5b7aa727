// The simulated operator network (smsc_network.hpp).
#include "kaoko/sim/smsc_network.hpp"

#include <fmt/format.h>

#include <ctime>

#include "kaoko/sim/smsc_text.hpp"

namespace kaoko::sim::smsc {
namespace {

// SMPP message_state values carried beside the receipt text.
constexpr uint8_t kStateDelivered = 2;
constexpr uint8_t kStateExpired = 3;

// registered_delivery bits 0-1: 1 = a receipt on success or failure, 2 = on failure only.
bool WantsReceipt(uint8_t registered_delivery, bool success) {
  const int ask = registered_delivery & 0x03;
  return ask == 1 || (ask == 2 && !success);
}

std::string SmppDate(Time t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M", &tm);
  return buf;
}

// The text as a GSM (data_coding 0) reply when every character is one GSM and ASCII share, else UCS-2.
std::pair<uint8_t, std::vector<std::string>> EncodeReply(const std::string& text, uint8_t reference) {
  const bool plain =
      !text.empty() && text.size() <= 160 &&
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;!?'\"()+-/*=#%&<>") ==
          std::string::npos;
  if (plain) return {kCodingGsm, {text}};
  return {kCodingUcs2, SplitUcs2(text, reference)};
}

// The start of the text for the receipt's "text:" field: 20 characters, printable ASCII kept, others as '?'.
std::string TextStart(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size() && out.size() < 20; ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else if ((c & 0xC0) != 0x80) {
      out += '?';
    }
  }
  return out;
}

}  // namespace

std::string ReceiptText(const std::string& id, const std::string& stat, Time submitted, Time done,
                        const std::string& text_start) {
  const bool delivered = stat == "DELIVRD";
  return fmt::format("id:{} sub:001 dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}", id,
                     delivered ? "001" : "000", SmppDate(submitted), SmppDate(done), stat, delivered ? "000" : "027",
                     text_start);
}

Network::Network(SmscConfig config, double speed, uint64_t first_message_id)
    : config_(std::move(config)), speed_(speed), next_id_(first_message_id) {}

const PhoneConfig* Network::FindPhone(const std::string& number) const {
  for (const auto& p : config_.phones) {
    if (p.number == number) return &p;
  }
  return nullptr;
}

std::chrono::system_clock::duration Network::Delay(double seconds) const {
  if (speed_ <= 0) return {};
  return std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double>(seconds / speed_));
}

std::string Network::NextMessageId() {
  const uint64_t id = next_id_++;
  return config_.message_ids == MessageIdStyle::kHex ? fmt::format("{:x}", id) : fmt::format("{}", id);
}

SubmitOutcome Network::Submit(const ShortMessage& submit, Time now) {
  const std::string number = NormaliseNumber(submit.destination.ton, submit.destination.digits);
  const std::string where = fmt::format("submit_sm from {} to {} (ton {} \"{}\")", submit.source.digits, number,
                                        submit.destination.ton, submit.destination.digits);
  if (refuse_all_) {
    ++counters_.refused;
    return {*refuse_all_, "",
            fmt::format("{}: refused with {}: the SMSC is set to refuse everything", where, StatusName(*refuse_all_))};
  }
  const PhoneConfig* phone = FindPhone(number);
  if (!phone && config_.refuse_unknown) {
    ++counters_.refused;
    return {status::kInvalidDestination, "",
            fmt::format("{}: refused with ESME_RINVDSTADR: no such phone in the config", where)};
  }
  if (phone && phone->does == PhoneBehaviour::kBarred) {
    ++counters_.refused;
    return {phone->refuse_status, "",
            fmt::format("{}: refused with {}: the number is barred", where, StatusName(phone->refuse_status))};
  }
  const auto data = SplitUserData(submit.payload.value_or(submit.short_message), submit.esm_class);
  if (!data) {
    ++counters_.refused;
    return {status::kSubmitFailed, "",
            fmt::format("{}: refused with ESME_RSUBMITFAIL: the user data header runs past the message", where)};
  }
  ++counters_.submitted;
  const std::string id = NextMessageId();
  const std::string text_start = TextStart(DecodeToUtf8(data->text, submit.data_coding));
  const PhoneBehaviour does = phone ? phone->does : PhoneBehaviour::kDeliver;
  if (does == PhoneBehaviour::kDeliver) Receive(number, submit, id, now);
  ScheduleReceipt(submit, id, phone, now, text_start);
  return {status::kOk, id,
          fmt::format("{}: accepted as {} ({} octets, data_coding {}, esm_class 0x{:02x}); the phone does {}", where,
                      id, submit.short_message.size(), submit.data_coding, submit.esm_class, BehaviourName(does))};
}

void Network::Receive(const std::string& number, const ShortMessage& submit, const std::string& id, Time now) {
  const auto data = SplitUserData(submit.payload.value_or(submit.short_message), submit.esm_class);
  auto& box = inbox_[number];
  if (!data->concat || data->concat->total <= 1) {
    ReceivedMessage m{submit.source.digits,
                      DecodeToUtf8(data->text, submit.data_coding),
                      1,
                      1,
                      submit.data_coding,
                      now,
                      now,
                      true,
                      {id}};
    box.push_back(m);
    const PhoneConfig* phone = FindPhone(number);
    if (phone && phone->reply) {
      if (auto r = ReplyTo(*phone->reply, m.text)) ScheduleReply(number, *r, now + Delay(phone->reply_after_s));
    }
    return;
  }
  const std::string key =
      fmt::format("{}|{}|{}|{}", number, submit.source.digits, data->concat->reference, data->concat->total);
  auto [it, fresh] = partial_.try_emplace(key);
  Partial& p = it->second;
  if (fresh) {
    p = Partial{submit.source.digits, submit.data_coding, data->concat->total, {}, now, {}};
    box.push_back(ReceivedMessage{submit.source.digits, "", p.total, 0, submit.data_coding, now, now, false, {}});
    partial_index_[key] = box.size() - 1;
  }
  p.octets[data->concat->sequence] = data->text;
  p.message_ids.push_back(id);
  std::string joined;
  for (const auto& [seq, octets] : p.octets) joined += octets;
  ReceivedMessage& m = box[partial_index_[key]];
  m.text = DecodeToUtf8(joined, p.data_coding);
  m.parts_received = static_cast<int>(p.octets.size());
  m.message_ids = p.message_ids;
  if (m.parts_received >= p.total) {
    m.complete = true;
    m.completed_at = now;
    partial_.erase(key);
    partial_index_.erase(key);
    const PhoneConfig* phone = FindPhone(number);
    if (phone && phone->reply) {
      if (auto r = ReplyTo(*phone->reply, m.text)) ScheduleReply(number, *r, now + Delay(phone->reply_after_s));
    }
  }
}

void Network::ScheduleReceipt(const ShortMessage& submit, const std::string& id, const PhoneConfig* phone, Time now,
                              const std::string& text_start) {
  const PhoneBehaviour does = phone ? phone->does : PhoneBehaviour::kDeliver;
  if (does == PhoneBehaviour::kOff) return;
  const bool delivered = does == PhoneBehaviour::kDeliver;
  if (!WantsReceipt(submit.registered_delivery, delivered)) return;
  const Time done = now + Delay(delivered ? (phone ? phone->receipt_after_s : 2.0) : phone->expire_after_s);
  ShortMessage r;
  r.source = submit.destination;  // the receipt comes from the phone the message went to
  r.destination = submit.source;
  r.esm_class = kEsmDeliveryReceipt;
  r.data_coding = kCodingGsm;
  r.short_message = ReceiptText(id, delivered ? "DELIVRD" : "EXPIRED", now, done, text_start);
  r.receipted_message_id = id;
  r.message_state = delivered ? kStateDelivered : kStateExpired;
  due_.emplace(done, std::move(r));
}

std::optional<std::string> ReplyTo(const std::string& reply, const std::string& received) {
  const std::string placeholder = "{code}";
  const auto at = reply.find(placeholder);
  if (at == std::string::npos) return reply;
  const std::string marker = "ตอบ 1 ";
  const auto m = received.find(marker);
  if (m == std::string::npos) return std::nullopt;
  const std::string code = received.substr(m + marker.size(), 4);
  if (code.size() != 4 || code.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::string out = reply;
  out.replace(at, placeholder.size(), code);
  return out;
}

void Network::ScheduleReply(const std::string& number, const std::string& text, Time at) {
  const auto [coding, parts] = EncodeReply(text, next_reference_++);
  for (const auto& part : parts) {
    ShortMessage mo;
    mo.source = {1, 1, number.substr(1)};  // international, without the '+'
    mo.destination = {0, 1, config_.short_code};
    mo.esm_class = parts.size() > 1 ? kEsmUdhi : 0;
    mo.data_coding = coding;
    mo.short_message = part;
    due_.emplace(at, std::move(mo));
  }
}

void Network::Requeue(ShortMessage message, Time at) {
  if (message.esm_class & kEsmDeliveryReceipt) {
    --counters_.receipts;
  } else {
    --counters_.replies;
  }
  due_.emplace(at, std::move(message));
}

std::vector<ShortMessage> Network::TakeDue(Time now) {
  std::vector<ShortMessage> out;
  while (!due_.empty() && due_.begin()->first <= now) {
    out.push_back(std::move(due_.begin()->second));
    due_.erase(due_.begin());
    if (out.back().esm_class & kEsmDeliveryReceipt) {
      ++counters_.receipts;
    } else {
      ++counters_.replies;
    }
  }
  return out;
}

std::optional<Time> Network::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

Result<std::string> Network::ReplyNow(const std::string& number, const std::string& text, Time now) {
  const PhoneConfig* phone = FindPhone(number);
  if (!phone) return MakeError("unknown_phone", fmt::format("no phone {} in the config", number));
  const std::string body = text.empty() ? phone->reply.value_or("") : text;
  if (body.empty()) return MakeError("no_reply_text", fmt::format("phone {} has no configured reply", number));
  ScheduleReply(number, body, now);
  return body;
}

std::vector<ReceivedMessage> Network::Inbox(const std::string& number) const {
  const auto it = inbox_.find(number);
  return it == inbox_.end() ? std::vector<ReceivedMessage>{} : it->second;
}

std::vector<std::string> Network::Numbers() const {
  std::vector<std::string> out;
  for (const auto& [number, box] : inbox_) out.push_back(number);
  return out;
}

}  // namespace kaoko::sim::smsc
