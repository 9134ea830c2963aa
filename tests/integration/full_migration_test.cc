// Schema migration, full migration and the gap-free handoff to incremental migration.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "apply/fence.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

class FullMigrationTest : public testing::TwoServerTest {
 protected:
  FullMigrationTest() : TwoServerTest("fm_") {}
  // The source holds every type in enough rows for several chunks; the destination has nothing
  // (the schema migration creates the database).
  Side SideA() const override {
    Side side;
    side.create_options = "CHARACTER SET latin1 COLLATE latin1_swedish_ci";
    side.sql =
        "CREATE TABLE big (id INT PRIMARY KEY, k INT NOT NULL, name VARCHAR(40) CHARACTER SET utf8mb4,"
        "  price DECIMAL(10,2), f FLOAT, d DOUBLE, bits BIT(10), at DATETIME(6), ts TIMESTAMP(3) NULL,"
        "  blob_col BLOB, e ENUM('x','y'), secret VARCHAR(10), KEY by_k (k), UNIQUE KEY by_name (name));"
        "CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b));"
        "INSERT INTO big SELECT seq, seq % 97, CONCAT('n', seq, '✓'),"
        " seq / 7, seq / 3.0, seq / 11.0, seq % 1024, '2024-01-01 00:00:00' + INTERVAL seq SECOND,"
        " FROM_UNIXTIME(1700000000 + seq), UNHEX(MD5(seq)), IF(seq % 2, 'x', 'y'), 's'"
        " FROM seq_1_to_30000;"
        "INSERT INTO pairs SELECT seq % 50, CONCAT('b', seq), seq FROM seq_1_to_2000;"
        "CREATE VIEW cheap AS SELECT id, name FROM big WHERE price < 10;"
        "CREATE VIEW cheap_count AS SELECT COUNT(*) AS n FROM cheap";
    return side;
  }
  Side SideB() const override {
    Side side;
    side.create = false;
    return side;
  }

  // Schema, full and incremental migration of `objects` (a text import when it is not JSON).
  std::string MigrationConfig(const std::string& objects, const std::string& options = "{}",
                              const std::string& concurrency = "FAST") {
    testing::ConfigBuilder config = Config();
    config.MigrationTypes({config::SCHEMA, config::FULL, config::INCREMENTAL})
        .ForwardOptions(absl::StrCat(R"({"full_concurrency": ")", concurrency, R"("})"))
        .ForwardOptions(options);
    if (objects[0] == '{') {
      config.Objects(objects);
    } else {
      config.Import(objects);
    }
    return config.Json();
  }

  report::LinkStatus Forward() { return testing::LinkStatusOf(*project_); }
};

TEST_F(FullMigrationTest, CopiesIntoAnEmptyDestinationUnderConcurrentWritesAndHandsOver) {
  std::atomic<bool> stop{false};
  // The writer runs before, during and after the copy: the handoff must lose nothing.
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db_);
    std::mt19937 rng(3);
    int next = 100000;
    while (!stop) {
      const int id = 1 + rng() % 30000;
      Exec(w.get(), absl::StrCat("BEGIN; UPDATE big SET price = price + 1, name = CONCAT('u', ", next,
                                 ") WHERE id = ", id, "; DELETE FROM big WHERE id = ", 1 + rng() % 30000,
                                 "; INSERT INTO big (id, k, name) VALUES (", next, ", 1, 'new", next,
                                 "'); UPDATE pairs SET v = v + 1 WHERE a = ", rng() % 50, "; COMMIT"));
      ++next;
    }
  });
  StartProject(MigrationConfig(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*"]}})")));
  testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(60));
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  EXPECT_GE(Forward().full_rows_copied(), 30000u);
  EXPECT_EQ(Forward().full_tables_done(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  writer.join();
  ExpectEventuallySame(absl::StrCat("SELECT id, k, name, price, HEX(f), d, bits + 0, at, ts, MD5(blob_col), e, secret "
                                    "FROM ", db_, ".big ORDER BY id"),
                       "", 60);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".pairs ORDER BY a, b"), "", 60);
  // Our verification agrees with the independent full compare above.
  bool equal = false;
  auto report = project_->Verify(false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(equal) << *report;
  // Views came across after their tables, and read the same.
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".cheap_count"), "", 60);
  // The schema came across: charset, indexes.
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                                        "WHERE SCHEMA_NAME='", db_, "'"))[0], "latin1");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS "
                                        "WHERE TABLE_SCHEMA='", db_, "' AND TABLE_NAME='big'"))[0], "3");
}

TEST_F(FullMigrationTest, PostIndexingAddsTheSecondaryIndexesAfterTheLoad) {
  StartProject(MigrationConfig(db_ + ".big", R"({"post_indexing": true})"));
  testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
                                        "WHERE TABLE_SCHEMA='", db_, "' AND TABLE_NAME='big' ORDER BY 1")),
            (std::vector<std::string>{"by_k|1|k", "by_name|0|name", "PRIMARY|0|id"}));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".big"))[0], "30000");
}

