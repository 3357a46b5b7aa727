#include "kaoko/sim/store.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kaoko::sim {

Result<std::vector<SeqRange>> ParseAck(std::string_view payload) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("ack_not_json", "ack payload is not JSON");
  if (!j.is_object()) return MakeError("ack_not_object", "ack payload is not a JSON object");
  auto it = j.find("stored");
  if (it == j.end() || !it->is_array()) return MakeError("ack_no_stored", "ack payload has no \"stored\" array");
  std::vector<SeqRange> out;
  for (const auto& r : *it) {
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned()) {
      return MakeError("ack_bad_range",
                       fmt::format("ack range {} is not [first, last] of two seq numbers", r.dump().substr(0, 60)));
    }
    auto a = r[0].get<std::uint64_t>();
    auto b = r[1].get<std::uint64_t>();
    if (a > b) return MakeError("ack_bad_range", fmt::format("ack range [{}, {}] runs backwards", a, b));
    out.emplace_back(a, b);
  }
  return out;
}

Result<ReadingStore> ReadingStore::Open(const std::string& dir, const std::string& station, std::size_t capacity) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError("state_dir", fmt::format("{}: cannot create the state directory: {}", dir, ec.message()));
  ReadingStore s;
  s.capacity_ = std::max<std::size_t>(capacity, 1);
  s.path_ = (std::filesystem::path(dir) / (station + ".buf")).string();
  std::ifstream in(s.path_);
  std::string line;
  while (in && std::getline(in, line)) {
    if (line.size() < 3 || line[1] != ' ') {
      if (!line.empty()) ++s.skipped_lines_;
      continue;
    }
    unsigned long long a = 0, b = 0;
    int used = 0;
    switch (line[0]) {
      case 'S':
        if (std::sscanf(line.c_str() + 2, "%llu", &a) == 1)
          s.last_seq_ = std::max<std::uint64_t>(s.last_seq_, a);
        else
          ++s.skipped_lines_;
        break;
      case 'R': {
        if (std::sscanf(line.c_str() + 2, "%llu %n", &a, &used) != 1 || used <= 0) {
          ++s.skipped_lines_;
          break;
        }
        std::string payload = line.substr(2 + static_cast<std::size_t>(used));
        // A torn line is a reading whose JSON does not close: not sent, never acked; drop it.
        if (payload.empty() || payload.back() != '}') {
          ++s.skipped_lines_;
          break;
        }
        s.pending_[a] = std::move(payload);
        s.last_seq_ = std::max<std::uint64_t>(s.last_seq_, a);
        break;
      }
      case 'A':
        if (std::sscanf(line.c_str() + 2, "%llu %llu", &a, &b) == 2) {
          s.pending_.erase(s.pending_.lower_bound(a), s.pending_.upper_bound(b));
          ++s.dead_lines_;
        } else {
          ++s.skipped_lines_;
        }
        break;
      default:
        ++s.skipped_lines_;
    }
  }
  while (s.pending_.size() > s.capacity_) {
    s.pending_.erase(s.pending_.begin());
    ++s.dropped_;
  }
  s.Compact();  // start from a clean file; also proves that we can write it
  std::ofstream probe(s.path_, std::ios::app);
  if (!probe) return MakeError("state_file", fmt::format("{}: cannot write the station buffer", s.path_));
  return s;
}

ReadingStore ReadingStore::InMemory(std::size_t capacity) {
  ReadingStore s;
  s.capacity_ = std::max<std::size_t>(capacity, 1);
  return s;
}

void ReadingStore::AppendLine(const std::string& line) {
  if (path_.empty()) return;
  // Opened per write: a scale run has thousands of stations and a real station writes to flash the same way.
  std::FILE* f = std::fopen(path_.c_str(), "a");
  if (!f) return;  // the reading stays in memory; the next compaction tries again
  std::fwrite(line.data(), 1, line.size(), f);
  std::fclose(f);
}

void ReadingStore::Append(std::uint64_t seq, std::string payload) {
  last_seq_ = std::max(last_seq_, seq);
  AppendLine(fmt::format("R {} {}\n", seq, payload));
  pending_[seq] = std::move(payload);
  while (pending_.size() > capacity_) {
    auto oldest = pending_.begin();
    AppendLine(fmt::format("A {} {}\n", oldest->first, oldest->first));
    pending_.erase(oldest);
    ++dropped_;
    dead_lines_ += 2;
  }
  if (dead_lines_ > 256 && dead_lines_ > pending_.size()) Compact();
}

std::size_t ReadingStore::Ack(const std::vector<SeqRange>& ranges) {
  std::size_t removed = 0;
  for (const auto& [a, b] : ranges) {
    auto first = pending_.lower_bound(a);
    auto last = pending_.upper_bound(b);
    std::size_t n = static_cast<std::size_t>(std::distance(first, last));
    if (n == 0) continue;
    pending_.erase(first, last);
    removed += n;
    AppendLine(fmt::format("A {} {}\n", a, b));
    dead_lines_ += n + 1;
  }
  if (dead_lines_ > 256 && dead_lines_ > pending_.size()) Compact();
  return removed;
}

void ReadingStore::Compact() {
  dead_lines_ = 0;
  if (path_.empty()) return;
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return;
    out << "S " << last_seq_ << '\n';
    for (const auto& [seq, payload] : pending_) out << "R " << seq << ' ' << payload << '\n';
    if (!out.flush()) return;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
}

}  // namespace kaoko::sim
