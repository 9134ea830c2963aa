#include "store/record_store.h"
#include "store/store_cursor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/record_file.h"

namespace duosync {
namespace {

namespace fs = std::filesystem;

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/duosync-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    schema_ = std::make_shared<TableSchema>();
    schema_->schema = "shop";
    schema_->table = "orders";
    schema_->columns = {{"id", 8, 0, false, "", ""}, {"note", 15, 400, false, "utf8mb4", "utf8mb4_general_ci"},
                        {"price", 246, 0x0a02, false, "", ""}, {"blob", 252, 2, false, "", ""},
                        {"ratio", 5, 8, false, "", ""}, {"big", 8, 0, true, "", ""}};
    schema_->key_columns = {0};
    schema_->unique_keys = {{0}, {1}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  StoreOptions Options(uint64_t segment_bytes = 64 << 20) {
    StoreOptions o;
    o.dir = dir_;
    o.segment_bytes = segment_bytes;
    return o;
  }

  // Transaction number `n` (GTID 0-1-n), committed at 1000+n, one UPDATE with every value kind.
  Transaction Txn(uint64_t n) {
    Transaction t;
    t.gtid = Gtid::Maria(0, 1, n);
    t.origin_server_id = 1;
    t.commit_time = static_cast<uint32_t>(1000 + n);
    RowChange c;
    c.op = RowOp::kUpdate;
    c.table = schema_;
    c.before = {Value::Int(static_cast<int64_t>(n)), Value::String("before"), Value::String("1.50"),
                Value::Bytes(std::string("\0\x01\xff", 3)), Value::Double(0.25), Value::UInt(UINT64_MAX)};
    c.after = c.before;
    c.after[1] = Value::String("after " + std::to_string(n));
    c.after[3] = Value::Null();
    t.changes.push_back(c);
    return t;
  }

  // A store (reset to the empty position) holding transactions 1..n.
  absl::StatusOr<std::unique_ptr<RecordStore>> OpenFilled(const StoreOptions& options, uint64_t n) {
    auto store = RecordStore::Open(options);
    if (!store.ok()) return store.status();
    absl::Status s = (*store)->Reset(At(0));
    for (uint64_t i = 1; s.ok() && i <= n; ++i) s = (*store)->Append(Txn(i));
    if (!s.ok()) return s;
    return store;
  }

  static GtidPosition At(uint64_t n) {
    GtidPosition p;
    if (n > 0) p.Advance(Gtid::Maria(0, 1, n));
    return p;
  }

  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".seg") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Reads every transaction after `after` that is there now; fails the test on an error.
  std::vector<uint64_t> ReadAll(RecordStore* store, const GtidPosition& after) {
    std::vector<uint64_t> seqs;
    auto cursor = store->NewCursor(after);
    EXPECT_TRUE(cursor.ok()) << cursor.status();
    if (!cursor.ok()) return seqs;
    while (true) {
      auto next = (*cursor)->Next(absl::ZeroDuration());
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      seqs.push_back((*next)->gtid.sequence);
    }
    return seqs;
  }

  static std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> out;
    for (uint64_t i = from; i <= to; ++i) out.push_back(i);
    return out;
  }

  std::string dir_;
  std::shared_ptr<TableSchema> schema_;
};

