// The after-action report of an incident: GET /api/v1/incidents/{id}/report (a printable bilingual page) and
// …/report.csv (its timeline for a spreadsheet).
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "api.hpp"
#include "kaoko/alerting/cap.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::server {
namespace {

// The same escaping as CAP's XML (&apos; is valid HTML5 too; control characters are dropped).
std::string HtmlEscape(std::string_view text) { return alerting::XmlEscape(text); }

// One CSV field (RFC 4180), with a leading quote against spreadsheet formula injection.
std::string CsvField(std::string_view text) {
  std::string out = "\"";
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@')) out += '\'';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Thailand keeps UTC+7 all year: the time people read on their clocks.
std::string IctTime(wire::TimePoint t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t + std::chrono::hours(7)));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min);
}

// A report's answer before its body: never cached, the pages' security headers.
Response ReportResponse(const Request& req) {
  Response res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  res.set(http::field::cache_control, "no-store");
  SecurityHeaders(res);
  return res;
}

constexpr std::string_view kReportHead =
    "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
constexpr std::string_view kReportStyle =
    "<style>body{font-family:\"Loma\",\"Garuda\",\"Norasi\",\"Sarabun\",sans-serif;font-size:18px;color:#111;"
    "background:#fff;margin:2em;line-height:1.5}h1{font-size:1.6em;margin:0 0 .3em}table{border-collapse:collapse;"
    "width:100%}th,td{border:1px solid #555;padding:.35em .5em;vertical-align:top;text-align:left}"
    "th{background:#e8e8e8}.en{color:#333;font-size:.9em}dl{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.2em 1em}dt{font-weight:bold}.exercise{border:3px dashed #000;padding:.3em;font-weight:bold}"
    "@media print{body{margin:0;font-size:12pt}a{color:#000}}</style></head><body>";
constexpr std::string_view kTimelineHead =
    "<table><thead><tr><th>เวลา (ไทย)<br><span class=\"en\">Time (ICT)</span></th><th>ประเภท<br><span "
    "class=\"en\">Kind</span></th><th>ผู้กระทำ · ช่องทาง<br><span class=\"en\">Who · via</span></th>"
    "<th>รายละเอียด<br><span class=\"en\">What</span></th></tr></thead><tbody>";

std::string Cell(std::string_view th, std::string_view en) {
  return fmt::format("<span lang=\"th\">{}</span><br><span lang=\"en\" class=\"en\">{}</span>", HtmlEscape(th),
                     HtmlEscape(en));
}

// A person's names as the report shows them; the user id when unknown.
std::string Who(const alerting::Network& network, const std::string& user) {
  if (user.empty()) return "—";
  if (const auto* p = network.FindPerson(user)) return HtmlEscape(fmt::format("{} ({})", p->name_th, p->name_en));
  return HtmlEscape(user);
}

// The incident's facts: where, what, how far it went and who decided.
std::string FactsHtml(const alerting::Network& network, const alerting::Incident& inc) {
  auto who = [&](const std::string& user) { return Who(network, user); };
  std::string html = "<dl>";
  html += fmt::format("<dt>ตำบล · Tambon</dt><dd>{}</dd>", Cell(network.tambon_name_th, network.tambon_name_en));
  if (const alerting::Village* village = network.FindVillage(inc.village)) {
    html += fmt::format("<dt>หมู่บ้าน · Village</dt><dd>{}</dd>", Cell(village->name_th, village->name_en));
  }
  html += fmt::format("<dt>เรื่อง · Headline</dt><dd>{}</dd>", Cell(inc.headline_th, inc.headline_en));
  html += fmt::format("<dt>ระดับ · Level</dt><dd>{}</dd>",
                      Cell(alerting::ThaiName(inc.level), alerting::ToString(inc.level)));
  html += fmt::format("<dt>สถานะ · Stage</dt><dd>{}</dd>", HtmlEscape(alerting::ToString(inc.stage)));
  html += fmt::format("<dt>เริ่ม · Opened</dt><dd>{} (เวลาไทย · ICT)</dd>", IctTime(inc.opened));
  html += fmt::format("<dt>ปิด · Closed</dt><dd>{}</dd>", inc.closed ? IctTime(*inc.closed) + " (ICT)" : "—");
  html += fmt::format("<dt>รับทราบโดย · Acknowledged by</dt><dd>{}</dd>", who(inc.acked_by));
  html += fmt::format("<dt>ยืนยันโดย · Confirmed by</dt><dd>{}</dd>", who(inc.confirmed_by));
  if (!inc.rejected_by.empty()) html += fmt::format("<dt>ปฏิเสธโดย · Rejected by</dt><dd>{}</dd>", who(inc.rejected_by));
  html += fmt::format("<dt>ประกาศโดย · Declared by</dt><dd>{}</dd>", who(inc.declared_by));
  if (inc.unconfirmed) html += "<dt>หมายเหตุ · Note</dt><dd>ส่งต่อโดยไม่มีผู้ยืนยันทันเวลา · moved up unconfirmed</dd>";
  html += "</dl>";
  return html;
}

