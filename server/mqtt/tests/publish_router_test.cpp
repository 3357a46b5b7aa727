// The router between the service's two broker connections: acks on one, everything else on the other, each in the
// order it was handed over.
#include "kaoko/mqtt/publish_router.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

struct Recorder : kaoko::server::Publisher {
  std::vector<std::string> topics;
  std::vector<bool> retained;
  void Publish(const std::string& topic, const std::string&, bool r) override {
    topics.push_back(topic);
    retained.push_back(r);
  }
};

}  // namespace

TEST_CASE("the publish router puts acks on one connection and the rest on the other", "[mqtt][router]") {
  Recorder acks, rest;
  kaoko::server::PublishRouter router(acks, rest);
  router.Publish("kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack", "{}", false);
  router.Publish("kaoko/v1/tonhong/kaoko/alert", "{}", true);
  router.Publish("kaoko/v1/tonhong/kaoko/station/kaoko-temple/ack", "{}", false);
  router.Publish("kaoko/v1/tonhong/kaoko/notify/somchai", "{}", false);
  router.Publish("kaoko/v1/tonhong/cap", "<alert/>", true);
  router.Publish("kaoko/up/kaoko/v1/tonhong/tier/edge-kaoko/journal", "{}", false);
  router.Publish("kaoko/v1/tonhong/kaoko/receipt/ack", "{}", false);  // the receipt of a person named "ack"
  CHECK(acks.topics == std::vector<std::string>{"kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack",
                                                "kaoko/v1/tonhong/kaoko/station/kaoko-temple/ack"});
  CHECK(rest.topics == std::vector<std::string>{"kaoko/v1/tonhong/kaoko/alert", "kaoko/v1/tonhong/kaoko/notify/somchai",
                                                "kaoko/v1/tonhong/cap",
                                                "kaoko/up/kaoko/v1/tonhong/tier/edge-kaoko/journal",
                                                "kaoko/v1/tonhong/kaoko/receipt/ack"});
  CHECK(rest.retained == std::vector<bool>{true, false, true, false, false});
}