TEST_F(RecordStoreTest, TransactionsComeBackExactlyAsAppended) {
  auto store = RecordStore::Open(Options());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Reset(At(0)).ok());
  Transaction ddl;
  ddl.gtid = Gtid::Maria(0, 1, 2);
  ddl.commit_time = 1002;
  ddl.ddl = "ALTER TABLE orders ADD COLUMN x INT";
  ddl.ddl_schema = "shop";
  ASSERT_TRUE((*store)->Append(Txn(1)).ok());
  ASSERT_TRUE((*store)->Append(ddl).ok());
  ASSERT_TRUE((*store)->Append(Txn(3)).ok());

  auto cursor = (*store)->NewCursor(At(0));
  ASSERT_TRUE(cursor.ok());
  auto first = (*cursor)->Next(absl::ZeroDuration());
  ASSERT_TRUE(first.ok() && first->has_value());
  const Transaction want = Txn(1);
  EXPECT_EQ((*first)->gtid.ToString(), "0-1-1");
  EXPECT_EQ((*first)->commit_time, want.commit_time);
  EXPECT_EQ((*first)->origin_server_id, 1u);
  ASSERT_EQ((*first)->changes.size(), 1u);
  const RowChange& c = (*first)->changes[0];
  EXPECT_EQ(c.op, RowOp::kUpdate);
  EXPECT_EQ(c.before, want.changes[0].before);
  EXPECT_EQ(c.after, want.changes[0].after);
  EXPECT_EQ(c.table->QualifiedName(), "shop.orders");
  EXPECT_EQ(c.table->columns[1].collation, "utf8mb4_general_ci");
  EXPECT_TRUE(c.table->columns[5].is_unsigned);
  EXPECT_EQ(c.table->unique_keys, schema_->unique_keys);
  EXPECT_EQ((*cursor)->position().ToString(), "0-1-1");

  auto second = (*cursor)->Next(absl::ZeroDuration());
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->ddl, ddl.ddl);
  EXPECT_EQ((*second)->ddl_schema, "shop");
  auto third = (*cursor)->Next(absl::ZeroDuration());
  ASSERT_TRUE(third.ok() && third->has_value());
  // The same schema decodes to the same object (the router keys its routes by it).
  EXPECT_EQ((*third)->changes[0].table.get(), c.table.get());
  auto none = (*cursor)->Next(absl::ZeroDuration());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ((*store)->end().ToString(), "0-1-3");
}

TEST_F(RecordStoreTest, CursorStartsAfterAPositionAcrossManySegments) {
  auto store = OpenFilled(Options(2048), 200);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_GT(Segments().size(), 10u);
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 200));
  EXPECT_EQ(ReadAll(store->get(), At(137)), Range(138, 200));
  EXPECT_TRUE(ReadAll(store->get(), At(200)).empty());
  const StoreStats s = (*store)->stats();
  EXPECT_EQ(s.transactions, 200u);
  EXPECT_EQ(s.segments, Segments().size());
  EXPECT_EQ(s.oldest_commit_time, 1001u);
  EXPECT_EQ(s.newest_commit_time, 1200u);
  EXPECT_EQ(s.end_position, "0-1-200");
  uint64_t on_disk = 0;
  for (const auto& p : Segments()) on_disk += fs::file_size(p);
  EXPECT_EQ(s.bytes, on_disk);
}

TEST_F(RecordStoreTest, CursorWaitsForTheWriter) {
  auto store = RecordStore::Open(Options(4096));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Reset(At(0)).ok());
  auto cursor = (*store)->NewCursor(At(0));
  ASSERT_TRUE(cursor.ok());
  std::thread writer([&] {
    for (uint64_t i = 1; i <= 300; ++i) {
      ASSERT_TRUE((*store)->Append(Txn(i)).ok());
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<uint64_t> seen;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (seen.size() < 300 && absl::Now() < deadline) {
    auto next = (*cursor)->Next(absl::Milliseconds(100));
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->has_value()) seen.push_back((*next)->gtid.sequence);
  }
  writer.join();
  EXPECT_EQ(seen, Range(1, 300));
}

TEST_F(RecordStoreTest, ReopenedStoreContinuesWhereItEnded) {
  {
    auto store = OpenFilled(Options(2048), 50);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  auto store = RecordStore::Open(Options(2048));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->initialized());
  EXPECT_EQ((*store)->end().ToString(), "0-1-50");
  EXPECT_TRUE((*store)->Holds(At(0)));
  for (uint64_t i = 51; i <= 80; ++i) ASSERT_TRUE((*store)->Append(Txn(i)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 80));
}

TEST_F(RecordStoreTest, ARowValueThatLooksLikeATrailerDoesNotSealTheSegment) {
  // The last bytes of a real sealed segment (its footer frame and trailer) ...
  std::string trailer;
  {
    StoreOptions o = Options(2048);
    o.dir = dir_ + "/other";
    auto other = OpenFilled(o, 30);
    ASSERT_TRUE(other.ok()) << other.status();
    std::ifstream in(dir_ + "/other/00000000000000000001.seg", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    trailer = bytes.substr(bytes.size() - 120);
  }
  // ... as the last value of the last transaction of an unsealed segment.
  {
    auto store = RecordStore::Open(Options());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Reset(At(0)).ok());
    for (uint64_t i = 1; i <= 5; ++i) {
      Transaction t = Txn(i);
      if (i == 5) t.changes[0].after.back() = Value::Bytes(trailer);
      ASSERT_TRUE((*store)->Append(t).ok());
    }
  }
  auto store = RecordStore::Open(Options());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->end().ToString(), "0-1-5");
  EXPECT_EQ((*store)->stats().transactions, 5u);
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 5));
  ASSERT_TRUE((*store)->Append(Txn(6)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 6));
}

