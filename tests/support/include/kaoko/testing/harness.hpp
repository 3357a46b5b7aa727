// The integration-test harness (target kaoko::testsupport, namespace kaoko::testing): a real Mosquitto started from
// broker-config/dev.conf.in with accounts made by kaoko-admin, child processes for the service and the simulator, and
// small MQTT clients over Paho C++. Every integration test uses it; nothing in it is faked.
//
//   kaoko::testing::Broker broker;                                   // fresh broker, free port, demo passwords
//   kaoko::testing::MqttClient tao(broker.url(), "officer-niran", broker.Password("officer-niran"));
//   tao.Subscribe("kaoko/v1/#");
//   REQUIRE(tao.WaitForMessages(1, std::chrono::seconds(5)));
//
// Everything binds and connects to 127.0.0.1 only. Temporary directories are removed at destruction unless the
// environment variable KAOKO_KEEP_TEST_DIRS is set (then their paths are printed). When a Broker is destroyed while an
// exception is in flight (a failed REQUIRE), it prints the tail of the broker's log to stderr.
//
// Thread safety: MqttClient's accessors (Received, WaitForMessages, Count, Clear) may be called from any thread while
// Paho delivers; everything else is meant for the test's own thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mqtt {
class async_client;
}

namespace kaoko::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed). Thread-safe.
int FreePort();

// The project's source directory and the build directory (compile definitions of this library).
std::string SourceDir();
std::string BinaryDir();

// The kaoko-admin executable of this build (it is built before any test that links kaoko::testsupport).
std::string AdminTool();

// A fresh directory under $TMPDIR (or /tmp); removed with its contents at destruction. Not copyable.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process, its stdout and stderr appended to `log_path`. `env` entries are added to (or replace those of) the
// test's environment. argv[0] is looked up on PATH when it has no '/'. Throws std::runtime_error when it cannot start.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path, std::map<std::string, std::string> env = {});
  ~Process();  // SIGTERM, wait up to 5 s, then SIGKILL
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Kill(int sig = SIGKILL);  // sends the signal; does not wait
  int Wait();                    // waits for exit: the exit code, or 128 + signal; the same value on later calls
  bool running();                // false once it has exited (reaps it)
  pid_t pid() const { return pid_; }
  std::string Log() const;  // the whole log file so far
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Polls `condition` every 20 ms until it is true or `timeout` passes; returns its last value.
bool WaitFor(std::function<bool()> condition, std::chrono::milliseconds timeout);

// The last `lines` lines of a file (empty when it cannot be read).
std::string Tail(const std::string& path, size_t lines = 40);

// Publishes one message with Mosquitto's own `mosquitto_pub` (MQTT 3.1.1) on a fresh connection to 127.0.0.1:port and
// returns its exit code: 0 when the broker acknowledged it — which Mosquitto does for a publish its ACL refuses too —
// non-zero when the connection was refused. For publishes that must be refused: Mosquitto 2.0.11 sends the PUBACK and
// then CLOSES the publisher's connection (MQTT-3.3.5-2 allows either), so a long-lived MqttClient must never be used to
// try a refused publish. An empty `user` connects anonymously. Takes a few milliseconds.
int MosquittoPub(int port, const std::string& user, const std::string& password, const std::string& topic,
                 const std::string& payload, int qos = 1, bool retained = false,
                 const std::string& log_path = "/dev/null");

struct BrokerOptions {
  std::string network_file = SourceDir() + "/config/tonhong.toml";
  bool websockets = false;  // also open the MQTT-over-WebSockets listener (ws_port())
  // Appended to the generated mosquitto.conf (e.g. a bridge from broker-config/edge.conf.in, docs/tiers.md), after
  // the common placeholders (@RUN_AS@ and the rest) are filled in it too.
  std::string extra_config = "";
};

// A real Mosquitto with the project's dev config (broker-config/dev.conf.in), ACL and password file. The constructor
// runs `kaoko-admin accounts --network <network_file> --dir <tmp>/accounts --demo-passwords`, writes
// <tmp>/mosquitto.conf, starts `mosquitto -c` with its log in <tmp>/mosquitto.log and waits (up to 10 s) until the
// port accepts. Throws std::runtime_error, with the log's tail, when any step fails.
class Broker {
 public:
  explicit Broker(BrokerOptions options = {});
  ~Broker();  // Stop()
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  int port() const { return port_; }
  std::string url() const;                              // "tcp://127.0.0.1:<port>"
  int ws_port() const { return ws_port_; }              // 0 without websockets
  std::string ws_url() const;                           // "ws://127.0.0.1:<ws_port>"
  std::string Password(const std::string& user) const;  // "demo-<user>"
  std::string accounts_dir() const;                     // passwd, acl, credentials.toml
  std::string data_dir() const;                         // mosquitto.db
  std::string config_path() const;
  std::string log_path() const;
  const std::string& dir() const { return dir_.path(); }

  void Kill();   // SIGKILL and wait: a crash; queued messages since the last autosave are lost
  void Stop();   // SIGTERM and wait: Mosquitto saves its persistence file on the way out
  void Start();  // again, on the same port(s) and the same persistence dir; waits until it accepts
  bool running() const;
  void Reload();      // SIGHUP: Mosquitto rereads passwd and acl (after kaoko-admin add-account); does not wait
  pid_t pid() const;  // -1 when not running

 private:
  TempDir dir_;
  BrokerOptions options_;
  int port_ = 0;
  int ws_port_ = 0;
  std::unique_ptr<Process> process_;
};

// One received MQTT message.
struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

// A connected MQTT 3.1.1 client (Paho C++ async_client created with a large max_buffered, STACK.md trap 2). The
// constructor connects and waits (up to 10 s; a second Paho client in a process may take ~2 s, trap 3); it throws
// std::runtime_error when the broker refuses. Received messages are kept in order of arrival.
class MqttClient {
 public:
  MqttClient(std::string url, std::string user, std::string password, std::string client_id = "",
             bool clean_session = true);
  ~MqttClient();  // disconnects
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Publishes and waits (10 s) for the broker's PUBACK (QoS 1). Throws on error. Under MQTT 3.1.1 a publish the ACL
  // refuses is still acknowledged (STACK.md trap 6), and Mosquitto 2.0.11 then closes the connection: try refused
  // publishes with MosquittoPub, and check refusals at a subscriber.
  void Publish(const std::string& topic, const std::string& payload, int qos = 1, bool retained = false);
  // Subscribes and waits for the SUBACK. Mosquitto 2.0 accepts every filter and checks read access per message.
  void Subscribe(const std::string& filter, int qos = 1);

  std::vector<Message> Received() const;                          // a copy of everything received so far
  std::vector<Message> Received(const std::string& topic) const;  // only those on exactly `topic`
  size_t Count() const;
  bool WaitForMessages(size_t n, std::chrono::milliseconds timeout);  // true once at least n have arrived
  void Clear();

  bool connected() const;
  void Disconnect();
  const std::string& client_id() const { return client_id_; }
  const std::string& user() const { return user_; }
  mqtt::async_client& paho() { return *client_; }

  // Tries to connect once and disconnects: 0 when accepted, otherwise the CONNACK return code (4 bad user name or
  // password, 5 not authorised) or -1 for any other failure.
  static int TryConnect(const std::string& url, const std::string& user, const std::string& password);

 private:
  std::string user_;
  std::string client_id_;
  std::unique_ptr<mqtt::async_client> client_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Message> received_;
};

}  // namespace kaoko::testing
