// The tier journal protocol (docs/tiers.md): how a lower tier (a village edge box, or a TAO under a province) hands
// everything it stored to the tier above, once and in order, over Mosquitto bridges that may drop for hours.
//
// The lower tier appends each stored reading and each timeline event to an outbox in its own SQLite file, in the same
// transaction as what it records, numbered 1, 2, 3, … without gaps (the journal `seq`). It publishes entries in order,
// batched, and the tier above answers with the highest seq it has committed without a gap (cumulative acknowledgement,
// "go-back-N"): an entry after a gap is not stored and the answer repeats the last contiguous seq, so the sender goes
// back and resends from there. Entries at or below the acked seq are duplicates and are skipped. This is the wire
// contract's own end-to-end station ack, applied to a journal.
//
// Pure logic, no I/O: JournalSender decides what to send when; ReceiveJournal decides which entries of a message to
// apply. Thread safety: none; the owner serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kaoko/contract/result.hpp"

namespace kaoko::server::tier {

using SteadyTime = std::chrono::steady_clock::time_point;

// The sending side of one journal (one per lower tier). Sequence numbers start at 1; 0 means "none".
class JournalSender {
 public:
  struct Options {
    std::size_t batch_entries = 200;               // entries per message at most
    std::size_t window_entries = 4000;             // entries sent beyond the acked seq at most (in flight)
    std::chrono::milliseconds resend_after{5000};  // no ack progress for this long: go back and resend
    std::chrono::milliseconds gap_backoff{1000};   // go back on a "gap" ack at most this often
  };

  JournalSender() : JournalSender(Options{}) {}
  explicit JournalSender(Options options) : options_(options) {}

  // After a restart: what the database says (acked <= appended).
  void Restore(std::uint64_t acked, std::uint64_t appended);
  // New entries were committed up to `high`.
  void Appended(std::uint64_t high);
  // The tier above acknowledged everything up to `acked`; `gap` says it refused an entry after a gap. Returns true
  // when this moved the acked seq forward (then the entries up to it may be pruned).
  bool OnAck(std::uint64_t acked, bool gap, SteadyTime now);
  // The bridge came up (resend everything unacknowledged: the broker above may have lost it) or went down (send
  // nothing: the bridge would only queue it to be resent again).
  void OnLinkUp(SteadyTime now);
  void OnLinkDown();
  // The next range to publish, [first, last], or nullopt when nothing is due. Marks it sent.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> Next(SteadyTime now);
  // The publisher took only up to `last` of the range Next gave (a size limit, or rows not readable yet): the rest is
  // sent next time.
  void Rewind(std::uint64_t last);
  // Go back after a timeout: called by Next; exposed for tests.
  bool TimedOut(SteadyTime now) const;

  std::uint64_t acked() const { return acked_; }
  std::uint64_t appended() const { return appended_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t backlog() const { return appended_ - acked_; }
  std::optional<bool> link() const { return link_; }
  std::uint64_t resends() const { return resends_; }
  // When the acked seq last moved (or the link came up); for "the tier above stopped answering".
  SteadyTime last_progress() const { return last_progress_; }

 private:
  void GoBack(SteadyTime now);

  Options options_;
  std::uint64_t acked_ = 0;
  std::uint64_t appended_ = 0;
  std::uint64_t sent_ = 0;    // highest seq published since the last go-back
  std::optional<bool> link_;  // unknown until the bridge's notification arrives: then we send
  SteadyTime last_progress_{};
  SteadyTime last_gap_backoff_{};
  std::uint64_t resends_ = 0;
};

// What to do with one journal message at the receiving side, given the highest contiguous seq already committed.
struct ReceivePlan {
  std::vector<std::size_t> apply;  // indexes of the entries to apply, in order (their seqs are last+1, last+2, …)
  std::uint64_t last = 0;          // the highest contiguous seq once they are applied: the ack to send
  std::size_t duplicates = 0;      // entries at or below the committed seq (already applied)
  bool gap = false;                // an entry after a gap was refused: the sender must go back
};
// `seqs` are the entries' seqs in message order.
ReceivePlan PlanReceive(std::uint64_t last_committed, const std::vector<std::uint64_t>& seqs);

// ---- wire forms (docs/tiers.md)

// kaoko/v1/{tambon}/tier/{node}/{leaf}
std::string TierTopic(std::string_view tambon, std::string_view node, std::string_view leaf);
// Where a tier publishes what its bridge carries up (the bridge strips the prefix): "kaoko/tier/out/" + topic.
inline constexpr std::string_view kOutPrefix = "kaoko/tier/out/";
// Where a bridge puts what it brings down from the tier above: "kaoko/tier/up/" + the upper broker's topic.
inline constexpr std::string_view kUpPrefix = "kaoko/tier/up/";

struct ParsedTierTopic {
  std::string tambon;
  std::string node;
  std::string leaf;  // journal | journal-ack | heartbeat | link
};
// Parses kaoko/v1/{tambon}/tier/{node}/{leaf}; nullopt for anything else.
std::optional<ParsedTierTopic> ParseTierTopic(std::string_view topic);

// {"acked":N,"gap":false,"epoch":"…"}: `epoch` is the sender's journal epoch the ack refers to (a lower tier whose
// database was replaced starts a new epoch at seq 1; an ack for an older epoch is ignored).
std::string RenderJournalAck(std::uint64_t acked, bool gap, std::string_view epoch);
struct JournalAck {
  std::uint64_t acked = 0;
  bool gap = false;
  std::string epoch;
};
Result<JournalAck> ParseJournalAck(std::string_view payload);

}  // namespace kaoko::server::tier
