// kaoko-smsc's phones file (smsc_config.hpp).
#include <catch2/catch.hpp>

#include "kaoko/sim/smsc_config.hpp"
#include "kaoko/sim/smsc_options.hpp"

using namespace kaoko::sim::smsc;

TEST_CASE("smsc config: the demo file loads, and mistakes are refused with their place", "[smsc]") {
  const auto demo = LoadSmscConfig(std::string(KAOKO_SOURCE_DIR) + "/firmware-sim/smsc/phones.toml");
  REQUIRE(demo);
  CHECK(demo->system_id == "kaoko");
  CHECK(demo->message_ids == MessageIdStyle::kHex);
  REQUIRE(demo->phones.size() == 5);
  CHECK(demo->phones[0].reply == std::optional<std::string>("ยืนยัน 4821"));
  CHECK(demo->phones[4].does == PhoneBehaviour::kBarred);
  CHECK(demo->phones[4].refuse_status == 0x45);

  const auto typo = ParseSmscConfig("[[phone]]\nnumber = \"+66812345001\"\ndoes = \"deliverd\"\n", "t.toml");
  REQUIRE_FALSE(typo);
  CHECK(typo.error().reason.find("t.toml:3:") == 0);
  const auto unknown_key = ParseSmscConfig("[smsc]\nsystemid = \"x\"\n", "t.toml");
  REQUIRE_FALSE(unknown_key);
  CHECK(unknown_key.error().code == "smsc_config_invalid");
  CHECK_FALSE(ParseSmscConfig("[[phone]]\nnumber = \"0812345001\"\n", "t.toml"));
  CHECK_FALSE(ParseSmscConfig("[[phone]]\nnumber = \"+66812345001\"\n[[phone]]\nnumber = \"+66812345001\"\n", "t"));
}

TEST_CASE("smsc options: ports, speed and the required config", "[smsc]") {
  const char* good[] = {"kaoko-smsc", "--config", "p.toml", "--port", "0", "--control-port", "4000", "--speed", "60"};
  const auto o = ParseSmscOptions(9, good);
  REQUIRE(o);
  CHECK(o->smpp_port == 0);
  CHECK(o->control_port == 4000);
  CHECK(o->speed == 60);
  const char* no_config[] = {"kaoko-smsc", "--port", "1"};
  CHECK(ParseSmscOptions(3, no_config).error().code == "usage");
  const char* bad_port[] = {"kaoko-smsc", "--config", "p", "--port", "70000"};
  CHECK_FALSE(ParseSmscOptions(5, bad_port));
}
