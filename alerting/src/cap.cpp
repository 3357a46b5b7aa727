#include "kaoko/alerting/cap.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "text.hpp"

namespace kaoko::alerting {
namespace {

struct LevelCap {
  const char* urgency;
  const char* severity;
  const char* response;
  const char* instruction_th;
  const char* instruction_en;
};

LevelCap CapOf(Level level) {
  switch (level) {
    case Level::kCritical:
      return {"Immediate", "Extreme", "Evacuate", "อพยพไปยังที่สูงหรือศูนย์อพยพทันที ตัดไฟฟ้า ช่วยเหลือผู้สูงอายุและเด็ก",
              "Evacuate to high ground or the evacuation centre now; switch off electricity; help the elderly and "
              "children."};
    case Level::kWarning:
      return {"Expected", "Severe", "Prepare", "เตรียมพร้อมอพยพ ขนย้ายสิ่งของและสัตว์เลี้ยงขึ้นที่สูง ติดตามประกาศ",
              "Prepare to evacuate; move belongings and animals to high ground; follow the announcements."};
    case Level::kWatch:
    case Level::kNormal:
      break;
  }
  return {"Future", "Minor", "Monitor", "ติดตามสถานการณ์ระดับน้ำอย่างใกล้ชิด", "Follow the water level closely."};
}

const char* CertaintyOf(const Incident& inc) {
  if (inc.declared_level) return "Observed";
  const bool station =
      std::any_of(inc.sources.begin(), inc.sources.end(), [](const TriggerSource& s) { return s.kind == "station"; });
  if (!inc.confirmed_by.empty() || inc.corroborations > 0 || station || inc.origin == "station") return "Likely";
  return "Possible";
}

const char* StageTh(Stage s) {
  switch (s) {
    case Stage::kReported:
      return "รายงานแล้ว รอกรรมการหมู่บ้านรับทราบ";
    case Stage::kAwaitingConfirmation:
      return "รอผู้ใหญ่บ้านยืนยัน";
    case Stage::kConfirmed:
      return "ผู้ใหญ่บ้านยืนยันแล้ว";
    case Stage::kEscalated:
      return "ส่งถึง อบต. แล้ว";
    case Stage::kDeclared:
      return "อบต. ประกาศแล้ว";
    case Stage::kRejected:
      return "ถูกปฏิเสธ";
    case Stage::kResolved:
      return "ยุติแล้ว";
  }
  return "";
}

const char* StageEn(Stage s) {
  switch (s) {
    case Stage::kReported:
      return "reported, waiting for the village committee";
    case Stage::kAwaitingConfirmation:
      return "waiting for the headman's confirmation";
    case Stage::kConfirmed:
      return "confirmed by the headman";
    case Stage::kEscalated:
      return "passed to the TAO";
    case Stage::kDeclared:
      return "declared by the TAO";
    case Stage::kRejected:
      return "rejected";
    case Stage::kResolved:
      return "resolved";
  }
  return "";
}

std::uint64_t Fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void Element(std::string& out, int indent, std::string_view name, std::string_view value) {
  out.append(static_cast<std::size_t>(indent), ' ');
  fmt::format_to(std::back_inserter(out), "<{}>{}</{}>\n", name, XmlEscape(value), name);
}

std::string Sender(const Network& net) { return fmt::format("kaoko@{}", net.tambon); }

std::string MessageId(const Network& net, const Incident& inc, std::uint64_t revision) {
  return fmt::format("kaoko-{}-incident-{}-{}", net.tambon, inc.id, revision);
}

// The incident's message before the one the document shows (Incident::cap_*): the last issued one, or, when the
// current revision is issued already, the one before it. Empty for the incident's first message.
std::string PreviousMessage(const Network& net, const Incident& inc) {
  const bool issued = inc.cap_revision == inc.revision;
  const std::uint64_t rev = issued ? inc.cap_previous_revision : inc.cap_revision;
  const TimePoint sent = issued ? inc.cap_previous_sent : inc.cap_sent;
  if (rev == 0) return {};
  return fmt::format("{},{},{}", Sender(net), MessageId(net, inc, rev), text::CapTime(sent));
}

// A rejected incident was a false alarm: its earlier messages are cancelled. A resolved one was real and is over:
// an Update with urgency Past and responseType AllClear (docs/cap.md says why).
bool Cancelled(const Incident& inc) { return inc.stage == Stage::kRejected; }

// (A Cancel names what it cancels: an incident rejected before its first message went out has nothing to cancel.)
const char* MsgType(const Network& net, const Incident& inc) {
  if (PreviousMessage(net, inc).empty()) return "Alert";
  return Cancelled(inc) ? "Cancel" : "Update";
}

void Info(std::string& out, const Network& net, const Incident& inc, bool thai) {
  const Village* v = net.FindVillage(inc.village);
  LevelCap lc = CapOf(inc.level);
  const bool over = IsClosed(inc.stage);
  if (over) {
    lc.urgency = "Past";
    lc.response = Cancelled(inc) ? "None" : "AllClear";
    lc.instruction_th = Cancelled(inc) ? "ยกเลิกการแจ้งเตือนนี้: ไม่มีน้ำท่วมตามที่แจ้ง" : "เหตุการณ์ยุติแล้ว ติดตามประกาศของหมู่บ้านต่อไป";
    lc.instruction_en = Cancelled(inc) ? "This alert is cancelled: there is no flood as reported."
                                       : "The incident is over; follow the village's announcements.";
  }
  out += "  <info>\n";
  Element(out, 4, "language", thai ? "th-TH" : "en-US");
  Element(out, 4, "category", "Met");  // CAP 1.2: "Met - Meteorological (inc. flood)"
  Element(out, 4, "event", thai ? "อุทกภัย" : "Flood");
  Element(out, 4, "responseType", lc.response);
  // As of this message (its revision's time, not the time it is rendered): one message, one content.
  const bool arriving = inc.expected_arrival && *inc.expected_arrival > inc.updated;
  Element(out, 4, "urgency", !over && arriving && inc.level == Level::kWatch ? "Expected" : lc.urgency);
  Element(out, 4, "severity", lc.severity);
  Element(out, 4, "certainty", Cancelled(inc) ? "Unlikely" : CertaintyOf(inc));
  out += "    <eventCode>\n";
  Element(out, 6, "valueName", "kaoko-level");
  Element(out, 6, "value", ToString(inc.level));
  out += "    </eventCode>\n";
  Element(out, 4, "effective", text::CapTime(inc.opened));
  if (inc.expected_arrival) Element(out, 4, "onset", text::CapTime(*inc.expected_arrival));
  Element(out, 4, "senderName",
          thai ? fmt::format("ระบบเตือนภัยน้ำท่วมชุมชน {}", net.tambon_name_th)
               : fmt::format("kaoko community flood warning, {}", net.tambon_name_en));
  Element(out, 4, "headline", thai ? inc.headline_th : inc.headline_en);
  std::string desc;
  if (thai) {
    desc = fmt::format("ระดับ{} สถานะ: {}", ThaiName(inc.level), StageTh(inc.stage));
    if (inc.unconfirmed) desc += " (ยังไม่ได้รับการยืนยันจากหมู่บ้าน)";
    if (inc.rejection_noted) desc += " ผู้ใหญ่บ้านปฏิเสธ แต่สถานียังวัดน้ำสูง";
    if (inc.corroborations > 0) desc += fmt::format(" มีแหล่งข้อมูลยืนยันตรงกัน {} ครั้ง", inc.corroborations);
    if (inc.expected_arrival) desc += fmt::format(" น้ำคาดว่าถึงประมาณ {} น.", text::ThaiClock(*inc.expected_arrival));
    if (inc.tao_overdue && !over) desc += " อบต. ยังไม่ตัดสินใจเกินกำหนดเวลา";
    if (inc.district_notified_at && !over) {
      desc += fmt::format(" แจ้งอำเภอแล้วเมื่อ {} น.", text::ThaiClock(*inc.district_notified_at));
    }
  } else {
    desc = fmt::format("Level {}; status: {}", ToString(inc.level), StageEn(inc.stage));
    if (inc.unconfirmed) desc += " (not confirmed by the village)";
    if (inc.rejection_noted) desc += "; the headman rejected it but the stations still show high water";
    if (inc.corroborations > 0) desc += fmt::format("; corroborated {} time(s)", inc.corroborations);
    if (inc.expected_arrival) {
      desc += fmt::format("; the flood wave is expected about {} Thai time", text::ThaiClock(*inc.expected_arrival));
    }
    if (inc.tao_overdue && !over) desc += "; the TAO has not decided within its deadline (overdue)";
    if (inc.district_notified_at && !over) {
      desc += fmt::format("; the district was told at {} Thai time", text::ThaiClock(*inc.district_notified_at));
    }
  }
  Element(out, 4, "description", desc);
  Element(out, 4, "instruction", thai ? lc.instruction_th : lc.instruction_en);
  out += "    <parameter>\n";
  Element(out, 6, "valueName", "kaoko-incident");
  Element(out, 6, "value", fmt::format("{}", inc.id));
  out += "    </parameter>\n";
  out += "    <parameter>\n";
  Element(out, 6, "valueName", "kaoko-stage");
  Element(out, 6, "value", ToString(inc.stage));
  out += "    </parameter>\n";
  out += "    <parameter>\n";  // this incident's message, which a document of several incidents carries
  Element(out, 6, "valueName", "kaoko-message");
  Element(out, 6, "value", MessageId(net, inc, inc.revision));
  out += "    </parameter>\n";
  if (inc.tao_overdue) {
    out += "    <parameter>\n";
    Element(out, 6, "valueName", "kaoko-tao-overdue");
    Element(out, 6, "value", "true");
    out += "    </parameter>\n";
  }
  if (inc.district_notified_at) {  // the district step: when the district above the TAO was told
    out += "    <parameter>\n";
    Element(out, 6, "valueName", "kaoko-district-notified");
    Element(out, 6, "value", text::CapTime(*inc.district_notified_at));
    out += "    </parameter>\n";
  }
  out += "    <area>\n";
  if (thai) {
    Element(
        out, 6, "areaDesc",
        fmt::format("{} {} {} {}", v ? v->name_th : inc.village, net.tambon_name_th, net.district_th, net.province_th));
  } else {
    Element(out, 6, "areaDesc",
            fmt::format("{}, {}, {}", v ? v->name_en : inc.village, net.tambon_name_en, net.province_en));
  }
  if (v && (v->lat != 0 || v->lon != 0)) Element(out, 6, "circle", fmt::format("{},{} 2", v->lat, v->lon));
  if (!net.geocode.empty()) {
    out += "      <geocode>\n";
    Element(out, 8, "valueName", "TIS1099");
    Element(out, 8, "value", net.geocode);
    out += "      </geocode>\n";
  }
  out += "    </area>\n";
  out += "  </info>\n";
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0: drop them.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

namespace {
std::string Render(const Network& network, const std::vector<const Incident*>& incidents, TimePoint now,
                   std::size_t omitted, std::size_t total) {
  std::vector<const Incident*> floods;
  for (const Incident* inc : incidents) {
    if (inc && inc->kind == IncidentKind::kFlood) floods.push_back(inc);
  }
  std::sort(floods.begin(), floods.end(), [](const Incident* a, const Incident* b) { return a->id < b->id; });
  const bool exercise =
      !floods.empty() && std::all_of(floods.begin(), floods.end(), [](const Incident* i) { return i->exercise; });
  std::uint64_t hash = Fnv1a(1469598103934665603ull, network.tambon);
  TimePoint sent = floods.empty() ? now : floods.front()->updated;
  for (const Incident* inc : floods) {
    hash = Fnv1a(hash, fmt::format("|{}:{}", inc->id, inc->revision));
    sent = std::max(sent, inc->updated);
  }
  std::string out;
  out.reserve(2048 + floods.size() * 3000);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n";
  // One incident, all of it: the document is that incident's own message. Several (or a part): a message of the
  // tambon that carries each incident's current message (its <info> names it) and references their previous ones.
  const bool single = floods.size() == 1 && omitted == 0;
  std::string identifier;
  const char* msg_type = "Alert";
  std::string references;
  if (floods.empty()) {
    identifier = fmt::format("kaoko-{}-none-{}", network.tambon, text::CapTime(sent).substr(0, 19));
  } else if (single) {
    identifier = MessageId(network, *floods.front(), floods.front()->revision);
    msg_type = MsgType(network, *floods.front());
    references = PreviousMessage(network, *floods.front());
  } else {
    identifier = fmt::format("kaoko-{}-{:016x}", network.tambon, hash);
    const bool all_cancelled = std::all_of(floods.begin(), floods.end(), [&](const Incident* i) {
      return std::string_view(MsgType(network, *i)) == "Cancel";
    });
    for (const Incident* inc : floods) {
      const std::string previous = PreviousMessage(network, *inc);
      if (previous.empty()) continue;
      if (!references.empty()) references += ' ';
      references += previous;
    }
    msg_type = all_cancelled ? "Cancel" : references.empty() ? "Alert" : "Update";
  }
  Element(out, 2, "identifier", identifier);
  Element(out, 2, "sender", Sender(network));
  Element(out, 2, "sent", text::CapTime(sent));
  Element(out, 2, "status", exercise ? "Exercise" : "Actual");
  Element(out, 2, "msgType", msg_type);
  Element(out, 2, "scope", "Public");
  if (floods.empty()) {
    Element(out, 2, "note",
            fmt::format("ไม่มีการแจ้งเตือนน้ำท่วมใน{} / No active flood alerts in {}", network.tambon_name_th,
                        network.tambon_name_en));
  } else {
    std::string note;
    if (exercise) note = "การฝึกซ้อม / Exercise: not a real flood";
    if (omitted > 0) {
      if (!note.empty()) note += ". ";
      note += fmt::format(
          "แสดงเฉพาะ {} เหตุการณ์ที่รุนแรงที่สุดจากทั้งหมด {} เอกสารฉบับเต็ม: GET /api/v1/cap / "
          "Only the {} most severe of {} active alerts are listed here; the whole document: GET /api/v1/cap",
          floods.size(), total, floods.size(), total);
    }
    if (!note.empty()) Element(out, 2, "note", note);
    if (!references.empty()) Element(out, 2, "references", references);
    std::string ids;
    for (const Incident* inc : floods) {
      if (!ids.empty()) ids += ' ';
      ids += fmt::format("kaoko-{}-incident-{}", network.tambon, inc->id);
    }
    Element(out, 2, "incidents", ids);
    for (const Incident* inc : floods) {
      Info(out, network, *inc, true);
      Info(out, network, *inc, false);
    }
  }
  out += "</alert>\n";
  return out;
}
}  // namespace

std::string RenderCap(const Network& network, const std::vector<const Incident*>& incidents, TimePoint now) {
  return Render(network, incidents, now, 0, 0);
}

std::string RenderCapBounded(const Network& network, const std::vector<const Incident*>& incidents, TimePoint now,
                             std::size_t max_bytes, std::size_t* omitted, const std::string* whole) {
  if (omitted) *omitted = 0;
  if (whole) {
    if (max_bytes == 0 || whole->size() <= max_bytes) return *whole;
  } else {
    std::string doc = Render(network, incidents, now, 0, 0);
    if (max_bytes == 0 || doc.size() <= max_bytes) return doc;
  }
  std::vector<const Incident*> floods;
  for (const Incident* inc : incidents) {
    if (inc && inc->kind == IncidentKind::kFlood) floods.push_back(inc);
  }
  std::sort(floods.begin(), floods.end(), [](const Incident* a, const Incident* b) {
    if (a->level != b->level) return a->level > b->level;
    if (a->updated != b->updated) return a->updated > b->updated;
    return a->id < b->id;
  });
  // The largest prefix (most severe first) whose document fits; a binary search over the count, since each
  // incident's size differs. Zero incidents always fit (the header and the note are well under any sane bound).
  std::size_t lo = 0, hi = floods.size();
  std::string best;
  while (lo < hi) {
    const std::size_t mid = (lo + hi + 1) / 2;
    std::vector<const Incident*> part(floods.begin(), floods.begin() + static_cast<std::ptrdiff_t>(mid));
    std::string doc = Render(network, part, now, floods.size() - mid, floods.size());
    if (doc.size() <= max_bytes) {
      lo = mid;
      best = std::move(doc);
    } else {
      hi = mid - 1;
    }
  }
  if (best.empty()) {  // not even one incident fits: send the most severe anyway, never a false all-clear
    lo = std::min<std::size_t>(1, floods.size());
    std::vector<const Incident*> part(floods.begin(), floods.begin() + static_cast<std::ptrdiff_t>(lo));
    best = Render(network, part, now, floods.size() - lo, floods.size());
  }
  if (omitted) *omitted = floods.size() - lo;
  return best;
}

}  // namespace kaoko::alerting
