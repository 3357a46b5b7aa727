// The station's store-and-forward buffer, on disk: one journal file per station in the state directory
// (<dir>/<station>.buf). Every reading is appended when it is taken and stays until kaoko's end-to-end ack covers
// it; acks are appended too, and the file is compacted (rewritten with only what is still unacknowledged, then
// renamed over the old one) when the dead lines outnumber the live ones. The same file keeps the last `seq`, so
// `seq` survives a reboot. Not thread-safe: one owner (the station's firmware).
//
// Bound: at most `capacity` readings. When it is full the OLDEST reading is dropped and counted: during a long
// outage the newest readings are the ones a village needs when the link returns (the rising river now), and a gap
// at the old end is visible to kaoko as missing seq numbers. Real data loggers (ring buffers) behave the same way.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kaoko/contract/result.hpp"

namespace kaoko::sim {

using SeqRange = std::pair<std::uint64_t, std::uint64_t>;  // inclusive

// Parses an ack payload {"stored": [[1000,1039],[1041,1042]]}. Returns the ranges or an error naming what is wrong
// (not JSON, no "stored" array, a range that is not two non-negative integers with first <= last). A malformed
// payload is refused whole. Never throws. Thread-safe.
Result<std::vector<SeqRange>> ParseAck(std::string_view payload);

class ReadingStore {
 public:
  // Opens <dir>/<station>.buf (creating dir and file), replaying what is in it. Lines it cannot read (a torn last
  // line after a power cut) are skipped and counted. Returns an error when the directory or file cannot be written.
  static Result<ReadingStore> Open(const std::string& dir, const std::string& station, std::size_t capacity);
  // A store that keeps everything in memory only (tests, --dry-run).
  static ReadingStore InMemory(std::size_t capacity);

  // The next seq (last + 1); persisted with the reading that uses it.
  std::uint64_t NextSeq() const { return last_seq_ + 1; }
  std::uint64_t LastSeq() const { return last_seq_; }
  // Appends a reading; `seq` must be NextSeq(). Drops the oldest reading when full.
  void Append(std::uint64_t seq, std::string payload);
  // Removes every reading covered by the ranges; returns how many were removed.
  std::size_t Ack(const std::vector<SeqRange>& ranges);

  const std::map<std::uint64_t, std::string>& Pending() const { return pending_; }
  std::size_t Size() const { return pending_.size(); }
  std::size_t Capacity() const { return capacity_; }
  std::uint64_t Dropped() const { return dropped_; }
  std::uint64_t SkippedLines() const { return skipped_lines_; }
  const std::string& Path() const { return path_; }
  // Rewrites the file with only the pending readings. Called by Append/Ack when worthwhile.
  void Compact();

 private:
  ReadingStore() = default;
  void AppendLine(const std::string& line);

  std::string path_;  // empty: in memory only
  std::size_t capacity_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t skipped_lines_ = 0;
  std::size_t dead_lines_ = 0;
  std::map<std::uint64_t, std::string> pending_;
};

}  // namespace kaoko::sim