// Every connection pins its sql_mode: a server-wide NO_BACKSLASH_ESCAPES must not change what our
// quoted keys mean (the copy pages by key literals on the source), nor what the link writes.
TEST_F(FullMigrationTest, QuotedKeysCopyUnderNoBackslashEscapes) {
  // Keys like k00001\'x and values like v\1 (a_ was opened before the server default changes).
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".esc (k VARCHAR(30) PRIMARY KEY, v VARCHAR(30));",
                              "INSERT INTO ", db_, R"(.esc SELECT CONCAT('k', LPAD(seq, 5, '0'), '\\''x'),)",
                              R"( CONCAT('v\\', seq) FROM seq_1_to_2500)"));
  const std::string mode_a = Rows(a_.get(), "SELECT @@GLOBAL.sql_mode")[0];
  const std::string mode_b = Rows(b_.get(), "SELECT @@GLOBAL.sql_mode")[0];
  struct Restore {
    SqlConnection *a, *b;
    std::string mode_a, mode_b;
    ~Restore() {
      Exec(a, absl::StrCat("SET GLOBAL sql_mode='", mode_a, "'"));
      Exec(b, absl::StrCat("SET GLOBAL sql_mode='", mode_b, "'"));
    }
  } restore{a_.get(), b_.get(), mode_a, mode_b};
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, "SET GLOBAL sql_mode='NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PAD_CHAR_TO_FULL_LENGTH'");
  }
  // SMOOTH: chunks of 1000 rows, so the copy pages by key literals twice.
  StartProject(MigrationConfig(db_ + ".esc", "{}", "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, R"(.esc VALUES ('after\\''copy', 'w\\''x'))"));
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), MD5(GROUP_CONCAT(k, v ORDER BY k)) FROM ", db_, ".esc"),
                       "", 60);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".esc"))[0], "2501");
}

// Text in a charset other than the connection's (latin1 here) is copied byte for byte, pages by
// non-ASCII keys without skipping or repeating rows, and verification and repair address those
// rows by the right key.
TEST_F(FullMigrationTest, NonUtf8TextCopiesAndVerifiesExactly) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".lat (k VARCHAR(20) CHARACTER SET latin1 PRIMARY KEY,"
                              " v VARCHAR(20) CHARACTER SET latin1);",
                              "INSERT INTO ", db_, ".lat SELECT CONCAT(ELT(1 + seq % 4, 'é', 'Ø', 'ß', 'a'), LPAD(seq, 5, '0')),"
                              " CONCAT('café-', seq) FROM seq_1_to_2500"));
  // SMOOTH: chunks of 1000 rows, so the copy pages by non-ASCII keys.
  StartProject(MigrationConfig(db_ + ".lat", "{}", "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  const std::string q = absl::StrCat("SELECT COUNT(*), MD5(GROUP_CONCAT(HEX(k), HEX(v) ORDER BY HEX(k))) FROM ",
                                     db_, ".lat");
  ExpectEventuallySame(q);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT v FROM ", db_, ".lat WHERE k = 'é00004'")),
            std::vector<std::string>{"café-4"});
  bool equal = false;
  auto report = project_->Verify(false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(equal) << *report;
  ASSERT_TRUE(project_->Stop().ok());
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".lat SET v = 'drift' WHERE k = 'Ø00001'"));
  auto found = project_->Verify(true, &equal);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(equal);
  auto again = project_->Verify(false, &equal);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(equal) << *again;
  ExpectEventuallySame(q);
}

// Unique values move during the copy from rows already copied to rows copied later (the
// copied row is stale then): the copy must finish and both sides end identical, with and without
// post-indexing (which must not defer the unique keys the copy relies on).
class MovingUniqueValuesTest : public FullMigrationTest, public ::testing::WithParamInterface<bool> {
 protected:
  std::string DatabaseName() const override {
    return GetParam() ? "fm_moving_unique_post_indexing" : "fm_moving_unique";
  }
};

TEST_P(MovingUniqueValuesTest, TheCopyFinishesAndBothSidesEndIdentical) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".uq (id INT PRIMARY KEY, u INT NOT NULL, v INT,"
                              " UNIQUE KEY by_u (u), KEY by_v (v));",
                              "INSERT INTO ", db_, ".uq SELECT seq, seq, seq FROM seq_1_to_40000"));
  std::atomic<bool> stop{false};
  std::atomic<int> moves{0};
  // Moves the unique value of a low row (copied early) to a high row (copied late), again and
  // again, while the copy runs: low row's value goes to a fresh one, the high row takes it.
  std::thread mover([&] {
    auto w = Connect(ServerPair::A(), db_);
    std::mt19937 rng(7);
    int fresh = 1000000;
    while (!stop) {
      const int low = 1 + rng() % 5000, high = 35001 + rng() % 5000;
      Exec(w.get(), absl::StrCat("BEGIN; SELECT u INTO @x FROM uq WHERE id = ", low, " FOR UPDATE;",
                                 "UPDATE uq SET u = ", fresh++, " WHERE id = ", low, ";",
                                 "UPDATE uq SET u = @x, v = v + 1 WHERE id = ", high, "; COMMIT"));
      ++moves;
    }
  });
  StartProject(MigrationConfig(db_ + ".uq", absl::StrCat(R"({"post_indexing": )", GetParam() ? "true" : "false", "}"),
                               "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(120));
  stop = true;
  mover.join();
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  EXPECT_GT(moves.load(), 0);
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(u), MD5(GROUP_CONCAT(id, ':', u, ':', v ORDER BY id)) FROM ",
                                    db_, ".uq"), "", 60);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS "
                                        "WHERE TABLE_SCHEMA='", db_, "' AND TABLE_NAME='uq'"))[0], "3");
}

INSTANTIATE_TEST_SUITE_P(PostIndexing, MovingUniqueValuesTest, ::testing::Bool());