TEST_F(RecordStoreTest, LostIndexFilesAndAMissingSealCostNothing) {
  {
    auto store = OpenFilled(Options(2048), 100);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  const std::vector<std::string> segs = Segments();
  ASSERT_GT(segs.size(), 4u);
  auto index_of = [](const std::string& seg) { return seg.substr(0, seg.size() - 4) + ".idx"; };
  // Segment 1 loses its index (a crash while deleting it, say): it is read through instead.
  ASSERT_TRUE(fs::remove(index_of(segs[0])));
  // Segment 2 loses its seal altogether (a crash after its last record, before the seal).
  {
    std::ifstream in(index_of(segs[1]), std::ios::binary);
    const std::string trailer((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::resize_file(segs[1], fs::file_size(segs[1]) - trailer.size());
    ASSERT_TRUE(fs::remove(index_of(segs[1])));
  }
  auto store = RecordStore::Open(Options(2048));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Segments(), segs);
  EXPECT_TRUE(fs::exists(index_of(segs[0])));
  EXPECT_TRUE(fs::exists(index_of(segs[1])));
  EXPECT_EQ((*store)->end().ToString(), "0-1-100");
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 100));
  EXPECT_EQ((*store)->stats().transactions, 100u);
}

TEST_F(RecordStoreTest, ASecondOpenOfTheSameStoreIsRefused) {
  auto store = RecordStore::Open(Options());
  ASSERT_TRUE(store.ok());
  auto second = RecordStore::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), ::testing::HasSubstr("in use by another process"));
}

TEST_F(RecordStoreTest, TornTailIsCutOnOpenAndNeverRead) {
  {
    auto store = OpenFilled(Options(), 10);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  // A kill -9 in the middle of writing record 10: part of it reached the file.
  const std::string seg = Segments().back();
  fs::resize_file(seg, fs::file_size(seg) - 7);
  {
    auto store = RecordStore::Open(Options());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->end().ToString(), "0-1-9");
    EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 9));
    // The link reads transaction 10 from the source again and appends it.
    ASSERT_TRUE((*store)->Append(Txn(10)).ok());
  }
  // A zero-filled tail (a file extended but never written) is no record either.
  {
    std::ofstream out(seg, std::ios::app | std::ios::binary);
    out << std::string(4096, '\0');
  }
  auto store = RecordStore::Open(Options());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 10));
}

TEST_F(RecordStoreTest, FlippedByteInTheActiveSegmentIsCutOnOpen) {
  {
    auto store = OpenFilled(Options(), 20);
    ASSERT_TRUE(store.ok()) << store.status();
  }
  const std::string seg = Segments().back();
  const uint64_t size = fs::file_size(seg);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size * 3 / 4));
    const char was = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(size * 3 / 4));
    f.put(static_cast<char>(was ^ 0x5a));  // always a change
  }
  auto store = RecordStore::Open(Options());
  ASSERT_TRUE(store.ok());
  const std::vector<uint64_t> left = ReadAll(store->get(), At(0));
  ASSERT_FALSE(left.empty());
  EXPECT_LT(left.size(), 20u);
  EXPECT_EQ(left, Range(1, left.size()));  // a clean prefix, nothing after the damage
  EXPECT_EQ((*store)->end().ToString(), At(left.size()).ToString());
}

