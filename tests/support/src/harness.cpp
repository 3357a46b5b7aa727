#include "kaoko/testing/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <mqtt/async_client.h>

extern char** environ;

namespace kaoko::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// True when something accepts TCP connections on 127.0.0.1:port.
bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string CurrentUser() {
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  throw std::runtime_error("cannot find the name of the current user");
}

std::string RandomId(const std::string& prefix) {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mutex);
  return fmt::format("{}-{:012x}", prefix, rng() & 0xffffffffffffULL);
}

}  // namespace

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string SourceDir() { return KAOKO_SOURCE_DIR; }
std::string BinaryDir() { return KAOKO_BINARY_DIR; }
std::string AdminTool() { return KAOKO_ADMIN_TOOL; }

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& l : last) out += l + "\n";
  return out;
}

bool WaitFor(std::function<bool()> condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// ---------------------------------------------------------------- TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kaoko-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("KAOKO_KEEP_TEST_DIRS")) {
    std::cerr << "kept test directory " << path_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---------------------------------------------------------------- Process

Process::Process(std::vector<std::string> argv, std::string log_path, std::map<std::string, std::string> env)
    : log_path_(std::move(log_path)) {
  if (argv.empty()) throw std::invalid_argument("Process needs a command");
  // The environment: ours, with `env` added or replaced.
  std::map<std::string, std::string> merged;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // posix_spawn, not fork: Paho's threads may be running in the test process.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
}

Process::~Process() {
  if (!running()) return;
  Kill(SIGTERM);
  if (!WaitFor([this] { return !running(); }, 5s)) Kill(SIGKILL);
  Wait();
}

void Process::Kill(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

int Process::Wait() {
  if (status_) return *status_;
  if (pid_ <= 0) return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *status_;
}

bool Process::running() {
  if (status_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

std::string Process::Log() const { return ReadFile(log_path_); }

int MosquittoPub(int port, const std::string& user, const std::string& password, const std::string& topic,
                 const std::string& payload, int qos, bool retained, const std::string& log_path) {
  std::vector<std::string> argv = {
      "mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-V", "mqttv311", "-q", std::to_string(qos), "-t",
      topic,           "-m", payload};
  if (!user.empty()) argv.insert(argv.end(), {"-u", user, "-P", password});
  if (retained) argv.push_back("-r");
  Process pub(argv, log_path);
  return pub.Wait();
}

// ---------------------------------------------------------------- Broker

Broker::Broker(BrokerOptions options) : options_(std::move(options)) {
  const std::string accounts = accounts_dir();
  {
    Process admin({AdminTool(), "accounts", "--network", options_.network_file, "--dir", accounts, "--demo-passwords"},
                  dir() + "/kaoko-admin.log");
    int rc = admin.Wait();
    if (rc != 0) throw std::runtime_error(fmt::format("kaoko-admin failed ({}):\n{}", rc, admin.Log()));
  }
  std::filesystem::create_directories(data_dir());

  port_ = FreePort();
  if (options_.websockets) {
    do ws_port_ = FreePort();
    while (ws_port_ == port_);
  }
  std::string conf = ReadFile(SourceDir() + "/broker-config/dev.conf.in");
  if (conf.empty()) throw std::runtime_error("cannot read broker-config/dev.conf.in");
  if (!options_.websockets) {
    // Whole lines only: the template's header mentions the markers too.
    auto begin = conf.find("\n# >>> websockets\n");
    auto end = conf.find("\n# <<< websockets\n");
    if (begin == std::string::npos || end == std::string::npos) {
      throw std::runtime_error("dev.conf.in lost its '# >>> websockets' / '# <<< websockets' markers");
    }
    conf.erase(begin + 1, end + std::string("\n# <<< websockets\n").size() - (begin + 1));
  }
  if (!options_.extra_config.empty()) conf += "\n" + options_.extra_config + "\n";
  conf = ReplaceAll(conf, "@MQTT_PORT@", std::to_string(port_));
  conf = ReplaceAll(conf, "@WS_PORT@", std::to_string(ws_port_));
  conf = ReplaceAll(conf, "@DATA_DIR@", data_dir());
  conf = ReplaceAll(conf, "@PASSWORD_FILE@", accounts + "/passwd");
  conf = ReplaceAll(conf, "@ACL_FILE@", accounts + "/acl");
  conf = ReplaceAll(conf, "@RUN_AS@", CurrentUser());
  if (auto at = conf.find('@'); at != std::string::npos && conf.find('@', at + 1) != std::string::npos) {
    // A placeholder nobody filled in would make Mosquitto fail with a less helpful message.
    auto line_start = conf.rfind('\n', at) + 1;
    auto line = conf.substr(line_start, conf.find('\n', at) - line_start);
    if (line.find('#') != 0)
      throw std::runtime_error("dev.conf.in has a placeholder the harness does not know: " + line);
  }
  WriteFile(config_path(), conf);
  Start();
}

Broker::~Broker() {
  if (std::uncaught_exceptions() > 0) {
    std::cerr << "---- mosquitto log (" << log_path() << "), last lines:\n" << Tail(log_path()) << "----\n";
  }
  Stop();
}

std::string Broker::url() const { return fmt::format("tcp://127.0.0.1:{}", port_); }
std::string Broker::ws_url() const { return fmt::format("ws://127.0.0.1:{}", ws_port_); }
std::string Broker::Password(const std::string& user) const { return "demo-" + user; }
std::string Broker::accounts_dir() const { return dir() + "/accounts"; }
std::string Broker::data_dir() const { return dir() + "/data"; }
std::string Broker::config_path() const { return dir() + "/mosquitto.conf"; }
std::string Broker::log_path() const { return dir() + "/mosquitto.log"; }

void Broker::Start() {
  if (running()) return;
  process_ = std::make_unique<Process>(std::vector<std::string>{"mosquitto", "-c", config_path()}, log_path());
  bool up =
      WaitFor([&] { return !process_->running() || (Accepts(port_) && (ws_port_ == 0 || Accepts(ws_port_))); }, 10s);
  if (!up || !process_->running()) {
    process_->Kill(SIGKILL);
    process_->Wait();
    throw std::runtime_error(
        fmt::format("mosquitto did not start on 127.0.0.1:{}; its log ends:\n{}", port_, Tail(log_path())));
  }
}

void Broker::Stop() {
  if (!process_) return;
  if (process_->running()) {
    process_->Kill(SIGTERM);
    if (!WaitFor([&] { return !process_->running(); }, 10s)) process_->Kill(SIGKILL);
  }
  process_->Wait();
  process_.reset();
}

void Broker::Kill() {
  if (!process_) return;
  process_->Kill(SIGKILL);
  process_->Wait();
  process_.reset();
}

bool Broker::running() const { return process_ && process_->running(); }

void Broker::Reload() {
  if (running()) process_->Kill(SIGHUP);
}

pid_t Broker::pid() const { return running() ? process_->pid() : -1; }

// ---------------------------------------------------------------- MqttClient

MqttClient::MqttClient(std::string url, std::string user, std::string password, std::string client_id,
                       bool clean_session)
    : user_(std::move(user)), client_id_(client_id.empty() ? RandomId("test-" + user_) : std::move(client_id)) {
  // A big buffer: a test may publish thousands of messages before the first PUBACK (STACK.md trap 2).
  client_ = std::make_unique<mqtt::async_client>(url, client_id_, mqtt::create_options(MQTTVERSION_3_1_1, 100000));
  client_->set_message_callback([this](mqtt::const_message_ptr m) {
    {
      std::lock_guard lock(mutex_);
      received_.push_back(Message{m->get_topic(), m->to_string(), m->get_qos(), m->is_retained()});
    }
    arrived_.notify_all();
  });
  auto options = mqtt::connect_options_builder()
                     .user_name(user_)
                     .password(password)
                     .clean_session(clean_session)
                     .keep_alive_interval(std::chrono::seconds(20))
                     .connect_timeout(std::chrono::seconds(10))
                     .automatic_reconnect(false)
                     .finalize();
  try {
    if (!client_->connect(options)->wait_for(std::chrono::seconds(12))) {
      throw std::runtime_error(fmt::format("MQTT connect as '{}' to {} timed out", user_, url));
    }
  } catch (const mqtt::exception& e) {
    throw std::runtime_error(fmt::format("MQTT connect as '{}' to {} refused: {} (return code {})", user_, url,
                                         e.what(), e.get_return_code()));
  }
}

MqttClient::~MqttClient() {
  try {
    Disconnect();
  } catch (...) {  // a destructor must not throw; the broker may already be gone
  }
}

void MqttClient::Publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  auto token = client_->publish(topic, payload.data(), payload.size(), qos, retained);
  if (!token->wait_for(std::chrono::seconds(10))) {
    throw std::runtime_error(fmt::format("publish to {} as '{}' not acknowledged in 10 s", topic, user_));
  }
}

void MqttClient::Subscribe(const std::string& filter, int qos) {
  auto token = client_->subscribe(filter, qos);
  if (!token->wait_for(std::chrono::seconds(10))) {
    throw std::runtime_error(fmt::format("subscribe to {} as '{}' not acknowledged in 10 s", filter, user_));
  }
  mqtt::subscribe_response response = token->get_subscribe_response();
  for (auto code : response.get_reason_codes()) {
    if (code >= 0x80) throw std::runtime_error(fmt::format("subscribe to {} as '{}' refused", filter, user_));
  }
}

std::vector<Message> MqttClient::Received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<Message> MqttClient::Received(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  std::vector<Message> out;
  for (const Message& m : received_) {
    if (m.topic == topic) out.push_back(m);
  }
  return out;
}

size_t MqttClient::Count() const {
  std::lock_guard lock(mutex_);
  return received_.size();
}

bool MqttClient::WaitForMessages(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
}

void MqttClient::Clear() {
  std::lock_guard lock(mutex_);
  received_.clear();
}

bool MqttClient::connected() const { return client_ && client_->is_connected(); }

void MqttClient::Disconnect() {
  if (client_ && client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(5));
}

int MqttClient::TryConnect(const std::string& url, const std::string& user, const std::string& password) {
  mqtt::async_client client(url, RandomId("probe"), mqtt::create_options(MQTTVERSION_3_1_1));
  auto builder = mqtt::connect_options_builder();
  builder.clean_session(true).connect_timeout(std::chrono::seconds(10)).automatic_reconnect(false);
  if (!user.empty()) builder.user_name(user).password(password);
  try {
    if (!client.connect(builder.finalize())->wait_for(std::chrono::seconds(12))) return -1;
  } catch (const mqtt::exception& e) {
    int rc = e.get_return_code();
    return rc > 0 ? rc : -1;
  }
  client.disconnect()->wait_for(std::chrono::seconds(5));
  return 0;
}

}  // namespace kaoko::testing