// A key on an ENUM sorts by member number, not by text: paging must compare the same way, or
// the copy stops after the first chunk ('alpha' < 'zeta' as text, after it in the key order).
TEST_F(FullMigrationTest, EnumKeysPageInKeyOrder) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".ek (e ENUM('zeta','alpha','mid') NOT NULL, n INT NOT NULL,"
                              " v INT, PRIMARY KEY (e, n));",
                              "INSERT INTO ", db_, ".ek SELECT ELT(1 + (seq - 1) DIV 1000, 'zeta', 'alpha', 'mid'),"
                              " seq, seq FROM seq_1_to_3000"));
  StartProject(MigrationConfig(db_ + ".ek", "{}", "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(v), MD5(GROUP_CONCAT(e, n ORDER BY e, n)) FROM ", db_, ".ek"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".ek"))[0], "3000");
  ASSERT_TRUE(project_->Stop().ok());
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".ek SET v = 0 WHERE e = 'mid' AND n = 2500"));
  bool equal = true;
  auto report = project_->Verify(false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(equal);
  EXPECT_NE(report->find("\"rows_checked\":3000"), std::string::npos) << *report;
  EXPECT_NE(report->find("n=2500"), std::string::npos) << *report;
}

TEST_F(FullMigrationTest, ResumesByChunkAfterAStop) {
  // SMOOTH: one thread, small chunks, so the stop lands in the middle of the copy.
  StartProject(MigrationConfig(db_ + ".big", "{}", "SMOOTH"));
  // Stop as soon as some chunks are in.
  ASSERT_TRUE(testing::WaitFor([&] { return Forward().full_rows_copied() > 0; }, absl::Seconds(60),
                               absl::Milliseconds(5)))
      << project_->StatusJson();
  ASSERT_TRUE(project_->Stop().ok());
  const auto progress = Rows(b_.get(), absl::StrCat("SELECT rows_copied, done FROM duosync.full_progress WHERE link_id='",
                                                    db_, "/forward'"));
  ASSERT_EQ(progress.size(), 1u) << project_->StatusJson();
  EXPECT_EQ(progress[0].substr(progress[0].find('|')), "|0") << "stopped before the copy ended";
  project_.reset();
  StartProject(MigrationConfig(db_ + ".big"));
  ExpectEventuallySame(
      absl::StrCat("SELECT COUNT(*), SUM(id), MD5(GROUP_CONCAT(name ORDER BY id)) FROM ", db_, ".big"), "", 60);
  // The last chunk lands before the stage moves on (the copy's end is read and recorded after it).
  EXPECT_TRUE(testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(30)))
      << project_->StatusJson();
}

// Tables whose names differ only in letter case (or accents) are distinct on a case-sensitive
// server: each keeps its own copy progress, so a stop in the second loses nothing of the first.
TEST_F(FullMigrationTest, TablesNamedAlikeButForCaseKeepTheirOwnProgress) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; CREATE TABLE Mix (id INT PRIMARY KEY, v VARCHAR(20));"
                              "CREATE TABLE mix LIKE Mix; CREATE TABLE `mïx` LIKE Mix;"
                              "INSERT INTO Mix SELECT seq, CONCAT('upper', seq) FROM seq_1_to_20000;"
                              "INSERT INTO mix SELECT seq, CONCAT('lower', seq) FROM seq_1_to_20000;"
                              "INSERT INTO `mïx` SELECT seq, CONCAT('accent', seq) FROM seq_1_to_20000"));
  // (By a rule: a list naming both is refused, as on a case-insensitive server they are one.)
  const std::string objects = absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*x"]}})");
  StartProject(MigrationConfig(objects, "{}", "SMOOTH"));
  // Stop once the first table is in and the next one under way.
  ASSERT_TRUE(testing::WaitFor([&] { return Forward().full_rows_copied() > 25000; }, absl::Seconds(60),
                               absl::Milliseconds(5)))
      << project_->StatusJson();
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  StartProject(MigrationConfig(objects));
  EXPECT_TRUE(testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                               absl::Seconds(60)));
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  for (const char* table : {"Mix", "mix", "`mïx`"}) {
    ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), MD5(GROUP_CONCAT(v ORDER BY id)) FROM ", db_, ".", table));
  }
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM duosync.full_progress WHERE link_id='", db_,
                                        "/forward' AND done=1"))[0], "3")
      << "one progress row per table";
}

TEST_F(FullMigrationTest, RefusesANonEmptyDestinationUnlessAllowed) {
  Exec(b_.get(), absl::StrCat("CREATE DATABASE ", db_, "; CREATE TABLE ", db_, ".pairs (a INT NOT NULL, "
                              "b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b)); INSERT INTO ", db_,
                              ".pairs VALUES (1, 'b1', 100)"));
  StartProject(MigrationConfig(db_ + ".pairs"));
  absl::Status s = project_->Wait(absl::Seconds(60));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("not empty"), std::string::npos) << s;
  (void)project_->Stop();
  project_.reset();
  Exec(b_.get(), "DELETE FROM duosync.checkpoint; DELETE FROM duosync.stage");
  StartProject(MigrationConfig(db_ + ".pairs", R"({"allow_nonempty_destination": true})"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".pairs ORDER BY a, b"), "", 60);
}

TEST_F(FullMigrationTest, ADifferentExistingTableIsNamed) {
  Exec(b_.get(), absl::StrCat("CREATE DATABASE ", db_, "; CREATE TABLE ", db_, ".pairs (a INT NOT NULL, "
                              "b VARCHAR(99) NOT NULL, v INT, PRIMARY KEY (a, b))"));
  StartProject(MigrationConfig(db_ + ".pairs"));
  absl::Status s = project_->Wait(absl::Seconds(60));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("varchar(99)"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("'b'"), std::string::npos) << s;
}

// Every byte and every type comes across exactly in each form the copy writes chunks in: as
// array-bound REPLACEs (values as read, with their lengths; a BIT field's number as a number), as
// LOAD DATA LOCAL (tab-separated text, where tab, newline, backslash and NUL are escaped, and a BIT
// field's text is not its value), or, with local_infile off, as REPLACE statements.
class CopyFidelityTest : public FullMigrationTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseName() const override { return "fm_fidelity_" + GetParam(); }
};

