// Moves readings_recent into the archive (Store::MergeRecent, docs/architecture.md "Readings in two tables") once it
// holds merge_rows, a slice at a time, between batches. Core thread only.
#pragma once

#include <chrono>
#include <cstdint>

#include "kaoko/common/metrics.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::server {

class ReadingsMerger {
 public:
  ReadingsMerger(store::Store& store, Metrics& metrics, std::int64_t merge_rows)
      : store_(store), metrics_(metrics), merge_rows_(merge_rows) {}
  // Merges a slice when merge_rows or more wait (`force`: all of them, even within ten seconds of a failure). Never
  // throws: a failure is logged and counted, and the readings stay where they are, readable.
  void Merge(bool force = false);

 private:
  store::Store& store_;
  Metrics& metrics_;
  const std::int64_t merge_rows_;
  std::chrono::steady_clock::time_point retry_at_{};  // after a failed merge
};

}  // namespace kaoko::server