// One delivery's facts in order, each with its Thai clock time: "queued 02:14, sent 02:14, delivered 02:15".
std::string Facts(const store::DeliveryRow& d, bool thai) {
  std::string out;
  auto add = [&](const char* th, const char* en, const std::optional<wire::TimePoint>& t) {
    if (!t) return;
    if (!out.empty()) out += thai ? " · " : ", ";
    out += fmt::format("{} {}", thai ? th : en, IctTime(*t).substr(11));
  };
  add("เข้าคิว", "queued", d.queued_at);
  add("ส่งแล้ว", "sent", d.sent_at);
  add("ถึงเครื่อง", "delivered", d.delivered_at);
  add("เปิดดู", "seen", d.seen_at);
  add("ตอบแล้ว", "acted", d.acted_at);
  if (d.state == alerting::DeliveryState::kFailed || d.state == alerting::DeliveryState::kExpired ||
      (d.ended_at && !d.reason.empty())) {
    add(d.state == alerting::DeliveryState::kExpired ? "หมดเวลา" : "ไม่สำเร็จ",
        d.state == alerting::DeliveryState::kExpired ? "expired" : "failed", d.ended_at);
  }
  if (!d.reason.empty()) out += fmt::format(" ({})", d.reason);
  return out;
}

const char* StateTh(alerting::DeliveryState s) {
  switch (s) {
    case alerting::DeliveryState::kQueued:
      return "รอส่ง";
    case alerting::DeliveryState::kSent:
      return "ส่งแล้ว";
    case alerting::DeliveryState::kDelivered:
      return "ถึงเครื่องแล้ว";
    case alerting::DeliveryState::kSeen:
      return "เปิดดูแล้ว";
    case alerting::DeliveryState::kActed:
      return "ตอบแล้ว";
    case alerting::DeliveryState::kFailed:
      return "ไม่สำเร็จ";
    case alerting::DeliveryState::kExpired:
      return "หมดเวลา";
  }
  return "";
}

// Who was reached, per person and channel (docs/delivery.md): every fact kaoko saw, with its time.
std::string DeliveriesHtml(const alerting::Network& network, const std::vector<store::DeliveryRow>& rows) {
  std::string html = fmt::format("<h2>การส่งถึงแต่ละคน · Who was reached ({} รายการ · deliveries)</h2>", rows.size());
  if (rows.empty()) return html + "<p>ไม่มีการส่ง SMS หรือ LINE · no SMS or LINE deliveries</p>";
  html += R"(<table><thead><tr><th>ผู้รับ<br><span class="en">Person</span></th><th>ช่องทาง<br><span class="en">)"
          R"(Channel</span></th><th>สถานะ<br><span class="en">State</span></th><th>ลำดับ (เวลาไทย)<br><span )"
          R"(class="en">Facts (ICT)</span></th></tr></thead><tbody>)";
  for (const auto& d : rows) {
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", Who(network, d.person),
                        HtmlEscape(alerting::ToString(d.channel)), Cell(StateTh(d.state), alerting::ToString(d.state)),
                        Cell(Facts(d, true), Facts(d, false)));
  }
  return html + "</tbody></table>";
}

}  // namespace

