// The checks LINE makes on message objects (line_validate.hpp). Limits from the Messaging API reference's message
// objects and actions: text 5000, altText 400, buttons text 160 (60 with a title or image), confirm text 240 and
// exactly 2 actions, buttons 1 to 4 actions, action label 20, postback data 300, message action text 300, uri 1000.
#include "kaoko/sim/line_validate.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace kaoko::sim {
namespace {

using nlohmann::json;

class Checker {
 public:
  explicit Checker(std::vector<LineErrorDetail>& out) : out_(out) {}

  void Fail(std::string message, std::string property) { out_.push_back({std::move(message), std::move(property)}); }

  // A string property that must be present, non-empty and at most `max` long.
  void Text(const json& object, const char* key, std::size_t max, const std::string& where, bool required = true) {
    std::string property = where + "." + key;
    if (!object.contains(key) || object[key].is_null()) {
      if (required) Fail("May not be empty", property);
      return;
    }
    if (!object[key].is_string()) return Fail("Must be a string", property);
    std::size_t n = LineTextLength(object[key].get_ref<const std::string&>());
    if (n == 0 && required) return Fail("May not be empty", property);
    if (n > max) Fail(fmt::format("Length must be between 0 and {}", max), property);
  }

  void Action(const json& action, const std::string& where) {
    if (!action.is_object()) return Fail("Must be an object", where);
    std::string type = action.value("type", "");
    Text(action, "label", 20, where);
    if (type == "postback") {
      Text(action, "data", 300, where);
      Text(action, "displayText", 300, where, false);
    } else if (type == "message") {
      Text(action, "text", 300, where);
    } else if (type == "uri") {
      Text(action, "uri", 1000, where);
    } else {
      Fail(
          "Must be one of the following values: [postback, message, uri, datetimepicker, camera, cameraRoll, "
          "location, richmenuswitch, clipboard]",
          where + ".type");
    }
  }

  void Actions(const json& tmpl, const std::string& where, std::size_t min, std::size_t max) {
    std::string property = where + ".actions";
    if (!tmpl.contains("actions") || !tmpl["actions"].is_array()) return Fail("May not be empty", property);
    const json& actions = tmpl["actions"];
    if (actions.size() < min || actions.size() > max) {
      Fail(min == max ? fmt::format("Size must be {}", min) : fmt::format("Size must be between {} and {}", min, max),
           property);
    }
    for (std::size_t i = 0; i < actions.size(); ++i) Action(actions[i], fmt::format("{}[{}]", property, i));
  }

  void Template(const json& message, const std::string& where) {
    Text(message, "altText", 400, where);
    std::string property = where + ".template";
    if (!message.contains("template") || !message["template"].is_object()) return Fail("May not be empty", property);
    const json& tmpl = message["template"];
    std::string type = tmpl.value("type", "");
    if (type == "buttons") {
      bool framed = tmpl.contains("title") || tmpl.contains("thumbnailImageUrl");
      Text(tmpl, "title", 40, property, false);
      Text(tmpl, "text", framed ? 60 : 160, property);
      Actions(tmpl, property, 1, 4);
    } else if (type == "confirm") {
      Text(tmpl, "text", 240, property);
      Actions(tmpl, property, 2, 2);
    } else if (type != "carousel" && type != "image_carousel") {
      Fail("Must be one of the following values: [buttons, confirm, carousel, image_carousel]", property + ".type");
    }
  }

  void Message(const json& message, const std::string& where) {
    if (!message.is_object()) return Fail("Must be an object", where);
    std::string type = message.value("type", "");
    if (type == "text") {
      Text(message, "text", kLineMaxTextChars, where);
    } else if (type == "template") {
      Template(message, where);
    } else if (type == "sticker") {
      Text(message, "packageId", 100, where);
      Text(message, "stickerId", 100, where);
    } else if (type == "flex") {
      Text(message, "altText", 400, where);
      if (!message.contains("contents") || !message["contents"].is_object())
        Fail("May not be empty", where + ".contents");
    } else {
      static constexpr std::array kOthers = {"image", "video", "audio", "location", "imagemap"};
      for (const char* other : kOthers) {
        if (type == other) return;  // accepted as sent: kaoko sends none of these
      }
      Fail(
          "Must be one of the following values: [text, image, video, audio, location, sticker, template, imagemap, "
          "flex]",
          where + ".type");
    }
  }

 private:
  std::vector<LineErrorDetail>& out_;
};

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool IsLineUserId(std::string_view id) {
  if (id.size() != 33 || id[0] != 'U') return false;
  for (char c : id.substr(1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsLineRetryKey(std::string_view key) {
  if (key.size() != 36) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? key[i] != '-' : !IsHex(key[i])) return false;
  }
  return true;
}

std::size_t LineTextLength(std::string_view utf8) {
  std::size_t units = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    units += c >= 0xF0 ? 2 : 1;        // a 4-byte sequence is a surrogate pair in UTF-16
  }
  return units;
}

std::vector<LineErrorDetail> ValidateLineMessages(const nlohmann::json& messages) {
  std::vector<LineErrorDetail> out;
  Checker check(out);
  if (!messages.is_array() || messages.empty()) {
    check.Fail("May not be empty", "messages");
    return out;
  }
  if (messages.size() > kLineMaxMessagesPerRequest) {
    check.Fail(fmt::format("Size must be between 1 and {}", kLineMaxMessagesPerRequest), "messages");
  }
  for (std::size_t i = 0; i < messages.size(); ++i) check.Message(messages[i], fmt::format("messages[{}]", i));
  return out;
}

}  // namespace kaoko::sim
