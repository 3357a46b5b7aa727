// Late data (Engine::NoteLate, EndBacklog, RecordForTao; engine.hpp): a station's run of late readings — a buffer
// flushed after an outage — is told to the TAO once, in one line, and late data that pages nobody is still recorded
// where the TAO sees it.
#include <fmt/format.h>

#include "kaoko/alerting/engine.hpp"
#include "text.hpp"

namespace kaoko::alerting {

void Engine::NoteLate(std::size_t idx, const Reading& reading, bool late, TimePoint now, Effects& fx) {
  StationTrack& t = tracks_[idx];
  if (!late) {
    if (t.backlog_count > 0) EndBacklog(idx, now, fx);
    return;
  }
  ++t.backlog_count;
  if (!t.backlog_first || reading.ts < *t.backlog_first) t.backlog_first = reading.ts;
  if (!t.backlog_last || reading.ts > *t.backlog_last) t.backlog_last = reading.ts;
}

void Engine::EndBacklog(std::size_t idx, TimePoint now, Effects& fx) {
  StationTrack& t = tracks_[idx];
  const Station& s = network_->stations[idx];
  const std::uint32_t n = t.backlog_count;
  const TimePoint first = t.backlog_first.value_or(now);
  const TimePoint last = t.backlog_last.value_or(now);
  t.backlog_count = 0;
  t.backlog_first.reset();
  t.backlog_last.reset();
  MarkStationDirty(idx);
  // One late reading is told in what it raises; a run of them, or one older than the backlog limit, is a backlog.
  if (n < 2 && now - first <= network_->health.backlog_after) return;
  (void)RecordForTao(s.village, s.id, s.id,
                     fmt::format("{} ส่งข้อมูลย้อนหลัง {} ค่า วัดเมื่อ {} ถึง {} น. หลังขาดการติดต่อ", s.name_th(), n,
                                 text::ThaiClock(first), text::ThaiClock(last)),
                     fmt::format("{} sent {} readings measured from {} to {} (Thai time) after an outage", s.name_en(),
                                 n, text::ThaiClock(first), text::ThaiClock(last)),
                     now, fx);
}

std::int64_t Engine::RecordForTao(const std::string& village, const std::string& station, const std::string& actor,
                                  std::string th, std::string en, TimePoint now, Effects& fx) {
  Incident* inc = nullptr;
  if (auto it = village_flood_.find(village); it != village_flood_.end()) inc = Open(it->second);
  if (!inc && !station.empty()) {
    const std::size_t idx = StationIndex(station);
    if (idx != kNoStation && tracks_[idx].health_incident) inc = Open(*tracks_[idx].health_incident);
  }
  const std::string via = station.empty() ? "mqtt" : "station";
  if (inc) {
    Log(*inc, now, "backlog", actor, via, std::move(th), std::move(en), fx);
    Touch(*inc, now, fx);
    return inc->id;
  }
  Incident& rec = NewIncident(IncidentKind::kStation, village, Level::kNormal, "backlog", false, now, fx);
  const Village* v = network_->FindVillage(village);
  rec.station = station;
  rec.stage = Stage::kEscalated;
  rec.detail_th = th;
  rec.detail_en = en;
  rec.headline_th = fmt::format("ข้อมูลย้อนหลัง {}: {}", v ? v->name_th : village, th);
  rec.headline_en = fmt::format("Late data, {}: {}", v ? v->name_en : village, en);
  Log(rec, now, "backlog", actor, via, std::move(th), std::move(en), fx);
  const std::int64_t id = rec.id;
  Close(rec, Stage::kResolved, "kaoko", "kaoko", "บันทึกไว้ในประวัติ ไม่มีการแจ้งเตือนใหม่",
        "recorded in the history; nobody is paged as new", now, fx);
  return id;
}

}  // namespace kaoko::alerting
