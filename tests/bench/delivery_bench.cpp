// kaoko-delivery-bench: the last mile's figures (issue 23), side by side with their reference in one run, through the
// real Kannel (bearerbox + smsbox) and kaoko-smsc on loopback, with the delivery room (server/delivery/) as
// kaoko-server runs it: its own thread and database connection, the outbox in a real SQLite file.
//
//   1. A province alert to N people (default 10,000) at the gateway's configured rate: the time until Kannel has
//      accepted the last, against the rate's own minimum (N / rate).
//   2. With M information messages (default 5,000) queued, the headman's confirm request queued after them: the time
//      until it reaches the SMSC, against "2 s plus one gateway send" (the issue's figure).
//   3. kaoko's alert p99 at 1,000 readings/s with the gateway alive against dead: the real kaoko-server behind a
//   private
//      Mosquitto, every person of the network with a consented SMS contact and SMS at once on every alert, so that each
//      latency probe's alert queues SMS and the delivery room is busy; phase A with Kannel and kaoko-smsc accepting,
//      phase B with Kannel killed (every send fails, the room backs off). Same load, same length, same processes.
//
//   ./kaoko bench-delivery [--quick] [--people N] [--info M] [--rate PER_MINUTE] [--latency-seconds S]
//                          [--record docs/benchmarks.md]
// Modes run by the orchestrator itself (the load publishers): kaoko-delivery-bench publish …, … count-subscriber …
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "../sms/sms_support.hpp"
#include "bench_run.hpp"
#include "kaoko/contract/network_file.hpp"
#include "kaoko/delivery/delivery.hpp"
#include "kaoko/store/outbox.hpp"
#include "kaoko/store/store.hpp"
#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

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

struct Settings {
  int people = 10000, info = 5000;
  double rate = 6000;                         // the gateway's SMS per minute
  int latency_seconds = 25, probe_rate = 20;  // figure 3: each phase's length, latency probes a second
  int stations = 10000, villages = 1000;      // figure 3's network (load stations, load villages)
  std::string record;
};

