// kaoko-web-launcher: a real Mosquitto (with its MQTT-over-WebSockets listener) and a real kaoko-server for the
// browser tests, which are written in JavaScript and spawn this program. Prints one JSON line with the ports on
// stdout, then serves commands, one per line on stdin, until EOF (then everything stops and is removed):
// Arguments go to kaoko-server, except --with-sms-stub: a delivery room with an SMS gateway nothing answers.
//   pub <user> <topic> <payload…>   publishes as <user> (demo password) with mosquitto_pub; answers "ok <exit code>"
// Everything listens on 127.0.0.1 only.
#include <fmt/format.h>

#include <fstream>
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
    bool sms_stub = false;
    for (int i = 1; i < argc; ++i) {
      if (std::string(argv[i]) == "--with-sms-stub")
        sms_stub = true;
      else
        extra.emplace_back(argv[i]);
    }
    Broker broker(BrokerOptions{.websockets = true});
    TempDir dir;
    if (sms_stub) {
      // The delivery room runs only with a gateway: an SMS one nothing answers is enough for the web rows (its SMS
      // rows just wait).
      std::ofstream(broker.accounts_dir() + "/credentials.toml", std::ios::app)
          << "\n[sms]\nusername = \"kaoko\"\npassword = \"secret\"\ncallback_token = \"0123456789abcdef\"\n";
      extra.insert(extra.end(), {"--sms-gateway", "http://127.0.0.1:1/cgi-bin/sendsms"});
    }
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
