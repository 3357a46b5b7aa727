// The network model: one tambon, its villages in order along the river, its stations with their thresholds, and
// its people with their roles. Plain values only; the TOML loader lives in contract/ (kaoko::config) so that this
// library stays free of I/O. Everything here is immutable after load and safe to read from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace kaoko::alerting {

using Seconds = std::chrono::seconds;
// Seconds in four bytes (68 years either way), for what each of up to 150,000 stations carries; reads as Seconds.
using Seconds32 = std::chrono::duration<std::int32_t>;

// Alert levels, ordered: a larger value is more severe.
enum class Level : std::uint8_t { kNormal = 0, kWatch = 1, kWarning = 2, kCritical = 3 };

// Wire names ("normal", "watch", "warning", "critical").
const char* ToString(Level level);
// Parses a wire name; nullopt for anything else.
std::optional<Level> ParseLevel(std::string_view text);
// Thai term as on the DDPM leaflets (ภาวะปกติ, เฝ้าระวัง, เตือนภัย, เตือนภัยรุนแรง — อพยพ).
const char* ThaiName(Level level);

// kDistrict: the district chief's office (นายอำเภอ, who directs above the TAO under the DPM Act B.E. 2550) and its
// disaster officers, told when the TAO misses its deadline.
enum class Role { kWatcher, kCommittee, kHeadman, kDeputy, kTao, kDistrict };
const char* ToString(Role role);  // "watcher", "committee", "headman", "deputy", "tao", "district"
std::optional<Role> ParseRole(std::string_view text);
// Whether people of `role` belong to the whole tambon rather than one village (the TAO and the district above it).
bool IsTambonWide(Role role);

// The ways kaoko reaches a person (docs/delivery.md): SMS (feature phones, elderly headmen), LINE (the Messaging
// API), the web page when it is open. The village tower is a device, not a person's channel.
enum class Channel { kSms, kLine, kWeb };
const char* ToString(Channel channel);  // "sms", "line", "web"
std::optional<Channel> ParseChannel(std::string_view text);

class TextArena;

// A station's names and landmarks (Thai and English: its name, and the landmark of each threshold) in one block, one
// pointer wide: for the texts every station of a large network carries, about 300 bytes each. The block lives on the
// heap, or in a TextArena (the network loader keeps every station's there; docs/architecture.md, "Station texts"). A
// copy owns its bytes, wherever the original lived; a move keeps them where they are. Read them through Station
// (name_th(), landmark_th(level), …).
class StationTexts {
 public:
  enum Field : int { kNameTh, kNameEn, kWatchTh, kWatchEn, kWarningTh, kWarningEn, kCriticalTh, kCriticalEn, kCount };
  using Values = std::array<std::string_view, kCount>;

