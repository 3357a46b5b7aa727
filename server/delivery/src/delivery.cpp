// The delivery room (delivery.hpp): the worker that sends the outbox's rows, and the gateway's callbacks.
#include "kaoko/delivery/delivery.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <random>

#include "kaoko/common/log.hpp"
#include "kaoko/delivery/sender.hpp"
#include "kaoko/delivery/sms_text.hpp"
#include "kaoko/store/line_rows.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/store.hpp"

namespace kaoko::delivery {
namespace {

using alerting::Channel;
using alerting::DeliveryState;
using Steady = std::chrono::steady_clock;

std::string Get(const std::map<std::string, std::string>& q, const char* key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

// A four-digit reply code, not guessable from the ones before it.
std::string FreshCode() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{:04}", std::uniform_int_distribution<int>(0, 9999)(rng));
}

// A random UUID (version 4): a retry key (LINE's X-Line-Retry-Key).
std::string NewRetryKey() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  const std::uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

const alerting::Contact* ConsentedContact(const alerting::Person& p, Channel channel) {
  for (const auto& c : p.contacts) {
    // A LINE contact's address may be a link made later (Delivery::LineAddress).
    if (c.channel == channel && c.consented() && (!c.address.empty() || channel == Channel::kLine)) return &c;
  }
  return nullptr;
}

double Seconds(alerting::TimePoint from, alerting::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

bool Delivery::Bucket::Take(Steady::time_point now) {
  // At most one second's worth ahead of the rate (and at least one message): the gateway's own queue never holds
  // more than a second of sends, so the most urgent is never far behind.
  if (last != Steady::time_point{}) {
    tokens =
        std::min(std::max(1.0, per_second), tokens + std::chrono::duration<double>(now - last).count() * per_second);
  }
  last = now;
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

Result<std::unique_ptr<Delivery>> Delivery::Create(const alerting::Network& network, DeliveryOptions options,
                                                   server::Metrics& metrics, DecideFn decide) {
  // synchronous=NORMAL on the room's own connection: a WAL commit then holds SQLite's one write lock for microseconds
  // instead of an fsync, so the core's commits (FULL) never wait behind a send's fact (measured: the alert p99 at
  // 1,000 readings/s rose with a working gateway; docs/benchmarks.md). A killed process still loses nothing; a power
  // cut may forget the last facts, and such a message is sent once more: the bound the outbox promises after a crash.
  auto store = store::Store::Open(options.db_path, {.synchronous_full = false});
  if (!store) return store.error();
  return std::unique_ptr<Delivery>(
      new Delivery(network, std::move(options), metrics, std::move(decide), std::move(*store)));
}

Delivery::Delivery(const alerting::Network& network, DeliveryOptions options, server::Metrics& metrics, DecideFn decide,
                   std::unique_ptr<store::Store> store)
    : network_(network),
      options_(std::move(options)),
      metrics_(metrics),
      decide_(std::move(decide)),
      store_(std::move(store)),
      outbox_(std::make_unique<store::Outbox>(*store_)),
      line_rows_(std::make_unique<store::LineRows>(*store_)) {
  if (options_.sms) {
    Lane lane;
    lane.channel = Channel::kSms;
    lane.per_minute = options_.sms->per_minute;
    lanes_.push_back(std::move(lane));
  }
  if (options_.line) {
    Lane lane;
    lane.channel = Channel::kLine;
    lane.per_minute = options_.line->per_minute;
    lanes_.push_back(std::move(lane));
  }
  for (Lane& lane : lanes_) lane.bucket.per_second = std::max(lane.per_minute, 0.1) / 60.0;
  for (const auto& p : network_.people) {
    for (const auto& c : p.contacts) {
      if (c.channel == Channel::kSms && !c.address.empty()) person_by_number_[c.address] = p.id;
    }
  }
}

Delivery::~Delivery() { Stop(); }

void Delivery::SetCallbackUrl(const std::string& url) {
  if (options_.sms && options_.sms->callback_url.empty()) options_.sms->callback_url = url;
}

void Delivery::MakeSenders() {
  for (Lane& lane : lanes_) {
    if (lane.sender) continue;
    if (lane.channel == Channel::kSms) lane.sender = KannelSender(*options_.sms, network_, options_.http_timeout);
    if (lane.channel == Channel::kLine) lane.sender = LineSender(*options_.line, network_, options_.http_timeout);
  }
}

Delivery::Lane* Delivery::LaneOf(Channel channel) {
  for (Lane& lane : lanes_) {
    if (lane.channel == channel) return &lane;
  }
  return nullptr;
}

void Delivery::Start() {
  if (thread_.joinable()) return;
  MakeSenders();
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      try {
        RunOnce();
      } catch (const std::exception& e) {
        // A database error: nothing was recorded for the row in hand, and it is due again next round.
        if (log::ShouldLog("delivery_round")) log::Error("delivery", "a round of sending failed: {}", e.what());
      }
      if (busy_) continue;  // a full round: more may be due at once
      for (auto waited = std::chrono::milliseconds(0); waited < options_.poll && !stop_;
           waited += std::chrono::milliseconds(20)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  });
}

void Delivery::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<Channel> Delivery::channels() const {
  std::vector<Channel> out;
  for (const Lane& lane : lanes_) out.push_back(lane.channel);
  out.push_back(Channel::kWeb);
  return out;
}

Delivery::SeenOutcome Delivery::Seen(const std::string& person, const std::vector<std::string>& ids) {
  const alerting::TimePoint now = options_.clock.Now();
  SeenOutcome out;
  std::lock_guard lock(db_mu_);
  for (const std::string& id : ids) {
    const auto mine = outbox_->IsFor(id, person);
    if (!mine || !*mine) {
      out.kind = mine ? SeenOutcome::kNotYours : SeenOutcome::kUnknown;
      out.notification = id;
      return out;
    }
  }
  for (const std::string& id : ids) out.marked += outbox_->MarkSeen(id, person, now);
  return out;
}

void Delivery::RunOnce() {
  MakeSenders();
  SendAnswers();
  SendLineAnswers();
  const alerting::TimePoint now = options_.clock.Now();
  SendDue(now);
  FindUnreached(now);
  Gauges();
}

void Delivery::SendDue(alerting::TimePoint now) {
  if (lanes_.empty()) return;
  std::vector<store::DeliveryRow> due;
  constexpr int kRound = 64;
  {
    std::lock_guard lock(db_mu_);
    due = outbox_->Due(now, kRound);
  }
  for (Lane& lane : lanes_) lane.paused = false;
  // A full round whose lanes all had room: go again at once rather than after the poll interval.
  busy_ = due.size() == static_cast<std::size_t>(kRound);
  for (const store::DeliveryRow& row : due) {
    if (stop_) return;
    if (row.expires <= now) {
      std::lock_guard lock(db_mu_);
      outbox_->Move(row.id, DeliveryState::kExpired, now, "not sent before its step ended");
      metrics_.Count("kaoko_delivery_sends_total", fmt::format("{}_expired", alerting::ToString(row.channel)));
      continue;
    }
    Lane* lane = LaneOf(row.channel);
    if (!lane) {
      // Queued while a gateway was configured that is not any more: said, not kept waiting for ever.
      std::lock_guard lock(db_mu_);
      outbox_->Move(row.id, DeliveryState::kFailed, now,
                    fmt::format("no {} gateway is configured", alerting::ToString(row.channel)));
      continue;
    }
    if (!lane->paused) SendOne(row, *lane, now);
  }
  for (const Lane& lane : lanes_) busy_ = busy_ && !lane.paused;
}

void Delivery::SendOne(const store::DeliveryRow& row, Lane& lane, alerting::TimePoint now) {
  if (row.due > row.queued_at && row.attempts == 0) {
    // A later step of the ladder: not needed when an earlier channel reached the person already.
    std::lock_guard lock(db_mu_);
    if (auto on = outbox_->ReachedOn(row.notification, row.person, row.id)) {
      outbox_->Move(row.id, DeliveryState::kExpired, now,
                    fmt::format("not needed: reached by {} first", alerting::ToString(*on)));
      metrics_.Count("kaoko_delivery_sends_total", fmt::format("{}_not_needed", alerting::ToString(row.channel)));
      return;
    }
  }
  const alerting::Person* person = network_.FindPerson(row.person);
  const alerting::Contact* contact = person ? ConsentedContact(*person, row.channel) : nullptr;
  if (!contact) {
    std::lock_guard lock(db_mu_);
    if (outbox_->Move(row.id, DeliveryState::kFailed, now, "no consented contact on this channel any more"))
      outbox_->PullForward(row.notification, row.person, now);
    return;
  }
  const std::string address =
      row.channel == Channel::kLine ? LineAddress(row.person, contact->address) : contact->address;
  if (address.empty()) {
    std::lock_guard lock(db_mu_);
    // The ladder's next channel goes now rather than after its minutes.
    if (outbox_->Move(row.id, DeliveryState::kFailed, now, "LINE account not linked yet"))
      outbox_->PullForward(row.notification, row.person, now);
    return;
  }
  // The gateway's rate: the rest of this channel's rows wait, most urgent first (Outbox::Due's order).
  if (!lane.bucket.Take(Steady::now())) {
    lane.paused = true;
    return;
  }
  Outgoing out;
  out.address = address;
  out.delivery = row.id;
  {
    std::lock_guard lock(db_mu_);
    auto message = outbox_->Message(row.notification);
    if (!message) {
      outbox_->Move(row.id, DeliveryState::kFailed, now, "its message is not in the outbox");
      return;
    }
    std::string code;
    if (message->action != alerting::ActionNeeded::kNone) {
      code = outbox_->CodeFor(row.person, row.incident, message->action, message->level, now, FreshCode);
    }
    out.text = lane.sender->Render(*message, code);
    if (lane.sender->wants_retry_key()) {
      // Made and kept before the first attempt, so that every retry carries the same key.
      out.retry_key = row.gateway_ref.empty() ? NewRetryKey() : row.gateway_ref;
      if (row.gateway_ref.empty()) outbox_->SetGatewayRef(row.id, out.retry_key);
    }
  }
  const SendResult sent = lane.sender->Send(out);
  GatewayResult(lane, !sent.gateway_down, sent.reason);
  if (sent.gateway_down) lane.paused = true;  // the rest wait for the gateway; they are still queued
  Record(row, sent);
}

void Delivery::Record(const store::DeliveryRow& row, const SendResult& sent) {
  const alerting::TimePoint after = options_.clock.Now();
  const std::string channel = alerting::ToString(row.channel);
  std::lock_guard lock(db_mu_);
  switch (sent.kind) {
    case SendResult::kAccepted: {
      // Kannel gives no id of its own at sendsms: its reports name the delivery (dlr-url), and so does the row.
      const std::string ref = sent.gateway_ref.empty() ? std::to_string(row.id) : sent.gateway_ref;
      if (outbox_->Move(row.id, DeliveryState::kSent, after, {}, ref) ||
          outbox_->NoteLate(row.id, DeliveryState::kSent, after, ref)) {
        metrics_.delivery_to_sent.Observe(Seconds(row.queued_at, after));
      }
      metrics_.Count("kaoko_delivery_sends_total", channel + "_sent");
      break;
    }
    case SendResult::kRetry:
      outbox_->Retry(row.id, after + std::max(sent.retry_after, alerting::RetryBackoff(row.attempts + 1)), sent.reason);
      metrics_.Count("kaoko_delivery_sends_total", channel + "_retry");
      if (log::ShouldLog("delivery_retry"))
        log::Warn("delivery", "delivery {} ({}) not sent, tried again later: {}", row.id, channel, sent.reason);
      break;
    case SendResult::kRefused:
      // The ladder's next channel goes now rather than after its minutes.
      if (outbox_->Move(row.id, DeliveryState::kFailed, after, sent.reason))
        outbox_->PullForward(row.notification, row.person, after);
      metrics_.Count("kaoko_delivery_sends_total", channel + "_failed");
      log::Warn("delivery", "delivery {} ({}) failed: {}", row.id, channel, sent.reason);
      break;
  }
}

void Delivery::FindUnreached(alerting::TimePoint now) {
  const auto within = network_.delivery.not_reached;
  if (!unreached_ || within.count() <= 0) return;
  const auto steady = Steady::now();
  if (steady < next_unreached_check_) return;
  next_unreached_check_ = steady + std::chrono::seconds(2);
  std::vector<store::UnreachedPerson> found;
  {
    std::lock_guard lock(db_mu_);
    found = outbox_->Unreached(now - within, now - std::chrono::hours(24));
  }
  for (const auto& u : found) {
    std::vector<std::string> others;
    {
      std::lock_guard lock(db_mu_);
      others = outbox_->UnreachedOf(u.incident, u.action);
    }
    if (!unreached_(u.incident, u.person, u.action, others, u.every_channel_failed))
      continue;  // the core is busy or down: next time
    std::lock_guard lock(db_mu_);
    outbox_->MarkUnreached(u, now);
    metrics_.Count("kaoko_delivery_sends_total", "person_not_reached");
    log::Info("delivery", "{} ({}) on incident {}: not reached on any channel{}", u.person,
              alerting::ToString(u.action), u.incident, u.every_channel_failed ? " (every channel failed)" : "");
  }
}

void Delivery::GatewayResult(Lane& lane, bool ok, const std::string& reason) {
  std::lock_guard lock(problem_mu_);
  if (ok) {
    lane.failing_since.reset();
    lane.last_failure.clear();
    return;
  }
  if (!lane.failing_since) lane.failing_since = Steady::now();
  lane.last_failure = reason;
}

std::string Delivery::Problem() const {
  std::lock_guard lock(problem_mu_);
  std::string out;
  for (const Lane& lane : lanes_) {
    if (!lane.failing_since) continue;
    const auto down = Steady::now() - *lane.failing_since;
    if (down < options_.down_after) continue;
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: the gateway has failed for {} s: {}", alerting::ToString(lane.channel),
                       std::chrono::duration_cast<std::chrono::seconds>(down).count(), lane.last_failure);
  }
  return out;
}

void Delivery::Gauges() {
  std::map<std::string, double> values;
  {
    std::lock_guard lock(db_mu_);
    for (Channel c : channels()) {
      for (int s = 0; s <= static_cast<int>(DeliveryState::kExpired); ++s) {
        const auto state = static_cast<DeliveryState>(s);
        values[fmt::format("{}/{}", alerting::ToString(c), alerting::ToString(state))] =
            static_cast<double>(outbox_->Count(c, state));
      }
    }
  }
  metrics_.SetGauge("kaoko_deliveries", values);
}

void Delivery::Answered(const std::string& number, std::string text) {
  std::lock_guard lock(answers_mu_);
  answers_.emplace_back(number, std::move(text));
}

void Delivery::SendAnswers() {
  Lane* sms = LaneOf(Channel::kSms);
  if (!sms || !sms->sender) return;
  for (;;) {
    std::pair<std::string, std::string> next;
    {
      std::lock_guard lock(answers_mu_);
      if (answers_.empty()) return;
      if (!sms->bucket.Take(Steady::now())) return;
      next = std::move(answers_.front());
      answers_.pop_front();
    }
    const SendResult r = sms->sender->Send({next.first, next.second, 0, {}});
    GatewayResult(*sms, !r.gateway_down, r.reason);
    metrics_.Count("kaoko_delivery_sends_total",
                   r.kind == SendResult::kAccepted ? "sms_answer_sent" : "sms_answer_lost");
    if (r.kind != SendResult::kAccepted) log::Warn("delivery", "an answer to an SMS reply was not sent: {}", r.reason);
  }
}

bool Delivery::TokenOk(const std::map<std::string, std::string>& query) const {
  if (!options_.sms || options_.sms->callback_token.empty()) return false;
  const std::string given = Get(query, "k");
  const std::string& want = options_.sms->callback_token;
  return given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

Answer Delivery::SmsReport(const std::map<std::string, std::string>& q) {
  if (!TokenOk(q)) {
    metrics_.Count("kaoko_sms_reports_total", "refused");
    return {403, "not the gateway's token\n"};
  }
  std::int64_t id = 0;
  int type = 0;
  try {
    id = std::stoll(Get(q, "d"));
    type = std::stoi(Get(q, "type"));
  } catch (const std::exception&) {
    metrics_.Count("kaoko_sms_reports_total", "malformed");
    return {400, "d (the delivery) and type (Kannel's %d) must be numbers\n"};
  }
  const alerting::TimePoint now = options_.clock.Now();
  std::lock_guard lock(db_mu_);
  auto row = outbox_->Find(id);
  if (!row || row->channel != Channel::kSms) {
    metrics_.Count("kaoko_sms_reports_total", "unknown");
    return {404, fmt::format("no SMS delivery {}\n", id)};
  }
  // Kannel's type is a bit mask: 1 delivered to the phone, 2 failed at the phone, 4 buffered, 8 accepted by the
  // SMSC, 16 refused by the SMSC (an expiry came as 34: failed, with the reason in reply).
  const std::string reply = Get(q, "reply").substr(0, 160);
  if (type & 1) {
    if (outbox_->Move(id, DeliveryState::kDelivered, now) || outbox_->NoteLate(id, DeliveryState::kDelivered, now))
      metrics_.delivery_to_delivered.Observe(Seconds(row->queued_at, now));
    metrics_.Count("kaoko_sms_reports_total", "delivered");
  } else if (type & (2 | 16)) {
    if (outbox_->Move(
            id, DeliveryState::kFailed, now,
            fmt::format("the phone network reported {}: {}", (type & 16) ? "a refusal" : "a failure", reply))) {
      outbox_->PullForward(row->notification, row->person, now);
    }
    metrics_.Count("kaoko_sms_reports_total", "failed");
  } else {
    metrics_.Count("kaoko_sms_reports_total", "intermediate");  // buffered or accepted by the SMSC: still sent
  }
  return {200, "ok\n"};
}

Answer Delivery::SmsReply(const std::map<std::string, std::string>& q) {
  if (!TokenOk(q)) {
    metrics_.Count("kaoko_sms_replies_total", "refused");
    return {403, "not the gateway's token\n"};
  }
  const std::string number = NormalizeNumber(Get(q, "from"));
  auto who = person_by_number_.find(number);
  if (number.empty() || who == person_by_number_.end()) {
    metrics_.Count("kaoko_sms_replies_total", "unknown_number");
    log::Warn("delivery", "an SMS reply from a number no one in the network has was refused");
    if (!number.empty()) Answered(number, answer::UnknownNumber());
    return {200, ""};
  }
  const std::string& person = who->second;
  auto parsed = ParseReply(Get(q, "text"));
  if (!parsed) {
    metrics_.Count("kaoko_sms_replies_total", "unreadable");
    log::Warn("delivery", "an SMS reply from {} could not be read", person);
    Answered(number, answer::Unreadable());
    return {200, ""};
  }
  std::optional<store::ReplyCode> code;
  {
    std::lock_guard lock(db_mu_);
    code = outbox_->Code(person, parsed->code);
  }
  if (!code) {
    metrics_.Count("kaoko_sms_replies_total", "wrong_code");
    log::Warn("delivery", "an SMS reply from {} carried a code that is not theirs", person);
    Answered(number, answer::WrongCode(parsed->code));
    return {200, ""};
  }
  if (code->used_at) {
    metrics_.Count("kaoko_sms_replies_total", "used_code");
    log::Warn("delivery", "an SMS reply from {} carried a code already used", person);
    Answered(number, answer::UsedCode(parsed->code));
    return {200, ""};
  }
  const alerting::TimePoint now = options_.clock.Now();
  const wire::DecisionMsg d = ReplyDecision(*code, parsed->choice, "sms", "ตอบทาง SMS · replied by SMS", now);
  const DecideOutcome outcome = decide_ ? decide_(person, d, "sms") : DecideOutcome{false, "no core to decide"};
  if (!outcome.ok) {
    metrics_.Count("kaoko_sms_replies_total", "refused_by_chain");
    log::Warn("delivery", "an SMS reply from {} was not taken: {}", person, outcome.error);
    Answered(number, answer::Refused(outcome.error));
    return {200, ""};
  }
  {
    std::lock_guard lock(db_mu_);
    outbox_->UseCode(person, parsed->code, now);
  }
  metrics_.Count("kaoko_sms_replies_total", "accepted");
  log::Info("delivery", "{} answered incident {} by SMS: {}", person, code->incident, alerting::ToString(d.action));
  Answered(number, answer::Accepted(code->action, parsed->choice, code->incident));
  return {200, ""};
}

}  // namespace kaoko::delivery
