// The journal's sending side (docs/tiers.md, "Sending"): what a lower tier appends to its outbox with what it records,
// how its thread publishes the outbox and its heartbeat, what an ack or the bridge's state changes, and the edge's
// choice between following the TAO and acting alone.
#include <fmt/format.h>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/wire.hpp"
#include "kaoko/store/tier_rows.hpp"
#include "tier_internal.hpp"

namespace kaoko::server::tier {
namespace {

constexpr std::size_t kMaxMessageBytes = 192 * 1024;  // under the brokers' max_packet_size (256 KiB)

std::string RenderReading(const wire::Reading& r) {
  json j{{"seq", r.seq}, {"ts", wire::FormatTime(r.ts)}, {"level_cm", r.level_cm}};
  if (r.rain_mm) j["rain_mm"] = *r.rain_mm;
  if (r.battery_v) j["battery_v"] = *r.battery_v;
  return j.dump();
}

// One entry as it goes on the wire: the stored body with its seq and kind in front.
std::string RenderEntry(std::uint64_t seq, std::string_view kind, std::string_view body) {
  return fmt::format("{{\"seq\":{},\"kind\":\"{}\"{}{}", seq, kind, body.size() > 2 ? "," : "",
                     body.size() > 2 ? body.substr(1) : std::string_view("}"));
}

}  // namespace

// ------------------------------------------------------------------------------------------------ what is journaled

void Tier::Append(std::string_view kind, const json& body) {
  pending_->appended = rows_->AppendOutbox(kind, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

void Tier::ReadingStored(std::string_view station, const wire::Reading& reading, TimePoint) {
  if (!Sends()) return;
  const alerting::Station* s = network_.FindStation(station);
  Append("reading", json{{"station", std::string(station)},
                         {"village", s ? s->village : std::string()},
                         {"payload", RenderReading(reading)}});
}

void Tier::TimelineStored(const alerting::TimelineEvent& e, const alerting::Incident* inc) {
  if (!Sends()) return;
  json body{{"tambon", network_.tambon},
            {"village", inc ? inc->village : std::string()},
            {"incident", e.incident},
            {"incident_kind", inc ? alerting::ToString(inc->kind) : ""},
            {"station", inc ? inc->station : std::string()},
            {"ts", wire::FormatTime(e.ts)},
            {"event", e.kind},
            {"actor", e.actor},
            {"via", e.via},
            {"text_th", e.text_th},
            {"text_en", e.text_en},
            // An edge's engine runs while it follows the TAO too (a hot standby); only what it did while acting
            // alone reached the village.
            {"acting", !arbiter_ || !arbiter_->following()}};
  Append("event", body);
}

// ------------------------------------------------------------------------------------------------ publishing

void Tier::Pump() {
  if (!mqtt_) return;
  const std::string topic = OutTopic("journal");
  for (int round = 0; round < 100; ++round) {
    std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
    {
      std::lock_guard lock(mu_);
      range = sender_.Next(SteadyClock::now());
    }
    if (!range) return;
    std::string entries;
    std::uint64_t last = 0;
    std::size_t count = 0;
    try {
      sender_rows_->ForEachOutboxEntry(range->first, range->second,
                                       [&](std::uint64_t seq, std::string_view kind, std::string_view body) {
                                         if (seq != (last == 0 ? range->first : last + 1))
                                           return false;  // pruned or not visible yet: stop at the hole
                                         std::string entry = RenderEntry(seq, kind, body);
                                         if (count > 0 && entries.size() + entry.size() > kMaxMessageBytes)
                                           return false;
                                         if (!entries.empty()) entries += ',';
                                         entries += entry;
                                         last = seq;
                                         ++count;
                                         return true;
                                       });
    } catch (const std::exception& e) {
      if (log::ShouldLog("tier_read")) log::Error("tier", "cannot read the journal: {}", e.what());
    }
    if (last < range->second) {
      std::lock_guard lock(mu_);
      sender_.Rewind(last);
    }
    if (count == 0) return;
    std::string msg =
        fmt::format("{{\"node\":{},\"tier\":\"{}\",\"tambon\":{},\"village\":{},\"epoch\":{},\"entries\":[{}]}}",
                    json(options_.node).dump(), ToString(options_.mode), json(network_.tambon).dump(),
                    json(options_.village).dump(), json(epoch_).dump(), entries);
    mqtt_->Publish(topic, msg, false);
    metrics_.Count("kaoko_tier_journal_entries_total", "sent", count);
    if (last < range->second) return;
  }
}

void Tier::Heartbeat(TimePoint now) {
  if (!mqtt_) return;
  json hb{{"node", options_.node},
          {"tier", ToString(options_.mode)},
          {"tambon", network_.tambon},
          {"ts", wire::FormatTime(now)},
          {"interval_s", options_.heartbeat_seconds}};
  if (options_.mode == Mode::kEdge) hb["village"] = options_.village;
  {
    std::lock_guard lock(mu_);
    if (Sends()) {
      hb["appended"] = sender_.appended();
      hb["acked"] = sender_.acked();
      hb["backlog"] = sender_.backlog();
      hb["link"] = LinkName(sender_.link());
    }
  }
  if (arbiter_) hb["mode"] = arbiter_->following() ? "following" : "acting_alone";
  mqtt_->Publish(OutTopic("heartbeat"), hb.dump(), false);
}

// ------------------------------------------------------------------------------------------------ from above

void Tier::OnJournalAck(const std::string& payload, TimePoint) {
  auto ack = ParseJournalAck(payload);
  if (!ack) {
    if (log::ShouldLog("tier_bad_ack")) log::Warn("tier", "ignored a malformed journal ack: {}", ack.error().reason);
    return;
  }
  // Any answer shows the tier above is there and the bridge up. Mosquitto does not give a late subscriber the
  // bridge's retained link state while check_retain_source is on (measured), so after a start of this kaoko, or a
  // reconnect that missed the bridge's "1", this is how the link is known.
  bool first_contact = false;
  {
    std::lock_guard lock(mu_);
    last_answer_ = Now();
    if (sender_.link() != true) {
      sender_.OnLinkUp(SteadyClock::now());
      first_contact = true;
    }
  }
  if (first_contact) log::Info("tier", "the tier above answers: sending the journal from seq {}", sender_.acked() + 1);
  if (!ack->epoch.empty() && ack->epoch != epoch_) {
    UpdateMode("the tier above answers");
    return;  // an ack for a journal this database no longer has
  }
  bool progress = false;
  {
    std::lock_guard lock(mu_);
    progress = sender_.OnAck(ack->acked, ack->gap, SteadyClock::now());
  }
  if (ack->gap) metrics_.Count("kaoko_tier_journal_acks_total", "gap");
  // Prune what the tier above has committed; remember how far it got, for a restart.
  if (progress) rows_->Acknowledge(ack->acked);
  UpdateMode("journal acknowledged");
  wake_.notify_one();
}

void Tier::OnLink(const std::string& payload) {
  bool up = payload == "1";
  {
    std::lock_guard lock(mu_);
    if (sender_.link() == up) return;
    if (up)
      sender_.OnLinkUp(SteadyClock::now());
    else
      sender_.OnLinkDown();
  }
  metrics_.Count("kaoko_tier_link_total", up ? "up" : "down");
  if (up)
    log::Info("tier", "the bridge to the tier above is up: sending the journal from seq {}", sender_.acked() + 1);
  else
    log::Warn("tier", "the bridge to the tier above is down: journaling locally until it returns");
  UpdateMode(up ? "bridge up" : "bridge down");
  wake_.notify_one();
}

// ------------------------------------------------------------------------------------------------ edge: whose siren

void Tier::UpdateMode(std::string_view why) {
  if (!arbiter_) return;
  std::optional<bool> link;
  std::uint64_t backlog = 0;
  bool stalled = false;
  bool silent = false;
  TimePoint now = Now();
  {
    std::lock_guard lock(mu_);
    link = sender_.link();
    backlog = sender_.backlog();
    stalled =
        backlog > 0 && SteadyClock::now() - sender_.last_progress() > std::chrono::milliseconds(options_.stall_ms);
    // The TAO answers every heartbeat: no answer for as long as the TAO itself would call us silent means its kaoko
    // is gone even if its broker (and so the bridge) is up.
    silent = last_answer_ &&
             now - *last_answer_ > std::chrono::seconds(static_cast<std::int64_t>(options_.heartbeat_seconds) *
                                                        options_.silent_heartbeats);
  }
  // At start, give the TAO a moment to answer the first heartbeat before choosing a source, so as not to flip twice.
  if (!arbiter_->decided() && !link && SteadyClock::now() - started_ < std::chrono::seconds(3)) return;
  bool following = arbiter_->following();
  if (following && (link == false || stalled || silent)) {
    arbiter_->SetFollowing(false, link == false ? "the bridge to the TAO is down"
                                  : stalled     ? "the TAO has not acknowledged the journal"
                                                : "the TAO has not answered the heartbeats");
  } else if (!arbiter_->decided() && (link != true || backlog > 0)) {
    arbiter_->SetFollowing(false, link == false ? "the bridge to the TAO is down"
                                  : !link       ? "no answer from the TAO yet"
                                                : "journal not yet acknowledged");
  } else if (!following && link == true && backlog == 0 && !silent) {
    arbiter_->SetFollowing(true, why);
  }
}

}  // namespace kaoko::server::tier
