// What an edge box and a province take from MQTT besides the journal (docs/tiers.md): the edge journals its
// village's status, reports and decisions and forwards to the TAO what is the TAO's to answer, and hands what comes
// down from the TAO to its arbiter; the province keeps each tambon's village alerts and CAP document.
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/tier_rows.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {

// ------------------------------------------------------------------------------------------------ edge

bool Tier::EdgeIntercept(const Inbound& in, TimePoint) {
  auto t = wire::ParseTopic(in.topic);
  if (!t || t->tambon != network_.tambon) return false;
  switch (t->kind) {
    case wire::TopicKind::kStatus:
      if (t->village == options_.village) {
        Append("status", json{{"village", t->village}, {"station", t->name}, {"payload", in.payload}});
      }
      return false;
    case wire::TopicKind::kReport:
    case wire::TopicKind::kDecision: {
      bool report = t->kind == wire::TopicKind::kReport;
      // Exactly one receipt per message: this box answers what it decides (every report for its village, and
      // decisions on its own incidents); a decision on a TAO incident, or a message for another village, is the
      // TAO's to answer: forwarded, and the TAO's receipt relayed back.
      bool tao_decides = t->village != options_.village;
      if (!report && !tao_decides) {
        auto d = wire::ParseDecision(in.payload);
        tao_decides = d && d->incident < options_.edge_incident_base;
      }
      json entry{{"village", t->village}, {"user", t->name}, {"payload", in.payload}};
      if (!tao_decides) {
        if (report) Append("report", entry);  // the TAO's chain runs on it too (its receipt is not relayed)
        return false;
      }
      const char* kind = report ? "report" : "decision";
      rows_->AddForwarded(t->name, wire::PeekId(in.payload).value_or(""), kind, Now());
      Append(kind, entry);
      metrics_.Count("kaoko_tier_edge_total", "forwarded_for_tao");
      return true;
    }
    default:
      return false;
  }
}

void Tier::FromAbove(const std::string& topic, const std::string& payload) {
  auto t = wire::ParseTopic(topic);
  if (!t || t->tambon != network_.tambon) return;
  if (t->kind == wire::TopicKind::kReceipt) {
    // Relay the TAO's receipt only for what this box forwarded for the TAO to answer.
    json j = Parse(payload);
    std::string ref = j.is_object() ? Str(j, "ref") : std::string();
    if (rows_->WasForwarded(t->name, ref) && mqtt_) {
      mqtt_->Publish(topic, payload, false);
      metrics_.Count("kaoko_tier_edge_total", "receipt_relayed");
    } else {
      metrics_.Count("kaoko_tier_edge_total", "receipt_not_relayed");  // this box answered it already
    }
    return;
  }
  if (t->village != options_.village) return;
  if (t->kind == wire::TopicKind::kAlert || t->kind == wire::TopicKind::kSiren || t->kind == wire::TopicKind::kNotify) {
    arbiter_->FromAbove(topic, payload);
  }
}

// ------------------------------------------------------------------------------------------------ province

bool Tier::ProvinceIntercept(const Inbound& in, TimePoint now) {
  auto t = wire::ParseTopic(in.topic);
  if (!t || !Tambon(t->tambon)) return false;
  if (t->kind == wire::TopicKind::kAlert)
    Keep(alerts_, "alert/", t->tambon + "/" + t->village, in.payload, now);
  else if (t->kind == wire::TopicKind::kCap)
    Keep(caps_, "cap/", t->tambon, in.payload, now);
  return true;  // nothing else of a tambon's is the province's business
}

void Tier::Keep(std::map<std::string, std::string>& states, std::string_view prefix, const std::string& key,
                const std::string& value, TimePoint now) {
  {
    std::lock_guard lock(mu_);
    states[key] = value;
  }
  rows_->SaveState(std::string(prefix) + key, value, now);  // read back by LoadProvince
}

}  // namespace kaoko::server::tier