TEST_P(CopyFidelityTest, EveryByteAndTypeCopiesExactly) {
  const std::string form = GetParam();
  const std::string local_infile = Rows(b_.get(), "SELECT @@GLOBAL.local_infile")[0];
  struct Restore {
    SqlConnection* b;
    std::string value;
    ~Restore() { Exec(b, "SET GLOBAL local_infile=" + value); }
  } restore{b_.get(), local_infile};
  Exec(b_.get(), absl::StrCat("SET GLOBAL local_infile=", form == "statements" ? 0 : 1));
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) absl::StrAppend(&all_bytes, absl::AsciiStrToUpper(absl::StrCat(absl::Hex(i, absl::kZeroPad2))));
  Exec(a_.get(), absl::StrCat(
      "CREATE TABLE ", db_, ".odd (id INT PRIMARY KEY, bin VARBINARY(300), txt TEXT, lat VARCHAR(40) CHARACTER SET "
      "latin1, j JSON, g GEOMETRY, p POINT NULL, bits BIT(64), s SET('a','b','c'), e ENUM('x','y'), t TIME(3),"
      " y YEAR, dec_col DECIMAL(30,10), dbl DOUBLE, fl FLOAT, ubig BIGINT UNSIGNED, maybe VARCHAR(5) NULL,"
      " word VARCHAR(5) NOT NULL DEFAULT 'dflt', ts TIMESTAMP(6) NULL, dt DATETIME(6), d DATE, ch CHAR(5),"
      " bn BINARY(4));"
      "INSERT INTO ", db_, ".odd VALUES"
      " (1, x'", all_bytes, "', CONCAT('tab', CHAR(9), 'nl', CHAR(10), 'cr', CHAR(13), 'bs\\\\', CHAR(0), 'end'),"
      "  'café Øre', '{\"a\": \"t\\\\tn\\\\n\", \"b\": [1, 2.5]}', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'),"
      "  NULL, b'1111111111111111111111111111111111111111111111111111111111111111', 'a,c', 'y', '-838:59:59.999',"
      "  2155, -12345678901234567890.0123456789, 1.7976931348623157e308, -3.4e38, 18446744073709551615, NULL, '',"
      "  '2038-01-19 03:14:07.999999', '9999-12-31 23:59:59.999999', '1000-01-01', 'ab  ', x'00FF0A00'),"
      " (2, '', 'NULL', '\\\\N', 'null', ST_GeomFromText('POINT(1 2)'), POINT(-1.5, 2), b'0', '', 'x', '00:00:00',"
      "  1901, 0, -0.0, 1.17549435e-38, 0, '\\\\N', 'NULL', '1970-01-01 00:00:01', '0000-00-00 00:00:00',"
      "  '0000-00-00', '', x'20');"
      "INSERT INTO ", db_, ".odd (id, bin, txt, bits, dbl) SELECT 100 + seq, UNHEX(SHA2(seq, 256)),"
      " CONCAT(CHAR(9), seq, '\\\\', CHAR(10)), seq, seq / 7 FROM ", db_, ".seq_1_to_3000"));
  auto loads = [&] { return Rows(b_.get(), "SHOW GLOBAL STATUS LIKE 'Com_load'")[0]; };
  auto executes = [&] { return Rows(b_.get(), "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'")[0]; };
  const std::string loads_before = loads(), executes_before = executes();
  // 'array' takes the default, the fastest form; the others keep the copy from array binding.
  StartProject(MigrationConfig(db_ + ".odd", form == "array" ? "{}" : R"({"full_load": "LOAD_DATA"})", "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  const std::string q = absl::StrCat(
      "SELECT id, HEX(bin), HEX(txt), HEX(lat), j, HEX(g), HEX(p), bits + 0, s, e, t, y, dec_col,"
      " CONCAT(dbl), CAST(fl AS DOUBLE), ubig, ISNULL(maybe), HEX(maybe), word, UNIX_TIMESTAMP(ts), dt, d,"
      " HEX(ch), HEX(bn) FROM ", db_, ".odd ORDER BY id");
  const auto on_a = Rows(a_.get(), q);
  EXPECT_EQ(Rows(b_.get(), q), on_a);
  ASSERT_EQ(on_a.size(), 3002u);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT HEX(bin) FROM ", db_, ".odd WHERE id = 1"))[0], all_bytes);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT bits + 0, ISNULL(p), maybe FROM ", db_, ".odd WHERE id IN (1, 2)")),
            (std::vector<std::string>{"18446744073709551615|1|NULL", "0|0|\\N"}));
  // The form asked for is the form used (this shard's servers run one test at a time).
  EXPECT_EQ(executes() != executes_before, form == "array") << "array-bound statements ran: " << executes();
  EXPECT_EQ(loads() != loads_before, form == "load") << "LOAD DATA ran: " << loads();
}

// A chunk bigger than the destination's max_allowed_packet (16 MiB here) goes in several requests
// or statements of one transaction. A row that alone needs more goes as LOAD DATA where the
// destination takes it (LOAD DATA streams its text: no packet bound), else stops the copy, naming
// the row and the setting to raise.
class ChunkPacketTest : public FullMigrationTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseName() const override { return "fm_packet_" + GetParam(); }
};

