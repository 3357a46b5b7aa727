// The real kaoko-server as a child process for integration tests, and a small HTTP client for its API.
//
//   kaoko::testing::Broker broker;
//   kaoko::testing::ServiceProcess kaoko(broker, dir.path() + "/kaoko.db");
//   auto res = kaoko.Get("/api/v1/stations");   // res.status == 200, res.body is JSON
//
// Everything talks to 127.0.0.1 only. Not thread-safe; one test thread drives it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kaoko/testing/harness.hpp"

namespace kaoko::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One HTTP/1.1 request to 127.0.0.1:port with a 10 s timeout. Never throws; status 0 when there was no answer.
HttpResult HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});

// The path of the kaoko-server executable of this build.
std::string ServerTool();

class ServiceProcess {
 public:
  // Starts kaoko-server for `broker`'s network with the broker's credentials, a free HTTP port and `db_path`, and
  // waits (up to 20 s) until /healthz answers 200. `extra_args` are appended. Throws with the log's tail on failure.
  ServiceProcess(const Broker& broker, std::string db_path, std::vector<std::string> extra_args = {},
                 bool wait_healthy = true);
  ~ServiceProcess();

  int http_port() const { return http_port_; }
  HttpResult Get(const std::string& target) const { return HttpRequest(http_port_, "GET", target); }
  bool WaitHealthy(std::chrono::milliseconds timeout) const;

  void Kill(int sig = SIGKILL);  // and wait for it to exit
  void Start();                  // again, same database, same HTTP port, same client id (persistent session)
  bool running();
  pid_t pid() const;        // of the running kaoko-server, -1 when none
  std::string Log() const;  // everything it printed, across restarts
  const std::string& log_path() const { return log_path_; }

 private:
  const Broker& broker_;
  std::string db_path_;
  std::vector<std::string> extra_args_;
  bool wait_healthy_;
  int http_port_ = 0;
  std::string log_path_;
  std::unique_ptr<Process> process_;
};

}  // namespace kaoko::testing
