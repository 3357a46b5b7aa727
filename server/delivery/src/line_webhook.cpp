// LINE's way back to kaoko (delivery.hpp, docs/delivery-line.md): the webhook's events (a postback answers a step, a
// text that is a link code links a LINE account to its person), the link codes a person takes from their own page,
// and the LINE address of a person.
//
// The webhook is checked before anything is read: the signature (HMAC-SHA256 of the raw body with the channel
// secret, compared in constant time), then each event once (its webhookEventId is stored before it is acted on: a
// replay, or LINE's own redelivery, is answered 200 and not acted on again), and not when its timestamp is older than
// 10 minutes. A LINE user id is personal data: it is never logged; the person's id is.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <random>

#include "kaoko/common/log.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/delivery/line.hpp"
#include "kaoko/delivery/sender.hpp"
#include "kaoko/delivery/sms_text.hpp"
#include "kaoko/store/line_rows.hpp"
#include "kaoko/store/outbox.hpp"

namespace kaoko::delivery {
namespace {

using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr auto kEventMaxAge = std::chrono::minutes(10);
constexpr auto kLinkCodeLife = std::chrono::minutes(15);
// A LINE account that sends this many wrong link codes within kMissWindow is not heard for the rest of it: six digits
// are guessable only by many tries.
constexpr std::size_t kMaxMisses = 5;
constexpr auto kMissWindow = std::chrono::minutes(15);

std::string FreshLinkCode() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{:06}", std::uniform_int_distribution<int>(0, 999999)(rng));
}

const alerting::Contact* LineContact(const alerting::Person& p) {
  for (const auto& c : p.contacts) {
    if (c.channel == alerting::Channel::kLine && c.consented()) return &c;
  }
  return nullptr;
}

std::string Str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

// One webhook event, as much of it as kaoko reads.
struct Delivery::LineEvent {
  std::string id;    // webhookEventId
  std::string type;  // postback, message, follow, unfollow, ...
  std::string user;  // source.userId (personal data)
  std::int64_t timestamp_ms = 0;
  std::string data;  // a postback's data
  std::string text;  // a text message's text
  std::string reply_token;
};

Answer Delivery::LineWebhook(std::string_view body, std::string_view signature) {
  if (!options_.line) return {404, "no LINE channel is configured\n"};
  if (signature.empty()) {
    metrics_.Count("kaoko_line_webhooks_total", "unsigned");
    if (log::ShouldLog("line_webhook_refused"))
      log::Warn("delivery", "a LINE webhook without X-Line-Signature was refused");
    return {401, "X-Line-Signature is required\n"};
  }
  if (!LineSignatureOk(options_.line->channel_secret, body, signature)) {
    metrics_.Count("kaoko_line_webhooks_total", "bad_signature");
    if (log::ShouldLog("line_webhook_refused"))
      log::Warn("delivery", "a LINE webhook with a wrong X-Line-Signature was refused");
    return {401, "X-Line-Signature does not match the body\n"};
  }
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("events") || !j["events"].is_array()) {
    metrics_.Count("kaoko_line_webhooks_total", "malformed");
    return {400, "a webhook body is {\"destination\", \"events\": [...]}\n"};
  }
  const alerting::TimePoint wall_now = options_.wall.Now();
  {
    std::lock_guard lock(db_mu_);
    line_rows_->ForgetEventsBefore(wall_now - std::chrono::hours(24));
  }
  for (const json& e : j["events"]) {
    LineEvent event;
    event.id = Str(e, "webhookEventId");
    event.type = Str(e, "type");
    if (e.is_object() && e.contains("source")) event.user = Str(e["source"], "userId");
    if (e.is_object() && e.contains("timestamp") && e["timestamp"].is_number_integer())
      event.timestamp_ms = e["timestamp"].get<std::int64_t>();
    event.reply_token = Str(e, "replyToken");
    if (e.is_object() && e.contains("postback")) event.data = Str(e["postback"], "data");
    if (e.is_object() && e.contains("message") && Str(e["message"], "type") == "text")
      event.text = Str(e["message"], "text");
    metrics_.Count("kaoko_line_webhooks_total", LineEventResult(event, wall_now));
  }
  return {200, "ok\n"};
}

