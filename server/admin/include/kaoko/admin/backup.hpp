// Backups of the service's database while it runs, and restoring one: the database work is the store's
// (kaoko/store/backup.hpp, which says what a backup and a restore do and refuse); kaoko-admin adds how it describes a
// database to the operator.
#pragma once

#include <string>

#include "kaoko/store/backup.hpp"

namespace kaoko::admin {

using store::BackupDatabase;
using store::BackupOptions;
using store::BackupReport;
using store::DatabaseSummary;
using store::InspectDatabase;
using store::RestoreDatabase;
using store::RestoreReport;

// A few lines, English with Thai beside, e.g. "schema version · รุ่นโครงสร้าง: 4". Thread-safe.
std::string Describe(const DatabaseSummary& summary);

}  // namespace kaoko::admin
