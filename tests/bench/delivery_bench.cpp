// kaoko-delivery-bench: the last mile's figures (issue 23), side by side with their reference in one run, through the
// real Kannel (bearerbox + smsbox) and kaoko-smsc on loopback, with the delivery room (server/delivery/) as
// kaoko-server runs it: its own thread and database connection, the outbox in a real SQLite file.
//
//   1. A province alert to N people (default 10,000) at the gateway's configured rate: the time until Kannel has
//      accepted the last, against the rate's own minimum (N / rate).
//   2. With M information messages (default 5,000) queued, the headman's confirm request queued after them: the time
//      until it reaches the SMSC, against "2 s plus one gateway send" (the issue's figure).
//
//   ./kaoko bench-delivery [--people N] [--info M] [--rate PER_MINUTE] [--record docs/benchmarks.md]
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "../sms/sms_support.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/harness.hpp"

using namespace kaoko;
using Steady = std::chrono::steady_clock;

namespace {

constexpr const char* kPhones = R"(
[smsc]
system_id = "kaoko"
password = "secret"
short_code = "4455"
message_ids = "hex"
unknown_numbers = "deliver"
)";
constexpr const char* kHeadman = "+66899000001";

std::string Number(int i) { return fmt::format("+6681{:07}", i); }

// A province's people as the delivery room sees them: an id and a consented SMS contact each.
alerting::Network People(int n) {
  alerting::Network net;
  net.tambon = "bench";
  net.villages.push_back({"v1", "บ้านทดสอบ", "Test village", 1, {}, 0, 0});
  for (int i = 0; i <= n; ++i) {
    alerting::Person p;
    p.id = i == 0 ? "headman" : fmt::format("p{}", i);
    p.role = i == 0 ? alerting::Role::kHeadman : alerting::Role::kWatcher;
    p.village = "v1";
    p.contacts.push_back({alerting::Channel::kSms, i == 0 ? kHeadman : Number(i),
                          std::chrono::sys_days(std::chrono::year(2026) / 6 / 1)});
    net.people.push_back(std::move(p));
  }
  net.BuildIndex();
  return net;
}

void QueueMessages(store::Store& s, const std::string& notification, alerting::ActionNeeded action, int first,
                   int count, alerting::TimePoint now) {
  store::Outbox box(s);
  s.Begin();
  box.Remember(
      {notification, 1, "v1", alerting::Level::kCritical, action, "น้ำท่วม", "Flood", std::nullopt, false, false});
  for (int i = first; i < first + count; ++i) {
    store::DeliveryRow r;
    r.notification = notification;
    r.incident = 1;
    r.person = i == 0 ? "headman" : fmt::format("p{}", i);
    r.channel = alerting::Channel::kSms;
    r.urgency = alerting::UrgencyOf(action);
    r.due = r.queued_at = now;
    r.expires = now + std::chrono::hours(6);
    box.Queue(r);
  }
  s.Commit();
}

struct Rig {
  testing::TempDir dir;
  std::unique_ptr<testing::SmsRig> sms;
  alerting::Network net;
  server::Metrics metrics;
  std::unique_ptr<store::Store> writer;
  std::unique_ptr<delivery::Delivery> room;

  Rig(int people, double per_minute) : net(People(people)) {
    sms = std::make_unique<testing::SmsRig>(testing::SmsRigOptions{kPhones, "0x03", "", 0});
    const std::string db = dir.path() + "/bench.db";
    writer = std::move(*store::Store::Open(db));
    delivery::DeliveryOptions o;
    o.db_path = db;
    o.clock = Clock::Wall();
    delivery::SmsGateway gw;
    gw.sendsms_url = fmt::format("http://127.0.0.1:{}/cgi-bin/sendsms", sms->sendsms_port());
    gw.username = "kaoko";
    gw.password = "secret";
    gw.per_minute = per_minute;
    o.sms = gw;
    room = std::move(*delivery::Delivery::Create(net, o, metrics, nullptr));
  }
  std::int64_t Sent() { return store::Outbox(*writer).Count(alerting::Channel::kSms, alerting::DeliveryState::kSent); }
};

std::string Seconds(Steady::duration d) { return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count()); }

}  // namespace

int main(int argc, char** argv) {
  int people = 10000, info = 5000;
  double rate = 6000;
  std::string record;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--people")
      people = std::stoi(next());
    else if (a == "--info")
      info = std::stoi(next());
    else if (a == "--rate")
      rate = std::stod(next());
    else if (a == "--record")
      record = next();
    else {
      std::cerr << "usage: kaoko-delivery-bench [--people N] [--info M] [--rate PER_MINUTE] [--record FILE]\n";
      return 2;
    }
  }
  std::ostringstream table;
  table << "| Measure | kaoko | Reference |\n|---|---|---|\n";

  {  // 1. A province alert at the gateway's rate.
    Rig rig(people, rate);
    QueueMessages(*rig.writer, "n-province", alerting::ActionNeeded::kNone, 1, people, Clock::Wall().Now());
    const auto t0 = Steady::now();
    rig.room->Start();
    while (rig.Sent() < people && Steady::now() - t0 < std::chrono::minutes(30)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto took = Steady::now() - t0;
    rig.room->Stop();
    const double minimum = people / (rate / 60.0);
    table << fmt::format(
        "| A province alert to {} people through Kannel at {:.0f} SMS/min: last accepted after | {} ({} sent) | "
        "the rate's own minimum {:.1f} s |\n",
        people, rate, Seconds(took), rig.Sent(), minimum);
    std::cerr << "province: " << Seconds(took) << "\n";
  }
  {  // 2. The headman's confirm request behind a queue of information.
    Rig rig(info, rate);
    QueueMessages(*rig.writer, "n-info", alerting::ActionNeeded::kNone, 1, info, Clock::Wall().Now());
    rig.room->Start();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the information is going out
    const auto before = rig.Sent();
    const auto t0 = Steady::now();
    QueueMessages(*rig.writer, "n-confirm", alerting::ActionNeeded::kConfirm, 0, 1, Clock::Wall().Now());
    nlohmann::json inbox;
    while (Steady::now() - t0 < std::chrono::seconds(60)) {
      inbox = rig.sms->Control(std::string("inbox ") + kHeadman);
      if (!inbox.is_null() && !inbox["messages"].empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto took = Steady::now() - t0;
    const auto info_left = info - rig.Sent();
    rig.room->Stop();
    table << fmt::format(
        "| The headman's confirm request queued behind {} information messages ({} already sent, {} still "
        "queued): at the SMSC after | {} | 2 s + one send ({:.2f} s) |\n",
        info, before, info_left, Seconds(took), 2.0 + 60.0 / rate);
    std::cerr << "priority: " << Seconds(took) << "\n";
  }
  const std::string text = table.str();
  std::cout << text;
  if (!record.empty()) {
    std::ifstream in(record);
    std::stringstream all;
    all << in.rdbuf();
    std::string doc = all.str();
    const std::string start = "<!-- delivery-bench:start -->", end = "<!-- delivery-bench:end -->";
    const auto a = doc.find(start), b = doc.find(end);
    if (a == std::string::npos || b == std::string::npos) {
      std::cerr << record << " has no " << start << " … " << end << " markers\n";
      return 1;
    }
    doc = doc.substr(0, a + start.size()) + "\n" + text + doc.substr(b);
    std::ofstream(record) << doc;
  }
  return 0;
}
