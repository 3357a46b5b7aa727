// The dead-man's switch (docs/tiers.md, "Heartbeats"): a tier above records each heartbeat of the nodes below and
// answers it with the node's journal position; a node silent for too long gets a technician incident, closed when it
// speaks again. Both are logged as tier events of this node's own, and journaled up.
#include <fmt/format.h>

#include <algorithm>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/tier_rows.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {

void Tier::OnHeartbeat(const ParsedTierTopic& t, const std::string& payload, TimePoint now) {
  if (!Watches(t.tambon)) return;
  json hb = Parse(payload);
  if (!hb.is_object()) return;
  store::TierNodeRow row{t.node, t.tambon, Str(hb, "tier"), Str(hb, "village"),
                         static_cast<int>(std::clamp<std::int64_t>(Int(hb, "interval_s").value_or(60), 1, 86400))};
  std::optional<std::int64_t> open;
  {
    std::lock_guard lock(mu_);
    Node& n = nodes_[t.node];
    n.tambon = row.tambon;
    n.tier = row.tier;
    n.village = row.village;
    n.interval_s = row.interval_s;
    n.last_heard = now;
    n.last = hb;
    open = n.incident;
  }
  rows_->UpsertNode(row, now, payload);
  // Answer with the journal's position: the node below learns that this tier is there (and how far it got).
  store::TierInbox inbox = rows_->Inbox(t.node).value_or(store::TierInbox{});
  QueueAck(t, inbox.last, false, inbox.epoch);
  if (!open) return;
  // The dead-man's switch resets: the node speaks again.
  if (!rows_->CloseIncident(*open, now)) return;  // closed by an earlier heartbeat of this batch (a late burst)
  TierEvent(t.tambon, row.village, *open, now, "tier_resumed", fmt::format("{} กลับมาส่งสัญญาณชีพแล้ว", t.node),
            fmt::format("{} is sending heartbeats again", t.node));
  log::Info("tier", "node {} is back (heartbeat after silence): incident T{} closed", t.node, *open);
  std::string node = t.node;
  std::int64_t id = *open;
  std::string closed_at = wire::FormatTime(now);
  pending_->after.push_back([this, node, id, closed_at] {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(node);
    if (it != nodes_.end() && it->second.incident == id) it->second.incident.reset();
    for (auto& inc : incidents_) {
      if (inc["id"] == id) inc["closed"] = closed_at;
    }
  });
}

void Tier::Watchdog(TimePoint now) {
  if (!core_) return;
  std::vector<std::pair<std::string, Node>> silent;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, n] : nodes_) {
      if (n.incident || n.opening || !n.last_heard) continue;
      auto allowed = std::chrono::seconds(static_cast<std::int64_t>(n.interval_s) * options_.silent_heartbeats);
      if (now - *n.last_heard <= allowed) continue;
      n.opening = true;
      silent.emplace_back(name, n);
    }
  }
  for (const auto& [name, n] : silent) {
    core_->Run([this, name = name, n = n](TimePoint at) {
      OpenSilentIncident(name, n, at);
      return CommandResult{};
    });
  }
}

void Tier::OpenSilentIncident(const std::string& name, const Node& n, TimePoint at) {
  auto silent_for = std::chrono::duration_cast<std::chrono::minutes>(at - *n.last_heard).count();
  std::string detail = fmt::format("no heartbeat from {} {} ({}) for {} min (expected every {} s)", n.tier, name,
                                   n.village.empty() ? n.tambon : n.village, silent_for, n.interval_s);
  std::int64_t id = rows_->OpenIncident(name, n.tambon, n.village, at, detail);
  TierEvent(n.tambon, n.village, id, at, "tier_silent",
            fmt::format("ไม่ได้รับสัญญาณชีพจาก {} นาน {} นาที: ตรวจสอบเครื่องและการเชื่อมต่อ", name, silent_for), detail);
  log::Warn("tier", "technician incident T{}: {}", id, detail);
  json row{{"id", id}, {"node", name}, {"opened", wire::FormatTime(at)}, {"closed", nullptr}, {"detail", detail}};
  pending_->after.push_back([this, name, id, row] {
    std::lock_guard lock(mu_);
    Node& node = nodes_[name];
    node.opening = false;
    node.incident = id;
    incidents_.push_back(row);
    if (incidents_.size() > kIncidentsShown) incidents_.erase(incidents_.begin());
  });
  metrics_.Count("kaoko_tier_incidents_total", "opened");
}

void Tier::TierEvent(const std::string& tambon, const std::string& village, std::int64_t incident, TimePoint now,
                     const std::string& kind, const std::string& text_th, const std::string& text_en) {
  // A tier incident's log entry: kept with the remote events (this node is its origin) and journaled up.
  json body{{"tambon", tambon}, {"village", village},          {"incident", incident}, {"incident_kind", "tier"},
            {"station", ""},    {"ts", wire::FormatTime(now)}, {"event", kind},        {"actor", "kaoko"},
            {"via", "kaoko"},   {"text_th", text_th},          {"text_en", text_en},   {"acting", true}};
  store::TierEventRow row{.origin = options_.node,
                          .origin_epoch = epoch_,
                          .origin_id = std::nullopt,
                          .node = options_.node,
                          .node_seq = 0,
                          .tambon = tambon,
                          .village = village,
                          .incident = incident,
                          .incident_kind = "tier",
                          .station = "",
                          .ts = now,
                          .kind = kind,
                          .actor = "kaoko",
                          .via = "kaoko",
                          .text_th = text_th,
                          .text_en = text_en,
                          .acting = true,
                          .received = now};
  if (Sends()) {
    Append("event", body);
    row.origin_id = static_cast<std::int64_t>(pending_->appended);
  }
  rows_->InsertOwnEvent(row);
}

}  // namespace kaoko::server::tier
