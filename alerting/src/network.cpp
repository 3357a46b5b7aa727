#include "kaoko/alerting/network.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace kaoko::alerting {

const char* ToString(Level level) {
  switch (level) {
    case Level::kNormal:
      return "normal";
    case Level::kWatch:
      return "watch";
    case Level::kWarning:
      return "warning";
    case Level::kCritical:
      return "critical";
  }
  return "normal";
}

std::optional<Level> ParseLevel(std::string_view text) {
  if (text == "normal") return Level::kNormal;
  if (text == "watch") return Level::kWatch;
  if (text == "warning") return Level::kWarning;
  if (text == "critical") return Level::kCritical;
  return std::nullopt;
}

const char* ToString(DeviceKind kind) { return kind == DeviceKind::kSiren ? "siren" : "tower"; }

std::optional<DeviceKind> ParseDeviceKind(std::string_view text) {
  if (text == "tower") return DeviceKind::kTower;
  if (text == "siren") return DeviceKind::kSiren;
  return std::nullopt;
}

const char* ThaiName(Level level) {
  switch (level) {
    case Level::kNormal:
      return "ภาวะปกติ";
    case Level::kWatch:
      return "เฝ้าระวัง";
    case Level::kWarning:
      return "เตือนภัย";
    case Level::kCritical:
      return "เตือนภัยรุนแรง — อพยพ";
  }
  return "ภาวะปกติ";
}

const char* ToString(Role role) {
  switch (role) {
    case Role::kWatcher:
      return "watcher";
    case Role::kCommittee:
      return "committee";
    case Role::kHeadman:
      return "headman";
    case Role::kDeputy:
      return "deputy";
    case Role::kTao:
      return "tao";
    case Role::kDistrict:
      return "district";
  }
  return "watcher";
}

bool IsTambonWide(Role role) { return role == Role::kTao || role == Role::kDistrict; }

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "watcher") return Role::kWatcher;
  if (text == "committee") return Role::kCommittee;
  if (text == "headman") return Role::kHeadman;
  if (text == "deputy") return Role::kDeputy;
  if (text == "tao") return Role::kTao;
  if (text == "district") return Role::kDistrict;
  return std::nullopt;
}

const char* ToString(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return "sms";
    case Channel::kLine:
      return "line";
    case Channel::kWeb:
      return "web";
  }
  return "web";
}

std::optional<Channel> ParseChannel(std::string_view text) {
  if (text == "sms") return Channel::kSms;
  if (text == "line") return Channel::kLine;
  if (text == "web") return Channel::kWeb;
  return std::nullopt;
}

Seconds DeliveryPolicy::DelayOf(Level level, Channel channel) const {
  if (level == Level::kCritical) return Seconds(0);  // everything at once
  auto l = ladder.find(level);
  if (l == ladder.end()) return Seconds(0);
  auto c = l->second.find(channel);
  return c == l->second.end() ? Seconds(0) : c->second;
}

namespace {
using Index = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

std::uint32_t HashOf(std::string_view id) { return static_cast<std::uint32_t>(std::hash<std::string_view>{}(id)); }

template <typename T>
const T* FindById(const std::vector<T>& items, const Index& index, std::string_view id) {
  if (index.size() == items.size() && !items.empty()) {
    const std::uint32_t h = HashOf(id);
    for (auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(h, std::uint32_t{0}));
         it != index.end() && it->first == h; ++it) {
      if (it->second < items.size() && items[it->second].id == id) return &items[it->second];
    }
    return nullptr;
  }
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.id == id; });
  return it == items.end() ? nullptr : &*it;
}

template <typename T>
Index MakeIndex(const std::vector<T>& items) {
  Index index;
  index.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    index.emplace_back(HashOf(items[i].id), static_cast<std::uint32_t>(i));
  }
  std::sort(index.begin(), index.end());
  return index;
}
}  // namespace

namespace {
// The block of a StationTexts: each text as its length (4 bytes) and its bytes, in Field order; empty when all are.
std::string MakeBlock(const StationTexts::Values& values) {
  std::size_t n = 0;
  for (std::string_view v : values) {
    if (v.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("a text holds at most 4 GiB");
    n += v.size();
  }
  if (n == 0) return {};
  std::string block;
  block.reserve(n + 4 * values.size());
  for (std::string_view v : values) {
    const auto len = static_cast<std::uint32_t>(v.size());
    block.append(reinterpret_cast<const char*>(&len), sizeof len);
    block.append(v);
  }
  return block;
}
}  // namespace

StationTexts::StationTexts(const Values& values) {
  const std::string b = MakeBlock(values);
  if (b.empty()) return;
  block_ = static_cast<char*>(::operator new(b.size()));
  std::memcpy(block_, b.data(), b.size());
}

StationTexts::StationTexts(const Values& values, TextArena& arena) {
  const std::string b = MakeBlock(values);
  if (b.empty()) return;
  block_ = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(arena.Add(b)) | kInArena);
}

