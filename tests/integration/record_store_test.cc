// The incremental record store against real servers: the reader keeps reading while the
// destination is down, replay from a time or a position, corruption found and read again from the
// source, every type family through the store.
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "glog/logging.h"
#include "support/test_support.h"

namespace duosync {
namespace {

namespace fs = std::filesystem;
using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;
using testing::StatusIs;

// Collects log lines that contain a given text (to see which recovery path ran).
class LogWatch : public google::LogSink {
 public:
  explicit LogWatch(std::string needle) : needle_(std::move(needle)) { google::AddLogSink(this); }
  ~LogWatch() override { google::RemoveLogSink(this); }
  void send(google::LogSeverity, const char*, const char*, int, const struct ::tm*, const char* message,
            size_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::StrContains(absl::string_view(message, length), needle_)) ++hits_;
  }
  int hits() {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }

 private:
  std::string needle_;
  std::mutex mu_;
  int hits_ = 0;
};

class RecordStoreIntegrationTest : public testing::TwoServerTest {
 protected:
  RecordStoreIntegrationTest() : TwoServerTest("st_") {}
  void SetUp() override {
    TwoServerTest::SetUp();
    char tmpl[] = "/tmp/duosync-store-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    data_dir_ = tmpl;
  }
  void TearDown() override {
    TwoServerTest::TearDown();
    if (!ServerPair::B().running()) (void)ServerPair::B().Restart();
    fs::remove_all(data_dir_);
  }

  // The tables `tables` (a pattern in db_) synced through a record store in data_dir_, kept
  // `retention_hours` (0: no store) in segments of `segment_mb` (0: the default).
  std::string StoreConfig(const std::string& tables = "*", int retention_hours = 1, int segment_mb = 0) {
    testing::ConfigBuilder config = Config();
    config.Whitelist(db_ + "." + tables)
        .RecordStores(data_dir_, retention_hours)
        .ForwardOptions(absl::StrCat(R"({"store_segment_mb": )", segment_mb, "}"));
    return config.Json();
  }

  report::LinkStatus Forward() { return testing::LinkStatusOf(*project_); }

  std::string SourceEnd() { return Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0]; }

  void ExpectSame(const std::string& b_query, const std::string& a_query = "") {
    ExpectEventuallySame(b_query, a_query, 60);
  }

  std::string data_dir_;
};

TEST_F(RecordStoreIntegrationTest, ReaderKeepsReadingWhileTheDestinationIsDownAndNothingIsLost) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200))");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, 0, 'x' FROM seq_1_to_100"));
  const std::string q = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  ExpectSame(q);

  ASSERT_TRUE(ServerPair::B().Stop().ok());
  auto w = Connect(ServerPair::A(), db_);
  for (int i = 1; i <= 600; ++i) {
    Exec(w.get(), absl::StrCat("BEGIN; INSERT INTO t VALUES (", 100 + i, ", ", i, ", REPEAT('p', 150));"
                               "UPDATE t SET v = v + 1 WHERE id = ", 1 + i % 100, ";",
                               i % 5 == 0 ? absl::StrCat("DELETE FROM t WHERE id = ", 100 + i - 2, ";") : "",
                               "COMMIT"));
  }
  // While B is down the reader goes on: the store reaches the source's end.
  const std::string end = SourceEnd();
  testing::WaitFor([&] { return Forward().store().end_position() == end; }, absl::Seconds(30));
  const report::LinkStatus down = Forward();
  EXPECT_EQ(down.store().end_position(), end);
  EXPECT_GE(down.store().transactions(), 600u);
  EXPECT_GT(down.store().bytes(), 600u * 150);
  EXPECT_EQ(down.store().dir(), absl::StrCat(data_dir_, "/", db_, "/forward"));

  ASSERT_TRUE(ServerPair::B().Restart().ok());
  b_ = Connect(ServerPair::B());
  ExpectSame(q);
  EXPECT_EQ(Forward().stage(), "incremental");
}

TEST_F(RecordStoreIntegrationTest, SourceRestartIsReadOnFromTheStoresEnd) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, seq FROM seq_1_to_200"));
  ASSERT_TRUE(ServerPair::A().Restart().ok());
  a_ = Connect(ServerPair::A());
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".t SET v = -v WHERE id % 3 = 0; DELETE FROM ", db_,
                              ".t WHERE id % 7 = 0"));
  ExpectSame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
  EXPECT_EQ(Forward().store().end_position(), SourceEnd());
}