TEST_P(ChunkPacketTest, AChunkBiggerThanAPacketGoesInPiecesAndATooBigRowIsNamedOrLoaded) {
  const std::string form = GetParam();
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".blobs (id INT PRIMARY KEY, b LONGBLOB);"
                              "INSERT INTO ", db_, ".blobs SELECT seq, REPEAT(UNHEX(SHA2(seq, 256)), 32768) FROM ",
                              db_, ".seq_1_to_40"));  // 40 rows of 1 MiB: one chunk of 40 MiB
  const std::string local_infile = Rows(b_.get(), "SELECT @@GLOBAL.local_infile")[0];
  Exec(b_.get(), absl::StrCat("SET GLOBAL max_allowed_packet=16777216, GLOBAL local_infile=",
                              form == "array_then_load" ? 1 : 0));
  struct Restore {
    SqlConnection* b;
    std::string local_infile;
    ~Restore() { Exec(b, "SET GLOBAL max_allowed_packet=268435456, GLOBAL local_infile=" + local_infile); }
  } restore{b_.get(), local_infile};
  auto counter = [&](const std::string& name) {
    const std::string row = Rows(b_.get(), "SHOW GLOBAL STATUS LIKE '" + name + "'")[0];
    return std::stoll(row.substr(row.find('|') + 1));
  };
  const long long executes_before = counter("Com_stmt_execute");
  const std::string options = form == "statements" ? R"({"full_load": "STATEMENTS"})" : "{}";
  StartProject(MigrationConfig(db_ + ".blobs", options, "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(120));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  const std::string q = absl::StrCat("SELECT COUNT(*), MD5(GROUP_CONCAT(id, MD5(b) ORDER BY id)) FROM ", db_, ".blobs");
  EXPECT_EQ(Rows(b_.get(), q), Rows(a_.get(), q));
  if (form != "statements") EXPECT_GE(counter("Com_stmt_execute") - executes_before, 3);
  (void)project_->Stop();
  project_.reset();

  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".huge (id INT PRIMARY KEY, b LONGBLOB);"
                              "INSERT INTO ", db_, ".huge VALUES (6, 'small'), (7, REPEAT('x', 17 << 20))"));
  Exec(b_.get(), "DELETE FROM duosync.checkpoint; DELETE FROM duosync.stage");
  const long long loads_before = counter("Com_load");
  StartProject(MigrationConfig(db_ + ".huge", options, "SMOOTH"));
  if (form == "array_then_load") {
    testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                     absl::Seconds(120));
    ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
    const std::string h = absl::StrCat("SELECT id, MD5(b) FROM ", db_, ".huge ORDER BY id");
    EXPECT_EQ(Rows(b_.get(), h), Rows(a_.get(), h));
    EXPECT_GT(counter("Com_load"), loads_before) << "the big row did not go as LOAD DATA";
    return;
  }
  absl::Status s = project_->Wait(absl::Seconds(120));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("row (id=7)"), std::string::npos) << s;
  EXPECT_NE(s.message().find("max_allowed_packet"), std::string::npos) << s;
}

// A table big enough to be cut is copied by pieces of its first key column (here negative and
// positive values, a second key column, binary data) and comes across whole.
TEST_F(FullMigrationTest, ABigTableIsCopiedInPiecesAndComesAcrossWhole) {
  Exec(a_.get(), absl::StrCat(
      "CREATE TABLE ", db_, ".wide (a BIGINT NOT NULL, b VARCHAR(8) NOT NULL, bin VARBINARY(32), v INT,"
      " PRIMARY KEY (a, b));"
      "INSERT INTO ", db_, ".wide SELECT CAST(seq AS SIGNED) - 60000, IF(seq % 3, 'x', 'y'), UNHEX(SHA2(seq, 256)), seq FROM ",
      db_, ".seq_1_to_120000; INSERT INTO ", db_, ".wide SELECT 5, CONCAT('b', seq), NULL, seq FROM ",
      db_, ".seq_1_to_50; ANALYZE TABLE ", db_, ".wide"));
  StartProject(MigrationConfig(db_ + ".wide"));  // FAST: 8 threads
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(120));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(a), SUM(v), MD5(GROUP_CONCAT(a, b, HEX(bin), v ORDER BY a, b))"
                                    " FROM ", db_, ".wide"));
  const auto pieces = Rows(b_.get(), absl::StrCat("SELECT table_name, rows_copied, done FROM duosync.full_progress WHERE"
                                                  " link_id='", db_, "/forward' AND table_name LIKE '%$$%'"));
  ASSERT_GE(pieces.size(), 2u) << "the table was not cut";
  long long copied = 0;
  for (const std::string& p : pieces) {
    const std::vector<std::string> f = absl::StrSplit(p, '|');
    copied += std::stoll(f[1]);
    EXPECT_EQ(f[2], "1") << p;
  }
  EXPECT_EQ(copied, 120050);
}