TEST_F(RecordStoreTest, CorruptRecordInASealedSegmentIsReportedWithItsLocationAndTruncated) {
  auto store = OpenFilled(Options(2048), 100);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> segs = Segments();
  ASSERT_GT(segs.size(), 4u);
  // Flip a byte in the middle of the third segment; its footer stays intact, so only reading
  // the records finds it.
  const std::string victim = segs[2];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    f.put(static_cast<char>(c ^ 0x10));
  }
  auto cursor = (*store)->NewCursor(At(0));
  ASSERT_TRUE(cursor.ok());
  uint64_t last = 0;
  absl::Status error;
  while (true) {
    auto next = (*cursor)->Next(absl::ZeroDuration());
    if (!next.ok()) {
      error = next.status();
      break;
    }
    ASSERT_TRUE(next->has_value()) << "the corrupt record was not found";
    last = (*next)->gtid.sequence;
  }
  EXPECT_TRUE(absl::IsDataLoss(error)) << error;
  EXPECT_EQ((*cursor)->location().segment, 3u);
  EXPECT_EQ((*cursor)->position().ToString(), At(last).ToString());
  const RecordLocation at = (*cursor)->location();
  cursor->reset();
  ASSERT_TRUE((*store)->TruncateAt(at).ok());
  EXPECT_EQ((*store)->end().ToString(), At(last).ToString());
  EXPECT_EQ(Segments().size(), 3u);
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, last));
  // Appending goes on from there (the source is read again from the truncation point).
  for (uint64_t i = last + 1; i <= 100; ++i) ASSERT_TRUE((*store)->Append(Txn(i)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 100));
}

TEST_F(RecordStoreTest, DamagedSegmentHeaderFoundByACursorDropsTheSegment) {
  auto store = OpenFilled(Options(2048), 100);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> segs = Segments();
  {
    std::fstream f(segs[2], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(12);  // inside the header frame
    const char was = static_cast<char>(f.get());
    f.seekp(12);
    f.put(static_cast<char>(~was));  // always a change (a fixed byte could be the one already there)
  }
  auto cursor = (*store)->NewCursor(At(0));
  ASSERT_TRUE(cursor.ok());
  absl::StatusOr<std::optional<Transaction>> next;
  uint64_t last = 0;
  while ((next = (*cursor)->Next(absl::ZeroDuration())).ok() && next->has_value()) last = (*next)->gtid.sequence;
  EXPECT_TRUE(absl::IsDataLoss(next.status())) << next.status();
  EXPECT_EQ((*cursor)->location().segment, 3u);
  EXPECT_EQ((*cursor)->location().offset, 0u);
  const RecordLocation at = (*cursor)->location();
  cursor->reset();
  ASSERT_TRUE((*store)->TruncateAt(at).ok());
  EXPECT_EQ((*store)->end().ToString(), At(last).ToString());
  EXPECT_EQ(Segments().size(), 2u);
  for (uint64_t i = last + 1; i <= 100; ++i) ASSERT_TRUE((*store)->Append(Txn(i)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(0)), Range(1, 100));
}

TEST_F(RecordStoreTest, RetentionDeletesOnlyOldSegmentsTheApplierNoLongerNeeds) {
  StoreOptions o = Options(2048);
  o.retention = absl::ZeroDuration();
  auto store = OpenFilled(o, 100);
  ASSERT_TRUE(store.ok()) << store.status();
  const size_t before = Segments().size();
  // Nothing applied: nothing may go, however old.
  auto none = (*store)->ApplyRetention(At(0));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  // Applied up to 50: the segments wholly at or before 50 go, the one holding 51 stays.
  auto some = (*store)->ApplyRetention(At(50));
  ASSERT_TRUE(some.ok());
  EXPECT_GT(*some, 0);
  EXPECT_EQ(Segments().size(), before - *some);
  EXPECT_TRUE((*store)->Holds(At(50)));
  EXPECT_FALSE((*store)->Holds(At(0)));
  EXPECT_FALSE((*store)->NewCursor(At(0)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(50)), Range(51, 100));
  // Everything applied: all but the newest segment go (it names the store's end).
  auto all = (*store)->ApplyRetention(At(100));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Segments().size(), 1u);
  EXPECT_EQ((*store)->end().ToString(), "0-1-100");

  // Within retention nothing goes, applied or not.
  StoreOptions keep = Options(2048);
  keep.dir = dir_ + "/keep";
  keep.retention = absl::Hours(1);
  auto kept = OpenFilled(keep, 100);
  ASSERT_TRUE(kept.ok()) << kept.status();
  auto zero = (*kept)->ApplyRetention(At(100));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, 0);
}

