#include "kaoko/store/db_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace kaoko::store {

Result<DatabaseLock> DatabaseLock::Acquire(const std::string& db_path, const std::string& holder) {
  std::string path = db_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  // Someone else's file (root ran a restore before the service's first start): flock needs no write access.
  if (fd < 0 && errno == EACCES) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError("db_lock", fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    // Say who has it: the holder wrote its pid and name into the file.
    char buf[200] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string who = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("another process");
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return MakeError("db_in_use", fmt::format("the database {} is in use: {} holds {}", db_path, who, path));
    }
    return MakeError("db_lock", fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
  std::string text = fmt::format("pid {} ({})\n", ::getpid(), holder);
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t ignored = ::pwrite(fd, text.data(), text.size(), 0);
  }
  return DatabaseLock(fd, std::move(path));
}

DatabaseLock::DatabaseLock(DatabaseLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

DatabaseLock& DatabaseLock::operator=(DatabaseLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

bool OtherProcessHasOpen(const std::string& db_path) {
  std::string shm = db_path + "-shm";
  int fd = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // Ask whether a write lock on the DMS byte would conflict: every open WAL connection holds a read lock there.
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 128;
  probe.l_len = 1;
  bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

}  // namespace kaoko::store
