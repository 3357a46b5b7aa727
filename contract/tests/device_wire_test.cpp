// The wire contract's additions for the village's towers and sirens (docs/protocol.md, "The tower and the siren"):
// the announce topic kaoko publishes, the sounded answer a device gives, and their topics.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kaoko/contract/render.hpp"
#include "kaoko/contract/wire.hpp"

using namespace kaoko::wire;
using kaoko::alerting::Level;
using kaoko::alerting::Play;
using kaoko::server::RenderAnnouncement;

namespace {
TimePoint At(const char* text) { return *ParseTime(text); }

kaoko::alerting::Announcement Evacuate() {
  kaoko::alerting::Announcement a;
  a.village = "kaoko";
  a.id = "a-12";
  a.incident = 12;
  a.level = Level::kCritical;
  a.on = true;
  a.play = Play::kEvacuate;
  a.text_th = "เตือนภัยรุนแรง — อพยพ บ้านเก้ากอ";
  a.text_en = "Critical, Ban Kao Ko: move to high ground now";
  a.ts = At("2026-11-27T19:14:00Z");
  return a;
}
}  // namespace

TEST_CASE("wire: device topics are taken apart and built", "[wire][devices]") {
  auto announce = ParseTopic("kaoko/v1/tonhong/kaoko/announce");
  REQUIRE(announce.ok());
  CHECK(announce->kind == TopicKind::kAnnounce);
  CHECK(announce->village == "kaoko");
  auto sounded = ParseTopic("kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded");
  REQUIRE(sounded.ok());
  CHECK(sounded->kind == TopicKind::kDeviceSounded);
  CHECK(sounded->village == "kaoko");
  CHECK(sounded->name == "tower-kaoko");
  CHECK(ParseTopic("kaoko/v1/tonhong/kaoko/device/tower-kaoko/status")->kind == TopicKind::kDeviceStatus);
  CHECK(AnnounceTopic("tonhong", "kaoko") == "kaoko/v1/tonhong/kaoko/announce");
  CHECK(SoundedTopic("tonhong", "kaoko", "tower-kaoko") == "kaoko/v1/tonhong/kaoko/device/tower-kaoko/sounded");
  CHECK(DeviceStatusTopic("t", "v", "d") == "kaoko/v1/t/v/device/d/status");
  for (const char* bad : {"kaoko/v1/t/v/device/Tower/sounded", "kaoko/v1/t/v/device/d/played", "kaoko/v1/t/v/device/d",
                          "kaoko/v1/t/v/announce/x"}) {
    INFO(bad);
    CHECK_FALSE(ParseTopic(bad).ok());
  }
}

TEST_CASE("wire: an announcement renders as the contract shows and parses back", "[wire][devices]") {
  const std::string text = RenderAnnouncement(Evacuate());
  const auto j = nlohmann::json::parse(text);
  CHECK(j["id"] == "a-12");
  CHECK(j["incident"] == 12);
  CHECK(j["level"] == "critical");
  CHECK(j["on"] == true);
  CHECK(j["play"] == "evacuate");
  CHECK(j["ts"] == "2026-11-27T19:14:00Z");
  CHECK(j["exercise"] == false);
  CHECK(j["text_th"] == "เตือนภัยรุนแรง — อพยพ บ้านเก้ากอ");
  CHECK(j.size() == 9);  // nothing else: no village names of people, no users

  auto back = ParseAnnouncement(text);
  REQUIRE(back.ok());
  CHECK(back->id == "a-12");
  CHECK(back->incident == 12);
  CHECK(back->level == Level::kCritical);
  CHECK(back->on);
  CHECK(back->play == Play::kEvacuate);
  CHECK(back->text_en == "Critical, Ban Kao Ko: move to high ground now");
  CHECK(back->ts == At("2026-11-27T19:14:00Z"));
  CHECK_FALSE(back->exercise);

  SECTION("a drill plays drill, marked exercise, with no real siren") {
    auto drill = Evacuate();
    drill.on = false;
    drill.play = Play::kDrill;
    drill.exercise = true;
    auto parsed = ParseAnnouncement(RenderAnnouncement(drill));
    REQUIRE(parsed.ok());
    CHECK(parsed->play == Play::kDrill);
    CHECK(parsed->exercise);
    CHECK_FALSE(parsed->on);
  }
  SECTION("every play has its wire name") {
    for (auto [play, name] : {std::pair{Play::kEvacuate, "evacuate"}, std::pair{Play::kWarning, "warning"},
                              std::pair{Play::kWatch, "watch"}, std::pair{Play::kAllClear, "all_clear"},
                              std::pair{Play::kDrill, "drill"}}) {
      CHECK(std::string(kaoko::alerting::ToString(play)) == name);
      CHECK(kaoko::alerting::ParsePlay(name) == play);
    }
    CHECK_FALSE(kaoko::alerting::ParsePlay("siren"));
  }
}

