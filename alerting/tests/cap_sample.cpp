// Writes sample CAP documents for the schema check (ctest alerting_cap_schema): no incident, a declared critical
// incident with Thai text, and a drill. Usage: alerting_cap_sample <output-dir>
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

  Engine drill(net);
  (void)drill.StartDrill("thonhong", "officer-pim", T0(), Level::kWarning);
  ok = Write(dir + "/cap-drill.xml", drill.Cap(T0())) && ok;
  return ok ? 0 : 1;
}
