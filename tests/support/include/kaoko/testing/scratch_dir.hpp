// What server_test's files share: a scratch directory removed at the end of the test, and times from RFC 3339 text.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "kaoko/contract/wire.hpp"

namespace kaoko::server_test {

// A fresh directory under the system's temp dir (kaoko-<name>-<random>), removed with everything in it at scope end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("kaoko-" + name + "-" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() { std::filesystem::remove_all(dir_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  std::string db() const { return file("k.db"); }  // a database file in it

 private:
  std::filesystem::path dir_;
};

inline wire::TimePoint T(const char* rfc3339) { return *wire::ParseTime(rfc3339); }

}  // namespace kaoko::server_test