TEST_F(RecordStoreTest, PositionAtTimeFindsTheFirstTransactionCommittedThen) {
  StoreOptions o = Options(2048);
  o.retention = absl::ZeroDuration();
  auto store = OpenFilled(o, 100);
  ASSERT_TRUE(store.ok()) << store.status();
  auto at = (*store)->PositionAtTime(1042);  // transaction 42 committed at 1042
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->ToString(), "0-1-41");
  // At every time, also where a segment begins.
  for (uint32_t t = 1001; t <= 1100; ++t) {
    auto p = (*store)->PositionAtTime(t);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->ToString(), At(t - 1001).ToString()) << "at " << t;
  }
  auto first = (*store)->PositionAtTime(1001);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->ToString(), "");  // from the very start
  // Earlier than anything stored: what the source committed before the store began is not here.
  EXPECT_TRUE(absl::IsOutOfRange((*store)->PositionAtTime(10).status()));
  auto future = (*store)->PositionAtTime(5000);
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->ToString(), "0-1-100");
  ASSERT_TRUE((*store)->ApplyRetention(At(60)).ok());
  auto gone = (*store)->PositionAtTime(1010);
  EXPECT_TRUE(absl::IsOutOfRange(gone.status())) << gone.status();
  EXPECT_THAT(std::string(gone.status().message()), ::testing::HasSubstr("retention"));
}

TEST_F(RecordStoreTest, ResetDropsEverythingAndStartsANewRange) {
  auto store = RecordStore::Open(Options(2048));
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->initialized());
  ASSERT_TRUE((*store)->Reset(At(0)).ok());
  for (uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE((*store)->Append(Txn(i)).ok());
  ASSERT_TRUE((*store)->Reset(At(500)).ok());
  EXPECT_EQ(Segments().size(), 1u);
  // An empty store is up to date from its creation on, and knows nothing older.
  EXPECT_TRUE(absl::IsOutOfRange((*store)->PositionAtTime(10).status()));
  auto now = (*store)->PositionAtTime(static_cast<uint32_t>(absl::ToUnixSeconds(absl::Now())) + 5);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->ToString(), "0-1-500");
  EXPECT_FALSE((*store)->Holds(At(10)));
  EXPECT_TRUE((*store)->Holds(At(500)));
  ASSERT_TRUE((*store)->Append(Txn(501)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(500)), std::vector<uint64_t>{501});
}

