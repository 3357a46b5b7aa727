#include <sys/stat.h>

#include <fmt/format.h>
#include <algorithm>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kaoko/admin/accounts.hpp"
#include "kaoko/contract/network_file.hpp"

using namespace kaoko::admin;

namespace {

const std::string kNetworkFile = std::string(KAOKO_SOURCE_DIR) + "/config/tonhong.toml";

kaoko::alerting::Network Tonhong() {
  auto net = kaoko::config::LoadNetwork(kNetworkFile);
  REQUIRE(net.ok());
  return net.value();
}

bool Contains(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ScratchDir {
  std::string path;
  ScratchDir() {
    char tmpl[] = "/tmp/kaoko-admin-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("admin: password hashes are the ones mosquitto_passwd writes", "[admin]") {
  // Written by `mosquitto_passwd -c -b pw u1 secret` (Mosquitto 2.0.11).
  const std::string from_mosquitto =
      "$7$101$9wNDjVIXAIyWpwOz$aP9QfMtsNHYPHx7avmH5dj+avMaAsTypgtdAyLuLjjIEI9IBchLb3mtf7keZD8tVP3f2mR6zxbYhDuPrEVttAQ="
      "=";
  CHECK(VerifyPassword("secret", from_mosquitto));
  CHECK_FALSE(VerifyPassword("Secret", from_mosquitto));
  std::string ours = HashPassword("demo-somchai");
  CHECK(ours.starts_with("$7$101$"));
  CHECK(ours.size() == from_mosquitto.size());
  CHECK(VerifyPassword("demo-somchai", ours));
  CHECK_FALSE(VerifyPassword("demo-malee", ours));
  CHECK(HashPassword("x") != HashPassword("x"));  // fresh salt each time
}

TEST_CASE("admin: random passwords are 16 unambiguous characters", "[admin]") {
  std::string a = RandomPassword(), b = RandomPassword();
  CHECK(a.size() == 16);
  CHECK(a != b);
  for (char c : a) CHECK(std::string("0Oo1lI").find(c) == std::string::npos);
}

TEST_CASE("admin: accounts from the network file", "[admin]") {
  auto set = MergeNetwork(Tonhong(), std::nullopt, true);
  REQUIRE(set.ok());
  CHECK(set->tambon == "tonhong");
  REQUIRE(set->Find("kaoko"));
  CHECK(set->Find("kaoko")->role == AccountRole::kService);
  REQUIRE(set->Find("kaoko-bridge"));
  CHECK(set->Find("kaoko-bridge")->role == AccountRole::kStation);
  CHECK(set->Find("kaoko-bridge")->villages == std::vector<std::string>{"kaoko"});
  CHECK(set->Find("somchai")->role == AccountRole::kPerson);
  CHECK(set->Find("officer-niran")->role == AccountRole::kTao);
  CHECK(set->Find("somchai")->password == "demo-somchai");
  CHECK(set->accounts.size() == 1 + 6 + 24 + 5);  // the service, stations, people, a tower per village

  SECTION("the ACL gives each role its own topics") {
    std::string acl = AclFile(*set, "tonhong.toml");
    CHECK(Contains(acl, "user kaoko\ntopic readwrite kaoko/#\n"));
    CHECK(Contains(acl,
                   "user kaoko-bridge\ntopic write kaoko/v1/tonhong/kaoko/station/kaoko-bridge/reading\n"
                   "topic write kaoko/v1/tonhong/kaoko/station/kaoko-bridge/status\n"
                   "topic read kaoko/v1/tonhong/kaoko/station/kaoko-bridge/ack\n"));
    CHECK(Contains(acl,
                   "user somchai\ntopic write kaoko/v1/tonhong/+/report/somchai\n"
                   "topic write kaoko/v1/tonhong/+/decision/somchai\n"
                   "topic read kaoko/v1/tonhong/+/receipt/somchai\n"
                   "topic read kaoko/v1/tonhong/+/notify/somchai\n"
                   "topic read kaoko/v1/tonhong/kaoko/alert\ntopic read kaoko/v1/tonhong/kaoko/siren\n"
                   "topic read kaoko/v1/tonhong/cap\n"));
    CHECK(Contains(acl,
                   "user officer-niran\ntopic write kaoko/v1/tonhong/+/report/officer-niran\n"
                   "topic write kaoko/v1/tonhong/+/decision/officer-niran\ntopic read kaoko/v1/tonhong/#\n"));
    // Rights never come from patterns: patterns apply to every account, whatever its role.
    CHECK_FALSE(Contains(acl, "\npattern "));
    // Mosquitto reads the rest of a user/topic line as the name: no trailing comments.
    std::istringstream lines(acl);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("user ") || line.starts_with("topic ") || line.starts_with("pattern ")) {
        CHECK((line.find('#', line.find(' ') + 1) == std::string::npos || line.ends_with("/#")));
      }
    }
  }

  SECTION("credentials round-trip") {
    auto back = ParseCredentials(CredentialsToml(*set), "credentials.toml");
    REQUIRE(back.ok());
    CHECK(back->tambon == "tonhong");
    CHECK(back->demo);
    REQUIRE(back->accounts.size() == set->accounts.size());
    for (const Account& a : set->accounts) {  // toml++ keeps keys sorted, so compare by id
      const Account* b = back->Find(a.id);
      REQUIRE(b);
      CHECK(b->role == a.role);
      CHECK(b->villages == a.villages);
      CHECK(b->password == a.password);
      CHECK(b->name == a.name);
      CHECK(b->from_network == a.from_network);
    }
  }
}

TEST_CASE("admin: re-running keeps passwords, but never demo ones", "[admin]") {
  auto first = MergeNetwork(Tonhong(), std::nullopt, false);
  REQUIRE(first.ok());
  std::string somchai = first->Find("somchai")->password;
  CHECK(somchai.size() == 16);
  auto again = MergeNetwork(Tonhong(), *first, false);
  REQUIRE(again.ok());
  CHECK(again->Find("somchai")->password == somchai);

  auto demo = MergeNetwork(Tonhong(), std::nullopt, true);
  auto real = MergeNetwork(Tonhong(), *demo, false);
  CHECK(real->Find("somchai")->password != "demo-somchai");
  CHECK_FALSE(real->demo);

  AccountSet other = *first;
  other.tambon = "elsewhere";
  auto refused = MergeNetwork(Tonhong(), other, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(Contains(refused.error().reason, "elsewhere"));
}

TEST_CASE("admin: add-account validates and survives a re-run", "[admin]") {
  auto set = MergeNetwork(Tonhong(), std::nullopt, false).value();
  SECTION("a new siren-less extra officer") {
    auto a = AddAccount(set, Account{"officer-dao", AccountRole::kTao, {}, "pw-1", "", false});
    REQUIRE(a.ok());
    auto again = MergeNetwork(Tonhong(), set, false);
    REQUIRE(again->Find("officer-dao"));
    CHECK(again->Find("officer-dao")->password == "pw-1");
  }
  SECTION("refusals") {
    CHECK_FALSE(AddAccount(set, Account{"Bad Name", AccountRole::kPerson, {}, "", "", false}).ok());
    CHECK_FALSE(AddAccount(set, Account{"kaoko", AccountRole::kPerson, {}, "", "", false}).ok());
    CHECK_FALSE(AddAccount(set, Account{"st-9", AccountRole::kStation, {}, "", "", false}).ok());
    CHECK_FALSE(AddAccount(set, Account{"st-9", AccountRole::kStation, {"a", "b"}, "", "", false}).ok());
    CHECK_FALSE(AddAccount(set, Account{"x", AccountRole::kPerson, {}, "a\nb", "", false}).ok());
  }
  SECTION("an existing account keeps its password unless given one") {
    std::string old = set.Find("malee")->password;
    auto a = AddAccount(set, Account{"malee", AccountRole::kPerson, {"kaoko", "huaiphan"}, "", "", false});
    REQUIRE(a.ok());
    CHECK(set.Find("malee")->password == old);
    CHECK(Contains(AclFile(set, "x"),
                   "user malee\ntopic write kaoko/v1/tonhong/+/report/malee\n"
                   "topic write kaoko/v1/tonhong/+/decision/malee\n"
                   "topic read kaoko/v1/tonhong/+/receipt/malee\n"
                   "topic read kaoko/v1/tonhong/+/notify/malee\n"
                   "topic read kaoko/v1/tonhong/kaoko/alert\n"
                   "topic read kaoko/v1/tonhong/kaoko/siren\n"
                   "topic read kaoko/v1/tonhong/huaiphan/alert\n"));
  }
}

TEST_CASE("admin: the command line", "[admin]") {
  ScratchDir dir;
  std::ostringstream out, err;
  SECTION("accounts writes the three files, credentials 0600") {
    REQUIRE(RunCli({"accounts", "--network", kNetworkFile, "--dir", dir.path}, out, err) == 0);
    struct stat st {};
    REQUIRE(::stat((dir.path + "/credentials.toml").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::string passwd = Slurp(dir.path + "/passwd");
    CHECK(Contains(passwd, "\nsomchai:$7$101$"));
    auto creds = ReadCredentials(dir.path);
    REQUIRE(creds.ok());
    REQUIRE(creds.value().has_value());
    std::string somchai = (*creds.value()).Find("somchai")->password;

    std::ostringstream out2;
    REQUIRE(RunCli({"accounts", "--network", kNetworkFile, "--dir", dir.path}, out2, err) == 0);
    CHECK(Contains(out2.str(), "36 passwords kept, 0 new"));  // 31 and the five towers
    CHECK((*ReadCredentials(dir.path).value()).Find("somchai")->password == somchai);

    REQUIRE(RunCli({"add-account", "--dir", dir.path, "--user", "siren-kaoko", "--role", "person", "--village", "kaoko",
                    "--password", "s3cret"},
                   out, err) == 0);
    CHECK(Contains(Slurp(dir.path + "/acl"), "user siren-kaoko\n"));
  }
  SECTION("errors from the network file pass through with file:line:col") {
    std::ofstream(dir.path + "/bad.toml") << "[tambon]\nid = \"t\"\nbogus = 1\n";
    CHECK(RunCli({"accounts", "--network", dir.path + "/bad.toml", "--dir", dir.path}, out, err) == 1);
    CHECK(Contains(err.str(), dir.path + "/bad.toml:3:1: unknown key 'bogus'"));
  }
  SECTION("usage errors") {
    CHECK(RunCli({}, out, err) == 2);
    CHECK(RunCli({"accounts", "--dir", dir.path}, out, err) == 2);
    CHECK(RunCli({"accounts", "--nope"}, out, err) == 2);
    CHECK(RunCli({"add-account", "--dir", dir.path, "--user", "x", "--role", "boss"}, out, err) == 2);
    CHECK(RunCli({"add-account", "--dir", dir.path, "--user", "x", "--role", "person"}, out, err) == 2);  // no tambon
    CHECK(RunCli({"--help"}, out, err) == 0);
    CHECK(Contains(out.str(), "kaoko-admin accounts --network"));
  }
}

TEST_CASE("admin: a tower or siren is a device account that hears its own village only", "[admin][devices]") {
  auto set = MergeNetwork(Tonhong(), std::nullopt, true);
  REQUIRE(set.ok());
  const Account* tower = set->Find("tower-kaoko");
  REQUIRE(tower);
  CHECK(tower->role == AccountRole::kDevice);
  CHECK(tower->villages == std::vector<std::string>{"kaoko"});
  CHECK(tower->password == "demo-tower-kaoko");
  CHECK(tower->from_network);

  const std::string acl = AclFile(*set, "tonhong.toml");
  CHECK(Contains(acl,
                 "user tower-kaoko\n"
                 "topic read kaoko/v1/tonhong/kaoko/siren\n"
                 "topic read kaoko/v1/tonhong/kaoko/announce\n"
                 "topic write kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded\n"
                 "topic write kaoko/v1/tonhong/kaoko/device/tower-kaoko/status\n"));
  // Its block has those four lines and nothing else: no notify, no receipt, no other village, no wildcard.
  const auto start = acl.find("user tower-kaoko\n");
  const auto end = acl.find("\n\n", start);  // accounts' blocks are apart by an empty line
  const std::string block = acl.substr(start, end - start);
  CHECK(std::count(block.begin(), block.end(), '\n') == 4);  // the user line and four topics
  for (const char* never : {"notify", "receipt", "alert", "huaiphan", "+", "#", "report", "decision"}) {
    INFO(never);
    CHECK_FALSE(Contains(block, never));
  }

  SECTION("credentials.toml keeps the role, and a re-run keeps the password") {
    auto parsed = ParseCredentials(CredentialsToml(*set), "credentials.toml");
    REQUIRE(parsed.ok());
    REQUIRE(parsed->Find("tower-kaoko"));
    CHECK(parsed->Find("tower-kaoko")->role == AccountRole::kDevice);
    CHECK(parsed->Find("tower-kaoko")->villages == std::vector<std::string>{"kaoko"});
    auto real = MergeNetwork(Tonhong(), std::nullopt, false);
    REQUIRE(real.ok());
    auto again = MergeNetwork(Tonhong(), *real, false);
    REQUIRE(again.ok());
    CHECK(again->Find("tower-kaoko")->password == real->Find("tower-kaoko")->password);
  }
  SECTION("add-account: a device needs exactly one village") {
    auto none = AddAccount(*set, Account{"siren-x", AccountRole::kDevice, {}, "", "", false});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().reason == "a device needs exactly one --village");
    auto ok = AddAccount(*set, Account{"siren-x", AccountRole::kDevice, {"nanuea"}, "", "", false});
    REQUIRE(ok.ok());
    CHECK(Contains(AclFile(*set, "x"), "topic write kaoko/v1/tonhong/nanuea/device/siren-x/sounded\n"));
    CHECK(ParseAccountRole("device") == AccountRole::kDevice);
  }
}

TEST_CASE("admin: a network with a station named like the service or a bridge is refused and nothing is written",
          "[admin][reserved]") {
  std::ostringstream out, err;
  SECTION("the network file check: kaoko-admin accounts refuses the file with its line, and writes nothing") {
    ScratchDir dir;
    std::string text = Slurp(kNetworkFile);
    const std::string from = "id = \"kaoko-bridge\"";
    REQUIRE(text.find(from) != std::string::npos);
    for (const char* name : {"kaoko", "edge-kaoko"}) {
      std::string bad = text;
      bad.replace(bad.find(from), from.size(), fmt::format("id = \"{}\"", name));
      std::ofstream(dir.path + "/bad.toml") << bad;
      CHECK(RunCli({"accounts", "--network", dir.path + "/bad.toml", "--dir", dir.path + "/accounts"}, out, err) == 1);
      CHECK(Contains(err.str(), fmt::format("station id '{}' is reserved", name)));
      CHECK_FALSE(std::filesystem::exists(dir.path + "/accounts"));
    }
  }
  // Past the loader (a Network built in code): kaoko-admin still never writes two accounts of one name.
  kaoko::alerting::Network net = Tonhong();
  SECTION("a station named like the service") {
    net.stations.front().id = "kaoko";
    auto set = MergeNetwork(net, std::nullopt, true);
    REQUIRE_FALSE(set.ok());
    CHECK(Contains(set.error().reason, "'kaoko'"));
    CHECK(Contains(set.error().reason, "service"));
  }
  SECTION("a person named like an edge box's bridge") {
    net.people.front().id = "edge-kaoko";
    auto set = MergeNetwork(net, std::nullopt, true);
    REQUIRE_FALSE(set.ok());
    CHECK(Contains(set.error().reason, "edge-kaoko"));
  }
  SECTION("a device named like a station") {
    net.devices.front().id = net.stations.front().id;
    auto set = MergeNetwork(net, std::nullopt, true);
    REQUIRE_FALSE(set.ok());
    CHECK(set.error().code == "duplicate_account");
  }
  SECTION("a station named like a bridge added by hand, on the next run") {
    auto set = MergeNetwork(net, std::nullopt, true).value();
    REQUIRE(AddAccount(set, Account{"bridge-up", AccountRole::kBridge, {}, "pw", "", false}).ok());
    net.stations.front().id = "bridge-up";
    auto again = MergeNetwork(net, set, true);
    REQUIRE_FALSE(again.ok());
    CHECK(Contains(again.error().reason, "bridge account added by hand"));
  }
  SECTION("add-account does not turn a station of the network file into a bridge") {
    auto set = MergeNetwork(net, std::nullopt, true).value();
    const std::string station = net.stations.front().id;
    CHECK_FALSE(AddAccount(set, Account{station, AccountRole::kBridge, {}, "pw", "", false}).ok());
    CHECK(set.Find(station)->role == AccountRole::kStation);
  }
  SECTION("a set with two accounts of one name is never written") {
    ScratchDir dir;
    auto set = MergeNetwork(net, std::nullopt, true).value();
    set.accounts.push_back(set.accounts.front());
    auto e = WriteAccountsDir(dir.path + "/accounts", set, "test");
    REQUIRE(e);
    CHECK(e->code == "duplicate_account");
    CHECK_FALSE(std::filesystem::exists(dir.path + "/accounts/credentials.toml"));
  }
}

TEST_CASE("admin: the district above the TAO gets a broker account that reads the whole tambon, as the TAO's",
          "[admin][district]") {
  kaoko::alerting::Network net = Tonhong();
  kaoko::alerting::Person d;
  d.id = "amphoe-dpm";
  d.name_th = "ปลัดอำเภอ";
  d.name_en = "District disaster officer";
  d.role = kaoko::alerting::Role::kDistrict;
  net.people.push_back(d);
  auto set = MergeNetwork(net, std::nullopt, true);
  REQUIRE(set.ok());
  REQUIRE(set->Find("amphoe-dpm"));
  CHECK(set->Find("amphoe-dpm")->role == AccountRole::kTao);
  CHECK(set->Find("amphoe-dpm")->villages.empty());
  CHECK(Contains(AclFile(*set, "tonhong.toml"),
                 "user amphoe-dpm\ntopic write kaoko/v1/tonhong/+/report/amphoe-dpm\n"
                 "topic write kaoko/v1/tonhong/+/decision/amphoe-dpm\ntopic read kaoko/v1/tonhong/#\n"));
}
