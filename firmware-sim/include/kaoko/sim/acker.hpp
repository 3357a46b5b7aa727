// A stand-in for kaoko's end-to-end acks, for running the simulator without the service (--local-acker) and for
// its own tests: it "stores" each reading it receives once per (station, seq), and hands out, for each station, the
// ranges stored since its last ack, repeats included (as the contract asks). It also keeps the numbers that an
// end-to-end test checks: duplicates, readings that arrived behind a higher seq, gaps. Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaoko::sim {

class AckBook {
 public:
  // A message on .../station/{id}/reading. Returns false when it is not a reading (ignored).
  bool OnReading(std::string_view topic, std::string_view payload);
  // The acks due now: (ack topic, payload) for each station with something stored since its last ack.
  std::vector<std::pair<std::string, std::string>> TakeAcks();

  std::uint64_t Stored() const { return stored_; }
  std::uint64_t Duplicates() const { return duplicates_; }
  std::uint64_t OutOfOrder() const { return out_of_order_; }
  // seq numbers missing between 1 and the highest seen, over all stations.
  std::uint64_t Gaps() const;
  const std::map<std::string, std::set<std::uint64_t>>& Seen() const { return seen_; }

 private:
  std::map<std::string, std::set<std::uint64_t>> seen_;    // by reading topic
  std::map<std::string, std::set<std::uint64_t>> to_ack_;  // by reading topic
  std::uint64_t stored_ = 0, duplicates_ = 0, out_of_order_ = 0;
};

// "[[1,3],[5,5]]"-style ranges of a sorted set.
std::string FormatRanges(const std::set<std::uint64_t>& seqs);

}  // namespace kaoko::sim
