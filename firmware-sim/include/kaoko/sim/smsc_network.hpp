// The simulated operator network behind kaoko-smsc: what happens to each submit_sm, the phones' inboxes (parts of a
// concatenated message joined per phone), the delivery receipts and the phones' replies that fall due. Pure logic:
// no sockets, no clock; the caller passes the time, and sends what TakeDue returns as deliver_sm.
//
//   Network net(config, /*speed=*/60, /*first_message_id=*/1);
//   SubmitOutcome out = net.Submit(submit, now);       // out.status, out.message_id -> submit_sm_resp
//   for (auto& pdu : net.TakeDue(later)) Send(pdu);     // receipts and replies as deliver_sm bodies
//
// Thread safety: none; kaoko-smsc uses it from its one IO thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kaoko/contract/result.hpp"
#include "kaoko/sim/smsc_config.hpp"
#include "kaoko/sim/smsc_pdu.hpp"

namespace kaoko::sim::smsc {

using Time = std::chrono::system_clock::time_point;

// The answer to one submit_sm, and the log line that says what the network did with it.
struct SubmitOutcome {
  uint32_t status = status::kOk;
  std::string message_id;  // empty when refused
  std::string log;
};

// A message as a phone shows it: every part joined, decoded to UTF-8.
struct ReceivedMessage {
  std::string from;  // the sender's address as submitted (the short code or a name)
  std::string text;  // UTF-8; the parts so far when incomplete
  int parts_expected = 1;
  int parts_received = 0;
  uint8_t data_coding = 0;
  Time first_part_at;
  Time completed_at;  // meaningful when complete
  bool complete = false;
  std::vector<std::string> message_ids;  // one per part, in order of arrival
};

struct NetworkCounters {
  uint64_t submitted = 0;  // submit_sm accepted
  uint64_t refused = 0;    // submit_sm refused (barred, unknown, refuse-all, undecodable)
  uint64_t receipts = 0;   // receipts handed out by TakeDue
  uint64_t replies = 0;    // replies (mobile-originated parts) handed out by TakeDue
};

// A phone's reply to `received` from its configured `reply`: with "{code}" in it, the code the message asks to answer
// with (the four digits after "ตอบ 1 ", as kaoko writes it) goes in its place, and a message that carries no code is
// not answered (a person answers a question, not news). Without "{code}" the reply is the text as configured.
std::optional<std::string> ReplyTo(const std::string& reply, const std::string& received);

class Network {
 public:
  // `speed`: simulated seconds per real second (the configured delays are divided by it; 0 means no delays).
  // `first_message_id`: ids count up from here (a restarted SMSC must not reuse the ids of its last run: Kannel
  // would match a new receipt to an old message).
  Network(SmscConfig config, double speed, uint64_t first_message_id);

  // What the SMSC answers to `submit` arriving at `now`. Schedules its receipt (when registered_delivery asks for one
  // and the phone gives one) and, once a whole message has reached a phone that replies, the reply.
  SubmitOutcome Submit(const ShortMessage& submit, Time now);

  // The deliver_sm bodies due at `now` (receipts with esm_class 0x04, replies from phones), oldest first; they leave
  // the queue.
  std::vector<ShortMessage> TakeDue(Time now);
  // Puts back a deliver_sm body that TakeDue gave out but no ESME acknowledged (its link closed first).
  void Requeue(ShortMessage message, Time at);
  // When the next one falls due; nothing when the queue is empty.
  std::optional<Time> NextDue() const;
  size_t pending() const { return due_.size(); }

  // Makes the phone send `text` (or its configured reply when empty) to the short code at `now`. Errors:
  // "unknown_phone", "no_reply_text".
  Result<std::string> ReplyNow(const std::string& number, const std::string& text, Time now);

  // From now on every submit_sm is refused with `status` (nothing: accept again).
  void RefuseAll(std::optional<uint32_t> status) { refuse_all_ = status; }
  std::optional<uint32_t> refusing() const { return refuse_all_; }

  // Everything the phone at `number` (+66…) has received, oldest first, complete or not.
  std::vector<ReceivedMessage> Inbox(const std::string& number) const;
  // Every number that has received anything.
  std::vector<std::string> Numbers() const;
  const NetworkCounters& counters() const { return counters_; }
  const SmscConfig& config() const { return config_; }

 private:
  struct Partial {
    std::string from;
    uint8_t data_coding = 0;
    int total = 1;
    std::map<int, std::string> octets;  // by sequence number
    Time first_at;
    std::vector<std::string> message_ids;
  };

  const PhoneConfig* FindPhone(const std::string& number) const;
  std::chrono::system_clock::duration Delay(double seconds) const;
  std::string NextMessageId();
  void ScheduleReceipt(const ShortMessage& submit, const std::string& id, const PhoneConfig* phone, Time now,
                       const std::string& text_start);
  void ScheduleReply(const std::string& number, const std::string& text, Time at);
  void Receive(const std::string& number, const ShortMessage& submit, const std::string& id, Time now);

  SmscConfig config_;
  double speed_;
  uint64_t next_id_;
  uint8_t next_reference_ = 1;
  std::optional<uint32_t> refuse_all_;
  std::multimap<Time, ShortMessage> due_;
  std::map<std::string, std::vector<ReceivedMessage>> inbox_;
  // Concatenated messages still arriving, by phone, sender and reference; the index into inbox_[phone].
  std::map<std::string, size_t> partial_index_;
  std::map<std::string, Partial> partial_;
  NetworkCounters counters_;
};

// The standard receipt text: "id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD
// err:000 text:…" (`stat` DELIVRD, EXPIRED, UNDELIV). Thread-safe.
std::string ReceiptText(const std::string& id, const std::string& stat, Time submitted, Time done,
                        const std::string& text_start);

}  // namespace kaoko::sim::smsc
