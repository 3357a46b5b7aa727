// Dispatch by topic: a message of the batch becomes a stored row and an engine call (a reading, a station's status,
// a person's report or decision, a device's sounded answer), or a refusal with its reason. Decisions from MQTT and from
// the HTTP API go through one path (Decide). Core thread only, inside the batch's transaction.
#pragma once

#include <string>

#include "engine_keeper.hpp"

namespace kaoko::server {

class Dispatcher {
 public:
  Dispatcher(const alerting::Network& network, store::Store& store, Metrics& metrics, CoreTap* tap,
             EngineKeeper& keeper, ReadModel& views);

  // Handles one message: what it decided goes into `b` and the keeper's pending effects.
  void Handle(Inbound& in, TimePoint now, Batch& b);
  // The batch being handled, for Feed (a tap's messages join it).
  void BeginFeeding(Batch& b, TimePoint now) {
    feeding_ = &b;
    feeding_now_ = now;
  }
  void EndFeeding() { feeding_ = nullptr; }
  void Feed(Inbound& in) {
    if (feeding_) Handle(in, feeding_now_, *feeding_);
  }

  // A person's decision on an incident of `village`: a repeat (same user and id) gets the answer it got the first
  // time; otherwise the engine decides, the decision is stored and its effects are pending. Returns the receipt.
  struct Decided {
    alerting::Receipt receipt;
    bool repeat = false;
  };
  Decided Decide(const std::string& user, const std::string& village, const wire::DecisionMsg& decision,
                 const std::string& via, TimePoint now);
  // A decision from the HTTP API: the incident's village looked up, then Decide.
  CommandResult DecideFromApi(const std::string& user, const wire::DecisionMsg& decision, const std::string& via,
                              TimePoint now);

 private:
  void HandleReading(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleStatus(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleReport(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void HandleDecision(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  // A village's tower or siren saying that it sounded (or could not): refused without a receipt when the device,
  // its village, the payload or the announcement is wrong.
  void HandleSounded(const wire::Topic& t, Inbound& in, TimePoint now, Batch& b);
  void Refuse(Batch& b, const char* family, const Error& e, const Inbound& in);
  // A person's report or decision refused: counted as `result`, answered with a receipt that says why.
  void RefusePerson(Batch& b, const wire::Topic& t, const Inbound& in, const char* result, const Error& e);
  void Receipt(Batch& b, const wire::Topic& t, std::string_view ref, bool ok, std::optional<std::int64_t> incident,
               std::string_view error);

  const alerting::Network& network_;
  store::Store& store_;
  Metrics& metrics_;
  CoreTap* tap_;
  EngineKeeper& keeper_;
  ReadModel& views_;
  Batch* feeding_ = nullptr;
  TimePoint feeding_now_{};
};

}  // namespace kaoko::server