nlohmann::json DeliveriesJson(store::Store& reader, std::int64_t incident) {
  nlohmann::json out = nlohmann::json::array();
  auto time = [](const std::optional<wire::TimePoint>& t) {
    return t ? nlohmann::json(wire::FormatTime(*t)) : nlohmann::json(nullptr);
  };
  for (const auto& d : store::Outbox(reader).OfIncident(incident)) {
    out.push_back({{"person", d.person},
                   {"channel", alerting::ToString(d.channel)},
                   {"state", alerting::ToString(d.state)},
                   {"notification", d.notification},
                   {"attempts", d.attempts},
                   {"reason", d.reason},
                   {"queued", wire::FormatTime(d.queued_at)},
                   {"sent", time(d.sent_at)},
                   {"delivered", time(d.delivered_at)},
                   {"seen", time(d.seen_at)},
                   {"acted", time(d.acted_at)},
                   {"ended", time(d.ended_at)}});
  }
  return out;
}

namespace {
// When delivery `d` came to its present state ("seen at 02:14"): null when that fact has no time of its own.
nlohmann::json StateTime(const store::DeliveryRow& d) {
  std::optional<wire::TimePoint> t;
  switch (d.state) {
    case alerting::DeliveryState::kQueued:
      t = d.queued_at;
      break;
    case alerting::DeliveryState::kSent:
      t = d.sent_at;
      break;
    case alerting::DeliveryState::kDelivered:
      t = d.delivered_at;
      break;
    case alerting::DeliveryState::kSeen:
      t = d.seen_at;
      break;
    case alerting::DeliveryState::kActed:
      t = d.acted_at;
      break;
    case alerting::DeliveryState::kFailed:
    case alerting::DeliveryState::kExpired:
      t = d.ended_at;
      break;
  }
  return t ? nlohmann::json(wire::FormatTime(*t)) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json ReachJson(store::Store& reader, const alerting::Incident& inc) {
  // How far each person got, best first: what the dashboard shows beside a name.
  static constexpr alerting::DeliveryState kOrder[] = {
      alerting::DeliveryState::kActed,  alerting::DeliveryState::kSeen,   alerting::DeliveryState::kDelivered,
      alerting::DeliveryState::kSent,   alerting::DeliveryState::kQueued, alerting::DeliveryState::kFailed,
      alerting::DeliveryState::kExpired};
  auto rank = [](alerting::DeliveryState s) {
    return static_cast<int>(std::find(std::begin(kOrder), std::end(kOrder), s) - std::begin(kOrder));
  };
  store::Outbox box(reader);
  const auto rows = box.OfIncident(inc.id);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : inc.asks) {
    if (!a.open) continue;
    const store::DeliveryRow* best = nullptr;
    for (const auto& d : rows) {
      if (d.person == a.user && (!best || rank(d.state) < rank(best->state))) best = &d;
    }
    const auto unreached = box.UnreachedOf(inc.id, a.action);
    const bool not_reached = std::find(unreached.begin(), unreached.end(), a.user) != unreached.end();
    out.push_back({{"user", a.user},
                   {"action", alerting::ToString(a.action)},
                   {"reminders", a.reminders},
                   {"state", best ? nlohmann::json(alerting::ToString(best->state)) : nlohmann::json(nullptr)},
                   {"channel", best ? nlohmann::json(alerting::ToString(best->channel)) : nlohmann::json(nullptr)},
                   {"at", best ? StateTime(*best) : nlohmann::json(nullptr)},
                   {"not_reached", not_reached}});
  }
  return out;
}

Response ReportCsv(ApiContext& ctx, const Call& call) {
  auto id = ParseIncidentId(call.seg[1]);
  if (!id) return BadIncidentId(call.req, call.seg[1]);
  auto inc = StoredIncident(ctx, call.req, *id);
  if (auto* refusal = std::get_if<Response>(&inc)) return std::move(*refusal);
  auto timeline = ctx.reader->Timeline(*id);
  Response res = ReportResponse(call.req);
  // UTF-8 with a byte-order mark, so that spreadsheet programs show the Thai text.
  std::string out = "\xEF\xBB\xBF";
  out += "incident,ts_utc,time_ict,kind,actor,via,text_th,text_en\r\n";
  for (const auto& e : timeline) {
    out += fmt::format("{},{},{},{},{},{},{},{}\r\n", *id, CsvField(wire::FormatTime(e.ts)), CsvField(IctTime(e.ts)),
                       CsvField(e.kind), CsvField(e.actor), CsvField(e.via), CsvField(e.text_th), CsvField(e.text_en));
  }
  // Then who was reached: one row per person and channel, kind "delivery", the channel as "via", every fact in text.
  for (const auto& d : store::Outbox(*ctx.reader).OfIncident(*id)) {
    out += fmt::format("{},{},{},{},{},{},{},{}\r\n", *id, CsvField(wire::FormatTime(d.queued_at)),
                       CsvField(IctTime(d.queued_at)), CsvField("delivery"), CsvField(d.person),
                       CsvField(alerting::ToString(d.channel)),
                       CsvField(fmt::format("{}: {}", StateTh(d.state), Facts(d, true))),
                       CsvField(fmt::format("{}: {}", alerting::ToString(d.state), Facts(d, false))));
  }
  res.set(http::field::content_type, "text/csv; charset=utf-8");
  res.set(http::field::content_disposition, fmt::format("attachment; filename=\"kaoko-incident-{}.csv\"", *id));
  res.body() = std::move(out);
  res.prepare_payload();
  return res;
}

Response ReportPage(ApiContext& ctx, const Call& call) {
  auto id = ParseIncidentId(call.seg[1]);
  if (!id) return BadIncidentId(call.req, call.seg[1]);
  auto stored = StoredIncident(ctx, call.req, *id);
  if (auto* refusal = std::get_if<Response>(&stored)) return std::move(*refusal);
  const auto& inc = std::get<alerting::Incident>(stored);
  auto timeline = ctx.reader->Timeline(*id);
  Response res = ReportResponse(call.req);
  std::string html(kReportHead);
  html += fmt::format("<title>ถอดบทเรียน เหตุการณ์ {0} · After-action report, incident {0}</title>", *id);
  html += kReportStyle;
  html += fmt::format(
      "<h1>ถอดบทเรียน — เหตุการณ์ที่ {0}<br><span class=\"en\">After-action report — incident {0}</span></h1>", *id);
  if (inc.exercise) html += "<p class=\"exercise\">การฝึกซ้อม · EXERCISE</p>";
  html += FactsHtml(ctx.network, inc);
  html += fmt::format("<h2>ลำดับเหตุการณ์ · Timeline ({} รายการ · entries)</h2>", timeline.size());
  html += kTimelineHead;
  for (const auto& e : timeline) {
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{} · {}</td><td>{}</td></tr>", IctTime(e.ts), HtmlEscape(e.kind),
                        Who(ctx.network, e.actor), HtmlEscape(e.via), Cell(e.text_th, e.text_en));
  }
  html += "</tbody></table>";
  html += DeliveriesHtml(ctx.network, store::Outbox(*ctx.reader).OfIncident(*id));
  html += fmt::format(
      "<p><a href=\"/api/v1/incidents/{0}/report.csv\">CSV</a> · <a href=\"/api/v1/incidents/{0}\">JSON</a>"
      " · kaoko</p></body></html>",
      *id);
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.body() = std::move(html);
  res.prepare_payload();
  return res;
}

}  // namespace kaoko::server
