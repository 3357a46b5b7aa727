#include "kaoko/sim/responder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace kaoko::sim {
namespace {

using alerting::ActionNeeded;
using alerting::DecisionAction;
using alerting::Level;
using alerting::Role;
using json = nlohmann::json;

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t from = 0;
  while (true) {
    auto slash = s.find('/', from);
    out.push_back(s.substr(from, slash == std::string_view::npos ? std::string_view::npos : slash - from));
    if (slash == std::string_view::npos) break;
    from = slash + 1;
  }
  return out;
}

bool Closed(const std::string& status) { return status == "resolved" || status == "rejected"; }

}  // namespace

ResponderConfig ResponderConfigFor(const alerting::Person& person, const std::string& tambon,
                                   const ResponderBehaviour& behaviour) {
  ResponderConfig c;
  c.tambon = tambon;
  c.user = person.id;
  c.role = person.role;
  c.village = person.role == Role::kTao ? "" : person.village;
  std::pair<double, double> range = behaviour.committee_minutes;
  if (person.role == Role::kHeadman) range = behaviour.headman_minutes;
  if (person.role == Role::kDeputy) range = behaviour.deputy_minutes;
  if (person.role == Role::kTao) range = behaviour.tao_minutes;
  c.min_minutes = range.first;
  c.max_minutes = std::max(range.first, range.second);
  c.silent = std::find(behaviour.silent.begin(), behaviour.silent.end(), person.id) != behaviour.silent.end();
  if (person.role == Role::kTao) {
    c.all_clear_after = Seconds(static_cast<long long>(behaviour.all_clear_after_hours * 3600 + 0.5));
  }
  return c;
}

std::vector<DecisionOut> SendDue(std::deque<DecisionOut>& outbox, Transport& link) {
  std::vector<DecisionOut> sent;
  while (!outbox.empty() && link.IsConnected()) {
    if (!link.Publish(outbox.front().topic, outbox.front().payload, 1, false)) break;
    sent.push_back(std::move(outbox.front()));
    outbox.pop_front();
  }
  return sent;
}

Responder::Responder(ResponderConfig config, std::uint64_t seed, std::uint64_t first_id)
    : config_(std::move(config)), rng_(seed), next_id_(std::max<std::uint64_t>(first_id, 1)) {}

std::vector<std::string> Responder::Subscriptions() const {
  const std::string base = fmt::format("kaoko/v1/{}", config_.tambon);
  if (config_.role == Role::kTao) {
    // A TAO officer's notifications arrive on the incident village's topic; officers may read every alert.
    return {fmt::format("{}/+/notify/{}", base, config_.user), fmt::format("{}/+/receipt/{}", base, config_.user),
            fmt::format("{}/+/alert", base)};
  }
  return {fmt::format("{}/{}/notify/{}", base, config_.village, config_.user),
          fmt::format("{}/{}/receipt/{}", base, config_.village, config_.user),
          fmt::format("{}/{}/alert", base, config_.village)};
}

Seconds Responder::Delay() {
  std::uniform_real_distribution<double> u(config_.min_minutes, config_.max_minutes);
  return Seconds(static_cast<long long>(u(rng_) * 60 + 0.5));
}