TEST_F(RecordStoreIntegrationTest, ReplayFromATimeBringsBackRowsChangedSince) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, seq FROM seq_1_to_100"));
  const std::string all = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  ExpectSame(all);
  // Everything so far committed before `since`.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const int64_t since = time(nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".t SET v = v + 1000 WHERE id BETWEEN ", i * 10 + 1, " AND ",
                                i * 10 + 10));
  }
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, seq FROM seq_101_to_150"));
  ExpectSame(all);

  // A mistake on the destination: every row gone.
  Exec(b_.get(), absl::StrCat("DELETE FROM ", db_, ".t"));
  auto rewound = project_->Replay("forward", absl::StrCat("@", since));
  ASSERT_TRUE(rewound.ok()) << rewound.status();
  // Rows changed after `since` come back as the source has them; the others were not changed
  // since, so a replay from then does not touch them.
  ExpectSame(all, absl::StrCat("SELECT * FROM ", db_, ".t WHERE id <= 50 OR id > 100 ORDER BY id"));
  // The link goes on as before.
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (151, 151)"));
  ExpectSame(absl::StrCat("SELECT * FROM ", db_, ".t WHERE id > 150"));
}

TEST_F(RecordStoreIntegrationTest, ReplayFromAPositionAndItsErrors) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, seq FROM seq_1_to_30"));
  const std::string all = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  ExpectSame(all);
  const std::string position = SourceEnd();
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".t SET v = -v WHERE id <= 10"));
  ExpectSame(all);
  Exec(b_.get(), absl::StrCat("DELETE FROM ", db_, ".t WHERE id <= 10 OR id = 20"));

  EXPECT_THAT(project_->Replay("forward", "@1").status(), StatusIs(absl::StatusCode::kOutOfRange, "holds"));
  EXPECT_THAT(project_->Replay("forward", "yesterday").status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(project_->Replay("sideways", position).status(), StatusIs(absl::StatusCode::kNotFound));
  // Failed replays leave the link running.
  EXPECT_EQ(Forward().stage(), "incremental");

  auto rewound = project_->Replay("forward", position);
  ASSERT_TRUE(rewound.ok()) << rewound.status();
  EXPECT_EQ(*rewound, position);
  // 1..10 changed after the position and come back; 20 did not change since and stays gone.
  ExpectSame(all, absl::StrCat("SELECT * FROM ", db_, ".t WHERE id <> 20 ORDER BY id"));

  // A link without a store has nothing to replay from.
  auto plain = Project::Create(StoreConfig("*", /*retention_hours=*/0));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_THAT((*plain)->Replay("forward", position).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "retention_hours"));
}

TEST_F(RecordStoreIntegrationTest, CorruptRecordIsCutOffAndReadFromTheSourceAgain) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(4000) NOT NULL)");
  const std::string config = StoreConfig("*", 1, /*segment_mb=*/1);
  StartProject(config);
  // With B down, the records pile up in the store unapplied.
  ASSERT_TRUE(ServerPair::B().Stop().ok());
  auto w = Connect(ServerPair::A(), db_);
  for (int i = 1; i <= 800; ++i) {
    Exec(w.get(), absl::StrCat("INSERT INTO t VALUES (", i, ", REPEAT(CHAR(65 + ", i % 26, "), 3000))"));
  }
  const std::string end = SourceEnd();
  testing::WaitFor([&] { return Forward().store().end_position() == end; }, absl::Seconds(30));
  ASSERT_EQ(Forward().store().end_position(), end);
  project_->Stop();
  project_.reset();

  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(absl::StrCat(data_dir_, "/", db_, "/forward"))) {
    if (e.path().extension() == ".seg") segments.push_back(e.path());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 3u);
  // Flip a byte in the middle of a sealed segment: its footer is intact, so only reading the
  // records finds the damage.
  {
    const auto size = fs::file_size(segments[1]);
    std::fstream f(segments[1], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put(static_cast<char>(c ^ 0x04));
  }

  LogWatch truncated("truncating the record store");
  ASSERT_TRUE(ServerPair::B().Restart().ok());
  b_ = Connect(ServerPair::B());
  StartProject(config);
  const std::string q = absl::StrCat("SELECT id, MD5(pad) FROM ", db_, ".t ORDER BY id");
  ExpectSame(q);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "800");
  EXPECT_GE(truncated.hits(), 1) << "the corrupt record was never met";
  EXPECT_EQ(Forward().stage(), "incremental");
}

