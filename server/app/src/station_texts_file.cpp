// The station texts' file backing: moves the network's station texts out of memory onto a nameless file mapped over
// them (docs/architecture.md, "Station texts"). Server-side IO; the arena itself (alerting/) knows nothing of files.
#include "kaoko/app/station_texts_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kaoko::app {

namespace {
// A file without a name in `dir`: O_TMPFILE where the file system has it, else a named one unlinked at once.
int OpenAnonymousFile(const std::string& dir, std::string* why) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = (std::filesystem::path(dir) / ".kaoko-texts-XXXXXX").string();
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    *why = fmt::format("cannot create a file in {}: {}", dir, std::strerror(errno));
    return -1;
  }
  ::unlink(name.c_str());
  return fd;
}

char* MapChunk(std::size_t bytes, std::size_t /*page_size*/) {
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(base);
}

// `bytes` is the chunk's size by then: after MoveTextsToFile, the file mapping that replaced its pages.
void UnmapChunk(char* base, std::size_t bytes, std::size_t /*page_size*/) { ::munmap(base, bytes); }

bool WriteAll(int fd, const char* data, std::size_t n, off_t at) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, data, n, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
    at += w;
  }
  return true;
}
}  // namespace

void UseFileMappableTextStorage() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  alerting::TextArena::SetDefaultStorage({page, &MapChunk, &UnmapChunk});
}

Result<std::size_t> MoveTextsToFile(alerting::Network& network, const std::string& dir) {
  if (!network.texts) return std::size_t{0};
  auto& chunks = network.texts->chunks();
  // mremap and munmap below are only right for pages that MapChunk mapped.
  if (network.texts->storage().allocate != &MapChunk) {
    return MakeError("texts", "the station texts were loaded before UseFileMappableTextStorage: not in mapped pages");
  }
  const std::size_t page = network.texts->page_size();
  std::string why;
  int fd = OpenAnonymousFile(dir, &why);
  if (fd < 0) return MakeError("texts", why);
  std::size_t moved = 0;
  off_t at = 0;
  for (auto& c : chunks) {
    if (c.on_file || c.used == 0) continue;
    const std::size_t len = (c.used + page - 1) / page * page;  // whole pages (the rest of the last one is zero)
    if (!WriteAll(fd, c.base, len, at)) {
      why = fmt::format("cannot write the station texts to {}: {}", dir, std::strerror(errno));
      break;
    }
    // Map the file elsewhere, check it reads back the same, then move that mapping over the chunk's pages in one
    // step (mremap): the chunk is never without its bytes, and on any failure it keeps its own.
    void* file = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, at);
    if (file == MAP_FAILED) {
      why = fmt::format("cannot map the station texts' file: {}", std::strerror(errno));
      break;
    }
    if (std::memcmp(file, c.base, c.used) != 0) {
      ::munmap(file, len);
      why = "the station texts read back differently from the file";
      break;
    }
    if (::mremap(file, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, c.base) == MAP_FAILED) {
      why = fmt::format("cannot map the station texts' file: {}", std::strerror(errno));
      ::munmap(file, len);
      break;
    }
    // The check above brought every page in; let them go (they stay in the page cache, and come back when read).
    ::madvise(c.base, len, MADV_DONTNEED);
    // The chunk's address space past `len` stays anonymous and untouched (it costs nothing).
    if (len < c.size) ::munmap(c.base + len, c.size - len);
    c.size = len;
    c.on_file = true;
    moved += c.used;
    at += static_cast<off_t>(len);
  }
  ::close(fd);  // the mappings keep the file; it goes with them
  if (!why.empty()) {
    // Chunks are moved one by one: those before the failure stay on file, the rest in memory.
    if (moved > 0) why += fmt::format(" ({} bytes had already moved to the file; the rest stay in memory)", moved);
    return MakeError("texts", why);
  }
  return moved;
}

}  // namespace kaoko::app
