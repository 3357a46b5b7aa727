// kaoko-admin backup, check and restore against real SQLite files: a backup taken while another connection keeps
// committing holds everything committed before it began; restore refuses what it must and keeps the old file.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kaoko/admin/accounts.hpp"
#include "kaoko/admin/backup.hpp"
#include "kaoko/store/db_lock.hpp"
#include "kaoko/store/query.hpp"
#include "kaoko/store/store.hpp"

using namespace kaoko;
using namespace kaoko::admin;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/kaoko-backup-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~Scratch() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

wire::TimePoint Minute(std::int64_t m) {
  return wire::TimePoint(std::chrono::milliseconds(1'795'000'000'000 + m * 60'000));  // 2026-11-18 onwards
}

// Stores readings first..last of `station` in one transaction.
void Fill(store::Store& s, const std::string& station, std::uint64_t first, std::uint64_t last) {
  s.Begin();
  for (auto seq = first; seq <= last; ++seq) {
    s.InsertReading(station, {{}, seq, Minute(static_cast<std::int64_t>(seq)), 250.5, 0.2, 3.91});
  }
  s.Commit();
}

std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  auto s = store::Store::Open(path);
  REQUIRE(s.ok());
  return std::move(*s);
}

std::vector<std::uint64_t> Seqs(const std::string& path, const std::string& station) {
  auto s = store::Store::Open(path, {.read_only = true});
  REQUIRE(s.ok());
  std::vector<std::uint64_t> out;
  store::testing::Query q(
      **s, "SELECT r.seq FROM readings r JOIN stations s ON s.id = r.station WHERE s.name = ? ORDER BY r.seq");
  q.Bind(1, station);
  while (q.Step()) out.push_back(static_cast<std::uint64_t>(q.Int(0)));
  return out;
}

int Cli(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::ostringstream o, e;
  int rc = RunCli(args, o, e);
  out = o.str();
  err = e.str();
  return rc;
}

// A child process that opens `db` (WAL) and holds it until told to go: another program with the file open.
struct OtherProcess {
  pid_t pid = -1;
  int go[2] = {-1, -1};
  explicit OtherProcess(const std::string& db) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(go) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::optional<store::testing::Query> open;
      try {
        open.emplace(db, "SELECT COUNT(*) FROM readings", /*write=*/true);
        open->Run();
      } catch (const std::exception&) {}
      char c = 'r';
      [[maybe_unused]] auto w = ::write(ready[1], &c, 1);
      [[maybe_unused]] auto r = ::read(go[0], &c, 1);
      open.reset();
      ::_exit(0);
    }
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    ::close(ready[1]);
  }
  void Finish() {
    if (pid < 0) return;
    char c = 'g';
    [[maybe_unused]] auto w = ::write(go[1], &c, 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(go[0]);
    ::close(go[1]);
    pid = -1;
  }
  ~OtherProcess() { Finish(); }
};

}  // namespace

