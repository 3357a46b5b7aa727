// OASIS CAP 1.2 rendering of the tambon's active flood incidents, for the retained `{tambon}/cap` topic and
// GET /api/v1/cap, so that district, province and national systems can read kaoko's alerts.
//
// Choices (a CAP <alert> is one message, but a tambon may have several villages in alert):
//  - One <alert> per tambon document, with one <info> pair per incident: th-TH first, then en-US, each with the
//    village as its <area> (a 2 km circle around the village and the tambon geocode).
//  - No active incident: a minimal, schema-valid <alert> (status Actual, msgType Alert, scope Public) with no <info>
//    and a <note> "no active alerts", so that a reader sees the all-clear instead of a stale document.
//  - Drills are status Exercise. A document is either real or exercise, never both: Engine::Cap renders the real
//    incidents when any is open, and the drills only when no real incident is.
//  - category Met (CAP: "Meteorological (inc. flood)"); event อุทกภัย / Flood.
//  - urgency/severity/responseType by level: watch Future/Minor/Monitor, warning Expected/Severe/Prepare,
//    critical Immediate/Extreme/Evacuate.
//  - certainty: declared by the TAO → Observed; confirmed by the headman, corroborated or raised by a station →
//    Likely; otherwise (an unconfirmed watcher report or upstream warning) → Possible.
//  - Each flood incident has one thread of messages (docs/cap.md): message identifiers
//    "kaoko-<tambon>-incident-<id>-<revision>" (unique per message: the revision is bumped on every change and stored
//    with the incident), and the incident's one name "kaoko-<tambon>-incident-<id>" in <incidents>. The first message
//    is msgType Alert; every later one is an Update whose <references> names the message before it
//    ("kaoko@<tambon>,<identifier>,<sent>"). Engine::Advance issues the messages (Incident::cap_*), once per batch of
//    inputs, so that a reference always names a message that was published, and a restart continues the thread.
//  - The end: a resolved incident (it was real and is over) is an Update with urgency Past and responseType
//    AllClear; a rejected one (a false alarm) is a Cancel of its previous message, certainty Unlikely. Either stays in
//    the document for the batch it closed in, so it is published once, and leaves it a second later.
//  - A document with one incident (the usual case) is that incident's message. With several, the document is a
//    message of its own, "kaoko-<tambon>-<hash>" (a hash of every incident's id and revision: the same state always
//    renders the same identifier), whose <info> pairs each name their incident's message (parameter kaoko-message)
//    and whose <references> lists the previous message of each; msgType Update when it references any, else Alert.
//  - An overdue TAO (Incident::tao_overdue) is said in the <description> and as parameter kaoko-tao-overdue; the
//    district step (Incident::district_notified_at) in the <description> and as parameter kaoko-district-notified.
//  - sent = the latest incident update (or `now` when there is none). Times are Thai time (+07:00): CAP forbids "Z".
#pragma once

#include <string>
#include <vector>

#include "kaoko/alerting/events.hpp"
#include "kaoko/alerting/network.hpp"
#include "kaoko/alerting/state.hpp"

namespace kaoko::alerting {

// Renders the CAP document for `incidents` (flood incidents; station incidents are skipped). All of them should be
// exercises or none; when mixed, the document is marked Exercise only if all are. Returns UTF-8 XML, every text
// XML-escaped. Thread-safe (pure).
std::string RenderCap(const Network& network, const std::vector<const Incident*>& incidents, TimePoint now);

// The same document bounded to `max_bytes` (0 = no bound), for the retained MQTT topic: a broker drops a client
// whose packet exceeds its max_packet_size, so a tambon with a hundred open incidents (about 3 KB each) would lose
// its connection over and over. When the whole document does not fit, it keeps the most severe incidents (level,
// then the latest update) that fit, and its <note> says how many are left out and where the whole document is
// (GET /api/v1/cap). `omitted` (optional) receives that count. `whole` (optional): the whole document as RenderCap
// gave it for the same arguments, when the caller has it already (it is not rendered again). Thread-safe (pure).
std::string RenderCapBounded(const Network& network, const std::vector<const Incident*>& incidents, TimePoint now,
                             std::size_t max_bytes, std::size_t* omitted = nullptr, const std::string* whole = nullptr);

// Escapes & < > " ' for XML text and attributes. Thread-safe.
std::string XmlEscape(std::string_view text);

}  // namespace kaoko::alerting
