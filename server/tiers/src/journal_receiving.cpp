// The journal's receiving side (docs/tiers.md, "Receiving"): a tier above takes each node's journal once and in order
// (PlanReceive), in the batch's transaction: at the TAO through its normal ingest path, at the province into its own
// tables; events from below once per origin, relayed further up when this tier journals too.
#include <fmt/format.h>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/tier_rows.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {

void Tier::QueueAck(const ParsedTierTopic& t, std::uint64_t last, bool gap, const std::string& epoch) {
  pending_->acks[t.node] = {TierTopic(t.tambon, t.node, "journal-ack"), RenderJournalAck(last, gap, epoch)};
}

void Tier::OnJournal(const ParsedTierTopic& t, const std::string& payload, TimePoint now) {
  if (!Watches(t.tambon)) {
    if (log::ShouldLog("tier_foreign_journal")) {
      log::Warn("tier", "ignored a journal of tambon '{}' from {}", t.tambon, t.node);
    }
    return;
  }
  json msg = Parse(payload);
  auto entries = msg.is_object() ? msg.find("entries") : msg.end();
  if (!msg.is_object() || entries == msg.end() || !entries->is_array()) {
    if (log::ShouldLog("tier_bad_journal")) log::Warn("tier", "ignored a malformed journal message from {}", t.node);
    metrics_.Count("kaoko_tier_journal_entries_total", "malformed_message");
    return;
  }
  std::string epoch = Str(msg, "epoch");
  std::vector<std::uint64_t> seqs;
  for (const auto& e : *entries) {
    auto it = e.is_object() ? e.find("seq") : e.end();
    seqs.push_back(it != e.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0);
  }
  std::uint64_t last = 0;
  if (auto inbox = rows_->Inbox(t.node)) {
    if (inbox->epoch == epoch) {
      last = inbox->last;
    } else {
      log::Warn("tier", "node {} started a new journal (epoch {} after {}): taking it from seq 1", t.node, epoch,
                inbox->epoch);
    }
  }
  ReceivePlan plan = PlanReceive(last, seqs);
  for (std::size_t i : plan.apply) ApplyEntry(t, epoch, (*entries)[i], now);
  rows_->SaveInbox(t.node, t.tambon, epoch, plan.last, now);
  QueueAck(t, plan.last, plan.gap, epoch);
  metrics_.Count("kaoko_tier_journal_entries_total", "applied", plan.apply.size());
  if (plan.duplicates) metrics_.Count("kaoko_tier_journal_entries_total", "duplicate", plan.duplicates);
  if (plan.gap) metrics_.Count("kaoko_tier_journal_entries_total", "gap");
  std::lock_guard lock(mu_);
  received_entries_ += plan.apply.size();
  duplicate_entries_ += plan.duplicates;
  gaps_ += plan.gap ? 1 : 0;
  Node& n = nodes_[t.node];
  if (n.tambon.empty()) n.tambon = t.tambon;
  if (n.tier.empty()) n.tier = Str(msg, "tier");
  if (n.village.empty()) n.village = Str(msg, "village");
}

void Tier::ApplyEntry(const ParsedTierTopic& t, const std::string& epoch, const json& e, TimePoint now) {
  std::string kind = Str(e, "kind");
  auto seq = e.at("seq").get<std::uint64_t>();
  if (kind == "event") return StoreEvent(t.tambon, t.node, seq, epoch, e, now);
  std::string village = Str(e, "village");
  std::string payload = Str(e, "payload");
  if (options_.mode == Mode::kProvince) {
    if (kind != "reading") return;  // reports, decisions and status are the TAO's business
    const alerting::Network* n = Tambon(t.tambon);
    const alerting::Station* st = n ? n->FindStation(Str(e, "station")) : nullptr;
    if (!st) {
      metrics_.Count("kaoko_tier_journal_entries_total", "unknown_station");
      if (log::ShouldLog("tier_unknown_station")) {
        log::Warn("tier", "journal of {}: station '{}' is not in tambon {}'s network file", t.node, Str(e, "station"),
                  t.tambon);
      }
      return;
    }
    auto parsed = wire::ParseReading(payload, *st, now, std::chrono::hours(24));
    if (!parsed.reading) {
      metrics_.Count("kaoko_tier_journal_entries_total", "refused_reading");
      return;
    }
    rows_->InsertReading(t.tambon, st->id, t.node, *parsed.reading);
    return;
  }
  // The TAO: the normal ingest path, as if the station or the person had published to this broker — validated,
  // stored once by (station, seq) or (user, id), and evaluated by this TAO's engine.
  std::string topic;
  if (kind == "reading")
    topic = wire::ReadingTopic(t.tambon, village, Str(e, "station"));
  else if (kind == "status")
    topic = wire::StatusTopic(t.tambon, village, Str(e, "station"));
  else if (kind == "report")
    topic = wire::ReportTopic(t.tambon, village, Str(e, "user"));
  else if (kind == "decision")
    topic = wire::DecisionTopic(t.tambon, village, Str(e, "user"));
  if (topic.empty() || !core_) {
    metrics_.Count("kaoko_tier_journal_entries_total", "unknown_kind");
    return;
  }
  Inbound in{std::move(topic), std::move(payload), std::chrono::steady_clock::now()};
  core_->Feed(in);
}

