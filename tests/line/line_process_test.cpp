// The kaoko-line program itself, as the demo and later end-to-end tests run it: a TOML configuration with the token
// and secret in files, the ready file and the certificate it writes, a push over HTTPS, a signed webhook, and a clean
// exit on SIGTERM. Neither secret may appear in what it prints.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "line_client.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace kaoko::linetest;
using nlohmann::json;

const std::string kUser = "U0123456789abcdef0123456789abcdef";
const std::string kToken = "process-test-token-6f1e";
const std::string kSecret = "process-test-secret-9a2c";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("kaoko-line program: configured from TOML, serves a push and a signed webhook, stops on SIGTERM", "[line]") {
  WebhookListener listener;
  fs::path dir = fs::temp_directory_path() / ("kaoko-line-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "token") << kToken << "\n";
  std::ofstream(dir / "secret") << kSecret << "\n";
  std::ofstream(dir / "line.toml") << "[channel]\n"
                                   << "access_token_file = \"" << (dir / "token").string() << "\"\n"
                                   << "channel_secret_file = \"" << (dir / "secret").string() << "\"\n"
                                   << "bot_user_id = \"U00000000000000000000000000000000\"\n"
                                   << "[webhook]\nurl = \"" << listener.url() << "\"\n"
                                   << "[[users]]\nid = \"" << kUser << "\"\nname = \"ผู้ใหญ่บ้าน\"\n";

  std::string config = (dir / "line.toml").string(), ready = (dir / "ready").string(),
              cert = (dir / "cert.pem").string(), out = (dir / "out.log").string();
  std::vector<std::string> args = {KAOKO_LINE_TOOL, "--config", config, "--ready-file", ready, "--cert-out", cert};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, KAOKO_LINE_TOOL, &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);

  bool up = Eventually([&] { return fs::exists(ready); });
  if (!up) ::kill(pid, SIGKILL);
  REQUIRE(up);
  unsigned api = 0, control = 0;
  REQUIRE(std::sscanf(Slurp(ready).c_str(), "api=%u control=%u", &api, &control) == 2);
  std::string pem = Slurp(cert);

  json push = {{"to", kUser}, {"messages", {{{"type", "text"}, {"text", "ทดสอบ"}}}}};
  CurlAnswer a = Curl("POST", "https://127.0.0.1:" + std::to_string(api) + "/v2/bot/message/push",
                      {"Content-Type: application/json", "Authorization: Bearer " + kToken,
                       "X-Line-Retry-Key: 11111111-2222-4333-8444-555555555555"},
                      push.dump(), pem);
  CHECK(a.status == 200);
  std::string control_url = "http://127.0.0.1:" + std::to_string(control);
  CHECK(json::parse(Curl("GET", control_url + "/control/received", {}, "").body).size() == 1);
  Curl("POST", control_url + "/control/press", {}, json({{"userId", kUser}, {"data", "ack"}}).dump());
  auto got = listener.WaitFor(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].headers["x-line-signature"] == HmacBase64(kSecret, got[0].body));

  REQUIRE(::kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::string printed = Slurp(out);
  CHECK(printed.find("kaoko-line: api https://127.0.0.1:") != std::string::npos);
  CHECK(printed.find(kToken) == std::string::npos);
  CHECK(printed.find(kSecret) == std::string::npos);
  fs::remove_all(dir);
}