TEST_CASE("wire: a bad announcement is refused with the field that is wrong", "[wire][devices]") {
  auto code = [](std::string_view payload) {
    auto a = ParseAnnouncement(payload);
    return a ? std::string("ok") : a.error().code;
  };
  const std::string good = RenderAnnouncement(Evacuate());
  auto with = [&](const char* key, nlohmann::json value) {
    auto j = nlohmann::json::parse(good);
    if (value.is_discarded())
      j.erase(key);
    else
      j[key] = value;
    return j.dump();
  };
  const nlohmann::json gone(nlohmann::json::value_t::discarded);
  CHECK(code(good) == "ok");
  CHECK(code("[]") == "not_object");
  CHECK(code(with("id", gone)) == "missing_id");
  CHECK(code(with("incident", "12")) == "bad_incident");
  CHECK(code(with("level", "flood")) == "bad_level");
  CHECK(code(with("on", "yes")) == "bad_on");
  CHECK(code(with("play", "siren")) == "bad_play");
  CHECK(code(with("text_th", gone)) == "missing_text_th");
  CHECK(code(with("ts", "yesterday")) == "bad_ts");
  CHECK(code(with("exercise", 1)) == "bad_exercise");
  // A drill never turns a real siren on.
  auto j = nlohmann::json::parse(good);
  j["exercise"] = true;
  CHECK(code(j.dump()) == "bad_on");
}

TEST_CASE("wire: a device's sounded answer", "[wire][devices]") {
  SECTION("played") {
    auto m = ParseSounded(R"({"announce":"a-12","ts":"2026-11-27T19:14:05Z","ok":true})");
    REQUIRE(m.ok());
    CHECK(m->announce == "a-12");
    CHECK(m->ts == At("2026-11-27T19:14:05Z"));
    CHECK(m->ok);
    CHECK(m->note.empty());
  }
  SECTION("could not play, with a note") {
    auto m = ParseSounded(R"({"announce":"a-12","ts":"2026-11-27T19:14:05Z","ok":false,"note":"amplifier fuse"})");
    REQUIRE(m.ok());
    CHECK_FALSE(m->ok);
    CHECK(m->note == "amplifier fuse");
  }
  SECTION("renders back to the same") {
    SoundedMsg m{"a-7", At("2026-11-27T19:14:05Z"), false, "ไม่มีไฟ"};
    auto back = ParseSounded(RenderSounded(m));
    REQUIRE(back.ok());
    CHECK(back->announce == "a-7");
    CHECK(back->ts == m.ts);
    CHECK_FALSE(back->ok);
    CHECK(back->note == "ไม่มีไฟ");
  }
  SECTION("bad payloads, each with its reason") {
    auto code = [](std::string_view payload) {
      auto m = ParseSounded(payload);
      return m ? std::string("ok") : m.error().code;
    };
    CHECK(code("") == "empty");
    CHECK(code("sounded") == "bad_json");
    CHECK(code(R"({"ts":"2026-11-27T19:14:05Z","ok":true})") == "missing_announce");
    CHECK(code(R"({"announce":12,"ts":"2026-11-27T19:14:05Z","ok":true})") == "bad_announce");
    CHECK(code(R"({"announce":"a-1","ok":true})") == "missing_ts");
    CHECK(code(R"({"announce":"a-1","ts":"now","ok":true})") == "bad_ts");
    CHECK(code(R"({"announce":"a-1","ts":"2026-11-27T19:14:05Z"})") == "missing_ok");
    CHECK(code(R"({"announce":"a-1","ts":"2026-11-27T19:14:05Z","ok":"yes"})") == "bad_ok");
    CHECK(code(R"({"announce":"a-1","ts":"2026-11-27T19:14:05Z","ok":false,"note":5})") == "bad_note");
    CHECK(code(R"({"announce":"a-1","ts":"2026-11-27T19:14:05Z","ok":false,"note":")" + std::string(501, 'x') +
               "\"}") == "note_too_long");
  }
}
