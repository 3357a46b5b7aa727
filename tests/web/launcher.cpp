// kaoko-web-launcher: a real Mosquitto (with its MQTT-over-WebSockets listener) and a real kaoko-server for the
// browser tests, which are written in JavaScript and spawn this program. Prints one JSON line with the ports on
// stdout, then serves commands, one per line on stdin, until EOF (then everything stops and is removed):
//   pub <user> <topic> <payload…>   publishes as <user> (demo password) with mosquitto_pub; answers "ok <exit code>"
// Everything listens on 127.0.0.1 only.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "kaoko/testing/harness.hpp"
#include "kaoko/testing/service.hpp"

int main(int argc, char** argv) {
  using namespace kaoko::testing;
  try {
    std::vector<std::string> extra;
    for (int i = 1; i < argc; ++i) extra.emplace_back(argv[i]);
    Broker broker(BrokerOptions{.websockets = true});
    TempDir dir;
    extra.insert(extra.begin(), {"--mqtt-ws", broker.ws_url()});
    ServiceProcess kaoko(broker, dir.path() + "/kaoko.db", extra);
    nlohmann::json ports{{"http", kaoko.http_port()},
                         {"mqtt", broker.port()},
                         {"ws", broker.ws_port()},
                         {"db", dir.path() + "/kaoko.db"},
                         {"log", kaoko.log_path()}};
    std::cout << ports.dump() << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string cmd, user, topic;
      in >> cmd >> user >> topic;
      if (cmd == "pub") {
        std::string payload;
        std::getline(in, payload);
        if (!payload.empty() && payload.front() == ' ') payload.erase(0, 1);
        int rc = MosquittoPub(broker.port(), user, broker.Password(user), topic, payload);
        std::cout << "ok " << rc << std::endl;
      } else {
        std::cout << "error unknown command" << std::endl;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kaoko-web-launcher: " << e.what() << std::endl;
    return 1;
  }
}