bool Responder::OnMessage(std::string_view topic, std::string_view payload, SimTime now) {
  auto parts = Split(topic);
  if (parts.size() < 5 || parts[0] != "kaoko" || parts[1] != "v1" || parts[2] != config_.tambon) return false;
  const std::string village(parts[3]);
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  try {
    if (parts.size() == 5 && parts[4] == "alert") {
      AlertSeen a;
      if (j.contains("incident") && j["incident"].is_number_integer()) a.incident = j["incident"].get<std::int64_t>();
      a.status = j.value("status", "");
      a.level = alerting::ParseLevel(j.value("level", "normal")).value_or(Level::kNormal);
      alerts_[village] = a;
      return true;
    }
    if (parts.size() != 6 || parts[5] != config_.user) return false;
    if (parts[4] == "receipt") {
      ++stats_.receipts;
      if (!j.value("ok", false)) {
        ++stats_.refused;
        stats_.last_refusal = fmt::format("{}: {}", j.value("ref", "?"), j.value("error", "?"));
      }
      return true;
    }
    if (parts[4] != "notify") return false;
    ++stats_.notifications;
    auto action = alerting::ParseActionNeeded(j.value("action_needed", "none"));
    if (!action || !j.contains("incident") || !j["incident"].is_number_integer()) return false;
    if (*action == ActionNeeded::kNone) return true;
    ++stats_.asked;
    const bool left_to_people = std::find(config_.left_to_people.begin(), config_.left_to_people.end(), village) !=
                                config_.left_to_people.end();
    if (config_.silent || config_.off_duty || left_to_people) {
      ++stats_.ignored_silent;
      return true;
    }
    const std::int64_t incident = j["incident"].get<std::int64_t>();
    const Level level = alerting::ParseLevel(j.value("level", "watch")).value_or(Level::kWatch);
    // A reminder or a "level raised" repeat of something already planned only updates the plan.
    for (Plan& p : pending_) {
      if (p.incident == incident && p.action == *action) {
        p.level = std::max(p.level, level);
        return true;
      }
    }
    if (auto it = answered_.find({incident, *action}); it != answered_.end()) {
      // Answered already. Only a TAO officer answers again, and only to declare a higher level.
      if (*action != ActionNeeded::kDeclare || level <= it->second) return true;
    }
    pending_.push_back(Plan{incident, village, *action, level, now + Delay()});
    ++stats_.scheduled;
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

bool Responder::StillWanted(const Plan& p) const {
  auto it = alerts_.find(p.village);
  if (it == alerts_.end()) return true;  // nothing seen: answer as asked
  const AlertSeen& a = it->second;
  if (!a.incident) return a.level != Level::kNormal;  // the village is back to normal: the incident was closed
  if (*a.incident != p.incident) return true;         // another incident shows (a drill beside it): answer anyway
  if (Closed(a.status)) return false;
  switch (p.action) {
    case ActionNeeded::kAck:
      return a.status == "reported";  // a colleague acknowledged, or the step timed out
    case ActionNeeded::kConfirm:
      return a.status != "declared";
    case ActionNeeded::kDeclare: {
      if (a.status != "declared") return true;
      auto mine = answered_.find({p.incident, ActionNeeded::kDeclare});
      return mine == answered_.end() || p.level > mine->second;
    }
    case ActionNeeded::kNone:
      return false;
  }
  return false;
}

DecisionOut Responder::Make(SimTime at, const Plan& p, DecisionAction action, std::optional<Level> level,
                            std::string note) {
  DecisionOut d;
  d.at = at;
  d.id = fmt::format("d-{:04}", next_id_++);
  d.topic = fmt::format("kaoko/v1/{}/{}/decision/{}", config_.tambon, p.village, config_.user);
  d.incident = p.incident;
  d.village = p.village;
  d.action = action;
  d.level = level;
  json j{{"id", d.id}, {"ts", FormatRfc3339(at)}, {"incident", p.incident}, {"action", alerting::ToString(action)}};
  if (level) j["level"] = alerting::ToString(*level);
  j["note"] = std::move(note);
  d.payload = j.dump();
  ++stats_.decisions;
  return d;
}

std::vector<DecisionOut> Responder::Advance(SimTime now, const std::function<bool(const std::string&)>& sees_water) {
  std::vector<DecisionOut> out;
  std::stable_sort(pending_.begin(), pending_.end(), [](const Plan& a, const Plan& b) { return a.due < b.due; });
  std::size_t done = 0;
  for (; done < pending_.size() && pending_[done].due <= now; ++done) {
    const Plan p = pending_[done];
    if (!StillWanted(p)) {
      ++stats_.skipped;
      continue;
    }
    answered_[{p.incident, p.action}] = p.level;
    const bool water = sees_water(p.village);
    switch (p.action) {
      case ActionNeeded::kAck:
        out.push_back(Make(p.due, p, DecisionAction::kAck, p.level, "รับทราบ กำลังแจ้งเตือนลูกบ้านและเตรียมพร้อม"));
        break;
      case ActionNeeded::kConfirm:
        if (water) {
          out.push_back(Make(p.due, p, DecisionAction::kConfirm, p.level, "ไปดูแล้ว น้ำขึ้นจริง ยืนยันการเตือนภัย"));
        } else {
          out.push_back(
              Make(p.due, p, DecisionAction::kReject, p.level, "ไปดูที่สะพานแล้ว ระดับน้ำยังปกติ เป็นการแจ้งเตือนผิดพลาด"));
        }
        break;
      case ActionNeeded::kDeclare:
        if (water) {
          out.push_back(
              Make(p.due, p, DecisionAction::kDeclare, p.level,
                   fmt::format("อบต. ประกาศ{} ขอให้ประชาชนติดตามประกาศอย่างใกล้ชิด", alerting::ThaiName(p.level))));
          if (config_.all_clear_after.count() > 0) declared_[p.incident] = Declared{p.village, std::nullopt};
        } else {
          out.push_back(Make(p.due, p, DecisionAction::kAllClear, std::nullopt,
                             "ตรวจสอบสถานีและสอบถามหมู่บ้านแล้ว ระดับน้ำปกติ ยุติเหตุการณ์"));
          declared_.erase(p.incident);
        }
        break;
      case ActionNeeded::kNone:
        break;
    }
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));

  // The officer who declared gives the all-clear once the river has stayed calm long enough.
  for (auto it = declared_.begin(); it != declared_.end();) {
    Declared& d = it->second;
    auto a = alerts_.find(d.village);
    const bool still_declared = a != alerts_.end() && a->second.incident == it->first && a->second.status == "declared";
    if (a != alerts_.end() && a->second.incident != it->first) {
      it = declared_.erase(it);  // closed by someone else (or by kaoko)
      continue;
    }
    if (!still_declared || sees_water(d.village)) {
      d.calm_since.reset();
      ++it;
      continue;
    }
    if (!d.calm_since) d.calm_since = now;
    if (now - *d.calm_since >= config_.all_clear_after) {
      Plan p{it->first, d.village, ActionNeeded::kDeclare, Level::kNormal, now};
      out.push_back(
          Make(now, p, DecisionAction::kAllClear, std::nullopt, "ระดับน้ำกลับสู่ภาวะปกติต่อเนื่องแล้ว อบต. ประกาศยุติเหตุการณ์"));
      it = declared_.erase(it);
      continue;
    }
    ++it;
  }
  return out;
}

}  // namespace kaoko::sim
