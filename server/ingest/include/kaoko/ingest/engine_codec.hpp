// The storage codec of the alerting engine's durable state (kaoko::alerting::EngineState): each open incident, each
// station's evaluation state and the rest of the engine ("meta") as compact JSON, which the store keeps in SQLite so
// that a restart resumes every deadline. Also the public JSON of an incident that the HTTP API and the dashboard read.
//
// Storage encoding (version 1, key "v"; the key lists are in src/engine_codec_fields.hpp):
//   - times are integer milliseconds since the Unix epoch (exact round-trip); an empty optional is null;
//   - enums are their wire strings ("warning", "awaiting_confirmation", "ack", "flood");
//   - StationTrack's fixed buffers are arrays of numbers; the rain buckets are sparse (only the slots in use).
// Decoding is lenient about versions and strict about types: unknown keys are ignored, a missing key keeps the
// struct's default, but a value of the wrong type or out of range is an error that names the field, e.g.
// "incident.asks[1].action: unknown action \"ring\"". Decoding never throws, whatever the input.
//
//   std::string text = EncodeIncident(incident);
//   Result<alerting::Incident> back = DecodeIncident(text);
//   if (!back.ok()) log(back.error().reason);
//
// Every function here is pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kaoko/alerting/state.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::server {

// Returns the incident as compact JSON. Does not throw (text that is not valid UTF-8 is stored with U+FFFD in place
// of the bad bytes).
std::string EncodeIncident(const alerting::Incident& incident);
// Returns the incident, or an error (code "bad_json", "bad_type" or "bad_value") naming what is wrong. Never throws.
Result<alerting::Incident> DecodeIncident(std::string_view json);

// Returns one station's evaluation state, with the station's id, as compact JSON. Does not throw.
std::string EncodeStationTrack(std::string_view station, const alerting::StationTrack& track);
// Returns the station's evaluation state, or an error naming what is wrong. The ring and rain buffers come back with
// exactly the sizes and contents they were encoded with; a head or count that does not fit its ring is an error,
// since the engine would index past it. Never throws.
Result<alerting::SavedTrack> DecodeStationTrack(std::string_view json);

// Returns everything in the engine state except `incidents` and `stations` (those are stored one row each):
// next_incident, next_notification, alerts, sirens, seen, next_announcement and towers. Does not throw.
std::string EncodeEngineMeta(const alerting::EngineState& state);
// Sets next_incident, next_notification, alerts, sirens, seen, next_announcement and towers of `into` (a missing key
// sets that field's default) and returns true; leaves `into` untouched and returns an error when anything is wrong.
// Never throws.
Result<bool> DecodeEngineMeta(std::string_view json, alerting::EngineState& into);

// Returns the incident as the HTTP API and the dashboard show it: the stage under "status", times in RFC 3339 UTC
// (null when unset), problems as English names, and the asks. Does not throw.
nlohmann::json IncidentPublicJson(const alerting::Incident& incident);

}  // namespace kaoko::server