INSTANTIATE_TEST_SUITE_P(Forms, CopyFidelityTest, ::testing::Values("array", "load", "statements"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Forms, ChunkPacketTest, ::testing::Values("array", "array_then_load", "statements"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Generated columns (stored and virtual, some indexed) are the destination's to compute: the copy
// in every form and the link leave them out of what they write, and both sides end identical.
class GeneratedColumnsTest : public FullMigrationTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseName() const override { return "fm_generated_" + GetParam(); }
};

TEST_P(GeneratedColumnsTest, TheCopyAndTheLinkLeaveThemToTheDestination) {
  const std::string form = GetParam();
  Exec(a_.get(), absl::StrCat(
      "CREATE TABLE ", db_, ".gen (id INT PRIMARY KEY, a INT NOT NULL, s INT AS (a * 2) STORED,"
      " v VARCHAR(30) AS (CONCAT('v', a)) VIRTUAL, note VARCHAR(10), KEY by_s (s), KEY by_v (v));"
      "INSERT INTO ", db_, ".gen (id, a, note) SELECT seq, seq, 'n' FROM ", db_, ".seq_1_to_3000"));
  const std::string options = form == "array"  ? "{}"
                              : form == "load" ? R"({"full_load": "LOAD_DATA"})"
                                               : R"({"full_load": "STATEMENTS"})";
  StartProject(MigrationConfig(db_ + ".gen", options, "SMOOTH"));
  testing::WaitFor([&] { return Forward().stage() == "incremental" || Forward().stage() == "failed"; },
                   absl::Seconds(60));
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  const std::string q = absl::StrCat("SELECT id, a, s, v, note FROM ", db_, ".gen ORDER BY id");
  EXPECT_EQ(Rows(b_.get(), q), Rows(a_.get(), q));
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".gen (id, a) VALUES (5000, 7), (5001, 8);"
                              "UPDATE ", db_, ".gen SET a = a + 1000 WHERE id <= 10;"
                              "UPDATE ", db_, ".gen SET note = 'm' WHERE id BETWEEN 11 AND 20;"
                              "DELETE FROM ", db_, ".gen WHERE id BETWEEN 21 AND 30 OR id = 5001"));
  ExpectEventuallySame(q);
  ASSERT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT s, v FROM ", db_, ".gen WHERE id = 1"))[0], "2002|v1001");
  bool equal = false;
  auto report = project_->Verify(false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(equal) << *report;
}

// An existing destination table must define a generated column alike: stored plain there, it
// would stay empty (nothing writes it); the link says so before copying anything.
TEST_F(FullMigrationTest, AnExistingTableThatStoresAGeneratedColumnPlainIsNamed) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".gen (id INT PRIMARY KEY, a INT, s INT AS (a * 2) STORED);"
                              "INSERT INTO ", db_, ".gen (id, a) VALUES (1, 1)"));
  Exec(b_.get(), absl::StrCat("CREATE DATABASE ", db_, "; CREATE TABLE ", db_, ".gen (id INT PRIMARY KEY, a INT, s INT)"));
  StartProject(MigrationConfig(db_ + ".gen"));
  absl::Status s = project_->Wait(absl::Seconds(60));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("column 's' plain, but the source generates it"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".gen"))[0], "0");
}

// A column choice that keeps a generated column but not the column it is computed from would
// leave the destination computing it from nothing: refused, naming both, before anything is
// created or copied (and at precheck: precheck_test.cc).
TEST_F(FullMigrationTest, AGeneratedColumnChosenWithoutItsBaseIsRefusedNamingBoth) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".gen (id INT PRIMARY KEY, Price INT, note INT,"
                              " total INT AS (Price * 2) STORED);"
                              "INSERT INTO ", db_, ".gen (id, Price, note) VALUES (1, 1, 1)"));
  StartProject(MigrationConfig(absl::StrCat(R"({"tables": [{"schema": ")", db_,
                                            R"(", "table": "gen", "columns": ["id", "note", "total"]}]})")));
  absl::Status s = project_->Wait(absl::Seconds(60));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("total (from Price)"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='", db_,
                                        "' AND TABLE_NAME='gen'"))[0], "0");
}

INSTANTIATE_TEST_SUITE_P(Forms, GeneratedColumnsTest, ::testing::Values("array", "load", "statements"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// A server can never read a file of the process through LOAD DATA LOCAL: ordinary connections do
// not offer it, and the copy's connections answer only with the chunk they are sending.
TEST(LocalDataTest, AServerGetsNoLocalFile) {
  const std::string file = "/tmp/duosync-local-data-secret";
  {
    std::ofstream out(file);
    out << "1\tsecret\n";
  }
  const std::string load = absl::StrCat("LOAD DATA LOCAL INFILE '", file, "' INTO TABLE fm_local_data.t");
  auto admin = Connect(ServerPair::B());
  testing::ResetDatabase(admin.get(), "fm_local_data", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
  auto plain = SqlConnection::Connect(ServerPair::B().Options());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->Execute(load).ok());
  ConnectOptions options = ServerPair::B().Options();
  options.local_data = true;
  auto copying = SqlConnection::Connect(options);
  ASSERT_TRUE(copying.ok());
  EXPECT_FALSE((*copying)->Execute(load).ok());
  EXPECT_TRUE((*copying)->LoadLocalData(load, "2\tchunk\n").ok());
  EXPECT_EQ(Rows(admin.get(), "SELECT * FROM fm_local_data.t"), std::vector<std::string>{"2|chunk"});
  std::remove(file.c_str());
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

class VerificationTest : public FullMigrationTest {
 protected:
  std::string VerifyConfig() {
    return Config().MigrationTypes({config::INCREMENTAL, config::FULL_VERIFICATION}).Import(db_ + ".v").Json();
  }

  // 3000 rows on both sides, 300 of them drifted on B behind the link's back.
  void CreateDriftedTable() {
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      Exec(c, absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_,
                           ".v (id INT PRIMARY KEY, n INT NOT NULL, note VARCHAR(20));"
                           "USE ", db_, "; INSERT INTO v SELECT seq, 0, 'same' FROM seq_1_to_3000"));
    }
    Exec(b_.get(), absl::StrCat("SET sql_log_bin=0; UPDATE ", db_, ".v SET note = 'drifted' WHERE id % 10 = 0;"
                                "SET sql_log_bin=1"));
  }

  // Runs `repair` (a verification with repair) while a writer keeps updating the drifted rows on
  // A; then the repair is reported and A and B end identical with no drift left.
  void ExpectRepairUnderLoad(unsigned seed, const std::function<absl::StatusOr<std::string>(bool* equal)>& repair) {
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      auto w = Connect(ServerPair::A(), db_);
      std::mt19937 rng(seed);
      while (!stop) Exec(w.get(), absl::StrCat("UPDATE v SET n = n + 1 WHERE id = ", 10 * (1 + rng() % 300)));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    bool equal = true;
    auto report = repair(&equal);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    writer.join();
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_FALSE(equal);
    EXPECT_NE(report->find("\"repaired\":true"), std::string::npos) << *report;
    ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".v ORDER BY id"), "", 30);
    EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".v WHERE note = 'drifted'"))[0], "0");
  }

  // Starts the project on an empty table v and lends its forward link to a "tool": the returned
  // session, which holds the loan until it ends. Then a row written on A meets the loan.
  std::unique_ptr<SqlConnection> StartAndLend() {
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      Exec(c, absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_, ".v (id INT PRIMARY KEY, n INT NOT NULL)"));
    }
    StartProject(VerifyConfig());
    EXPECT_TRUE(testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(30)));
    auto borrower = Connect(ServerPair::B(), "");
    const std::string link_id = db_ + "/forward";
    EXPECT_TRUE(HoldLendLock(borrower.get(), link_id, absl::Seconds(5)).ok());
    EXPECT_TRUE(TakeOwnership(borrower.get(), link_id, BorrowerName("a test")).ok());
    Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".v VALUES (1, 1)"));
    // Status says why the link waits.
    EXPECT_TRUE(testing::WaitFor([&] { return Forward().last_error().find("on loan to a test") != std::string::npos; },
                                 absl::Seconds(10))) << project_->StatusJson();
    return borrower;
  }
};

