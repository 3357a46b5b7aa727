// The network model: one tambon, its villages in order along the river, its stations with their thresholds, and
// its people with their roles. Plain values only; the TOML loader lives in server/ (kaoko::config) so that this
// library stays free of I/O. Everything here is immutable after load and safe to read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace kaoko::alerting {

using Seconds = std::chrono::seconds;

// Alert levels, ordered: a larger value is more severe.
enum class Level { kNormal = 0, kWatch = 1, kWarning = 2, kCritical = 3 };

// Wire names ("normal", "watch", "warning", "critical").
const char* ToString(Level level);
// Parses a wire name; nullopt for anything else.
std::optional<Level> ParseLevel(std::string_view text);
// Thai term as on the DDPM leaflets (ภาวะปกติ, เฝ้าระวัง, เตือนภัย, เตือนภัยรุนแรง — อพยพ).
const char* ThaiName(Level level);

enum class Role { kWatcher, kCommittee, kHeadman, kDeputy, kTao };
const char* ToString(Role role);  // "watcher", "committee", "headman", "deputy", "tao"
std::optional<Role> ParseRole(std::string_view text);

class TextArena;

// An immutable text, one pointer wide (a std::string is four): for the texts every station of a large network
// carries. It lives in a heap block of its own, or in a TextArena (made with the arena: the network loader keeps
// every station's names and landmarks there, and kaoko-server can then move them to a file, docs/architecture.md
// "Station texts"). 150,000 stations hold about 45 MB of them. A copy owns its bytes, wherever the original lived;
// a move keeps them where they are. Empty holds nothing.
class Text {
 public:
  Text() = default;
  Text(std::string_view text);  // NOLINT(google-explicit-constructor): a Text is assigned like a string
  Text(const std::string& text) : Text(std::string_view(text)) {}  // NOLINT(google-explicit-constructor)
  Text(const char* text) : Text(std::string_view(text)) {}          // NOLINT(google-explicit-constructor)
  // The text kept in `arena`, which must outlive this Text and everything it is moved into.
  Text(std::string_view text, TextArena& arena);
  Text(const Text& other) : Text(other.view()) {}
  Text(Text&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  Text& operator=(const Text& other) {
    if (this != &other) *this = Text(other);
    return *this;
  }
  Text& operator=(Text&& other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~Text();

  std::string_view view() const {
    const char* b = block();
    if (!b) return {};
    std::uint32_t n = 0;
    std::memcpy(&n, b, sizeof n);
    return {b + sizeof n, n};
  }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(view()); }
  bool empty() const { return block_ == nullptr; }
  std::size_t size() const { return view().size(); }
  // True when the bytes live in a TextArena.
  bool in_arena() const { return (reinterpret_cast<std::uintptr_t>(block_) & kInArena) != 0; }
  friend bool operator==(const Text& a, const Text& b) { return a.view() == b.view(); }
  friend bool operator==(const Text& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const Text& a, const char* b) { return a.view() == std::string_view(b); }
  friend bool operator==(const Text& a, const std::string& b) { return a.view() == std::string_view(b); }

 private:
  static constexpr std::uintptr_t kInArena = 1;  // the low bit of block_ (blocks start at even addresses)
  const char* block() const {
    return reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(block_) & ~kInArena);
  }
  // The length (4 bytes, unaligned), then the bytes; nullptr when empty. Tagged with kInArena when not owned.
  char* block_ = nullptr;
};

