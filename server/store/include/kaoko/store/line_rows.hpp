// LINE's rows (docs/delivery-line.md, migration 12): which LINE account each person linked (line_links: a user id is
// linked to one person only, a person has one account), the one-time link codes a person takes from their own page
// and sends to the TAO's Official Account (line_link_codes: one per person, valid until `expires`, used once), and
// the webhook events already handled (line_webhook_events: a replayed or redelivered event is not acted on twice).
//
// A LineRows works on one Store's connection, inside whatever transaction that Store has open. Not thread-safe: use it
// from the Store's thread only. A LINE user id is personal data: callers never log what these functions return.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kaoko/store/store.hpp"

namespace kaoko::store {

enum class LinkResult {
  kLinked,       // the person's account is now `user_id` (a new link, or a new account replacing theirs)
  kAlready,      // the person was already linked to this very account
  kOtherPerson,  // the account is linked to someone else: nothing changed
};

class LineRows {
 public:
  explicit LineRows(Store& store) : store_(store) {}

  // A new link code for `person`, valid until `expires`; the person's earlier code, if any, no longer works. `fresh`
  // gives candidates (tried again while one collides with another person's code). Empty when 20 tries all collided.
  std::string NewLinkCode(std::string_view person, TimePoint expires, const std::function<std::string()>& fresh);
  // The person a code was given to, and the code is used up; nullopt (nothing changed) when it is unknown or expired
  // at `now`.
  std::optional<std::string> TakeLinkCode(std::string_view code, TimePoint now);

  // Links `person` to LINE account `user_id` at `at` (see LinkResult).
  LinkResult Link(std::string_view person, std::string_view user_id, TimePoint at);
  // The LINE user id linked to `person`; nullopt when none.
  std::optional<std::string> UserOf(std::string_view person);
  // The person LINE account `user_id` is linked to; nullopt when none.
  std::optional<std::string> PersonOf(std::string_view user_id);

  // Remembers webhook event `event_id` as handled at `at`: true when it is new, false when it was handled before.
  bool FirstSeen(std::string_view event_id, TimePoint at);
  // Forgets the events handled before `before` (older events are refused by their timestamp anyway). Returns how many.
  int ForgetEventsBefore(TimePoint before);

 private:
  Store& store_;
};

}  // namespace kaoko::store
