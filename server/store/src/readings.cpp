// Readings: station keys, inserting (readings_recent and its in-memory seq index), merging into readings_archive,
// the day index (reading_days), reading back; and the other per-station rows (refused readings, status).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

#include "stmt.hpp"

namespace kaoko::store {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// The insert into each part of readings_recent (migration 8), written once: InsertReading runs for every reading.
const std::string& RecentInsertSql(int part) {
  static const auto sql = [] {
    std::array<std::string, Store::kRecentParts> all;
    for (int p = 0; p < Store::kRecentParts; ++p) {
      all[static_cast<std::size_t>(p)] =
          fmt::format("INSERT INTO readings_recent_{:02d} (station, seq, ts, lv, rn, bt) VALUES (?, ?, ?, ?, ?, ?)", p);
    }
    return all;
  }();
  return sql[static_cast<std::size_t>(part)];
}
constexpr std::int64_t kNoSeqLimit = std::numeric_limits<std::int64_t>::max();
// The UTC day of a ts as reading_days counts it: SQLite's integer division (towards zero), so that SQL and C++ agree.
std::int64_t DayOf(std::int64_t ts_ms) { return ts_ms / kDayMs; }

// A value in `scale`-ths when that is exact (and small enough), else the value itself: see migration 6.
void BindScaled(Stmt& s, int i, std::optional<double> v, double scale) {
  if (!v) {
    s.BindNull(i);
    return;
  }
  const double x = *v * scale;
  if (std::abs(*v) < 1e15) {
    const auto n = static_cast<std::int64_t>(std::llround(x));
    if (static_cast<double>(n) / scale == *v) {
      s.Bind(i, n);
      return;
    }
  }
  s.Bind(i, *v);
}

}  // namespace

void Store::ForEachStationKey(const std::function<void(std::string_view, std::int64_t)>& fn) {
  Stmt s(db_, "SELECT id, name FROM stations");
  while (s.Step()) fn(s.View(1), s.Int(0));
}

// Not cached: the service keeps each station's key beside the station (Core's slot) and asks here once per station, so
// a cache would only repeat every station's id (12 MB at 150,000 stations) and need clearing after a rollback. The
// name is a UNIQUE column: a look-up is one B-tree search.
std::int64_t Store::KnownStationKey(std::string_view station) {
  Stmt& find = Prepared(0, "SELECT id FROM stations WHERE name = ?");
  find.Bind(1, station);
  std::int64_t id = 0;
  if (find.Step()) id = find.Int(0);
  find.Reset();
  return id;
}

std::int64_t Store::StationKey(std::string_view station) {
  if (const std::int64_t id = KnownStationKey(station)) return id;
  // Inside the caller's transaction: a rollback takes the row away again, and the next call adds it anew.
  Stmt& add = Prepared(1, "INSERT INTO stations (name) VALUES (?)");
  add.Bind(1, station).Run();
  return sqlite3_last_insert_rowid(db_);
}

Insert Store::InsertReading(std::string_view station, const wire::Reading& r) {
  return InsertReading(StationKey(station), r);
}

Insert Store::InsertReading(std::int64_t key, const wire::Reading& r) {
  EnsureRecentIndex();
  StationSeqs& seqs = Seqs(key);
  LoadMax(key, seqs);
  const auto seq = static_cast<std::int64_t>(r.seq);
  // The usual case, a station's next reading, needs no look-up: only a seq at or below its highest can be stored.
  if (seqs.has_max && seq <= seqs.max) {
    if (InRecent(seqs, seq)) return Insert::kDuplicate;
    Stmt& q = Prepared(40, "SELECT 1 FROM readings_archive WHERE station = ? AND seq = ?");
    q.Bind(1, key).Bind(2, seq);
    const bool found = q.Step();
    q.Reset();
    if (found) return Insert::kDuplicate;
  }
  const int part = RecentPart(key);
  Stmt& s = Prepared(50 + part, RecentInsertSql(part));
  s.Bind(1, key).Bind(2, seq).Bind(3, Ms(r.ts));
  BindScaled(s, 4, r.level_cm, 10);
  BindScaled(s, 5, r.rain_mm, 10);
  BindScaled(s, 6, r.battery_v, 100);
  s.Run();
  seqs.recent.push_back({seq, Ms(r.ts)});
  unmerged_.reset();
  ++recent_rows_;
  ++recent_part_rows_[part];
  if (!seqs.has_max || seq > seqs.max) seqs.max = seq;
  seqs.has_max = true;
  NoteReadingDay(key, seq, DayOf(Ms(r.ts)));
  return Insert::kStored;
}

