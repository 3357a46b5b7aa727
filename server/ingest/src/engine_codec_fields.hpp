// The storage keys of the engine's state, each struct's list written once: encoding and decoding both walk these
// lists with a visitor v(key, member) (engine_codec.cpp). Every key is the member's name, so the struct is the
// documentation; how each type is encoded is in engine_codec.hpp and engine_codec.cpp.
#pragma once

#include <concepts>
#include <type_traits>

#include "kaoko/alerting/state.hpp"

namespace kaoko::server::codec {

// T is U, const or not: a list serves the encoder (const) and the decoder alike.
template <typename T, typename U>
concept Like = std::same_as<std::remove_const_t<T>, U>;

template <typename V>
void Fields(V&& v, Like<alerting::Ask> auto& a) {
  v("user", a.user);
  v("action", a.action);
  v("asked", a.asked);
  v("next_reminder", a.next_reminder);
  v("reminders", a.reminders);
  v("open", a.open);
}

template <typename V>
void Fields(V&& v, Like<alerting::TriggerSource> auto& s) {
  v("kind", s.kind);
  v("id", s.id);
  v("ts", s.ts);
  v("level", s.level);
}

template <typename V>
void Fields(V&& v, Like<alerting::AlertState> auto& a) {
  v("village", a.village);
  v("level", a.level);
  v("incident", a.incident);
  v("status", a.status);
  v("since", a.since);
  v("updated", a.updated);
  v("headline_th", a.headline_th);
  v("headline_en", a.headline_en);
  v("exercise", a.exercise);
  v("upstream_village", a.upstream_village);
  v("upstream_name_th", a.upstream_name_th);
  v("upstream_name_en", a.upstream_name_en);
  v("upstream_level", a.upstream_level);
  v("expected_arrival", a.expected_arrival);
  v("tao_overdue_since", a.tao_overdue_since);
  v("district_notified_at", a.district_notified_at);
}

template <typename V>
void Fields(V&& v, Like<alerting::Siren> auto& s) {
  v("village", s.village);
  v("on", s.on);
  v("level", s.level);
  v("incident", s.incident);
  v("exercise", s.exercise);
}

// An answer a village's tower or siren owes (alerting/tower_watch.hpp).
template <typename V>
void Fields(V&& v, Like<alerting::TowerExpectation> auto& e) {
  v("device", e.device);
  v("village", e.village);
  v("announce", e.announce);
  v("incident", e.incident);
  v("exercise", e.exercise);
  v("sent", e.sent);
  v("deadline", e.deadline);
  v("answered", e.answered);
  v("missed", e.missed);
}

// A SeenMessage with its receipt flattened.
template <typename V>
void Fields(V&& v, Like<alerting::SeenMessage> auto& m) {
  v("key", m.key);
  v("user", m.receipt.user);
  v("village", m.receipt.village);
  v("ref", m.receipt.ref);
  v("ok", m.receipt.ok);
  v("incident", m.receipt.incident);
  v("error", m.receipt.error);
}

template <typename V>
void Fields(V&& v, Like<alerting::Incident> auto& i) {
  v("id", i.id);
  v("kind", i.kind);
  v("village", i.village);
  v("station", i.station);
  v("origin", i.origin);
  v("level", i.level);
  v("declared_level", i.declared_level);
  v("stage", i.stage);
  v("exercise", i.exercise);
  v("unconfirmed", i.unconfirmed);
  v("rejection_noted", i.rejection_noted);
  v("station_critical", i.station_critical);
  v("upstream_warned", i.upstream_warned);
  v("siren_on", i.siren_on);
  v("tao_overdue", i.tao_overdue);
  v("district_overdue", i.district_overdue);
  v("corroborations", i.corroborations);
  v("problems", i.problems);
  v("opened", i.opened);
  v("updated", i.updated);
  v("closed", i.closed);
  v("stage_deadline", i.stage_deadline);
  v("deputy_at", i.deputy_at);
  v("normal_since", i.normal_since);
  v("expected_arrival", i.expected_arrival);
  v("tao_overdue_since", i.tao_overdue_since);
  v("district_notified_at", i.district_notified_at);
  v("district_deadline", i.district_deadline);
  v("district_acked_by", i.district_acked_by);
  v("upstream_village", i.upstream_village);
  v("acked_by", i.acked_by);
  v("confirmed_by", i.confirmed_by);
  v("rejected_by", i.rejected_by);
  v("declared_by", i.declared_by);
  v("detail_th", i.detail_th);
  v("detail_en", i.detail_en);
  v("headline_th", i.headline_th);
  v("headline_en", i.headline_en);
  v("asks", i.asks);
  v("sources", i.sources);
  v("revision", i.revision);
  v("cap_revision", i.cap_revision);
  v("cap_sent", i.cap_sent);
  v("cap_previous_revision", i.cap_previous_revision);
  v("cap_previous_sent", i.cap_previous_sent);
}

// The engine's meta (what is not stored one row per incident or station). Over several states at once:
// v(key, member of each), so that decoding can move a decoded meta into its target field by field.
template <typename V, typename... S>
void MetaFields(V&& v, S&... s) {
  v("next_incident", s.next_incident...);
  v("next_notification", s.next_notification...);
  v("alerts", s.alerts...);
  v("sirens", s.sirens...);
  v("seen", s.seen...);
  v("next_announcement", s.next_announcement...);
  v("towers", s.towers...);
}

// A station's evaluation state, in the order it is written. The rain buffers are one visit, v.Rain(t): they are
// stored sparse, as "rain_slots" and "rain".
template <typename V>
void TrackFields(V&& v, Like<alerting::StationTrack> auto& t) {
  v("threshold_level", t.threshold_level);
  v("fast_rise", t.fast_rise);
  v("rain_watch", t.rain_watch);
  v("level", t.level);
  v("triggered_level", t.triggered_level);
  v("over_count", t.over_count);
  v("over_since", t.over_since);
  v("latest_ts", t.latest_ts);
  v("latest_seq", t.latest_seq);
  v("max_seq", t.max_seq);
  v("latest_level_cm", t.latest_level_cm);
  v("accepted_cm", t.accepted_cm);
  v("battery_v", t.battery_v);
  v("last_heard", t.last_heard);
  v("watching_since", t.watching_since);
  v("recent", t.recent);
  v("recent_head", t.recent_head);
  v("recent_count", t.recent_count);
  v.Rain(t);
  v("rain_1h_mm", t.rain_1h_mm);
  v("rain_24h_mm", t.rain_24h_mm);
  v("rise_cm_per_hour", t.rise_cm_per_hour);
  v("same_count", t.same_count);
  v("moving", t.moving);
  v("suspect_run", t.suspect_run);
  v("suspect_cm", t.suspect_cm);
  v("good_run", t.good_run);
  v("problems", t.problems);
  v("silenced_until", t.silenced_until);
  v("health_incident", t.health_incident);
  v("clock_ahead_s", t.clock_ahead_s);
  v("clock_good_run", t.clock_good_run);
  v("backlog_count", t.backlog_count);
  v("backlog_first", t.backlog_first);
  v("backlog_last", t.backlog_last);
}

// The records a list above describes (encoded as a JSON object of their fields).
struct IgnoreFields {
  template <typename T>
  void operator()(const char*, T&) const {}
};
template <typename T>
concept Record = requires(T& x) {
  Fields(IgnoreFields{}, x);
};

}  // namespace kaoko::server::codec