StationTexts::~StationTexts() {
  if (!in_arena()) ::operator delete(block_);
}

std::string_view StationTexts::get(Field field) const {
  const char* p = block();
  if (!p || field < 0 || field >= kCount) return {};
  for (int i = 0;; ++i) {
    std::uint32_t n = 0;
    std::memcpy(&n, p, sizeof n);
    if (i == field) return {p + sizeof n, n};
    p += sizeof n + n;
  }
}

StationTexts::Values StationTexts::values() const {
  Values v{};
  for (int i = 0; i < kCount; ++i) v[static_cast<std::size_t>(i)] = get(static_cast<Field>(i));
  return v;
}

namespace {
// The field of a level's landmark: watch, warning and critical follow each other, Thai then English.
std::string_view Landmark(const StationTexts& texts, Level level, int english) {
  if (level == Level::kNormal) return {};
  const int field = StationTexts::kWatchTh + 2 * (static_cast<int>(level) - static_cast<int>(Level::kWatch)) + english;
  return texts.get(static_cast<StationTexts::Field>(field));
}
}  // namespace

std::string_view Station::landmark_th(Level level) const { return Landmark(texts, level, 0); }
std::string_view Station::landmark_en(Level level) const { return Landmark(texts, level, 1); }

namespace {
constexpr std::size_t kChunkBytes = std::size_t{4} << 20;  // 4 MiB a chunk (fewer, larger chunks for a big network)

char* AllocateAligned(std::size_t bytes, std::size_t page_size) {
  return static_cast<char*>(::operator new (bytes, std::align_val_t{page_size}));
}

void ReleaseAligned(char* base, std::size_t /*bytes*/, std::size_t page_size) {
  ::operator delete (base, std::align_val_t{page_size});
}

TextChunkStorage& InstalledStorage() {
  static TextChunkStorage storage = TextArena::HeapStorage();
  return storage;
}
}  // namespace

TextChunkStorage TextArena::HeapStorage() { return {4096, &AllocateAligned, &ReleaseAligned}; }

TextChunkStorage TextArena::DefaultStorage() { return InstalledStorage(); }

void TextArena::SetDefaultStorage(const TextChunkStorage& storage) { InstalledStorage() = storage; }

TextArena::~TextArena() {
  for (const Chunk& c : chunks_) storage_.release(c.base, c.size, storage_.page_size);
}

char* TextArena::Add(std::string_view bytes) {
  const std::size_t need = (bytes.size() + 1) & ~std::size_t{1};  // the next block at an even address
  if (chunks_.empty() || chunks_.back().on_file || chunks_.back().size - chunks_.back().used < need) {
    const std::size_t page = storage_.page_size;
    const std::size_t size = std::max(kChunkBytes, (need + page - 1) / page * page);
    chunks_.push_back({storage_.allocate(size, page), size, 0, false});
  }
  Chunk& c = chunks_.back();
  char* block = c.base + c.used;
  std::memcpy(block, bytes.data(), bytes.size());
  c.used += need;
  return block;
}

std::size_t TextArena::bytes() const {
  std::size_t n = 0;
  for (const Chunk& c : chunks_) n += c.used;
  return n;
}

const Village* Network::FindVillage(std::string_view id) const { return FindById(villages, village_index, id); }
const Station* Network::FindStation(std::string_view id) const { return FindById(stations, station_index, id); }
const Person* Network::FindPerson(std::string_view id) const { return FindById(people, person_index, id); }

const Device* Network::FindDevice(std::string_view id) const {
  auto it = std::find_if(devices.begin(), devices.end(), [&](const Device& d) { return d.id == id; });
  return it == devices.end() ? nullptr : &*it;
}

int Network::VillageIndex(std::string_view id) const {
  const Village* v = FindVillage(id);
  return v ? static_cast<int>(v - villages.data()) : -1;
}

int Network::StationIndex(std::string_view id) const {
  const Station* s = FindStation(id);
  return s ? static_cast<int>(s - stations.data()) : -1;
}

void Network::BuildIndex() {
  village_index = MakeIndex(villages);
  station_index = MakeIndex(stations);
  person_index = MakeIndex(people);
}

}  // namespace kaoko::alerting