Store::StationSeqs& Store::Seqs(std::int64_t key) {
  const auto k = static_cast<std::size_t>(key < 0 ? 0 : key);
  if (k >= seqs_.size()) seqs_.resize(k + 1);
  return seqs_[k];
}

// The recent seqs are the only index of readings_recent: after a rollback (which may have taken rows the writer had
// noted) they are read again from the table, whose size MergeRecent bounds.
void Store::EnsureRecentIndex() {
  if (recent_valid_) return;
  for (auto& s : seqs_) s = StationSeqs{};
  // One entry per station key, sized once: grown key by key, the vector's doubling left up to twice the room.
  {
    Stmt keys(db_, "SELECT MAX(id) FROM stations");
    if (keys.Step() && !keys.IsNull(0) && keys.Int(0) > 0) seqs_.reserve(static_cast<std::size_t>(keys.Int(0)) + 1);
  }
  recent_rows_ = 0;
  std::fill(std::begin(recent_part_rows_), std::end(recent_part_rows_), 0);
  Stmt s(db_, "SELECT station, seq, ts FROM readings_recent");
  while (s.Step()) {
    Seqs(s.Int(0)).recent.push_back({s.Int(1), s.Int(2)});
    ++recent_rows_;
    ++recent_part_rows_[RecentPart(s.Int(0))];
  }
  recent_valid_ = true;
}

bool Store::InRecent(const StationSeqs& s, std::int64_t seq) const {
  return std::any_of(s.recent.begin(), s.recent.end(), [seq](const RecentRow& r) { return r.seq == seq; });
}

void Store::LoadMax(std::int64_t key, StationSeqs& s) {
  if (s.max_known) return;
  Stmt& q = Prepared(41, "SELECT MAX(seq) FROM readings_archive WHERE station = ?");
  q.Bind(1, key);
  if (q.Step() && !q.IsNull(0)) {
    s.max = q.Int(0);
    s.has_max = true;
  }
  q.Reset();
  for (const auto& r : s.recent) {
    if (!s.has_max || r.seq > s.max) s.max = r.seq;
    s.has_max = true;
  }
  s.max_known = true;
}

std::optional<std::int64_t> Store::MaxSeq(std::int64_t key) {
  EnsureRecentIndex();
  StationSeqs& s = Seqs(key);
  LoadMax(key, s);
  return s.has_max ? std::optional<std::int64_t>(s.max) : std::nullopt;
}

bool Store::HasRecentReadings(std::int64_t key, std::int64_t lo, std::int64_t hi, TimePoint since, TimePoint until) {
  EnsureRecentIndex();
  const StationSeqs& s = Seqs(key);
  return std::any_of(s.recent.begin(), s.recent.end(), [&](const RecentRow& r) {
    return r.seq >= lo && r.seq <= hi && r.ts >= Ms(since) && r.ts < Ms(until);
  });
}

std::int64_t Store::DeleteReadings(std::int64_t key, std::int64_t lo, std::int64_t hi, TimePoint since,
                                   TimePoint until) {
  Stmt& a =
      Prepared(42, "DELETE FROM readings_archive WHERE station = ? AND seq >= ? AND seq <= ? AND ts >= ? AND ts < ?");
  a.Bind(1, key).Bind(2, lo).Bind(3, hi).Bind(4, Ms(since)).Bind(5, Ms(until)).Run();
  std::int64_t n = sqlite3_changes(db_);
  if (HasRecentReadings(key, lo, hi, since, until)) {
    // Rare (a reading that came in very late): a scan of readings_recent, and its index is read again.
    Stmt r(db_, fmt::format("DELETE FROM readings_recent_{:02d} WHERE station = ? AND seq >= ? AND seq <= ? AND "
                            "ts >= ? AND ts < ?",
                            RecentPart(key)));
    r.Bind(1, key).Bind(2, lo).Bind(3, hi).Bind(4, Ms(since)).Bind(5, Ms(until)).Run();
    n += sqlite3_changes(db_);
    recent_valid_ = false;
    unmerged_.reset();
  }
  return n;
}