TEST_CASE("backup: a copy taken while another connection keeps committing holds all it committed before",
          "[admin][backup]") {
  Scratch dir;
  const std::string db = dir / "kaoko.db";
  auto writer = OpenStore(db);
  Fill(*writer, "kaoko-temple", 1, 100'000);  // some megabytes, so that the copy takes many steps

  std::atomic<std::uint64_t> committed{0};
  std::atomic<bool> stop{false};
  std::thread ingest([&] {
    // Another connection, as the service is: small transactions, one after the other, as fast as it can.
    auto w = OpenStore(db);
    std::uint64_t seq = 0;
    while (!stop) {
      Fill(*w, "kaoko-bridge", seq + 1, seq + 50);
      seq += 50;
      committed = seq;
    }
  });
  while (committed < 2000) std::this_thread::sleep_for(1ms);
  const std::uint64_t before = committed;
  // Few pages per step: the copy interleaves with hundreds of commits and must neither restart nor block them.
  auto b = BackupDatabase(db, dir / "copy.db", BackupOptions{.pages_per_step = 16, .pause = 1ms});
  const std::uint64_t after = committed;
  stop = true;
  ingest.join();
  REQUIRE(b.ok());
  INFO("committed before the backup " << before << ", when it ended " << after);
  REQUIRE(after > before);  // the writer went on committing during the copy
  REQUIRE(b->path == dir / "copy.db");
  REQUIRE(b->summary.schema_version == store::CurrentSchemaVersion());
  REQUIRE(b->summary.readings >= static_cast<std::int64_t>(100'000 + before));
  auto seqs = Seqs(b->path, "kaoko-bridge");
  REQUIRE(seqs.size() >= before);
  for (std::uint64_t s = 1; s <= before; ++s) REQUIRE(seqs[s - 1] == s);
  REQUIRE(Seqs(b->path, "kaoko-temple").size() == 100'000);
  // One self-contained file: no WAL beside it, not even after it is opened again.
  REQUIRE_FALSE(fs::exists(b->path + "-wal"));
  REQUIRE_FALSE(fs::exists(b->path + ".partial"));
  {
    store::testing::Query mode(b->path, "PRAGMA journal_mode");
    REQUIRE(mode.Step());
    REQUIRE(mode.Text(0) == "delete");
  }
  // What it holds is what `check` finds.
  auto again = InspectDatabase(b->path);
  REQUIRE(again.ok());
  REQUIRE(again->readings == b->summary.readings);
  REQUIRE(again->newest_station == b->summary.newest_station);
}

TEST_CASE("backup: into a directory with --keep, never over an existing file, nothing left when it fails",
          "[admin][backup]") {
  Scratch dir;
  const std::string db = dir / "kaoko.db";
  {
    auto s = OpenStore(db);
    Fill(*s, "kaoko-bridge", 1, 10);
  }
  fs::create_directories(dir / "backups");
  SECTION("a dated file in the directory, older ones pruned") {
    for (const char* old : {"kaoko-20250101T000000Z.db", "kaoko-20250102T000000Z.db", "kaoko-20250103T000000Z.db"}) {
      fs::copy_file(db, dir / "backups/" + old);
    }
    std::ofstream(dir / "backups/notes.txt") << "not a backup";
    auto b = BackupDatabase(db, dir / "backups", BackupOptions{.keep = 2});
    REQUIRE(b.ok());
    REQUIRE(fs::path(b->path).filename().string().starts_with("kaoko-20"));
    REQUIRE(b->pruned.size() == 2);
    REQUIRE_FALSE(fs::exists(dir / "backups/kaoko-20250101T000000Z.db"));
    REQUIRE_FALSE(fs::exists(dir / "backups/kaoko-20250102T000000Z.db"));
    REQUIRE(fs::exists(dir / "backups/kaoko-20250103T000000Z.db"));
    REQUIRE(fs::exists(dir / "backups/notes.txt"));  // only kaoko-<time>.db files are ever pruned
    REQUIRE(b->summary.readings == 10);
    REQUIRE(b->summary.newest_station == "kaoko-bridge");
    REQUIRE(b->summary.newest_reading == Minute(10));
  }
  SECTION("the newest reading is found in the archive and among the unmerged readings alike (migration 8)") {
    {
      auto s = OpenStore(db);
      REQUIRE(s->MergeRecent() == 10);  // minutes 1..10 in the archive
      Fill(*s, "kaoko-temple", 3, 4);   // minutes 3 and 4, unmerged: older than the archive's newest
    }
    auto b = BackupDatabase(db, dir / "backups");
    REQUIRE(b.ok());
    REQUIRE(b->summary.readings == 12);
    REQUIRE(b->summary.newest_station == "kaoko-bridge");
    REQUIRE(b->summary.newest_reading == Minute(10));
    {
      auto s = OpenStore(db);
      Fill(*s, "kaoko-temple", 11, 11);  // minute 11, unmerged: now the newest
    }
    fs::create_directories(dir / "later");  // a backup file is named by the second: never over the first
    auto c = BackupDatabase(db, dir / "later");
    REQUIRE(c.ok());
    REQUIRE(c->summary.newest_station == "kaoko-temple");
    REQUIRE(c->summary.newest_reading == Minute(11));
  }
  SECTION("a directory that does not exist is not taken for a file name") {
    auto b = BackupDatabase(db, dir / "nightly/");
    REQUIRE_FALSE(b.ok());
    REQUIRE(b.error().reason.find("install -d") != std::string::npos);
  }
  SECTION("an existing file is not overwritten") {
    std::ofstream(dir / "taken.db") << "precious";
    auto b = BackupDatabase(db, dir / "taken.db");
    REQUIRE_FALSE(b.ok());
    REQUIRE(b.error().reason.find("already exists") != std::string::npos);
  }
  SECTION("a missing database, or one that is not SQLite, leaves no file behind") {
    REQUIRE_FALSE(BackupDatabase(dir / "nothing.db", dir / "out.db").ok());
    std::ofstream(dir / "text.db") << std::string(8192, 'x');
    auto b = BackupDatabase(dir / "text.db", dir / "out.db");
    REQUIRE_FALSE(b.ok());
    REQUIRE_FALSE(fs::exists(dir / "out.db"));
    REQUIRE_FALSE(fs::exists(dir / "out.db.partial"));
  }
}

TEST_CASE("restore: puts the backup in place and keeps the old file aside", "[admin][backup]") {
  Scratch dir;
  const std::string db = dir / "kaoko.db";
  {
    auto s = OpenStore(db);
    Fill(*s, "kaoko-bridge", 1, 100);
  }
  auto b = BackupDatabase(db, dir / "monday.db");
  REQUIRE(b.ok());
  {
    auto s = OpenStore(db);
    Fill(*s, "kaoko-bridge", 101, 150);  // written after the backup
  }
  auto r = RestoreDatabase(b->path, db);
  REQUIRE(r.ok());
  REQUIRE(r->aside == db + ".before-restore");
  REQUIRE(Seqs(db, "kaoko-bridge").size() == 100);
  REQUIRE(Seqs(r->aside, "kaoko-bridge").size() == 150);  // nothing of the old file is lost
  REQUIRE_FALSE(fs::exists(db + "-wal"));
  REQUIRE(r->restored.readings == 100);
  // The service opens it as usual; a second restore keeps the first aside too.
  { OpenStore(db); }
  auto r2 = RestoreDatabase(b->path, db);
  REQUIRE(r2.ok());
  REQUIRE(r2->aside == db + ".before-restore.1");
  REQUIRE(fs::exists(db + ".before-restore"));
}

TEST_CASE("restore: refuses a running service, another program, a newer or damaged backup", "[admin][backup]") {
  Scratch dir;
  const std::string db = dir / "kaoko.db";
  {
    auto s = OpenStore(db);
    Fill(*s, "kaoko-bridge", 1, 2000);
  }
  auto b = BackupDatabase(db, dir / "good.db");
  REQUIRE(b.ok());
  auto unchanged = [&] { REQUIRE(Seqs(db, "kaoko-bridge").size() == 2000); };

  SECTION("while kaoko-server holds the database") {
    auto service = store::DatabaseLock::Acquire(db, "kaoko-server");
    REQUIRE(service.ok());
    auto r = RestoreDatabase(b->path, db);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().reason);
    REQUIRE(r.error().reason.find("stop the service first") != std::string::npos);
    REQUIRE(r.error().reason.find(fmt::format("pid {} (kaoko-server)", ::getpid())) != std::string::npos);
    REQUIRE_FALSE(fs::exists(db + ".before-restore"));
    unchanged();
  }
  SECTION("while another program has the file open") {
    OtherProcess other(db);
    REQUIRE(store::OtherProcessHasOpen(db));
    auto r = RestoreDatabase(b->path, db);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().reason.find("another program has") != std::string::npos);
    other.Finish();
    REQUIRE_FALSE(store::OtherProcessHasOpen(db));
    unchanged();
  }
  SECTION("a backup from a newer kaoko") {
    {
      REQUIRE_NOTHROW(
          store::testing::ExecFile(b->path, fmt::format("PRAGMA user_version={}", store::CurrentSchemaVersion() + 1)));
    }
    auto r = RestoreDatabase(b->path, db);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().reason.find("newer kaoko") != std::string::npos);
    unchanged();
  }
  SECTION("a damaged backup") {
    {
      // Scribble over a page in the middle of the readings' b-tree.
      std::fstream f(b->path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(b->path) / 2 / 4096 * 4096));
      std::string junk(4096, '\x5a');
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto r = RestoreDatabase(b->path, db);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().reason);
    REQUIRE(r.error().reason.find("will not restore") != std::string::npos);
    unchanged();
  }
  SECTION("a file that is not a backup") {
    std::ofstream(dir / "notes.db") << "hello";
    REQUIRE_FALSE(RestoreDatabase(dir / "notes.db", db).ok());
    REQUIRE_FALSE(RestoreDatabase(dir / "missing.db", db).ok());
    unchanged();
  }
}