TEST_F(VerificationTest, FindsEveryPlantedDifferenceAndRepairsIt) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_, ".v (id INT PRIMARY KEY,"
                         " name VARCHAR(20) COLLATE utf8mb4_general_ci, note VARCHAR(20), f FLOAT)"));
    Exec(c, absl::StrCat("USE ", db_, "; INSERT INTO v SELECT seq, CONCAT('n', seq), 'x', seq / 3 FROM seq_1_to_20000"));
  }
  Exec(b_.get(), absl::StrCat("USE ", db_, ";"
                              "DELETE FROM v WHERE id = 17;"                     // missing on B
                              "INSERT INTO v VALUES (30001, 'extra', 'x', 1);"  // extra on B
                              "UPDATE v SET note = 'changed' WHERE id = 500;"   // different
                              "UPDATE v SET note = NULL WHERE id = 600;"        // NULL vs ...
                              "UPDATE v SET name = 'N700' WHERE id = 700;"      // case only (equal under ci)
                              "UPDATE v SET name = 'n800 ' WHERE id = 800;"     // trailing space
                              "UPDATE v SET f = f * 1.00001 WHERE id = 900"));
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".v SET note = '' WHERE id = 600"));  // ... empty on A
  auto p = Project::Create(VerifyConfig());
  ASSERT_TRUE(p.ok()) << p.status();
  bool equal = true;
  auto report = (*p)->Verify(/*repair=*/false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(equal);
  const std::string& r = *report;
  EXPECT_NE(r.find("\"missing\":[\"id=17\"]"), std::string::npos) << r;
  EXPECT_NE(r.find("\"extra\":[\"id=30001\"]"), std::string::npos) << r;
  for (const char* key : {"id=500", "id=600", "id=700", "id=800", "id=900"}) {
    EXPECT_NE(r.find(absl::StrCat("\"", key, "\"")), std::string::npos) << key << " in " << r;
  }
  EXPECT_NE(r.find("\"rows_checked\":20000"), std::string::npos) << r;

  auto repaired = (*p)->Verify(/*repair=*/true, &equal);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_NE(repaired->find("\"repaired\":true"), std::string::npos);
  auto again = (*p)->Verify(/*repair=*/false, &equal);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(equal) << *again;
  const std::string q = absl::StrCat("SELECT id, name, note, HEX(f) FROM ", db_, ".v ORDER BY id");
  EXPECT_EQ(Rows(a_.get(), q), Rows(b_.get(), q));
}

// A repair bigger than the destination's max_allowed_packet is sent in pieces of one transaction.
TEST_F(VerificationTest, ARepairBiggerThanAPacketIsAppliedInPieces) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_, ".v (id INT PRIMARY KEY,"
                         " b LONGBLOB)"));
  }
  // Three rows of 6 MiB: each repair statement (hex) is about 12 MiB, all three 36 MiB.
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".v SELECT seq, REPEAT(UNHEX(SHA2(seq, 256)), 196608) FROM ", db_, ".seq_1_to_3"));
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".v SELECT seq, 'stale' FROM ", db_, ".seq_1_to_3"));
  Exec(b_.get(), "SET GLOBAL max_allowed_packet=16777216");
  struct Restore {
    SqlConnection* b;
    ~Restore() { Exec(b, "SET GLOBAL max_allowed_packet=268435456"); }
  } restore{b_.get()};
  auto p = Project::Create(VerifyConfig());
  ASSERT_TRUE(p.ok()) << p.status();
  bool equal = true;
  auto repaired = (*p)->Verify(/*repair=*/true, &equal);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_FALSE(equal);
  auto again = (*p)->Verify(/*repair=*/false, &equal);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(equal) << again->substr(0, 300);
  const std::string q = absl::StrCat("SELECT id, MD5(b) FROM ", db_, ".v ORDER BY id");
  EXPECT_EQ(Rows(a_.get(), q), Rows(b_.get(), q));
}

