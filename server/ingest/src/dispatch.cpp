#include "dispatch.hpp"

#include <fmt/format.h>

#include "kaoko/common/log.hpp"
#include "kaoko/contract/render.hpp"

namespace kaoko::server {

namespace {
constexpr const char* kReadingsRejected = "kaoko_readings_rejected_total";
constexpr const char* kMessagesRejected = "kaoko_messages_rejected_total";
constexpr std::chrono::milliseconds kStationClockAheadLimit = std::chrono::hours(24);

std::string Snippet(std::string_view payload) {
  std::string s(payload.substr(0, 120));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return payload.size() > 120 ? s + "…" : s;
}
}  // namespace

Dispatcher::Dispatcher(const alerting::Network& network, store::Store& store, Metrics& metrics, CoreTap* tap,
                       EngineKeeper& keeper, ReadModel& views)
    : network_(network), store_(store), metrics_(metrics), tap_(tap), keeper_(keeper), views_(views) {}

void Dispatcher::Refuse(Batch& b, const char* family, const Error& e, const Inbound& in) {
  b.rejected.emplace_back(family, e.code);
  if (log::ShouldLog(std::string(family) + e.code)) {
    log::Warn("ingest", "refused {} ({}): {} — payload: {}", in.topic, e.code, e.reason, Snippet(in.payload));
  }
}

void Dispatcher::Receipt(Batch& b, const wire::Topic& t, std::string_view ref, bool ok,
                         std::optional<std::int64_t> incident, std::string_view error) {
  b.publish.push_back(
      {wire::ReceiptTopic(t.tambon, t.village, t.name), wire::RenderReceipt(ref, ok, incident, error), false});
}

void Dispatcher::RefusePerson(Batch& b, const wire::Topic& t, const Inbound& in, const char* result, const Error& e) {
  Refuse(b, kMessagesRejected, e, in);
  b.results.push_back(result);
  Receipt(b, t, wire::PeekId(in.payload).value_or(""), false, std::nullopt, e.reason);
}

void Dispatcher::Handle(Inbound& in, TimePoint now, Batch& b) {
  if (tap_ && tap_->Intercept(in, now)) return;
  auto topic = wire::ParseTopic(in.topic);
  if (!topic) return Refuse(b, kMessagesRejected, topic.error(), in);
  const wire::Topic& t = *topic;
  if (t.tambon != network_.tambon) {
    return Refuse(
        b, kMessagesRejected,
        MakeError("unknown_tambon", fmt::format("tambon '{}' is not served here ('{}')", t.tambon, network_.tambon)),
        in);
  }
  switch (t.kind) {
    case wire::TopicKind::kReading:
      return HandleReading(t, in, now, b);
    case wire::TopicKind::kStatus:
      return HandleStatus(t, in, now, b);
    case wire::TopicKind::kReport:
      return HandleReport(t, in, now, b);
    case wire::TopicKind::kDecision:
      return HandleDecision(t, in, now, b);
    case wire::TopicKind::kDeviceSounded:
      return HandleSounded(t, in, now, b);
    default:
      return Refuse(b, kMessagesRejected, MakeError("not_inbound", "kaoko does not take messages on this topic"), in);
  }
}

void Dispatcher::HandleReading(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  const int idx = network_.StationIndex(t.name);
  if (idx < 0) {
    return Refuse(b, kReadingsRejected,
                  MakeError("unknown_station", fmt::format("station '{}' is not in the network file", t.name)), in);
  }
  StationSlot& slot = views_.Slot(static_cast<std::size_t>(idx));
  const alerting::Station& station = views_.StationOf(slot);
  if (station.village != t.village) {
    return Refuse(b, kReadingsRejected,
                  MakeError("wrong_village", fmt::format("station '{}' belongs to village '{}', not '{}'", t.name,
                                                         station.village, t.village)),
                  in);
  }
  // A station's clock ahead of kaoko's is a station fault the engine names ("clock ahead 2 h"), and its readings are
  // evaluated at arrival; only a time beyond any plausible wrong clock is refused as future_ts.
  auto parsed = wire::ParseReading(in.payload, station, now, kStationClockAheadLimit);
  if (parsed.refused) {
    Refuse(b, kReadingsRejected, parsed.refused->error, in);
    if (parsed.refused->seq_if_known) {
      // Keep the refused reading and acknowledge it: the station must not resend it forever, and the TAO's
      // technician can see what the station sent and why it was refused.
      store_.InsertRefusedReading(t.name, *parsed.refused->seq_if_known, parsed.refused->ts_if_known, now,
                                  parsed.refused->error, in.payload);
      b.acks.emplace_back(&slot, *parsed.refused->seq_if_known);
    }
    return;
  }
  wire::Reading& r = *parsed.reading;
  if (!slot.key) {
    slot.key = store_.StationKey(station.id);
    b.new_keys.push_back(&slot);
  }
  if (store_.InsertReading(slot.key, r) == store::Insert::kStored) {
    ++b.accepted;
    if (tap_) tap_->ReadingStored(t.name, r, now);
    alerting::Effects fx = keeper_.engine().OnReading(static_cast<std::size_t>(idx), r, now);
    if (!fx.alerts.empty()) b.alert_causes.push_back(in.arrived);
    keeper_.Apply(std::move(fx));
    b.acks.emplace_back(&slot, r.seq);
    b.latest.emplace_back(&slot, std::move(r));
    return;
  }
  ++b.duplicate;
  b.acks.emplace_back(&slot, r.seq);  // a repeat is acked again: its first ack may have been lost
}

void Dispatcher::HandleStatus(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  const int idx = network_.StationIndex(t.name);
  if (idx < 0 || network_.stations[static_cast<std::size_t>(idx)].village != t.village) {
    return Refuse(b, kMessagesRejected,
                  MakeError("unknown_station",
                            fmt::format("station '{}' of village '{}' is not in the network file", t.name, t.village)),
                  in);
  }
  auto status = wire::ParseStatus(in.payload);
  if (!status) return Refuse(b, kMessagesRejected, status.error(), in);
  store_.UpsertStatus(t.name, *status, now);
  b.status.emplace_back(&views_.Slot(static_cast<std::size_t>(idx)), status->online);
  keeper_.Apply(keeper_.engine().OnStationStatus({t.name, status->online, status->ts.value_or(now)}, now));
}

void Dispatcher::HandleReport(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  auto refuse = [&](const Error& e) { RefusePerson(b, t, in, "kaoko_reports_total:refused", e); };
  const alerting::Person* person = network_.FindPerson(t.name);
  if (!person) return refuse(MakeError("unknown_user", fmt::format("'{}' is not in the network file", t.name)));
  if (!network_.FindVillage(t.village)) {
    return refuse(MakeError("unknown_village", fmt::format("village '{}' is not in the network file", t.village)));
  }
  if (!alerting::IsTambonWide(person->role) && person->village != t.village) {
    return refuse(MakeError(
        "wrong_village", fmt::format("{} reports for village '{}', not '{}'", person->id, person->village, t.village)));
  }
  auto report = wire::ParseReport(in.payload);
  if (!report) return refuse(report.error());
  // A report from the future cannot be placed in time at all (a person's phone with a wrong clock): refused, so
  // that the watcher sees it and can send it again, not stored.
  if (report->ts > now + network_.health.clock_tolerance) {
    return refuse(MakeError("future_ts", alerting::FutureReportText(report->ts, now)));
  }
  if (report->station) {
    const alerting::Station* st = network_.FindStation(*report->station);
    if (!st) {
      return refuse(
          MakeError("unknown_station", fmt::format("station '{}' is not in the network file", *report->station)));
    }
    if (st->village != t.village) {
      return refuse(MakeError(
          "wrong_village", fmt::format("station '{}' is in village '{}', not '{}'", st->id, st->village, t.village)));
    }
  }
  if (store_.InsertReport(t.name, t.village, *report, now) == store::Insert::kDuplicate) {
    b.results.push_back("kaoko_reports_total:duplicate");
    auto incident = store_.ReportIncident(t.name, report->id);
    Receipt(b, t, report->id, true, incident && *incident ? incident : std::nullopt, "");
    return;
  }
  b.results.push_back("kaoko_reports_total:stored");
  alerting::Report ar{t.name,
                      report->id,
                      report->ts,
                      t.village,
                      report->station,
                      report->level_cm,
                      report->trend ? std::optional<std::string>(wire::ToString(*report->trend)) : std::nullopt,
                      report->concern,
                      report->note};
  alerting::Effects fx = keeper_.engine().OnReport(ar, now);
  // The engine answers every report with exactly one receipt; record the incident it joined.
  for (const auto& r : fx.receipts) {
    if (r.ref == report->id && r.user == t.name && r.incident) store_.SetReportIncident(t.name, r.ref, *r.incident);
  }
  keeper_.Apply(std::move(fx));
}

void Dispatcher::HandleDecision(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  auto refuse = [&](const Error& e) { RefusePerson(b, t, in, "kaoko_decisions_total:refused", e); };
  const alerting::Person* person = network_.FindPerson(t.name);
  if (!person) return refuse(MakeError("unknown_user", fmt::format("'{}' is not in the network file", t.name)));
  auto decision = wire::ParseDecision(in.payload);
  if (!decision) return refuse(decision.error());
  const Decided d = Decide(t.name, t.village, *decision, "mqtt", now);
  const alerting::Receipt& r = d.receipt;
  if (d.repeat) {
    // A repeat (QoS 1 redelivery, a phone sending again): the same answer, decided once.
    b.results.push_back("kaoko_decisions_total:duplicate");
    Receipt(b, t, r.ref, r.ok, r.incident, r.error);
    return;
  }
  b.results.push_back(r.ok ? "kaoko_decisions_total:accepted" : "kaoko_decisions_total:refused");
  if (!r.ok && log::ShouldLog("decision_refused")) {
    log::Info("core", "decision {} of {} refused: {}", decision->id, t.name, r.error);
  }
}

void Dispatcher::HandleSounded(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b) {
  const alerting::Device* device = network_.FindDevice(t.name);
  if (!device) {
    return Refuse(b, kMessagesRejected,
                  MakeError("unknown_device", fmt::format("device '{}' is not in the network file", t.name)), in);
  }
  if (device->village != t.village) {
    return Refuse(b, kMessagesRejected,
                  MakeError("wrong_village", fmt::format("device '{}' belongs to village '{}', not '{}'", t.name,
                                                         device->village, t.village)),
                  in);
  }
  auto sounded = wire::ParseSounded(in.payload);
  if (!sounded) return Refuse(b, kMessagesRejected, sounded.error(), in);
  alerting::Effects fx = keeper_.engine().OnDeviceSounded(
      {t.name, t.village, sounded->announce, sounded->ts, sounded->ok, sounded->note}, now);
  if (fx.error) return Refuse(b, kMessagesRejected, MakeError("unknown_announce", *fx.error), in);
  keeper_.Apply(std::move(fx));
}

Dispatcher::Decided Dispatcher::Decide(const std::string& user, const std::string& village,
                                       const wire::DecisionMsg& decision, const std::string& via, TimePoint now) {
  if (auto seen = store_.FindDecision(user, decision.id)) {
    return {alerting::Receipt{user, village, decision.id, seen->ok,
                              seen->ok ? std::optional<std::int64_t>(seen->incident) : std::nullopt, seen->error},
            true};
  }
  alerting::Decision ad{user,           decision.id,   decision.ts, village, decision.incident, decision.action,
                        decision.level, decision.note, via};
  alerting::Effects fx = keeper_.engine().OnDecision(ad, now);
  alerting::Receipt receipt{user, village, decision.id, false, std::nullopt, "no receipt"};
  for (const auto& r : fx.receipts) {
    if (r.ref == decision.id && r.user == user) receipt = r;
  }
  store_.InsertDecision(user, village, decision, via, now, receipt.ok, receipt.ok ? "" : receipt.error);
  keeper_.Apply(std::move(fx));
  return {std::move(receipt), false};
}

CommandResult Dispatcher::DecideFromApi(const std::string& user, const wire::DecisionMsg& decision,
                                        const std::string& via, TimePoint now) {
  std::string village;
  if (const alerting::Incident* inc = keeper_.engine().FindIncident(decision.incident)) {
    village = inc->village;
  } else if (auto row = store_.Incident(decision.incident)) {
    village = row->village;
  }
  if (village.empty()) {
    return CommandResult{std::nullopt, alerting::Receipt{user, "", decision.id, false, std::nullopt,
                                                         fmt::format("incident {} does not exist", decision.incident)}};
  }
  Decided d = Decide(user, village, decision, via, now);
  if (!d.repeat) metrics_.Count("kaoko_decisions_total", d.receipt.ok ? "accepted" : "refused");
  return CommandResult{std::nullopt, std::move(d.receipt)};
}

}  // namespace kaoko::server
