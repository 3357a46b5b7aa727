// The incident side: reports and decisions as received, the incident log and its timeline, and the alerting engine's
// durable state rows (engine_codec.hpp).
#include <fmt/format.h>

#include <array>

#include "stmt.hpp"

namespace kaoko::store {

Insert Store::InsertReport(std::string_view user, std::string_view village, const wire::ReportMsg& r,
                           TimePoint received) {
  Stmt& s = Prepared(4,
                     "INSERT OR IGNORE INTO reports (user, id, village, ts, received, concern, station, level_cm, "
                     "trend, note, lat, lon) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, user).Bind(2, r.id).Bind(3, village).Bind(4, Ms(r.ts)).Bind(5, Ms(received));
  s.Bind(6, std::string_view(alerting::ToString(r.concern)));
  if (r.station)
    s.Bind(7, *r.station);
  else
    s.BindNull(7);
  s.Bind(8, r.level_cm);
  if (r.trend)
    s.Bind(9, std::string_view(wire::ToString(*r.trend)));
  else
    s.BindNull(9);
  s.Bind(10, r.note).Bind(11, r.lat).Bind(12, r.lon).Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

Insert Store::InsertDecision(std::string_view user, std::string_view village, const wire::DecisionMsg& d,
                             std::string_view via, TimePoint received, bool ok, std::string_view error) {
  Stmt& s = Prepared(5,
                     "INSERT OR IGNORE INTO decisions (user, id, village, ts, received, incident, action, level, note, "
                     "via, ok, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, user).Bind(2, d.id).Bind(3, village).Bind(4, Ms(d.ts)).Bind(5, Ms(received)).Bind(6, d.incident);
  s.Bind(7, std::string_view(alerting::ToString(d.action)));
  if (d.level)
    s.Bind(8, std::string_view(alerting::ToString(*d.level)));
  else
    s.BindNull(8);
  s.Bind(9, d.note).Bind(10, via).Bind(11, std::int64_t{ok ? 1 : 0});
  if (ok)
    s.BindNull(12);
  else
    s.Bind(12, error);
  s.Run();
  return sqlite3_changes(db_) ? Insert::kStored : Insert::kDuplicate;
}

std::optional<std::int64_t> Store::ReportIncident(std::string_view user, std::string_view id) {
  Stmt& s = Prepared(10, "SELECT COALESCE(incident, 0) FROM reports WHERE user = ? AND id = ?");
  s.Bind(1, user).Bind(2, id);
  std::optional<std::int64_t> out;
  if (s.Step()) out = s.Int(0);
  s.Reset();
  return out;
}

void Store::SetReportIncident(std::string_view user, std::string_view id, std::int64_t incident) {
  Stmt& s = Prepared(11, "UPDATE reports SET incident = ? WHERE user = ? AND id = ?");
  s.Bind(1, incident).Bind(2, user).Bind(3, id).Run();
}

std::optional<DecisionOutcome> Store::FindDecision(std::string_view user, std::string_view id) {
  Stmt& s = Prepared(12, "SELECT ok, COALESCE(error, ''), incident FROM decisions WHERE user = ? AND id = ?");
  s.Bind(1, user).Bind(2, id);
  std::optional<DecisionOutcome> out;
  if (s.Step()) out = DecisionOutcome{s.Int(0) != 0, s.Text(1), s.Int(2)};
  s.Reset();
  return out;
}

void Store::UpsertIncident(const IncidentRow& row) {
  Stmt& s =
      Prepared(13,
               "INSERT INTO incidents (id, kind, village, stage, level, exercise, opened, updated, closed, state) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
               "village = excluded.village, stage = excluded.stage, level = excluded.level, "
               "exercise = excluded.exercise, opened = excluded.opened, updated = excluded.updated, "
               "closed = excluded.closed, state = excluded.state");
  s.Bind(1, row.id).Bind(2, row.kind).Bind(3, row.village).Bind(4, row.stage).Bind(5, row.level);
  s.Bind(6, std::int64_t{row.exercise ? 1 : 0}).Bind(7, Ms(row.opened)).Bind(8, Ms(row.updated));
  if (row.closed)
    s.Bind(9, Ms(*row.closed));
  else
    s.BindNull(9);
  s.Bind(10, row.state).Run();
}

void Store::InsertTimeline(const TimelineRow& e) {
  Stmt& s = Prepared(
      14, "INSERT INTO timeline (incident, ts, kind, actor, via, text_th, text_en) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, e.incident).Bind(2, Ms(e.ts)).Bind(3, e.kind).Bind(4, e.actor).Bind(5, e.via).Bind(6, e.text_th);
  s.Bind(7, e.text_en).Run();
}

void Store::UpsertStationTrack(std::string_view station, std::string_view state) {
  Stmt& s = Prepared(15,
                     "INSERT INTO station_tracks (station, state) VALUES (?, ?) "
                     "ON CONFLICT (station) DO UPDATE SET state = excluded.state");
  s.Bind(1, station).Bind(2, state).Run();
}

void Store::SaveEngineMeta(std::string_view state) {
  Stmt& s = Prepared(
      16, "INSERT INTO engine_meta (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state");
  s.Bind(1, state).Run();
}

void Store::UpsertEngineVillage(std::string_view village, std::string_view state) {
  Stmt& s = Prepared(31,
                     "INSERT INTO engine_villages (village, state) VALUES (?, ?) "
                     "ON CONFLICT (village) DO UPDATE SET state = excluded.state");
  s.Bind(1, village).Bind(2, state).Run();
}

void Store::AddEngineSeen(std::string_view key, std::string_view state, std::size_t keep) {
  Stmt& add = Prepared(32, "INSERT OR REPLACE INTO engine_seen (key, state) VALUES (?, ?)");
  add.Bind(1, key).Bind(2, state).Run();
  // n is the rowid: the newest row has the largest. Keep the `keep` newest.
  Stmt& prune = Prepared(33, "DELETE FROM engine_seen WHERE n <= last_insert_rowid() - ?");
  prune.Bind(1, static_cast<std::int64_t>(keep)).Run();
}

void Store::ForEachEngineVillage(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM engine_villages ORDER BY village");
  while (s.Step()) fn(s.Text(0));
}

void Store::ForEachEngineSeen(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM engine_seen ORDER BY n");
  while (s.Step()) fn(s.Text(0));
}

std::optional<std::string> Store::EngineMeta() {
  Stmt s(db_, "SELECT state FROM engine_meta WHERE id = 1");
  if (s.Step()) return s.Text(0);
  return std::nullopt;
}

std::vector<std::string> Store::StationTracks() {
  std::vector<std::string> out;
  ForEachStationTrack([&](std::string_view text) { out.emplace_back(text); });
  return out;
}

void Store::ForEachStationTrack(const std::function<void(std::string_view)>& fn) {
  Stmt s(db_, "SELECT state FROM station_tracks");
  while (s.Step()) fn(s.View(0));
}

namespace {
// The columns IncidentOf reads, in its order.
constexpr const char* kIncidentColumns =
    "SELECT id, kind, village, stage, level, exercise, opened, updated, closed, state FROM incidents";
IncidentRow IncidentOf(Stmt& s) {
  IncidentRow r{s.Int(0),      s.Text(1),        s.Text(2),        s.Text(3),    s.Text(4),
                s.Int(5) != 0, FromMs(s.Int(6)), FromMs(s.Int(7)), std::nullopt, s.Text(9)};
  if (!s.IsNull(8)) r.closed = FromMs(s.Int(8));
  return r;
}
}  // namespace

std::vector<IncidentRow> Store::Incidents(bool open_only, int limit, std::string_view village) {
  // ?1 the limit, ?2 the village; each of the four prepared once.
  static const std::array<std::string, 4> kSql = [] {
    constexpr const char* where[] = {"", " WHERE closed IS NULL", " WHERE village = ?2",
                                     " WHERE village = ?2 AND closed IS NULL"};
    std::array<std::string, 4> sql;
    for (std::size_t i = 0; i < sql.size(); ++i) {
      sql[i] = fmt::format("{}{} ORDER BY id DESC LIMIT ?1", kIncidentColumns, where[i]);
    }
    return sql;
  }();
  const std::size_t which = (village.empty() ? 0 : 2) + (open_only ? 1 : 0);
  Stmt& s = Prepared(34 + static_cast<int>(which), kSql[which]);
  s.Bind(1, std::int64_t{limit});
  if (!village.empty()) s.Bind(2, village);
  std::vector<IncidentRow> out;
  while (s.Step()) out.push_back(IncidentOf(s));
  s.Reset();
  return out;
}

std::optional<IncidentRow> Store::Incident(std::int64_t id) {
  static const std::string kSql = fmt::format("{} WHERE id = ?", kIncidentColumns);
  Stmt& s = Prepared(19, kSql);
  s.Bind(1, id);
  std::optional<IncidentRow> out;
  if (s.Step()) out = IncidentOf(s);
  s.Reset();
  return out;
}

std::vector<TimelineRow> Store::Timeline(std::int64_t incident) {
  std::vector<TimelineRow> out;
  Stmt& s = Prepared(
      20, "SELECT incident, ts, kind, actor, via, text_th, text_en FROM timeline WHERE incident = ? ORDER BY id");
  s.Bind(1, incident);
  while (s.Step()) {
    out.push_back({s.Int(0), FromMs(s.Int(1)), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)});
  }
  s.Reset();
  return out;
}

}  // namespace kaoko::store