// 1. A province alert at the gateway's rate.
void ProvinceAlert(const Settings& o, std::ostream& table) {
  Rig rig(o.people, o.rate);
  QueueMessages(*rig.writer, "n-province", alerting::ActionNeeded::kNone, 1, o.people, Clock::Wall().Now());
  const auto t0 = Steady::now();
  rig.room->Start();
  while (rig.Sent() < o.people && Steady::now() - t0 < std::chrono::minutes(30)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto took = Steady::now() - t0;
  rig.room->Stop();
  const double minimum = o.people / (o.rate / 60.0);
  table << fmt::format(
      "| A province alert to {} people through Kannel at {:.0f} SMS/min: last accepted after | {} ({} sent) | "
      "the rate's own minimum {:.1f} s |\n",
      o.people, o.rate, Seconds(took), rig.Sent(), minimum);
  std::cerr << "province: " << Seconds(took) << "\n";
}

// 2. The headman's confirm request behind a queue of information.
void HeadmanBehindInformation(const Settings& o, std::ostream& table) {
  Rig rig(o.info, o.rate);
  QueueMessages(*rig.writer, "n-info", alerting::ActionNeeded::kNone, 1, o.info, Clock::Wall().Now());
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
  const auto info_left = o.info - rig.Sent();
  rig.room->Stop();
  table << fmt::format(
      "| The headman's confirm request queued behind {} information messages ({} already sent, {} still "
      "queued): at the SMSC after | {} | 2 s + one send ({:.2f} s) |\n",
      o.info, before, info_left, Seconds(took), 2.0 + 60.0 / o.rate);
  std::cerr << "priority: " << Seconds(took) << "\n";
}

// ---------------------------------------------------------------- 3. alert latency, gateway alive and dead

constexpr const char* kToken = "bench-callback-token-7d41c0e2";
constexpr int kSettleSeconds = 5;

// kaoko's counters from /metrics: readings stored, and the delivery room's sends by result ("sms_sent", "sms_retry"…).
struct KaokoCounts {
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> sends;
};

KaokoCounts ReadCounts(const testing::ServiceProcess& kaoko) {
  KaokoCounts c;
  const auto res = kaoko.Get("/metrics");
  std::istringstream in(res.body);
  const std::string sends = "kaoko_delivery_sends_total{result=\"";
  for (std::string line; std::getline(in, line);) {
    const auto value = [&] { return std::stoull(line.substr(line.rfind(' ') + 1)); };
    if (line.rfind("kaoko_readings_accepted_total ", 0) == 0) c.accepted = value();
    if (line.rfind(sends, 0) == 0)
      c.sends[line.substr(sends.size(), line.find('"', sends.size()) - sends.size())] = value();
  }
  return c;
}

// The SMS sends of a phase by result: "1,234 sent, 0 retried, 0 failed".
std::string SendsText(const KaokoCounts& before, const KaokoCounts& after) {
  auto delta = [&](const std::string& k) {
    const auto a = after.sends.count(k) ? after.sends.at(k) : 0;
    const auto b = before.sends.count(k) ? before.sends.at(k) : 0;
    return a - std::min(a, b);
  };
  return fmt::format("{} sent, {} retried, {} failed", delta("sms_sent"), delta("sms_retry"), delta("sms_failed"));
}

// The probe villages' people: a headman and a committee member each, with consented SMS contacts (+6683…).
void AppendProbePeople(int probes, const std::string& path) {
  std::string out = "\n# kaoko-delivery-bench: the probe villages' people, reached by SMS.\n";
  for (int k = 0; k < probes; ++k) {
    const char* roles[2][2] = {{"head", "headman"}, {"comm", "committee"}};
    for (int r = 0; r < 2; ++r) {
      out += fmt::format(
          "[[people]]\nid = \"{}-{}\"\nname_th = \"คนทดสอบ {}\"\nrole = \"{}\"\nvillage = \"{}\"\n"
          "contacts = [{{ channel = \"sms\", number = \"+6683{:07}\", consent = 2026-06-01 }}]\n\n",
          roles[r][0], bench::ProbeVillage(k), k, roles[r][1], bench::ProbeVillage(k), 2 * k + r);
    }
  }
  std::ofstream(path, std::ios::binary | std::ios::app) << out;
}

std::string SpreadText(const bench::Spread& s) {
  return fmt::format("{:.2f} / {:.2f} / {:.2f} ms", s.p50, s.p99, s.max);
}

// Phases A (gateway alive) and B (Kannel killed) against one kaoko-server, each `latency_seconds` of 1,000
// readings/s with probes, after a warm-up reading from every station.
void GatewayDeadAlive(const Settings& s, std::ostream& table) {
  using namespace std::chrono_literals;
  testing::TempDir tmp;
  const std::string dir = tmp.path();
  bench::Options o;
  o.latency_seconds = s.latency_seconds;
  o.probe_rate = s.probe_rate;
  o.net.probes = (2 * s.latency_seconds + kSettleSeconds) * s.probe_rate + 10;
  const std::string network = dir + "/network.toml";
  const std::string gen = fmt::format("bash '{}/tests/bench/gen-network.sh' --stations {} --villages {} --sms > '{}'",
                                      testing::SourceDir(), s.stations, s.villages, network);
  if (std::system(gen.c_str()) != 0) throw std::runtime_error("failed: " + gen);
  bench::AppendProbes(o.net.probes, network);
  AppendProbePeople(o.net.probes, network);
  {
    auto net = config::LoadNetwork(network);
    if (!net) throw std::runtime_error("the benchmark network does not load: " + net.error().reason);
    o.net.tambon = net->tambon;
    o.net.tao = "tao-1";
    o.net.topics_file = dir + "/topics.txt";
    std::ofstream topics(o.net.topics_file);
    int load = 0;
    for (const auto& st : net->stations) {
      if (st.id.rfind("ps", 0) == 0) continue;  // a probe station
      topics << fmt::format("kaoko/v1/{}/{}/station/{}/reading\n", net->tambon, st.village, st.id);
      ++load;
    }
    o.net.stations = load;
  }
  bench::WriteAccountsToml(o.net, dir + "/accounts.toml");
  testing::BrokerOptions bo;
  bo.network_file = dir + "/accounts.toml";
  testing::Broker broker(bo);
  std::ofstream(broker.accounts_dir() + "/credentials.toml", std::ios::app)
      << fmt::format("\n[sms]\nusername = \"kaoko\"\npassword = \"secret\"\ncallback_token = \"{}\"\n", kToken);
  const int sendsms = testing::FreePort();
  const std::string trace = dir + "/alerts.trace";
  ::setenv("KAOKO_ALERT_TRACE", trace.c_str(), 1);  // inherited by kaoko-server
  testing::ServiceProcess kaoko(
      broker, dir + "/kaoko.db",
      {"--network", network, "--sms-gateway", fmt::format("http://127.0.0.1:{}/cgi-bin/sendsms", sendsms), "--sms-rate",
       fmt::format("{:.0f}", s.rate)},
      false);
  if (!kaoko.WaitHealthy(120s)) throw std::runtime_error("kaoko-server was not healthy in 120 s:\n" + kaoko.Log());
  testing::SmsRigOptions ro{kPhones, "0x03", "", sendsms};
  ro.get_url =
      fmt::format("http://127.0.0.1:{}/api/v1/delivery/sms/reply?k={}&from=%p&text=%b", kaoko.http_port(), kToken);
  testing::SmsRig sms(ro);

  bench::Runner runner(o, dir, broker);
  {  // The warm-up: every station has reported once before the measured phases.
    auto c = runner.StartPublishers("warmup", static_cast<std::uint64_t>(o.net.stations), 0);
    runner.WaitReady(c, {0, 1});
    runner.Go();
    const bool stored = testing::WaitFor(
        [&] { return ReadCounts(kaoko).accepted >= static_cast<std::uint64_t>(o.net.stations); }, 120s);
    runner.Finish(c);
    if (!stored) throw std::runtime_error("kaoko had not stored the warm-up (a reading from every station) in 120 s");
  }
  bench::AlertProbes probes(runner);
  auto phase = [&](const char* name, int seconds) {
    std::cerr << fmt::format("alert latency at 1,000 readings/s, gateway {}, {} s…\n", name, seconds);
    const KaokoCounts before = ReadCounts(kaoko);
    bench::Lat l = probes.Run(1000, seconds);
    l.where = bench::WhereTimeWent(l.probes, trace);
    std::this_thread::sleep_for(2s);  // the last probes' SMS go out (or fail)
    const std::string sends = SendsText(before, ReadCounts(kaoko));
    std::cerr << fmt::format("   p50/p99/max {} ({} probes, {} missing); SMS {}\n", SpreadText(l.s), l.sent, l.missing,
                             sends);
    return std::make_pair(l, sends);
  };
  // An unmeasured first phase: the first alerts of a fresh kaoko (and their first SMS) cost more than the later ones,
  // which would count against whichever phase came first.
  phase("alive (settling, not counted)", kSettleSeconds);
  const auto alive = phase("alive", s.latency_seconds);
  sms.KillKannel();
  const auto dead = phase("dead", s.latency_seconds);
  probes.Disconnect();

  const double diff = dead.first.s.p99 - alive.first.s.p99;
  const auto row = [&](const char* name, const std::pair<bench::Lat, std::string>& p) {
    return fmt::format(
        "| kaoko's alert latency at 1,000 readings/s, SMS gateway {} (p50 / p99 / max over {} probes, {} missing; "
        "SMS in the phase: {}) | {} | |\n",
        name, p.first.sent, p.first.missing, p.second, SpreadText(p.first.s));
  };
  table << row("alive (Kannel and kaoko-smsc accepting)", alive);
  table << row("dead (Kannel killed: sendsms refused)", dead);
  table << fmt::format("| … p99 with the gateway dead minus alive | {:+.2f} ms | goal ≤ 1 ms apart: met {} |\n", diff,
                       std::fabs(diff) <= 1.0 ? "**yes**" : "**no**");
  table << fmt::format("\nWhere the alert time went, p50 / p90 ms (kaoko's alert trace), gateway alive: {}.\n",
                       alive.first.where);
  table << fmt::format("Gateway dead: {}.\n", dead.first.where);
}

int Usage() {
  std::cerr << "usage: kaoko-delivery-bench [--quick] [--people N] [--info M] [--rate PER_MINUTE] "
               "[--latency-seconds S] [--stations N] [--no-latency] [--record FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "publish") return bench::PublisherMain(argc, argv);
  if (mode == "count-subscriber") return bench::CountSubscriberMain(argc, argv);
  Settings o;
  bool latency = true;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {  // first, so that the numbers given after it win
      o.people = 2000;
      o.info = 1000;
      o.latency_seconds = 8;
      o.stations = 4000;
      o.villages = 400;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--quick")
      continue;
    else if (a == "--people")
      o.people = std::stoi(next());
    else if (a == "--info")
      o.info = std::stoi(next());
    else if (a == "--rate")
      o.rate = std::stod(next());
    else if (a == "--latency-seconds")
      o.latency_seconds = std::stoi(next());
    else if (a == "--stations")
      o.stations = std::stoi(next());
    else if (a == "--no-latency")
      latency = false;
    else if (a == "--record")
      o.record = next();
    else
      return Usage();
  }
  bench::StopOnSignals();
  const auto load_average = [] {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  };
  const std::string load_before = load_average();
  std::ostringstream table;
  table << "| Measure | kaoko | Reference |\n|---|---|---|\n";
  try {
    ProvinceAlert(o, table);
    HeadmanBehindInformation(o, table);
    if (latency) GatewayDeadAlive(o, table);
  } catch (const std::exception& e) {
    std::cerr << "kaoko-delivery-bench: harness error: " << e.what() << "\n";
    return 1;
  }
  table << fmt::format("\nLoad average (1, 5, 15 min) before the run {}, after it {}.\n", load_before, load_average());
  const std::string text = table.str();
  std::cout << text;
  if (!o.record.empty()) {
    std::ifstream in(o.record);
    std::stringstream all;
    all << in.rdbuf();
    std::string doc = all.str();
    const std::string start = "<!-- delivery-bench:start -->", end = "<!-- delivery-bench:end -->";
    const auto a = doc.find(start), b = doc.find(end);
    if (a == std::string::npos || b == std::string::npos) {
      std::cerr << o.record << " has no " << start << " … " << end << " markers\n";
      return 1;
    }
    doc = doc.substr(0, a + start.size()) + "\n" + text + doc.substr(b);
    std::ofstream(o.record) << doc;
  }
  return 0;
}