TEST_CASE("restore: an older schema is restored as it is and upgraded when the service opens it", "[admin][backup]") {
  Scratch dir;
  const std::string old_backup = dir / "v1.db";
  {
    // A backup made by the first release: schema version 1.
    REQUIRE_NOTHROW(store::testing::ExecFile(old_backup, store::MigrationSql(1), /*create=*/true));
    REQUIRE_NOTHROW(store::testing::ExecFile(old_backup,
                                             "PRAGMA user_version=1; INSERT INTO stations (id, name) VALUES (1, "
                                             "'kaoko-bridge'); INSERT INTO readings VALUES (1, 7, 1795000000000, "
                                             "301.5, NULL, 3.9);"));
  }
  const std::string db = dir / "kaoko.db";
  auto r = RestoreDatabase(old_backup, db);
  REQUIRE(r.ok());
  REQUIRE(r->aside.empty());  // there was no database yet
  REQUIRE(r->restored.schema_version == 1);
  auto s = OpenStore(db);
  REQUIRE(s->schema_version() == store::CurrentSchemaVersion());
  REQUIRE(s->CountReadings() == 1);
}

TEST_CASE("kaoko-admin backup, check and restore: the command line", "[admin][backup]") {
  Scratch dir;
  const std::string db = dir / "kaoko.db";
  {
    auto s = OpenStore(db);
    Fill(*s, "kaoko-bridge", 1, 42);
  }
  std::string out, err;
  REQUIRE(Cli({"backup", db, dir / "b.db"}, out, err) == 0);
  INFO(out << err);
  REQUIRE(out.find("integrity_check ok") != std::string::npos);
  REQUIRE(out.find("42 raw") != std::string::npos);
  REQUIRE(out.find(fmt::format("schema version · รุ่นโครงสร้างข้อมูล: {}", store::CurrentSchemaVersion())) !=
          std::string::npos);
  REQUIRE(out.find("(kaoko-bridge)") != std::string::npos);

  REQUIRE(Cli({"check", dir / "b.db"}, out, err) == 0);
  REQUIRE(out.find("42 raw") != std::string::npos);

  fs::create_directories(dir / "nightly");
  REQUIRE(Cli({"backup", db, dir / "nightly", "--keep", "3"}, out, err) == 0);
  REQUIRE(Cli({"backup", db, dir / "nightly", "--keep=x"}, out, err) == 2);
  REQUIRE(Cli({"backup", db}, out, err) == 2);
  REQUIRE(err.find("wants 2 file names") != std::string::npos);
  REQUIRE(Cli({"restore", dir / "b.db", db, "--keep", "3"}, out, err) == 2);  // --keep is backup's alone

  {
    auto lock = store::DatabaseLock::Acquire(db, "kaoko-server");
    REQUIRE(lock.ok());
    REQUIRE(Cli({"restore", dir / "b.db", db}, out, err) == 1);
    REQUIRE(err.find("systemctl stop kaoko") != std::string::npos);
  }
  REQUIRE(Cli({"restore", dir / "b.db", db}, out, err) == 0);
  REQUIRE(out.find(".before-restore") != std::string::npos);
  REQUIRE(Cli({"check", dir / "missing.db"}, out, err) == 1);
}