std::int64_t Store::RecentReadings() {
  EnsureRecentIndex();
  return recent_rows_;
}

int Store::FullestRecentPart() {
  EnsureRecentIndex();
  return static_cast<int>(std::max_element(std::begin(recent_part_rows_), std::end(recent_part_rows_)) -
                          std::begin(recent_part_rows_));
}

std::int64_t Store::MergeRecent(int part, std::int64_t max_rows) {
  if (!sqlite3_get_autocommit(db_)) throw std::logic_error("MergeRecent inside a transaction");
  EnsureRecentIndex();
  if (part >= 0) return MergeRecentPart(part % kRecentParts, max_rows);
  std::int64_t moved = 0;
  for (int p = 0; p < kRecentParts; ++p) moved += MergeRecentPart(p, max_rows);
  return moved;
}

std::int64_t Store::MergeRecentPart(int part, std::int64_t max_rows) {
  if (recent_part_rows_[part] == 0) return 0;
  // The slice: the part's stations (key % 16 == part) from its cursor on, until they hold max_rows readings; the
  // memory index says how many each holds. Past the last station, from the first again.
  const auto step = static_cast<std::size_t>(kRecentParts);
  const auto first_of_part = static_cast<std::size_t>(part);
  std::size_t first = max_rows > 0 ? merge_cursor_[part] : first_of_part;
  if (first < first_of_part || first % step != first_of_part || first >= seqs_.size()) first = first_of_part;
  std::size_t last = first;
  std::int64_t rows = 0;
  for (int pass = 0; pass < 2 && rows == 0; ++pass) {
    if (pass == 1) first = first_of_part;
    for (std::size_t k = first; k < seqs_.size(); k += step) {
      rows += static_cast<std::int64_t>(seqs_[k].recent.size());
      last = k;
      if (max_rows > 0 && rows >= max_rows) break;
    }
  }
  if (rows == 0) return 0;
  const bool whole = first == first_of_part && last + step >= seqs_.size();
  Begin();
  try {
    // In key order, so that each station's new readings go onto its pages together: a merge writes about one page
    // per station rather than one per reading. OR IGNORE: InsertReading never lets a duplicate in; should one be
    // there all the same (a file written by hand), the archive's copy stands and the merge still goes through.
    const std::string where =
        whole ? std::string() : fmt::format(" WHERE station >= {} AND station <= {}", first, last);
    Exec(
        fmt::format("INSERT OR IGNORE INTO readings_archive (station, seq, ts, lv, rn, bt) "
                    "SELECT station, seq, ts, lv, rn, bt FROM readings_recent_{0:02d}{1} ORDER BY station, seq; "
                    "DELETE FROM readings_recent_{0:02d}{1}",
                    part, where));
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
  // Their memory goes too, not only their entries: after a merge most stations have no recent reading for a while,
  // and 150,000 emptied vectors kept 14 MB.
  for (std::size_t k = first; k <= last; k += step) std::vector<RecentRow>().swap(seqs_[k].recent);
  unmerged_.reset();
  recent_rows_ -= rows;
  recent_part_rows_[part] -= rows;
  merge_cursor_[part] = last + step;
  return rows;
}

// Keeps reading_days covering every stored reading (migration 6) with as few writes as possible: a station's newest
// day is open (hi NULL, every seq from lo up) and costs one write when the station's first reading of the day arrives;
// only a reading for an earlier day, or below its day's lo, writes anything else.
void Store::NoteReadingDay(std::int64_t key, std::int64_t seq, std::int64_t day) {
  OpenDay& open = open_days_[key];
  if (!open.known) {
    Stmt& q =
        Prepared(21, "SELECT day, lo FROM reading_days WHERE station = ? AND hi IS NULL ORDER BY day DESC LIMIT 1");
    q.Bind(1, key);
    if (q.Step()) {
      open.day = q.Int(0);
      open.lo = q.Int(1);
      open.has_day = true;
      open.max_known = false;  // the highest seq of that day is read when the day closes
    }
    q.Reset();
    open.known = true;
  }
  if (open.has_day && day == open.day) {
    if (seq < open.lo) {
      Stmt& u = Prepared(22, "UPDATE reading_days SET lo = ? WHERE station = ? AND day = ?");
      u.Bind(1, seq).Bind(2, key).Bind(3, day).Run();
      open.lo = seq;
    }
    if (open.max_known) open.max = std::max(open.max, seq);
    return;
  }
  if (!open.has_day || day > open.day) {
    if (open.has_day) {
      // Close the open day at the highest seq it holds (read from the table after a restart).
      std::int64_t hi = open.max;
      if (!open.max_known) {
        // The archive by its key, and readings_recent by the writer's own index of it (the table has none).
        Stmt& m = Prepared(23,
                           "SELECT MAX(seq) FROM readings_archive WHERE station = ? AND seq >= ? AND ts >= ? AND "
                           "ts < ?");
        m.Bind(1, key).Bind(2, open.lo).Bind(3, open.day * kDayMs).Bind(4, (open.day + 1) * kDayMs);
        hi = m.Step() && !m.IsNull(0) ? m.Int(0) : open.lo;
        m.Reset();
        for (const RecentRow& r : Seqs(key).recent) {
          const bool that_day = r.ts >= open.day * kDayMs && r.ts < (open.day + 1) * kDayMs;
          if (r.seq >= open.lo && that_day) hi = std::max(hi, r.seq);
        }
      }
      Stmt& c = Prepared(24, "UPDATE reading_days SET hi = ? WHERE station = ? AND day = ?");
      c.Bind(1, std::max(hi, open.lo)).Bind(2, key).Bind(3, open.day).Run();
    }
    Stmt& o = Prepared(25,
                       "INSERT INTO reading_days (station, day, lo, hi) VALUES (?, ?, ?, NULL) "
                       "ON CONFLICT (station, day) DO UPDATE SET lo = MIN(lo, excluded.lo), hi = NULL");
    o.Bind(1, key).Bind(2, day).Bind(3, seq).Run();
    open.day = day;
    open.lo = seq;
    open.max = seq;
    open.has_day = true;
    open.max_known = true;
    return;
  }
  // A reading for a closed day (late, or the station's clock went back): widen that day's range if needed.
  Stmt& w = Prepared(26,
                     "INSERT INTO reading_days (station, day, lo, hi) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (station, day) DO UPDATE SET lo = MIN(lo, excluded.lo), "
                     "hi = CASE WHEN hi IS NULL THEN NULL ELSE MAX(hi, excluded.hi) END "
                     "WHERE excluded.lo < lo OR (hi IS NOT NULL AND excluded.hi > hi)");
  w.Bind(1, key).Bind(2, day).Bind(3, seq).Bind(4, seq).Run();
}

std::optional<std::pair<std::int64_t, std::int64_t>> Store::SeqBounds(std::int64_t key, TimePoint since,
                                                                      TimePoint until) {
  Stmt& s = Prepared(27,
                     "SELECT MIN(lo), MAX(COALESCE(hi, ?)) FROM reading_days WHERE station = ? AND day >= ? AND "
                     "day <= ?");
  s.Bind(1, kNoSeqLimit).Bind(2, key).Bind(3, DayOf(Ms(since))).Bind(4, DayOf(Ms(until)));
  std::optional<std::pair<std::int64_t, std::int64_t>> out;
  if (s.Step() && !s.IsNull(0)) out.emplace(s.Int(0), s.Int(1));
  s.Reset();
  return out;
}

void Store::ForgetReadingDays(std::int64_t key, TimePoint since, TimePoint until) {
  // Only days wholly inside [since, until): a day partly outside may still hold readings.
  const std::int64_t first = DayOf(Ms(since) + kDayMs - 1);
  const std::int64_t last = DayOf(Ms(until)) - 1;
  if (first > last) return;
  Stmt& s = Prepared(28, "DELETE FROM reading_days WHERE station = ? AND day >= ? AND day <= ?");
  s.Bind(1, key).Bind(2, first).Bind(3, last).Run();
  open_days_.erase(key);
}

std::vector<std::pair<std::int64_t, TimePoint>> Store::OldestReadingDays(TimePoint before) {
  std::vector<std::pair<std::int64_t, TimePoint>> out;
  Stmt& s = Prepared(29, "SELECT station, MIN(day) FROM reading_days GROUP BY station HAVING MIN(day) * ? < ?");
  s.Bind(1, kDayMs).Bind(2, Ms(before));
  while (s.Step()) out.emplace_back(s.Int(0), FromMs(s.Int(1) * kDayMs));
  s.Reset();
  return out;
}

const std::vector<wire::Reading>* Store::Unmerged(std::int64_t key) {
  EnsureRecentIndex();
  if (recent_rows_ == 0 || Seqs(key).recent.empty()) return nullptr;
  if (!unmerged_) {
    unmerged_ = std::make_unique<std::unordered_map<std::int64_t, std::vector<wire::Reading>>>();
    Stmt s(db_, "SELECT station, seq, ts, level_cm, rain_mm, battery_v FROM readings_recent");
    while (s.Step()) {
      (*unmerged_)[s.Int(0)].push_back(wire::Reading{
          {}, static_cast<std::uint64_t>(s.Int(1)), FromMs(s.Int(2)), s.Double(3), s.OptDouble(4), s.OptDouble(5)});
    }
    for (auto& [k, rows] : *unmerged_) {
      std::sort(rows.begin(), rows.end(), [](const wire::Reading& x, const wire::Reading& y) { return x.seq < y.seq; });
    }
  }
  auto it = unmerged_->find(key);
  return it == unmerged_->end() ? nullptr : &it->second;
}

std::optional<wire::Reading> Store::Reading(std::int64_t key, std::uint64_t seq) {
  Stmt& s =
      Prepared(30, "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings_archive WHERE station = ? AND seq = ?");
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(seq));
  std::optional<wire::Reading> out;
  if (s.Step()) {
    out = wire::Reading{
        {}, static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2), s.OptDouble(3), s.OptDouble(4)};
  }
  s.Reset();
  if (!out) {
    if (const auto* rows = Unmerged(key)) {
      auto it = std::lower_bound(rows->begin(), rows->end(), seq,
                                 [](const wire::Reading& r, std::uint64_t v) { return r.seq < v; });
      if (it != rows->end() && it->seq == seq) out = *it;
    }
  }
  return out;
}

