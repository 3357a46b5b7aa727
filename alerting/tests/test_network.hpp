// Test helpers: the Ton Hong example network (config/tonhong.toml) built in code, a fixed clock, and short-hands
// for the engine's inputs and for looking into its effects.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

#include "kaoko/alerting/engine.hpp"
#include "kaoko/alerting/network.hpp"

namespace kaoko::alerting::testing {

using namespace std::chrono_literals;

// A threshold with its landmark, as the network file gives it.
struct ThresholdSpec {
  double cm = 0;
  std::string th;
  std::string en;
};
inline ThresholdSpec Th(double cm, std::string th, std::string en) { return {cm, std::move(th), std::move(en)}; }

inline Station MakeStation(std::string id, std::string village, std::string th, std::string en, ThresholdSpec w,
                           ThresholdSpec wa, ThresholdSpec c) {
  Station s;
  s.id = std::move(id);
  s.village = std::move(village);
  s.texts = StationTexts({th, en, w.th, w.en, wa.th, wa.en, c.th, c.en});
  s.watch.cm = w.cm;
  s.warning.cm = wa.cm;
  s.critical.cm = c.cm;
  return s;
}

inline Village MakeVillage(std::string id, std::string th, std::string en, int moo, int travel_minutes, double lat,
                           double lon) {
  Village v;
  v.id = std::move(id);
  v.name_th = std::move(th);
  v.name_en = std::move(en);
  v.moo = moo;
  v.travel_to_next = std::chrono::minutes(travel_minutes);
  v.lat = lat;
  v.lon = lon;
  return v;
}

inline Person MakePerson(std::string id, std::string th, std::string en, Role role, std::string village) {
  Person p;
  p.id = std::move(id);
  p.name_th = std::move(th);
  p.name_en = std::move(en);
  p.role = role;
  p.village = std::move(village);
  return p;
}

// Mirrors config/tonhong.toml (policies at their defaults, which equal the file's values).
inline Network TonHong() {
  Network n;
  n.tambon = "tonhong";
  n.tambon_name_th = "ตำบลทอนหงส์";
  n.tambon_name_en = "Ton Hong";
  n.district_th = "อำเภอพรหมคีรี";
  n.province_th = "จังหวัดนครศรีธรรมราช";
  n.province_en = "Nakhon Si Thammarat";
  n.geocode = "800306";
  n.villages = {
      MakeVillage("huaiphan", "บ้านห้วยพาน", "Ban Huai Phan", 1, 60, 8.5412, 99.7981),
      MakeVillage("kaoko", "บ้านเก้ากอ", "Ban Kao Ko", 2, 90, 8.5330, 99.8167),
      MakeVillage("thonhong", "บ้านทอนหงส์", "Ban Thon Hong", 3, 75, 8.5201, 99.8352),
      MakeVillage("nanuea", "บ้านนาเหนือ", "Ban Na Nuea", 4, 120, 8.5087, 99.8560),
      MakeVillage("pakkhlong", "บ้านปากคลอง", "Ban Pak Khlong", 5, 0, 8.4925, 99.8801),
  };
  n.stations = {
      MakeStation("huaiphan-weir", "huaiphan", "ฝายห้วยพาน", "Huai Phan weir",
                  Th(180, "โคนต้นยางริมฝาย", "the foot of the rubber tree by the weir"),
                  Th(240, "สันฝาย", "the top of the weir"), Th(300, "ถนนหน้าโรงเรียน", "the road by the school")),
      MakeStation("kaoko-bridge", "kaoko", "สะพานบ้านเก้ากอ", "Kao Ko bridge", Th(250, "ขั้นบันไดวัด", "the temple steps"),
                  Th(320, "คอสะพาน", "the bridge approach"), Th(400, "ลานวัด", "the temple yard")),
      MakeStation("kaoko-temple", "kaoko", "ท่าน้ำวัดเก้ากอ", "Kao Ko temple pier",
                  Th(200, "ท่าน้ำขั้นที่สาม", "the third step of the pier"), Th(260, "ศาลาท่าน้ำ", "the pier pavilion floor"),
                  Th(330, "กำแพงวัด", "the temple wall")),
      MakeStation("thonhong-bridge", "thonhong", "สะพานทอนหงส์", "Thon Hong bridge",
                  Th(260, "ตอม่อสะพานแถบขาว", "the white band on the bridge pier"),
                  Th(330, "ตลิ่งหน้าตลาด", "the bank by the market"), Th(410, "ถนนสายหลัก", "the main road")),
      MakeStation("nanuea-culvert", "nanuea", "ท่อลอดนาเหนือ", "Na Nuea culvert",
                  Th(150, "ปากท่อลอด", "the culvert mouth"), Th(210, "คันนา", "the paddy dyke"),
                  Th(270, "ศาลาหมู่บ้าน", "the village hall")),
      MakeStation("pakkhlong-pier", "pakkhlong", "ท่าเรือปากคลอง", "Pak Khlong pier", Th(220, "พื้นท่าเรือ", "the pier deck"),
                  Th(280, "ร้านค้าริมน้ำ", "the riverside shops"), Th(350, "อนามัย", "the health centre")),
  };
  n.people = {
      MakePerson("somchai", "สมชาย ใจดี", "Somchai Jaidee", Role::kWatcher, "kaoko"),
      MakePerson("malee", "มาลี ศรีสุข", "Malee Srisuk", Role::kWatcher, "kaoko"),
      MakePerson("prasert", "ประเสริฐ ทองดี", "Prasert Thongdee", Role::kCommittee, "kaoko"),
      MakePerson("wanna", "วรรณา แก้วมณี", "Wanna Kaewmanee", Role::kCommittee, "kaoko"),
      MakePerson("boonmee", "บุญมี รักษ์ถิ่น", "Boonmee Rakthin", Role::kHeadman, "kaoko"),
      MakePerson("suda", "สุดา พรหมแก้ว", "Suda Phromkaew", Role::kDeputy, "kaoko"),
      MakePerson("anan", "อนันต์ ชูช่วย", "Anan Chuchuay", Role::kWatcher, "huaiphan"),
      MakePerson("kanya", "กัญญา นาคสุข", "Kanya Naksuk", Role::kCommittee, "huaiphan"),
      MakePerson("chaiwat", "ชัยวัฒน์ เพชรรัตน์", "Chaiwat Phetcharat", Role::kHeadman, "huaiphan"),
      MakePerson("nipa", "นิภา ทองคำ", "Nipa Thongkham", Role::kDeputy, "huaiphan"),
      MakePerson("surin", "สุรินทร์ มีสุข", "Surin Meesuk", Role::kWatcher, "thonhong"),
      MakePerson("pranee", "ปราณี ด้วงแก้ว", "Pranee Duangkaew", Role::kCommittee, "thonhong"),
      MakePerson("kittisak", "กิตติศักดิ์ บัวทอง", "Kittisak Buathong", Role::kHeadman, "thonhong"),
      MakePerson("jintana", "จินตนา สงแก้ว", "Jintana Songkaew", Role::kDeputy, "thonhong"),
      MakePerson("manop", "มานพ ขุนทอง", "Manop Khunthong", Role::kWatcher, "nanuea"),
      MakePerson("ratana", "รัตนา จันทร์หอม", "Ratana Chanhom", Role::kCommittee, "nanuea"),
      MakePerson("somsak", "สมศักดิ์ ทิพย์มณี", "Somsak Thipmanee", Role::kHeadman, "nanuea"),
      MakePerson("yupin", "ยุพิน ศรีทอง", "Yupin Srithong", Role::kDeputy, "nanuea"),
      MakePerson("thawee", "ทวี หนูแก้ว", "Thawee Nukaew", Role::kWatcher, "pakkhlong"),
      MakePerson("orawan", "อรวรรณ เกตุแก้ว", "Orawan Ketkaew", Role::kCommittee, "pakkhlong"),
      MakePerson("sombat", "สมบัติ ช่วยชู", "Sombat Chuaychu", Role::kHeadman, "pakkhlong"),
      MakePerson("lamai", "ละไม พุฒทอง", "Lamai Phutthong", Role::kDeputy, "pakkhlong"),
      MakePerson("officer-niran", "นิรันดร์ ศักดิ์ดี", "Niran Sakdee", Role::kTao, ""),
      MakePerson("officer-pim", "พิมพ์ใจ รัตนพันธ์", "Pimjai Rattanaphan", Role::kTao, ""),
  };
  return n;
}

// 2026-11-27T04:00:00Z, the fake "start" of every test.
inline TimePoint T0() { return TimePoint{std::chrono::sys_days{std::chrono::year{2026} / 11 / 27}} + 4h; }

inline Reading MakeReading(std::string station, std::uint64_t seq, TimePoint ts, double cm) {
  Reading r;
  r.station = std::move(station);
  r.seq = seq;
  r.ts = ts;
  r.level_cm = cm;
  return r;
}

inline Report MakeReport(std::string user, std::string id, std::string village, Level concern, TimePoint ts) {
  Report r;
  r.user = std::move(user);
  r.id = std::move(id);
  r.village = std::move(village);
  r.concern = concern;
  r.ts = ts;
  return r;
}

inline Decision MakeDecision(std::string user, std::string id, std::string village, std::int64_t incident,
                             DecisionAction action, TimePoint ts, std::optional<Level> level = std::nullopt) {
  Decision d;
  d.user = std::move(user);
  d.id = std::move(id);
  d.village = std::move(village);
  d.incident = incident;
  d.action = action;
  d.ts = ts;
  d.level = level;
  d.via = "mqtt";
  return d;
}

inline int CountNotes(const Effects& fx, std::string_view user, ActionNeeded action) {
  return static_cast<int>(std::count_if(fx.notifications.begin(), fx.notifications.end(), [&](const Notification& n) {
    return n.user == user && n.action_needed == action;
  }));
}

inline int CountNotesFor(const Effects& fx, std::int64_t incident, std::string_view user, ActionNeeded action) {
  return static_cast<int>(std::count_if(fx.notifications.begin(), fx.notifications.end(), [&](const Notification& n) {
    return n.incident == incident && n.user == user && n.action_needed == action;
  }));
}

inline int CountEvents(const Effects& fx, std::string_view kind) {
  return static_cast<int>(
      std::count_if(fx.timeline.begin(), fx.timeline.end(), [&](const TimelineEvent& e) { return e.kind == kind; }));
}

inline int CountEventsFor(const Effects& fx, std::int64_t incident, std::string_view kind) {
  return static_cast<int>(std::count_if(fx.timeline.begin(), fx.timeline.end(), [&](const TimelineEvent& e) {
    return e.incident == incident && e.kind == kind;
  }));
}

inline const Notification* FindNote(const Effects& fx, std::string_view user) {
  for (const Notification& n : fx.notifications) {
    if (n.user == user) return &n;
  }
  return nullptr;
}

// Feeds a station with readings and keeps its seq.
struct Feeder {
  Engine& engine;
  std::uint64_t seq = 1;
  Effects operator()(const std::string& station, double cm, TimePoint ts) {
    return engine.OnReading(MakeReading(station, seq++, ts, cm), ts);
  }
};

}  // namespace kaoko::alerting::testing