// Where the texts of a large network are kept: blocks appended to chunks of whole pages, which never move and are
// never freed before the arena. Because the chunks are page-aligned memory of their own, kaoko-server can write
// them to a file and map that file over them (server: MoveTextsToFile): every Text stays valid, and the pages are
// then read from disk when a text is used instead of being held in memory. Not thread-safe while texts are added;
// reading is.
class TextArena {
 public:
  struct Chunk {
    char* base = nullptr;    // page-aligned
    std::size_t size = 0;    // bytes reserved (whole pages)
    std::size_t used = 0;    // bytes written
    bool on_file = false;    // mapped from a file (server: MoveTextsToFile)
  };
  TextArena() = default;
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;
  ~TextArena();
  // A block (the length, then the bytes) at an even address.
  char* Add(std::string_view text);
  std::vector<Chunk>& chunks() { return chunks_; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  std::size_t bytes() const;  // written, over all chunks

 private:
  std::vector<Chunk> chunks_;
};

// A named threshold: centimetres above the station's gauge datum, with the landmark the village knows it by.
struct Threshold {
  double cm = 0;
  Text landmark_th;
  Text landmark_en;
};

struct Station {
  std::string id;
  std::string village;  // village id
  Text name_th;
  Text name_en;
  Threshold watch;
  Threshold warning;
  Threshold critical;
  // A level is entered when the reading stays over its threshold for this many readings OR this long.
  int persistence_readings = 2;
  Seconds persistence_time{std::chrono::minutes(10)};
  // A level is left only when the reading falls below threshold - hysteresis.
  double hysteresis_cm = 10;
  // A rise faster than this (cm per hour) lifts the level by one.
  double fast_rise_cm_per_hour = 30;
  // Physically possible range of level_cm for this gauge; outside it a reading is refused at ingest.
  double min_level_cm = -100;
  double max_level_cm = 2000;
  // Reading interval the firmware is configured for (normal / fast); used by health checks and the simulator.
  Seconds interval{std::chrono::minutes(10)};
  Seconds fast_interval{std::chrono::minutes(1)};
  double lat = 0;
  double lon = 0;
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

struct Person {
  std::string id;  // MQTT user name and login
  std::string name_th;
  std::string name_en;
  Role role = Role::kWatcher;
  std::string village;  // empty for TAO officers
  std::string phone;    // optional, for the notification text
};

// Deadlines of the escalation chain. Each step that waits for a person has one; when it passes the incident moves up
// anyway, marked unconfirmed, and the silent people are reminded every `reminder_interval`.
struct EscalationPolicy {
  Seconds committee_ack{std::chrono::minutes(10)};
  Seconds headman_confirm{std::chrono::minutes(15)};
  Seconds deputy_after{std::chrono::minutes(10)};  // after this the deputy headman is asked too
  Seconds tao_declare{std::chrono::minutes(20)};
  Seconds reminder_interval{std::chrono::minutes(5)};
  Seconds auto_resolve_after{std::chrono::hours(6)};  // river normal this long and nothing declared → resolved
  Seconds corroboration_window{std::chrono::minutes(60)};
};

struct HealthPolicy {
  Seconds offline_after{std::chrono::minutes(30)};  // no reading for this long → offline
  int stuck_readings = 12;                          // the same value this many times while others move → stuck
  double spike_cm_per_reading = 150;                // a jump larger than this between readings → suspect spike
  double low_battery_v = 3.4;
};

struct RainPolicy {
  double watch_mm_1h = 35;    // heavy downpour in one hour
  double watch_mm_24h = 100;  // the 100 mm/day that Thai agencies alert on
  double heavy_mm_24h = 35;   // TMD "heavy rain" class; recorded, asks silent watchers to check in
};

struct Network {
  std::string tambon;  // identifier, e.g. "tonhong"
  std::string tambon_name_th;
  std::string tambon_name_en;
  std::string district_th;
  std::string province_th;
  std::string province_en;
  std::string geocode;  // e.g. the Thai TIS-1099 code, used in CAP <geocode>
  std::vector<Village> villages;  // in order along the river, upstream first
  std::vector<Station> stations;
  std::vector<Person> people;
  EscalationPolicy escalation;
  HealthPolicy health;
  RainPolicy rain;
  // Where the stations' names and landmarks are kept when the loader made them (shared by copies of the network;
  // a copy's own texts are its own). Null for a network built by hand.
  std::shared_ptr<TextArena> texts;

  // Look-ups; nullptr when absent. After BuildIndex (the network loader calls it) they are a hash look-up, else a
  // linear scan (fine for a tambon built by hand; not for 150,000 stations).
  const Village* FindVillage(std::string_view id) const;
  const Station* FindStation(std::string_view id) const;
  const Person* FindPerson(std::string_view id) const;
  // Index of a village along the river (0 = most upstream), or -1.
  int VillageIndex(std::string_view id) const;
  // Position of a station in `stations` (and in anything kept parallel to it), or -1.
  int StationIndex(std::string_view id) const;
  // Indexes villages, stations and people by id. Call again after changing the lists (a list whose size no longer
  // matches its index is scanned instead). The index holds positions, so a copy of the network stays valid.
  void BuildIndex();

  // (hash of the id, position), sorted; see BuildIndex.
  std::vector<std::pair<std::size_t, std::uint32_t>> village_index;
  std::vector<std::pair<std::size_t, std::uint32_t>> station_index;
  std::vector<std::pair<std::size_t, std::uint32_t>> person_index;
};

}  // namespace kaoko::alerting

template <>
struct fmt::formatter<kaoko::alerting::Text> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const kaoko::alerting::Text& text, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(text.view(), ctx);
  }
};
