#include "kaoko/common/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace kaoko::server {
namespace {
struct FamilyInfo {
  const char* name;
  const char* label;
  const char* help;
  bool gauge = false;  // set by its owner with SetGauge
};
// Every labelled family we export, with its help text, so that /metrics documents itself.
constexpr FamilyInfo kFamilies[] = {
    {"kaoko_readings_rejected_total", "reason", "Readings refused at ingest, by reason."},
    {"kaoko_messages_rejected_total", "reason", "Status, report and decision messages refused, by reason."},
    {"kaoko_reports_total", "result", "Watcher reports handled, by result."},
    {"kaoko_cap_truncated_total", "where",
     "CAP documents too large for MQTT, published with only the most severe incidents."},
    {"kaoko_decisions_total", "result", "Decisions handled, by result."},
    {"kaoko_mqtt_events_total", "event", "MQTT connection and publish events (docs/operations.md)."},
    {"kaoko_readings_merged_total", "what",
     "Readings moved from readings_recent into the archive (readings), in how many merges (merges), and merges that "
     "failed (failed)."},
    {"kaoko_retention_rows_total", "kind",
     "Retention: raw readings folded and deleted (raw_deleted), hourly rows written (hourly_written)."},
    {"kaoko_tier_journal_entries_total", "what",
     "Tier journal (docs/tiers.md): entries appended, sent, applied, duplicate, gap and refused."},
    {"kaoko_tier_journal_acks_total", "kind", "Tier journal acknowledgements received, by kind."},
    {"kaoko_tier_events_total", "result", "Incident events from the tier below, stored or duplicate."},
    {"kaoko_tier_edge_total", "event",
     "Edge box: handovers, relayed and held-back messages of the TAO and of its own engine."},
    {"kaoko_tier_link_total", "state", "Bridge to the tier above: changes of state."},
    {"kaoko_tier_incidents_total", "event", "Technician incidents for silent nodes below."},
    {"kaoko_delivery_sends_total", "result",
     "Messages handed to a gateway (docs/delivery.md): sent, retry (not taken, tried again later), failed, expired, "
     "and answers to SMS replies (sms_answer_sent, sms_answer_lost) and to LINE events (line_answer_sent, "
     "line_answer_lost)."},
    {"kaoko_sms_reports_total", "result",
     "SMS delivery reports from the gateway: delivered, failed, intermediate, and refused, malformed or unknown ones."},
    {"kaoko_sms_replies_total", "result",
     "SMS replies: accepted, refused_by_chain (the step had passed or the person may not), wrong_code, used_code, "
     "unreadable, unknown_number, refused (no gateway token)."},
    {"kaoko_line_webhooks_total", "result",
     "LINE webhooks refused (unsigned, bad_signature, malformed) and their events (docs/delivery-line.md): acted, "
     "refused_by_chain, wrong_code, used_code, unreadable, unlinked_user, linked, link_wrong_code, link_refused, "
     "link_throttled, replay (handled before), stale (older than 10 minutes), ignored."},
    {"kaoko_seen_reports_total", "result",
     "Pages saying they showed a person's notifications (POST /api/v1/me/notifications/seen): ok, unknown, not_yours, "
     "malformed, no_delivery (no delivery room runs)."},
    {"kaoko_deliveries", "delivery", "Deliveries now in each state, by channel/state.", true},
    {"kaoko_storage_bytes", "what",
     "The database with its WAL (database), free and total bytes of its file system (disk_free, disk_total).", true},
};
const char* LabelOf(const std::string& family) {
  for (const auto& f : kFamilies) {
    if (family == f.name) return f.label;
  }
  return "label";
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), buckets_(bounds_.size(), 0) {}

void Histogram::Observe(double seconds) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (seconds <= bounds_[i]) ++buckets_[i];
  }
  sum_ += seconds;
  ++count_;
}

std::uint64_t Histogram::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard lock(mu_);
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], buckets_[i]);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