void Tier::StoreEvent(const std::string& tambon, const std::string& node, std::uint64_t node_seq,
                      const std::string& node_epoch, const json& e, TimePoint now) {
  store::TierEventRow row;
  // Where the event was first recorded: given when relayed, else the sender itself (the entry's own seq).
  row.origin = Str(e, "origin");
  row.origin_epoch = Str(e, "origin_epoch");
  row.origin_id = Int(e, "origin_id").value_or(static_cast<std::int64_t>(node_seq));
  if (row.origin.empty()) {
    row.origin = node;
    row.origin_epoch = node_epoch;
    row.origin_id = static_cast<std::int64_t>(node_seq);
  }
  auto ts = wire::ParseTime(Str(e, "ts"));
  row.node = node;
  row.node_seq = node_seq;
  row.tambon = tambon;
  row.village = Str(e, "village");
  row.incident = Int(e, "incident");
  row.incident_kind = Str(e, "incident_kind");
  row.station = Str(e, "station");
  row.ts = ts ? *ts : now;
  row.kind = Str(e, "event");
  row.actor = Str(e, "actor");
  row.via = Str(e, "via");
  row.text_th = Str(e, "text_th");
  row.text_en = Str(e, "text_en");
  auto acting_it = e.find("acting");
  row.acting = acting_it == e.end() || !acting_it->is_boolean() || acting_it->get<bool>();
  row.received = now;
  auto id = rows_->InsertEvent(row);
  if (!id) {
    metrics_.Count("kaoko_tier_events_total", "duplicate");
    return;
  }
  metrics_.Count("kaoko_tier_events_total", "stored");
  if (options_.mode == Mode::kTao && core_ && row.acting) {
    // Into the log of this TAO's own incident for the same village (or the same faulty station), marked with the
    // node it came through, so that the TAO's timeline shows what the village did while it acted alone. (What the
    // edge's standby engine did while following is kept in tier_events only: it reached nobody.)
    if (auto local = LocalIncident(row.incident_kind, row.station, row.village)) {
      writer_.InsertTimeline({*local, row.ts, row.kind, row.actor, "edge:" + node, row.text_th, row.text_en});
      rows_->MarkEventLocal(*id, *local);
    }
  }
  if (Sends()) {
    json relay = e;
    relay.erase("seq");
    relay.erase("kind");
    relay["origin"] = row.origin;
    relay["origin_epoch"] = row.origin_epoch;
    relay["origin_id"] = *row.origin_id;
    relay["tambon"] = tambon;
    Append("event", relay);
  }
}

std::optional<std::int64_t> Tier::LocalIncident(const std::string& incident_kind, const std::string& station,
                                                const std::string& village) const {
  std::optional<std::int64_t> local;
  const alerting::Engine& engine = core_->engine();
  if (incident_kind == "station" && !station.empty()) {
    if (const alerting::StationTrack* track = engine.FindStationTrack(station)) local = track->health_incident;
  } else if (incident_kind != "tier" && !village.empty()) {
    if (auto alert = engine.Alert(village)) local = alert->incident;
  }
  return local;
}

}  // namespace kaoko::server::tier