TEST(RecordFileTest, FramesRejectBadLengthsAndChecksums) {
  std::string framed;
  AppendFrame("hello", &framed);
  Frame ok = ParseFrame(framed);
  ASSERT_EQ(ok.status, FrameStatus::kOk);
  EXPECT_EQ(ok.payload, "hello");
  EXPECT_EQ(ParseFrame(framed.substr(0, 10)).status, FrameStatus::kIncomplete);
  std::string flipped = framed;
  flipped[9] ^= 1;
  EXPECT_EQ(ParseFrame(flipped).status, FrameStatus::kCorrupt);
  EXPECT_EQ(ParseFrame(std::string(16, '\0')).status, FrameStatus::kCorrupt);
  std::string huge = framed;
  huge[3] = '\x7f';  // length > 1 GiB
  EXPECT_EQ(ParseFrame(huge).status, FrameStatus::kCorrupt);
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// A transaction in parts: kept in one segment (never sealed between its parts, however small the
// segments), positions move past it at its last part only, and parts left by a crash before the
// last are cut off when the store is opened again (the source sends the transaction again).
TEST_F(RecordStoreTest, ATransactionInPartsStaysWholeAndACrashLeavesNoneOfIt) {
  auto part = [&](uint64_t n, uint32_t number, bool more) {
    Transaction t = Txn(n);
    for (int i = 0; i < 20; ++i) t.changes.push_back(t.changes.front());
    t.part = number;
    t.more_parts = more;
    return t;
  };
  {
    auto store = OpenFilled(Options(2048), 2);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE((*store)->Append(part(3, i, i < 9)).ok());
    ASSERT_TRUE((*store)->Append(Txn(4)).ok());
    EXPECT_EQ((*store)->end().ToString(), "0-1-4");
    EXPECT_EQ(ReadAll(store->get(), At(0)), std::vector<uint64_t>({1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4}));
    EXPECT_EQ(ReadAll(store->get(), At(3)), std::vector<uint64_t>({4}));
    // A cursor inside it reports the position before it until its last part.
    auto cursor = (*store)->NewCursor(At(2));
    ASSERT_TRUE(cursor.ok());
    for (int i = 0; i < 9; ++i) {
      auto next = (*cursor)->Next(absl::ZeroDuration());
      ASSERT_TRUE(next.ok() && next->has_value());
      EXPECT_EQ((*cursor)->position().ToString(), "0-1-2");
    }
    ASSERT_TRUE((*cursor)->Next(absl::ZeroDuration()).ok());
    EXPECT_EQ((*cursor)->position().ToString(), "0-1-3");
    // Transaction 5 arrives in parts; the process dies before its last.
    for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE((*store)->Append(part(5, i, true)).ok());
    EXPECT_EQ((*store)->end().ToString(), "0-1-4");
  }
  auto store = RecordStore::Open(Options(2048));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->end().ToString(), "0-1-4");
  EXPECT_EQ(ReadAll(store->get(), At(4)), std::vector<uint64_t>());
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE((*store)->Append(part(5, i, i < 2)).ok());
  EXPECT_EQ(ReadAll(store->get(), At(4)), std::vector<uint64_t>({5, 5, 5}));
  EXPECT_EQ((*store)->end().ToString(), "0-1-5");
  // The pump reconnects in the middle of transaction 6 and the source sends it from its start:
  // what was stored of it goes, and it is stored once, whole.
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE((*store)->Append(part(6, i, true)).ok());
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE((*store)->Append(part(6, i, i < 3)).ok());
  std::vector<uint32_t> parts;
  auto cursor = (*store)->NewCursor(At(5));
  ASSERT_TRUE(cursor.ok());
  while (true) {
    auto next = (*cursor)->Next(absl::ZeroDuration());
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) break;
    parts.push_back((*next)->part);
  }
  EXPECT_EQ(parts, std::vector<uint32_t>({0, 1, 2, 3}));
  EXPECT_EQ((*store)->end().ToString(), "0-1-6");
}

// The rows' foreign_key_checks flag survives the store (a replay applies them as written).
TEST_F(RecordStoreTest, TheForeignKeyChecksFlagIsKept) {
  auto store = OpenFilled(Options(), 0);
  ASSERT_TRUE(store.ok()) << store.status();
  Transaction t = Txn(1);
  t.changes.push_back(t.changes.front());
  t.changes[1].foreign_key_checks_off = true;
  ASSERT_TRUE((*store)->Append(t).ok());
  auto cursor = (*store)->NewCursor(At(0));
  ASSERT_TRUE(cursor.ok());
  auto next = (*cursor)->Next(absl::ZeroDuration());
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_FALSE((*next)->changes[0].foreign_key_checks_off);
  EXPECT_TRUE((*next)->changes[1].foreign_key_checks_off);
}

}  // namespace
}  // namespace duosync
