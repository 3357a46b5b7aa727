// Shared helpers for the firmware-sim unit tests.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/network_file.hpp"

namespace kaoko::sim::testing {

inline alerting::Network TonHong() {
  auto net = config::LoadNetwork(std::string(KAOKO_SOURCE_DIR) + "/config/tonhong.toml");
  if (!net) throw std::runtime_error(net.error().reason);
  return *net;
}

// A fresh directory under the system temp dir, removed when the object goes.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;  // test-only: a unique directory name, never in the model
    path = std::filesystem::temp_directory_path() / ("kaoko-sim-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

}  // namespace kaoko::sim::testing
