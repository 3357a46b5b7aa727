// Writes sample CAP documents for the schema check (ctest alerting_cap_schema): no incident, a declared critical
// incident with Thai text, a drill, and every message of an incident's lifecycle (cap.hpp): its Alert, an Update
// with references and an overdue TAO, its all-clear (Update, urgency Past), a Cancel, and a document of two
// incidents that references both. Usage: alerting_cap_sample <output-dir>
#include <fstream>
#include <iostream>
#include <string>

#include "kaoko/alerting/cap.hpp"
#include "kaoko/alerting/engine.hpp"
#include "test_network.hpp"

using namespace kaoko::alerting;
using namespace kaoko::alerting::testing;

namespace {
bool Write(const std::string& path, const std::string& xml) {
  std::ofstream out(path, std::ios::binary);
  out << xml;
  return static_cast<bool>(out);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: alerting_cap_sample <output-dir>\n";
    return 2;
  }
  const std::string dir = argv[1];
  const Network net = TonHong();
  bool ok = Write(dir + "/cap-none.xml", RenderCap(net, {}, T0()));

  Engine real(net);
  Report r = MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0());
  r.note = "น้ำขึ้นเร็ว ถึงคอสะพานแล้ว <ด่วน> & \"จริง\"";
  const std::int64_t id = *real.OnReport(r, T0()).receipts.at(0).incident;
  (void)real.OnDecision(
      MakeDecision("officer-niran", "d-1", "kaoko", id, DecisionAction::kDeclare, T0() + 5min, Level::kCritical),
      T0() + 5min);
  ok = Write(dir + "/cap-declared.xml", real.Cap(T0() + 5min)) && ok;

  // The lifecycle, as the server publishes it: Advance after each batch (it issues the messages), then Cap.
  Engine life(net);
  const std::int64_t a =
      *life.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0()).receipts.at(0).incident;
  (void)life.Advance(T0());
  ok = Write(dir + "/cap-alert.xml", life.Cap(T0())) && ok;
  (void)life.OnDecision(MakeDecision("prasert", "d-1", "kaoko", a, DecisionAction::kAck, T0() + 1min), T0() + 1min);
  (void)life.Advance(T0() + 1min);
  ok = Write(dir + "/cap-update.xml", life.Cap(T0() + 1min)) && ok;
  const std::int64_t b = *life.OnReport(MakeReport("anan", "r-2", "huaiphan", Level::kWatch, T0() + 2min), T0() + 2min)
                              .receipts.at(0)
                              .incident;
  (void)life.Advance(T0() + 2min);
  (void)life.OnDecision(MakeDecision("boonmee", "d-2", "kaoko", a, DecisionAction::kConfirm, T0() + 3min), T0() + 3min);
  (void)life.Advance(T0() + 3min);
  ok = Write(dir + "/cap-two.xml", life.Cap(T0() + 3min)) && ok;
  (void)life.Advance(T0() + 3h);  // the TAO's deadline passes: tao_overdue
  ok = Write(dir + "/cap-overdue.xml", life.Cap(T0() + 3h)) && ok;
  (void)life.OnDecision(MakeDecision("chaiwat", "d-3", "huaiphan", b, DecisionAction::kReject, T0() + 3h), T0() + 3h);
  (void)life.OnDecision(MakeDecision("officer-niran", "d-4", "kaoko", a, DecisionAction::kAllClear, T0() + 3h),
                        T0() + 3h);
  (void)life.Advance(T0() + 3h);
  ok = Write(dir + "/cap-ended.xml", life.Cap(T0() + 3h)) && ok;

  // The district step: the TAO silent past its deadline, the district above it told.
  Network with_district = TonHong();
  with_district.people.push_back(
      MakePerson("amphoe-dpm", "ปลัดอำเภอฝ่ายป้องกัน", "District disaster officer", Role::kDistrict, ""));
  Engine district(with_district);
  const std::int64_t dd =
      *district.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWarning, T0()), T0()).receipts.at(0).incident;
  (void)district.OnDecision(MakeDecision("prasert", "d-1", "kaoko", dd, DecisionAction::kAck, T0()), T0());
  (void)district.OnDecision(MakeDecision("boonmee", "d-2", "kaoko", dd, DecisionAction::kConfirm, T0()), T0());
  (void)district.Advance(T0() + 20min);
  const std::string told = district.Cap(T0() + 20min);
  if (told.find("<valueName>kaoko-district-notified</valueName>") == std::string::npos) {
    std::cerr << "the district step is not in the document:\n" << told;
    ok = false;
  }
  ok = Write(dir + "/cap-district.xml", told) && ok;

  Engine cancel(net);
  const std::int64_t c =
      *cancel.OnReport(MakeReport("somchai", "r-1", "kaoko", Level::kWatch, T0()), T0()).receipts.at(0).incident;
  (void)cancel.Advance(T0());
  (void)cancel.OnDecision(MakeDecision("boonmee", "d-1", "kaoko", c, DecisionAction::kReject, T0() + 1min),
                          T0() + 1min);
  (void)cancel.Advance(T0() + 1min);
  const std::string cancelled = cancel.Cap(T0() + 1min);
  if (cancelled.find("<msgType>Cancel</msgType>") == std::string::npos) {
    std::cerr << "the rejected incident's document is not a Cancel:\n" << cancelled;
    ok = false;
  }
  ok = Write(dir + "/cap-cancel.xml", cancelled) && ok;

  Engine drill(net);
  (void)drill.StartDrill("thonhong", "officer-pim", T0(), Level::kWarning);
  ok = Write(dir + "/cap-drill.xml", drill.Cap(T0())) && ok;
  return ok ? 0 : 1;
}