  StationTexts() = default;
  explicit StationTexts(const Values& values);           // on the heap
  StationTexts(const Values& values, TextArena& arena);  // in `arena`, which must outlive it and its moves
  StationTexts(const StationTexts& other) : StationTexts(other.values()) {}
  StationTexts(StationTexts&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  StationTexts& operator=(const StationTexts& other) {
    if (this != &other) *this = StationTexts(other);
    return *this;
  }
  StationTexts& operator=(StationTexts&& other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~StationTexts();

  std::string_view get(Field field) const;
  Values values() const;
  // True when the bytes live in a TextArena.
  bool in_arena() const { return (reinterpret_cast<std::uintptr_t>(block_) & kInArena) != 0; }

 private:
  static constexpr std::uintptr_t kInArena = 1;  // the low bit of block_ (blocks start at even addresses)
  const char* block() const {
    return reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(block_) & ~kInArena);
  }
  // kCount times (the length, 4 bytes unaligned, then the bytes); nullptr when every text is empty. Tagged with
  // kInArena when not owned.
  char* block_ = nullptr;
};

// Where a TextArena takes its chunks from: runs of whole pages, aligned to `page_size`, that never move until
// released. The default (aligned operator new, 4096-byte pages) suits any arena; a program that wants to do more
// with the pages (map a file over them, say) installs storage of its own (TextArena::SetDefaultStorage) before it
// loads the network, and only the pages of its own storage are its to replace.
struct TextChunkStorage {
  std::size_t page_size = 4096;
  // `bytes` (whole pages) aligned to page_size; throws std::bad_alloc when there is no room.
  char* (*allocate)(std::size_t bytes, std::size_t page_size) = nullptr;
  // Gives back a chunk `allocate` returned, `bytes` being what the arena's Chunk says by then. Never throws.
  void (*release)(char* base, std::size_t bytes, std::size_t page_size) = nullptr;
};

// Where the texts of a large network are kept: blocks appended to chunks of whole pages, which never move and are
// never freed before the arena. Because the chunks are page-aligned memory of their own, the storage's owner may
// replace their pages with the same bytes (a file mapped over them): every StationTexts stays valid. Not thread-safe
// while texts are added; reading is.
class TextArena {
 public:
  struct Chunk {
    char* base = nullptr;  // page-aligned
    std::size_t size = 0;  // bytes reserved (whole pages)
    std::size_t used = 0;  // bytes written
    bool on_file = false;  // its pages were replaced (by the storage's owner): add no more to it
  };
  TextArena() : TextArena(DefaultStorage()) {}
  explicit TextArena(const TextChunkStorage& storage) : storage_(storage) {}
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;
  ~TextArena();
  // A copy of `bytes` at an even address, kept as long as the arena.
  char* Add(std::string_view bytes);
  std::vector<Chunk>& chunks() { return chunks_; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  std::size_t bytes() const;  // written, over all chunks
  const TextChunkStorage& storage() const { return storage_; }
  std::size_t page_size() const { return storage_.page_size; }  // chunks are whole pages of this size

  // The storage that arenas made with TextArena() take, each keeping the one it was made with: aligned operator new
  // unless SetDefaultStorage installed another. Not thread-safe: set it at start-up, before any arena is made.
  static TextChunkStorage DefaultStorage();
  // Aligned operator new and delete, 4096-byte pages: the default until another is installed.
  static TextChunkStorage HeapStorage();
  static void SetDefaultStorage(const TextChunkStorage& storage);

 private:
  TextChunkStorage storage_;
  std::vector<Chunk> chunks_;
};

// A threshold: centimetres above the station's gauge datum. The landmark the village knows it by is among the
// station's texts (Station::landmark_th).
struct Threshold {
  double cm = 0;
};

struct Station {
  std::string id;
  std::string village;  // village id
  StationTexts texts;   // its names and the landmarks of its thresholds
  Threshold watch;
  Threshold warning;
  Threshold critical;
  // A level is entered when the reading stays over its threshold for this many readings OR this long.
  int persistence_readings = 2;
  Seconds32 persistence_time{std::chrono::minutes(10)};
  // A level is left only when the reading falls below threshold - hysteresis.
  double hysteresis_cm = 10;
  // A rise faster than this (cm per hour) lifts the level by one.
  double fast_rise_cm_per_hour = 30;
  // Physically possible range of level_cm for this gauge; outside it a reading is refused at ingest.
  double min_level_cm = -100;
  double max_level_cm = 2000;
  // Reading interval the firmware is configured for (normal / fast); used by health checks and the simulator.
  Seconds32 interval{std::chrono::minutes(10)};
  Seconds32 fast_interval{std::chrono::minutes(1)};
  double lat = 0;
  double lon = 0;