void Store::ForEachReadingAfter(std::int64_t key, std::uint64_t seq,
                                const std::function<void(const wire::Reading&)>& fn) {
  if (seq >= static_cast<std::uint64_t>(kNoSeqLimit)) return;
  // The archive by its key, and the unmerged readings from memory, in one seq order.
  const auto* rows = Unmerged(key);
  std::size_t next = 0;
  if (rows) {
    next =
        static_cast<std::size_t>(std::upper_bound(rows->begin(), rows->end(), seq,
                                                  [](std::uint64_t v, const wire::Reading& r) { return v < r.seq; }) -
                                 rows->begin());
  }
  // Prepared once: a start replays every station, and preparing this 150,000 times took about 2 s of it. `fn` must
  // not call the store (it would find this statement in use).
  Stmt& s = Prepared(43,
                     "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings_archive WHERE station = ? AND seq > ? "
                     "ORDER BY seq");
  struct ResetAfter {
    Stmt& s;
    ~ResetAfter() { s.Reset(); }
  } reset_after{s};
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(seq));
  while (s.Step()) {
    wire::Reading r{
        {}, static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2), s.OptDouble(3), s.OptDouble(4)};
    while (rows && next < rows->size() && (*rows)[next].seq < r.seq) fn((*rows)[next++]);
    fn(r);
  }
  while (rows && next < rows->size()) fn((*rows)[next++]);
}