TEST_F(RecordStoreIntegrationTest, ChangedObjectSelectionStartsTheStoreAfresh) {
  CreateBoth("CREATE TABLE t1 (id INT PRIMARY KEY)");
  CreateBoth("CREATE TABLE t2 (id INT PRIMARY KEY)");
  StartProject(StoreConfig("t1"));
  ASSERT_TRUE(ServerPair::B().Stop().ok());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t1 VALUES (1); INSERT INTO ", db_, ".t2 VALUES (2)"));
  const std::string end = SourceEnd();
  testing::WaitFor([&] { return Forward().store().end_position() == end; }, absl::Seconds(30));
  ASSERT_EQ(Forward().store().end_position(), end);
  project_->Stop();
  // The store holds t2's transaction without its rows (t2 was not synced); a link that now syncs
  // t2 must not take it from there.
  ASSERT_TRUE(ServerPair::B().Restart().ok());
  b_ = Connect(ServerPair::B());
  StartProject(StoreConfig("t*"));
  ExpectSame(absl::StrCat("SELECT * FROM ", db_, ".t2"));
  ExpectSame(absl::StrCat("SELECT * FROM ", db_, ".t1"));
}

TEST_F(RecordStoreIntegrationTest, EveryTypeFamilyPassesThroughTheStoreUnchanged) {
  CreateBoth(R"(CREATE TABLE v (id INT PRIMARY KEY, t TINYINT, bu BIGINT UNSIGNED, b BIGINT,
      bt BIT(64), d DECIMAL(65,30), f FLOAT, dbl DOUBLE, dt6 DATETIME(6), ts TIMESTAMP(6) NULL,
      tm TIME(6), y YEAR, c CHAR(10), vc VARCHAR(300) CHARACTER SET utf8mb4, lat VARCHAR(20) CHARACTER SET latin1,
      bin BINARY(4), vbin VARBINARY(300), bl MEDIUMBLOB, j JSON, e ENUM('x','y'), st SET('a','b','c')))");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("USE ", db_, ";", R"(
    INSERT INTO v VALUES
      (1, -128, 18446744073709551615, -9223372036854775808, b'1111111111111111111111111111111111111111111111111111111111111111',
       12345678901234567890123456789012345.123456789012345678901234567890, 3.40282e38, 1.7976931348623157e308,
       '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '-838:59:59.000000', 2155,
       'abc', 'héllo ✓ 😀', 'caf\xe9', X'00010000', X'00ff', REPEAT(X'AB', 70000), '{"a": [1, null]}', 'y', 'a,c'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    UPDATE v SET tm = '-00:00:00.000001', c = '' WHERE id = 1;
    DELETE FROM v WHERE id = 2;
    INSERT INTO v (id, vc) VALUES (3, '');)"));
  ExpectSame(absl::StrCat("SELECT id, t, bu, b, HEX(bt), d, f, dbl, dt6, ts, tm, y, c, vc, HEX(lat), HEX(bin), "
                          "HEX(vbin), MD5(bl), j, e, st FROM ", db_, ".v ORDER BY id"));
}

// The store keeps which columns are generated and which have ON UPDATE CURRENT_TIMESTAMP: read
// back from it, rows still leave the first to the destination (a value for one is an error there)
// and set the second to the source's value (else the destination's clock puts its own there).
TEST_F(RecordStoreIntegrationTest, GeneratedAndOnUpdateColumnsKeepTheirMeaningThroughTheStore) {
  CreateBoth("CREATE TABLE g (id INT PRIMARY KEY, n INT, twice INT AS (n * 2) STORED,"
             " tag VARCHAR(12) AS (CONCAT('t', id)) VIRTUAL,"
             " ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)");
  StartProject(StoreConfig());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; SET timestamp = 1500000000; INSERT INTO g (id, n) VALUES (1, 1), (2, 2);"
                              "UPDATE g SET n = 5 WHERE id = 2; DELETE FROM g WHERE id = 1;"
                              "INSERT INTO g (id, n) VALUES (3, 3)"));
  ExpectSame(absl::StrCat("SELECT id, n, twice, tag, UNIX_TIMESTAMP(ts) FROM ", db_, ".g ORDER BY id"));
  EXPECT_EQ(Forward().stage(), "incremental") << project_->StatusJson();
}

}  // namespace
}  // namespace duosync