  std::string_view name_th() const { return texts.get(StationTexts::kNameTh); }
  std::string_view name_en() const { return texts.get(StationTexts::kNameEn); }
  // The landmark of a level's threshold ("คอสะพาน", "the bridge approach"); empty for normal or when none is named.
  std::string_view landmark_th(Level level) const;
  std::string_view landmark_en(Level level) const;
};

struct Village {
  std::string id;
  std::string name_th;
  std::string name_en;
  int moo = 0;  // หมู่ที่ (village number within the tambon)
  // Travel time of the flood wave from this village to the next one downstream; zero for the last village.
  Seconds travel_to_next{0};
  double lat = 0;
  double lon = 0;
};

// A device of a village that sounds when told and says that it did (docs/delivery.md, "The tower and the siren"):
// the village broadcast tower (หอกระจายข่าว) or a siren. It has its own broker account; its id shares the user-name
// space with stations and people.
enum class DeviceKind { kTower, kSiren };
const char* ToString(DeviceKind kind);  // "tower", "siren"
std::optional<DeviceKind> ParseDeviceKind(std::string_view text);

struct Device {
  std::string id;  // MQTT user name
  std::string village;
  DeviceKind kind = DeviceKind::kTower;
  std::string name_th;
  std::string name_en;
  // An announcement the device has not answered within this long is reported to the TAO as not sounded.
  Seconds answer_after{60};
};

// One way to reach a person, with the day they agreed to it. kaoko sends nothing to a contact without consent.
struct Contact {
  Channel channel = Channel::kWeb;
  // sms: the number in +66 form ("+66812345678"); line: the LINE user id ("U" and 32 hex digits) when the file links
  // it, else empty (the person links it from their own page); web: empty.
  std::string address;
  std::optional<std::chrono::sys_days> consent;
  bool consented() const { return consent.has_value(); }
};

struct Person {
  std::string id;  // MQTT user name and login
  std::string name_th;
  std::string name_en;
  Role role = Role::kWatcher;
  std::string village;  // empty for TAO officers and the district (IsTambonWide)
  std::string phone;    // optional and unused by kaoko: the number to reach a person is an sms contact
  // How to reach them, in their order of preference. Personal data (PDPA): only the delivery room and the roles
  // that need it read it; it never goes into MQTT alerts, CAP, logs or public pages.
  std::vector<Contact> contacts;
};

// Deadlines of the escalation chain. Each step that waits for a person has one; when it passes the incident moves up
// anyway, marked unconfirmed, and the silent people are reminded every `reminder_interval`.
struct EscalationPolicy {
  Seconds committee_ack{std::chrono::minutes(10)};
  Seconds headman_confirm{std::chrono::minutes(15)};
  Seconds deputy_after{std::chrono::minutes(10)};  // after this the deputy headman is asked too
  Seconds tao_declare{std::chrono::minutes(20)};
  // After the TAO missed tao_declare, how long the district has to answer (ack, declare or all_clear) before it too
  // is marked overdue; its reminders go on either way.
  Seconds district_act{std::chrono::minutes(30)};
  Seconds reminder_interval{std::chrono::minutes(5)};
  Seconds auto_resolve_after{std::chrono::hours(6)};  // river normal this long and nothing declared → resolved
  Seconds corroboration_window{std::chrono::minutes(60)};
};

struct HealthPolicy {
  Seconds offline_after{std::chrono::minutes(30)};  // no reading for this long → offline
  int stuck_readings = 12;                          // the same value this many times while others move → stuck
  double spike_cm_per_reading = 150;                // a jump larger than this between readings → suspect spike
  double low_battery_v = 3.4;
  // A station's ts this far ahead of kaoko's clock, or this far back against its own rising seq, means its clock
  // cannot be trusted ("clock ahead", "clock reset"): its readings are then evaluated as measured when they arrive.
  // Also how far ahead a watcher's report may be dated before it is refused.
  Seconds clock_tolerance{std::chrono::minutes(10)};
  // A reading or report evaluated more than late_after after it was measured says when in what it raises; one more
  // than backlog_after old updates the state and history but pages nobody as new.
  Seconds late_after{std::chrono::minutes(30)};
  Seconds backlog_after{std::chrono::minutes(120)};
};

struct RainPolicy {
  double watch_mm_1h = 35;    // heavy downpour in one hour
  double watch_mm_24h = 100;  // the 100 mm/day that Thai agencies alert on
  double heavy_mm_24h = 35;   // TMD "heavy rain" class; recorded, asks silent watchers to check in
};

// How kaoko reaches people (docs/delivery.md): the ladder of channels per level, and when a person counts as not
// reached.
struct DeliveryPolicy {
  // A person asked to act with no delivery on any channel (no phone's receipt, no page shown, no action) this long
  // after the first message counts as not reached, and the chain moves on without waiting for the step's deadline.
  // Zero: never.
  Seconds not_reached{std::chrono::minutes(5)};
  // Per level, how long after a notification each channel goes when nothing has been delivered or acted on by then
  // (the ladder). A channel not named, and every channel at critical, goes at once.
  std::map<Level, std::map<Channel, Seconds>> ladder;
  Seconds DelayOf(Level level, Channel channel) const;
};

struct Network {
  std::string tambon;  // identifier, e.g. "tonhong"
  std::string tambon_name_th;
  std::string tambon_name_en;
  std::string district_th;
  std::string province_th;
  std::string province_en;
  std::string geocode;            // e.g. the Thai TIS-1099 code, used in CAP <geocode>
  std::vector<Village> villages;  // in order along the river, upstream first
  std::vector<Station> stations;
  std::vector<Person> people;
  std::vector<Device> devices;  // towers and sirens; few per village, so looked up by a scan
  EscalationPolicy escalation;
  HealthPolicy health;
  RainPolicy rain;
  DeliveryPolicy delivery;
  // Where the stations' names and landmarks are kept when the loader made them (shared by copies of the network;
  // a copy's own texts are its own). Null for a network built by hand.
  std::shared_ptr<TextArena> texts;

  // Look-ups; nullptr when absent. After BuildIndex (the network loader calls it) they are a hash look-up, else a
  // linear scan (fine for a tambon built by hand; not for 150,000 stations).
  const Village* FindVillage(std::string_view id) const;
  const Station* FindStation(std::string_view id) const;
  const Person* FindPerson(std::string_view id) const;
  const Device* FindDevice(std::string_view id) const;
  // Index of a village along the river (0 = most upstream), or -1.
  int VillageIndex(std::string_view id) const;
  // Position of a station in `stations` (and in anything kept parallel to it), or -1.
  int StationIndex(std::string_view id) const;
  // Indexes villages, stations and people by id. Call again after changing the lists (a list whose size no longer
  // matches its index is scanned instead). The index holds positions, so a copy of the network stays valid.
  void BuildIndex();

  // (hash of the id, its low 32 bits; position), sorted; see BuildIndex. Eight bytes a station: a look-up compares
  // the ids of the few that share a hash.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> village_index;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> station_index;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> person_index;
};

}  // namespace kaoko::alerting
