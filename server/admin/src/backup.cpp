#include "kaoko/admin/backup.hpp"

#include <fmt/format.h>

#include "kaoko/store/store.hpp"

namespace kaoko::admin {

std::string Describe(const DatabaseSummary& s) {
  std::string out;
  out += fmt::format("  schema version · รุ่นโครงสร้างข้อมูล: {} (this kaoko: {})\n", s.schema_version,
                     store::CurrentSchemaVersion());
  out += fmt::format("  readings · ค่าระดับน้ำ: {} raw, {} hourly rows\n", s.readings, s.hourly_rows);
  if (s.newest_reading) {
    out += fmt::format("  newest reading · ค่าล่าสุด: {} ({})\n", wire::FormatTime(*s.newest_reading), s.newest_station);
  } else {
    out += "  newest reading · ค่าล่าสุด: none\n";
  }
  out += fmt::format("  incidents · เหตุการณ์: {}\n", s.incidents);
  out += fmt::format("  size · ขนาด: {:.1f} MB\n", static_cast<double>(s.bytes) / 1e6);
  return out;
}

}  // namespace kaoko::admin