std::string Delivery::LineEventResult(const LineEvent& event, alerting::TimePoint wall_now) {
  if (event.id.empty()) return "malformed";
  const alerting::TimePoint at{std::chrono::milliseconds(event.timestamp_ms)};
  if (at < wall_now - kEventMaxAge) {
    log::Warn("delivery", "a LINE {} event from {} s ago was not acted on (older than 10 minutes)", event.type,
              std::chrono::duration_cast<std::chrono::seconds>(wall_now - at).count());
    return "stale";
  }
  {
    std::lock_guard lock(db_mu_);
    if (!line_rows_->FirstSeen(event.id, wall_now)) {
      log::Warn("delivery", "a LINE {} event handled before came again (a replay or a redelivery): not acted on",
                event.type);
      return "replay";
    }
  }
  if (event.type == "postback") return LinePostback(event);
  if (event.type == "message" && !event.text.empty()) return LineText(event);
  return "ignored";  // follow, unfollow, stickers, ...: nothing kaoko acts on
}

std::string Delivery::LinePostback(const LineEvent& event) {
  std::optional<std::string> person;
  {
    std::lock_guard lock(db_mu_);
    person = line_rows_->PersonOf(event.user);
  }
  if (!person) {
    log::Warn("delivery", "a LINE postback from an account no one has linked was not acted on");
    LineAnswer(event, "kaoko: บัญชี LINE นี้ยังไม่ได้เชื่อมกับ kaoko โปรดขอรหัสเชื่อมจากหน้าของท่าน");
    return "unlinked_user";
  }
  const auto parsed = ParsePostbackData(event.data);
  if (!parsed) {
    log::Warn("delivery", "a LINE postback from {} carried data kaoko did not write", *person);
    return "unreadable";
  }
  std::optional<store::ReplyCode> code;
  {
    std::lock_guard lock(db_mu_);
    code = outbox_->Code(*person, parsed->code);
  }
  if (!code) {
    log::Warn("delivery", "a LINE postback from {} carried a code that is not theirs", *person);
    LineAnswer(event, answer::WrongCode(parsed->code));
    return "wrong_code";
  }
  if (code->used_at) {
    log::Info("delivery", "a LINE postback from {} carried a code already used", *person);
    LineAnswer(event, "kaoko: ตอบข้อนี้ไปแล้ว");
    return "used_code";
  }
  const alerting::TimePoint now = options_.clock.Now();
  const wire::DecisionMsg d = ReplyDecision(*code, parsed->choice, "line", "LINE", now);
  const DecideOutcome outcome = decide_ ? decide_(*person, d, "line") : DecideOutcome{false, "no core to decide"};
  if (!outcome.ok) {
    log::Warn("delivery", "a LINE postback from {} was not taken: {}", *person, outcome.error);
    LineAnswer(event, answer::Refused(outcome.error));
    return "refused_by_chain";
  }
  {
    std::lock_guard lock(db_mu_);
    outbox_->UseCode(*person, parsed->code, now);
  }
  log::Info("delivery", "{} answered incident {} on LINE: {}", *person, code->incident, alerting::ToString(d.action));
  LineAnswer(event, answer::Accepted(code->action, parsed->choice, code->incident));
  return "acted";
}