TEST_F(VerificationTest, RowsALiveLinkIsStillApplyingAreNotReported) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_, ".v (id INT PRIMARY KEY,"
                         " name VARCHAR(20), note VARCHAR(20), f FLOAT)"));
  }
  auto p = Project::Create(VerifyConfig());
  ASSERT_TRUE(p.ok());
  project_ = std::move(*p);
  ASSERT_TRUE(project_->Start().ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db_);
    for (int i = 1; !stop; ++i) {
      Exec(w.get(), absl::StrCat("INSERT INTO v VALUES (", i, ", 'n', 'x', 1)"));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  bool equal = false;
  auto report = project_->Verify(false, &equal);
  stop = true;
  writer.join();
  ASSERT_TRUE(report.ok()) << report.status();
  // Rows inserted during the verification were either in step or caught up at the re-check.
  EXPECT_EQ(report->find("\"different\":[\"id"), std::string::npos) << *report;
  EXPECT_EQ(report->find("\"extra\":[\"id"), std::string::npos) << *report;
}

// Values stored alike under two definitions (-1 as INT, 4294967295 as INT UNSIGNED: the same four
// bytes) are different rows: the servers' table checksums, which sum stored bytes, cannot settle it.
TEST_F(VerificationTest, ValuesStoredAlikeUnderAnotherDefinitionAreDifferent) {
  Exec(a_.get(), absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_,
                              ".v (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO ", db_, ".v VALUES (1, -1), (2, 2)"));
  Exec(b_.get(), absl::StrCat("CREATE DATABASE IF NOT EXISTS ", db_, "; CREATE TABLE ", db_,
                              ".v (id INT PRIMARY KEY, n INT UNSIGNED NOT NULL); INSERT INTO ", db_,
                              ".v VALUES (1, 4294967295), (2, 2)"));
  auto p = Project::Create(VerifyConfig());
  ASSERT_TRUE(p.ok()) << p.status();
  bool equal = true;
  auto report = (*p)->Verify(/*repair=*/false, &equal);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(equal) << *report;
  EXPECT_NE(report->find("\"different\":[\"id=1\"]"), std::string::npos) << *report;
}

// Repairs while the link applies a stream of updates to the very rows being repaired: a repair
// read from the source and written after the link applied a newer change would move the row back
// for good (the link never applies that change again).
TEST_F(VerificationTest, RepairOnALiveLinkUnderLoadMovesNoRowBackwards) {
  CreateDriftedTable();
  auto p = Project::Create(VerifyConfig());
  ASSERT_TRUE(p.ok());
  project_ = std::move(*p);
  ASSERT_TRUE(project_->Start().ok());
  ExpectRepairUnderLoad(5, [&](bool* equal) { return project_->Verify(/*repair=*/true, equal); });
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
}

// `duosync verify --repair` beside a running `duosync run`: the repairing process cannot pause
// the other's link, so it borrows it (fence.h). The running link must neither race the repair nor
// stop for good: it takes the link back after the loan and ends identical.
TEST_F(VerificationTest, RepairFromAnotherProcessBorrowsTheRunningLink) {
  CreateDriftedTable();
  StartProject(VerifyConfig());
  ASSERT_TRUE(testing::WaitFor([&] { return Forward().stage() == "incremental"; }, absl::Seconds(30)));
  const uint64_t epoch_before = Forward().epoch();
  ExpectRepairUnderLoad(7, [&](bool* equal) -> absl::StatusOr<std::string> {
    // The other process: the same config, not started (what `duosync verify FILE --repair` runs).
    auto repairer = Project::Create(VerifyConfig());
    if (!repairer.ok()) return repairer.status();
    return (*repairer)->Verify(/*repair=*/true, equal);
  });
  // The running link lent itself and took itself back: still running, under a newer epoch.
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
  EXPECT_GT(Forward().epoch(), epoch_before + 1) << project_->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT owner FROM duosync.owner WHERE link_id = '", db_, "/forward'"))[0],
            Forward().owner());
}

// A borrower holds the link for as long as its lend lock lives: the running link writes nothing
// meanwhile, and when the borrower dies (its session ends without a word) the link is taken back.
TEST_F(VerificationTest, ALinkLentToAToolThatDiesIsTakenBack) {
  auto borrower = StartAndLend();
  ASSERT_FALSE(HasFailure());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".v SELECT seq, seq FROM seq_2_to_100"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".v"))[0], "0") << "written while on loan";
  borrower.reset();  // the tool dies: its session, and the lock with it, ends
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".v ORDER BY id"), "", 30);
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
}

// A real takeover made while the link was on loan stands: when the loan ends, the process that
// lent the link does not take it from the new owner.
TEST_F(VerificationTest, ATakeoverDuringALoanIsNotUndone) {
  auto borrower = StartAndLend();
  ASSERT_FALSE(HasFailure());
  const std::string link_id = db_ + "/forward";
  // Meanwhile another process starts the project: it takes the link over.
  auto second = Project::Create(VerifyConfig());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->Start().ok());
  borrower.reset();
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".v VALUES (2, 2)"));
  testing::ExpectSameEventually(a_.get(), b_.get(), {absl::StrCat("SELECT * FROM ", db_, ".v ORDER BY id")});
  EXPECT_TRUE(testing::WaitFor([&] { return Forward().stage() == "failed"; }, absl::Seconds(10)))
      << project_->StatusJson();
  EXPECT_NE(Forward().last_error().find(testing::LinkStatusOf(**second).owner()), std::string::npos)
      << "the error names the new owner: " << Forward().last_error();
  EXPECT_EQ(testing::LinkStatusOf(**second).stage(), "incremental") << (*second)->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT owner FROM duosync.owner WHERE link_id = '", link_id, "'"))[0],
            testing::LinkStatusOf(**second).owner());
  (void)(*second)->Stop();
}

}  // namespace
}  // namespace duosync
