#include "kaoko/alerting/network.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

namespace kaoko::alerting {

const char* ToString(Level level) {
  switch (level) {
    case Level::kNormal: return "normal";
    case Level::kWatch: return "watch";
    case Level::kWarning: return "warning";
    case Level::kCritical: return "critical";
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

const char* ThaiName(Level level) {
  switch (level) {
    case Level::kNormal: return "ภาวะปกติ";
    case Level::kWatch: return "เฝ้าระวัง";
    case Level::kWarning: return "เตือนภัย";
    case Level::kCritical: return "เตือนภัยรุนแรง — อพยพ";
  }
  return "ภาวะปกติ";
}

const char* ToString(Role role) {
  switch (role) {
    case Role::kWatcher: return "watcher";
    case Role::kCommittee: return "committee";
    case Role::kHeadman: return "headman";
    case Role::kDeputy: return "deputy";
    case Role::kTao: return "tao";
  }
  return "watcher";
}

std::optional<Role> ParseRole(std::string_view text) {
  if (text == "watcher") return Role::kWatcher;
  if (text == "committee") return Role::kCommittee;
  if (text == "headman") return Role::kHeadman;
  if (text == "deputy") return Role::kDeputy;
  if (text == "tao") return Role::kTao;
  return std::nullopt;
}

namespace {
using Index = std::vector<std::pair<std::size_t, std::uint32_t>>;

template <typename T>
const T* FindById(const std::vector<T>& items, const Index& index, std::string_view id) {
  if (index.size() == items.size() && !items.empty()) {
    const std::size_t h = std::hash<std::string_view>{}(id);
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
    index.emplace_back(std::hash<std::string_view>{}(items[i].id), static_cast<std::uint32_t>(i));
  }
  std::sort(index.begin(), index.end());
  return index;
}
}  // namespace

Text::Text(std::string_view text) {
  if (text.empty()) return;
  if (text.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("a Text holds at most 4 GiB");
  const auto n = static_cast<std::uint32_t>(text.size());
  block_ = static_cast<char*>(::operator new(sizeof n + text.size()));
  std::memcpy(block_, &n, sizeof n);
  std::memcpy(block_ + sizeof n, text.data(), text.size());
}

Text::Text(std::string_view text, TextArena& arena) {
  if (text.empty()) return;
  block_ = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(arena.Add(text)) | kInArena);
}

Text::~Text() {
  if (!in_arena()) ::operator delete(block_);
}

namespace {
constexpr std::size_t kChunkBytes = std::size_t{4} << 20;  // 4 MiB of address space; pages are used as written

std::size_t PageSize() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

TextArena::~TextArena() {
  for (const Chunk& c : chunks_) ::munmap(c.base, c.size);
}

char* TextArena::Add(std::string_view text) {
  if (text.size() > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("a Text holds at most 4 GiB");
  const auto n = static_cast<std::uint32_t>(text.size());
  const std::size_t need = (sizeof n + text.size() + 1) & ~std::size_t{1};  // the next block at an even address
  if (chunks_.empty() || chunks_.back().on_file || chunks_.back().size - chunks_.back().used < need) {
    const std::size_t page = PageSize();
    const std::size_t size = std::max(kChunkBytes, (need + page - 1) / page * page);
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    chunks_.push_back({static_cast<char*>(base), size, 0, false});
  }
  Chunk& c = chunks_.back();
  char* block = c.base + c.used;
  std::memcpy(block, &n, sizeof n);
  std::memcpy(block + sizeof n, text.data(), text.size());
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
