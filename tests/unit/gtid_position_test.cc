#include "base/gtid_position.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "source/binlog_events.h"

namespace duosync {
namespace {

constexpr char kUuid[] = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr char kOther[] = "00000000-0000-0000-0000-0000000000b2";

GtidPosition P(const std::string& text) {
  auto p = GtidPosition::Parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : GtidPosition();
}

Gtid FileGtid(const std::string& series, uint64_t number, uint64_t offset) {
  Gtid g;
  g.file_series = series;
  g.sequence = FilePlace(number, offset);
  return g;
}

TEST(GtidPositionTest, MariadbListsAreOneGtidPerDomain) {
  GtidPosition p = P("0-1-100, 1-2-7");
  EXPECT_EQ(p.ToString(), "0-1-100,1-2-7");
  EXPECT_TRUE(p.Covers(Gtid::Maria(0, 5, 100)));
  EXPECT_FALSE(p.Covers(Gtid::Maria(0, 1, 101)));
  EXPECT_FALSE(p.Covers(Gtid::Maria(2, 1, 1)));
  p.Advance(Gtid::Maria(0, 1, 101));
  EXPECT_EQ(p.ToString(), "0-1-101,1-2-7");
}

TEST(GtidPositionTest, MysqlSetsKeepIntervalsAndMergeWhatTouches) {
  // Upper case, out of order and touching intervals are one set in MySQL's own form.
  GtidPosition p = P(absl::StrCat("3E11FA47-71CA-11E1-9E33-C80AA9429562:7-9:1-3:4-5,", kOther, ":2"));
  EXPECT_EQ(p.ToString(), absl::StrCat(kOther, ":2,", kUuid, ":1-5:7-9"));
  EXPECT_TRUE(p.Covers(Gtid::Mysql(kUuid, 5)));
  EXPECT_FALSE(p.Covers(Gtid::Mysql(kUuid, 6)));  // in the gap
  EXPECT_TRUE(p.Covers(Gtid::Mysql(kUuid, 8)));
  EXPECT_FALSE(p.Covers(Gtid::Mysql(kOther, 1)));
  EXPECT_FALSE(p.Covers(Gtid::Maria(0, 0, 1)));  // another dialect is never covered by accident
  p.Advance(Gtid::Mysql(kUuid, 6));  // fills the gap
  EXPECT_EQ(p.mysql_sets().at(kUuid), (GtidPosition::Intervals{{1, 9}}));
  p.Advance(Gtid::Mysql(kUuid, 11));
  p.Advance(Gtid::Mysql(kUuid, 10));
  EXPECT_EQ(p.ToString(), absl::StrCat(kOther, ":2,", kUuid, ":1-11"));
  // Round trip.
  EXPECT_EQ(P(p.ToString()).ToString(), p.ToString());
}

TEST(GtidPositionTest, TaggedMysqlGtidsAreSourcesOfTheirOwn) {
  GtidPosition p = P(absl::StrCat(kUuid, ":1-3:Blue:1-2:5"));
  EXPECT_TRUE(p.Covers(Gtid::Mysql(absl::StrCat(kUuid, ":blue"), 5)));
  EXPECT_FALSE(p.Covers(Gtid::Mysql(absl::StrCat(kUuid, ":blue"), 3)));
  EXPECT_TRUE(p.Covers(Gtid::Mysql(kUuid, 3)));
  EXPECT_EQ(P(p.ToString()).ToString(), p.ToString());
}

TEST(GtidPositionTest, FilePlacesOrderByFileThenOffset) {
  GtidPosition p = P("binlog.000042:1234");
  EXPECT_EQ(p.ToString(), "binlog.000042:1234");
  EXPECT_TRUE(p.Covers(FileGtid("binlog", 42, 1234)));
  EXPECT_TRUE(p.Covers(FileGtid("binlog", 41, 99999999)));
  EXPECT_FALSE(p.Covers(FileGtid("binlog", 42, 1235)));
  EXPECT_FALSE(p.Covers(FileGtid("binlog", 43, 4)));
  EXPECT_FALSE(p.Covers(FileGtid("other-bin", 1, 4)));  // another server's files
  p.Advance(FileGtid("binlog", 43, 500));
  EXPECT_EQ(p.ToString(), "binlog.000043:500");
  p.Advance(FileGtid("binlog", 42, 9000));  // never backwards
  EXPECT_EQ(p.ToString(), "binlog.000043:500");
  EXPECT_EQ(P("mysql-bin.1234567:4").ToString(), "mysql-bin.1234567:4");
}

TEST(GtidPositionTest, CoversAllAndCoversWhereNamed) {
  GtidPosition at = P(absl::StrCat(kUuid, ":1-100"));
  EXPECT_TRUE(at.CoversAll(P(absl::StrCat(kUuid, ":1-50:60-100"))));
  EXPECT_FALSE(at.CoversAll(P(absl::StrCat(kUuid, ":1-101"))));
  EXPECT_FALSE(at.CoversAll(P(absl::StrCat(kUuid, ":1-5,", kOther, ":1"))));
  // A source the position never saw was its start state's: not a gap.
  EXPECT_TRUE(at.CoversWhereNamed(P(absl::StrCat(kUuid, ":1-5,", kOther, ":1-9"))));
  EXPECT_FALSE(at.CoversWhereNamed(P(absl::StrCat(kUuid, ":1-101"))));
  EXPECT_TRUE(P("0-1-5").CoversWhereNamed(P("0-1-5,1-1-9")));
  EXPECT_FALSE(P("0-1-5").CoversWhereNamed(P("0-1-6")));
  EXPECT_TRUE(P("").CoversAll(P("")));
  EXPECT_FALSE(P("").CoversAll(P("binlog.000001:4")));
}

TEST(GtidPositionTest, NamesAnyOfTellsPositionsOfTheSameServersApart) {
  EXPECT_TRUE(P("0-1-5,1-2-3").NamesAnyOf(P("1-9-9")));
  EXPECT_FALSE(P("0-1-5").NamesAnyOf(P(absl::StrCat(kUuid, ":1-5"))));  // another dialect
  EXPECT_TRUE(P(absl::StrCat(kUuid, ":1-5")).NamesAnyOf(P(absl::StrCat(kOther, ":1,", kUuid, ":9"))));
  EXPECT_FALSE(P(absl::StrCat(kUuid, ":1-5")).NamesAnyOf(P(absl::StrCat(kOther, ":1"))));
  EXPECT_TRUE(P("binlog.000003:4").NamesAnyOf(P("binlog.000009:4")));
  EXPECT_FALSE(P("binlog.000003:4").NamesAnyOf(P("other.000003:4")));
}

TEST(GtidPositionTest, MergeTakesTheLaterOfEach) {
  GtidPosition p = P(absl::StrCat("0-1-5,", kUuid, ":1-3,binlog.000002:10"));
  p.Merge(P(absl::StrCat("0-1-4,1-1-2,", kUuid, ":5-6,binlog.000003:4")));
  EXPECT_EQ(p.ToString(), absl::StrCat("0-1-5,1-1-2,", kUuid, ":1-3:5-6,binlog.000003:4"));
}

TEST(GtidPositionTest, BadTextIsRefusedNamingThePart) {
  for (const char* bad : {"0-1", "0-1-x", "hello", "3e11fa47-71ca-11e1-9e33-c80aa9429562",
                          "3e11fa47-71ca-11e1-9e33-c80aa9429562:", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
                          "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3", "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag",
                          "binlog:12", "binlog.000001:", "binlog.000001:x", "0-1-5,nonsense"}) {
    auto p = GtidPosition::Parse(bad);
    EXPECT_FALSE(p.ok()) << bad;
    EXPECT_THAT(p.status().message(), ::testing::HasSubstr("is not a replication position")) << bad;
  }
}

// COM_BINLOG_DUMP_GTID takes a set in PREVIOUS_GTIDS' binary form: what is sent reads back the
// same (ends exclusive on the wire), and tagged sets, which have another form, are not sent.
TEST(GtidPositionTest, MysqlSetsEncodeAsPreviousGtidsDo) {
  const std::string text = absl::StrCat(kOther, ":1-3:9,", kUuid, ":5");
  auto bytes = EncodeMysqlGtidSet(P(text));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(), 8 + (16 + 8 + 2 * 16) + (16 + 8 + 16));
  auto back = ParsePreviousGtids(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, text);
  EXPECT_EQ(*EncodeMysqlGtidSet(P("")), std::string(8, '\0'));
  EXPECT_FALSE(EncodeMysqlGtidSet(P(absl::StrCat(kUuid, ":tag1:1-2"))).ok());
}

// A configured start is checked against the source it is for: its dialect, its servers, its end.
TEST(GtidPositionTest, AStartMustFitTheSource) {
  const GtidPosition maria_end = P("0-1-500,1-2-30");
  EXPECT_TRUE(CheckStartFitsSource(P("0-1-100"), maria_end, true).ok());
  EXPECT_TRUE(CheckStartFitsSource(P("0-7-500"), maria_end, true).ok());  // a failover's server id
  EXPECT_TRUE(CheckStartFitsSource(P(""), maria_end, true).ok());
  EXPECT_TRUE(CheckStartFitsSource(P("0-1-100"), P(""), true).ok());     // nothing written yet
  auto dialect = CheckStartFitsSource(P(absl::StrCat(kUuid, ":1-5")), maria_end, true);
  EXPECT_TRUE(absl::IsInvalidArgument(dialect)) << dialect;
  EXPECT_NE(dialect.message().find("@@gtid_binlog_pos"), std::string::npos) << dialect;
  EXPECT_FALSE(CheckStartFitsSource(P("mysql-bin.000001:4"), maria_end, true).ok());
  auto other = CheckStartFitsSource(P("5-1-100"), maria_end, true);
  EXPECT_NE(other.message().find("names none of the source's servers"), std::string::npos) << other;
  auto past = CheckStartFitsSource(P("0-1-501"), maria_end, true);
  EXPECT_NE(past.message().find("past the source's binlog end"), std::string::npos) << past;

  const GtidPosition mysql_end = P(absl::StrCat(kUuid, ":1-100,", kOther, ":1-5"));
  EXPECT_TRUE(CheckStartFitsSource(P(absl::StrCat(kUuid, ":1-40")), mysql_end, false).ok());
  EXPECT_TRUE(CheckStartFitsSource(P("binlog.000003:120"), mysql_end, false).ok());  // a place on a GTID server
  EXPECT_FALSE(CheckStartFitsSource(P("0-1-100"), mysql_end, false).ok());
  EXPECT_FALSE(CheckStartFitsSource(P("00000000-0000-0000-0000-0000000000c3:1-4"), mysql_end, false).ok());
  EXPECT_FALSE(CheckStartFitsSource(P(absl::StrCat(kUuid, ":1-101")), mysql_end, false).ok());

  const GtidPosition file_end = P("binlog.000007:900");
  EXPECT_TRUE(CheckStartFitsSource(P("binlog.000007:400"), file_end, false).ok());
  EXPECT_TRUE(CheckStartFitsSource(P("binlog.000002:4"), file_end, false).ok());
  EXPECT_FALSE(CheckStartFitsSource(P("binlog.000007:901"), file_end, false).ok());
  EXPECT_FALSE(CheckStartFitsSource(P("other-bin.000007:4"), file_end, false).ok());
}

}  // namespace
}  // namespace duosync