Metrics::Metrics()
    : alert_latency({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
      store_latency({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
      delivery_to_sent({0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800}),
      delivery_to_delivered({1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}) {}

void Metrics::Count(const std::string& family, const std::string& label_value, std::uint64_t n) {
  std::lock_guard lock(mu_);
  labelled_[family][label_value] += n;
}

std::uint64_t Metrics::Get(const std::string& family, const std::string& label_value) const {
  std::lock_guard lock(mu_);
  auto f = labelled_.find(family);
  if (f == labelled_.end()) return 0;
  auto v = f->second.find(label_value);
  return v == f->second.end() ? 0 : v->second;
}

void Metrics::SetGauge(const std::string& family, const std::map<std::string, double>& values) {
  std::lock_guard lock(mu_);
  gauges_[family] = values;
}

std::string Metrics::Render() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  counter("kaoko_readings_accepted_total", "Readings stored (first time).", readings_accepted.load());
  counter("kaoko_readings_duplicate_total", "Readings received again and not stored twice.", readings_duplicate.load());
  counter("kaoko_batches_total", "Database transactions committed by the core.", batches.load());
  counter("kaoko_acks_published_total", "End-to-end ack messages published to stations.", acks_published.load());
  counter("kaoko_db_errors_total", "Database errors (a batch was not stored and not acknowledged).", db_errors.load());
  out += fmt::format(
      "# HELP kaoko_mqtt_outgoing_queued Publishes (acks, alerts, receipts…) waiting to be handed to "
      "the MQTT client.\n# TYPE kaoko_mqtt_outgoing_queued gauge\nkaoko_mqtt_outgoing_queued {}\n"
      "# HELP kaoko_mqtt_outgoing_in_flight Publishes handed to the MQTT client and not yet "
      "acknowledged by the broker.\n# TYPE kaoko_mqtt_outgoing_in_flight gauge\n"
      "kaoko_mqtt_outgoing_in_flight {}\n",
      mqtt_out_queued.load(), mqtt_out_in_client.load());
  out += fmt::format(
      "# HELP kaoko_ingest_queue_depth Messages received and waiting for the core.\n"
      "# TYPE kaoko_ingest_queue_depth gauge\nkaoko_ingest_queue_depth {}\n",
      queue_depth.load());
  out += fmt::format(
      "# HELP kaoko_live_sessions Screens connected to the live feed (GET /api/v1/live).\n"
      "# TYPE kaoko_live_sessions gauge\nkaoko_live_sessions {}\n",
      live_sessions.load());
  {
    std::lock_guard lock(mu_);
    for (const auto& f : kFamilies) {
      if (f.gauge) continue;
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", f.name, f.help, f.name);
      auto it = labelled_.find(f.name);
      if (it == labelled_.end()) continue;
      for (const auto& [label, v] : it->second) out += fmt::format("{}{{{}=\"{}\"}} {}\n", f.name, f.label, label, v);
    }
    for (const auto& [family, values] : gauges_) {
      for (const auto& f : kFamilies) {
        if (f.gauge && family == f.name) out += fmt::format("# HELP {} {}\n", f.name, f.help);
      }
      out += fmt::format("# TYPE {} gauge\n", family);
      for (const auto& [label, v] : values)
        out += fmt::format("{}{{{}=\"{}\"}} {}\n", family, LabelOf(family), label, v);
    }
  }
  store_latency.Render(out, "kaoko_store_latency_seconds", "From a message's arrival to its commit.");
  delivery_to_sent.Render(out, "kaoko_delivery_sent_seconds",
                          "From a delivery being queued (with the alert that caused it) to its gateway accepting it.");
  delivery_to_delivered.Render(out, "kaoko_delivery_delivered_seconds",
                               "From a delivery being queued to the phone's delivery report.");
  alert_latency.Render(out, "kaoko_alert_latency_seconds",
                       "From a reading's arrival to the alert it caused being published.");
  return out;
}

}  // namespace kaoko::server