Insert Store::InsertRefusedReading(std::string_view station, std::uint64_t seq, std::optional<TimePoint> ts,
                                   TimePoint received, const Error& why, std::string_view payload) {
  Stmt& s = Prepared(3,
                     "INSERT OR IGNORE INTO refused_readings (station, seq, ts, received, code, reason, payload) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, station).Bind(2, static_cast<std::int64_t>(seq));
  if (ts)
    s.Bind(3, Ms(*ts));
  else
    s.BindNull(3);
  s.Bind(4, Ms(received)).Bind(5, why.code).Bind(6, why.reason).Bind(7, payload).Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

void Store::UpsertStatus(std::string_view station, const wire::StatusMsg& st, TimePoint received) {
  Stmt& s = Prepared(6,
                     "INSERT INTO station_status (station, online, ts, fw, received) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (station) DO UPDATE SET online = excluded.online, ts = excluded.ts, "
                     "fw = excluded.fw, received = excluded.received");
  s.Bind(1, station).Bind(2, std::int64_t{st.online ? 1 : 0});
  if (st.ts)
    s.Bind(3, Ms(*st.ts));
  else
    s.BindNull(3);
  s.Bind(4, st.fw).Bind(5, Ms(received)).Run();
}

std::vector<wire::Reading> Store::Readings(std::string_view station, TimePoint since, TimePoint until, int limit) {
  std::vector<wire::Reading> out;
  const std::int64_t key = KnownStationKey(station);
  if (!key || since > until) return out;
  // reading_days bounds the seqs of readings with ts in [since, until]; the key is scanned over that range only.
  auto bounds = SeqBounds(key, since, until);
  if (!bounds) return out;
  Stmt& s = Prepared(7,
                     "SELECT seq, ts, level_cm, rain_mm, battery_v FROM readings "
                     "WHERE station = ? AND seq >= ? AND seq <= ? AND ts >= ? AND ts <= ? ORDER BY ts, seq LIMIT ?");
  s.Bind(1, key).Bind(2, bounds->first).Bind(3, bounds->second).Bind(4, Ms(since)).Bind(5, Ms(until));
  s.Bind(6, std::int64_t{limit});
  while (s.Step()) {
    out.push_back({std::string(station), static_cast<std::uint64_t>(s.Int(0)), FromMs(s.Int(1)), s.Double(2),
                   s.OptDouble(3), s.OptDouble(4)});
  }
  s.Reset();
  return out;
}

std::vector<wire::Reading> Store::LatestReadings() {
  std::vector<wire::Reading> out;
  // For each station, its newest reading by ts: within the seq range of its newest day in reading_days.
  Stmt& s =
      Prepared(8,
               "SELECT s.name, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v FROM stations s "
               "JOIN reading_days d ON d.station = s.id AND d.day = "
               "(SELECT MAX(day) FROM reading_days WHERE station = s.id) "
               "JOIN readings r ON r.station = s.id AND r.seq >= d.lo AND r.seq <= COALESCE(d.hi, 9223372036854775807) "
               "AND r.ts = (SELECT MAX(ts) FROM readings WHERE station = s.id AND seq >= d.lo AND "
               "seq <= COALESCE(d.hi, 9223372036854775807)) GROUP BY s.id");
  while (s.Step()) {
    out.push_back({s.Text(0), static_cast<std::uint64_t>(s.Int(1)), FromMs(s.Int(2)), s.Double(3), s.OptDouble(4),
                   s.OptDouble(5)});
  }
  s.Reset();
  return out;
}

std::int64_t Store::CountReadings() {
  Stmt& s = Prepared(9, "SELECT COUNT(*) FROM readings");
  s.Step();
  auto n = s.Int(0);
  s.Reset();
  return n;
}

void Store::ForEachReading(const std::function<void(const wire::Reading&)>& fn) {
  Stmt s(db_,
         "SELECT s.name, r.seq, r.ts, r.level_cm, r.rain_mm, r.battery_v FROM readings r "
         "JOIN stations s ON s.id = r.station ORDER BY s.name, r.seq");
  while (s.Step()) {
    fn({s.Text(0), static_cast<std::uint64_t>(s.Int(1)), FromMs(s.Int(2)), s.Double(3), s.OptDouble(4),
        s.OptDouble(5)});
  }
}

std::vector<RefusedReadingRow> Store::RefusedReadings() {
  Stmt s(db_, "SELECT station, seq, code, reason FROM refused_readings ORDER BY station, seq");
  std::vector<RefusedReadingRow> out;
  while (s.Step()) out.push_back({s.Text(0), s.Int(1), s.Text(2), s.Text(3)});
  return out;
}

}  // namespace kaoko::store