std::string Delivery::LineText(const LineEvent& event) {
  const std::string code = LinkCodeIn(event.text);
  if (code.empty()) return "ignored";  // a chat message: kaoko reads only link codes
  const auto now_steady = Steady::now();
  {
    std::lock_guard lock(line_mu_);
    auto& misses = link_misses_[event.user];
    std::erase_if(misses, [&](Steady::time_point t) { return now_steady - t > kMissWindow; });
    if (misses.size() >= kMaxMisses) {
      if (log::ShouldLog("line_link_throttled"))
        log::Warn("delivery", "a LINE account sent too many wrong link codes: not heard for 15 minutes");
      return "link_throttled";
    }
  }
  const alerting::TimePoint wall_now = options_.wall.Now();
  std::optional<std::string> person;
  store::LinkResult linked = store::LinkResult::kOtherPerson;
  {
    std::lock_guard lock(db_mu_);
    person = line_rows_->TakeLinkCode(code, wall_now);
    if (person) linked = line_rows_->Link(*person, event.user, wall_now);
  }
  if (!person) {
    {
      std::lock_guard lock(line_mu_);
      link_misses_[event.user].push_back(now_steady);
    }
    log::Warn("delivery", "a LINE account sent a link code that is unknown, used or expired");
    LineAnswer(event, "kaoko: รหัสเชื่อมไม่ถูกต้องหรือหมดอายุ โปรดขอรหัสใหม่จากหน้าของท่าน");
    return "link_wrong_code";
  }
  if (linked == store::LinkResult::kOtherPerson) {
    log::Warn("delivery", "{}'s link code came from a LINE account linked to someone else: not linked", *person);
    LineAnswer(event, "kaoko: บัญชี LINE นี้เชื่อมกับคนอื่นไว้แล้ว โปรดติดต่อ อบต.");
    return "link_refused";
  }
  log::Info("delivery", "{} linked their LINE account", *person);
  LineAnswer(event, "kaoko: เชื่อมบัญชี LINE แล้ว ท่านจะได้รับการแจ้งเตือนน้ำท่วมทางนี้");
  return "linked";
}

void Delivery::LineAnswer(const LineEvent& event, std::string text) {
  if (event.reply_token.empty()) return;
  std::lock_guard lock(line_mu_);
  line_answers_.emplace_back(event.reply_token, std::move(text));
}

void Delivery::SendLineAnswers() {
  Lane* line = LaneOf(alerting::Channel::kLine);
  if (!line || !line->sender) return;
  for (;;) {
    std::pair<std::string, std::string> next;
    {
      std::lock_guard lock(line_mu_);
      if (line_answers_.empty()) return;
      next = std::move(line_answers_.front());
      line_answers_.pop_front();
    }
    const SendResult r = line->sender->Send({next.first, LineTextMessage(next.second), 0, {}});
    metrics_.Count("kaoko_delivery_sends_total",
                   r.kind == SendResult::kAccepted ? "line_answer_sent" : "line_answer_lost");
    // A reply token works once and soon: an answer not taken is not tried again.
    if (r.kind != SendResult::kAccepted) log::Warn("delivery", "an answer on LINE was not sent: {}", r.reason);
  }
}

Result<LineLinkCode> Delivery::NewLineLinkCode(const std::string& person) {
  if (!options_.line) return MakeError("line", "no LINE channel is configured on this service");
  const alerting::Person* p = network_.FindPerson(person);
  if (!p || !LineContact(*p)) {
    return MakeError("line",
                     "the network file gives you no LINE contact with consent: ask the TAO to add one "
                     "(ไม่มีช่องทาง LINE ที่ท่านยินยอมไว้ในรายชื่อ โปรดติดต่อ อบต.)");
  }
  LineLinkCode out;
  out.expires = options_.wall.Now() + kLinkCodeLife;
  {
    std::lock_guard lock(db_mu_);
    out.code = line_rows_->NewLinkCode(person, out.expires, FreshLinkCode);
  }
  if (out.code.empty()) return MakeError("line", "no free link code was found: try again");
  return out;
}

std::optional<bool> Delivery::LineLinked(const std::string& person) {
  if (!options_.line) return std::nullopt;
  const alerting::Person* p = network_.FindPerson(person);
  const alerting::Contact* c = p ? LineContact(*p) : nullptr;
  return !LineAddress(person, c ? c->address : std::string()).empty();
}

std::string Delivery::LineAddress(const std::string& person, const std::string& from_file) {
  std::lock_guard lock(db_mu_);
  if (auto linked = line_rows_->UserOf(person)) return *linked;
  return from_file;
}

}  // namespace kaoko::delivery
