// The record store's append and read throughput (MB/s of segment bytes, transactions/s), with
// oltp_write_only-like transactions (two updates, a delete and an insert of sysbench rows).
// Baseline in the same run: writing / reading the same number of bytes to / from a plain file in
// the same chunk sizes (what the disk and page cache give without framing, CRC and protobuf).
// Both write with the store's default fsync policy (fdatasync at most once a second).
//
//   build/bench/store_bench [--benchmark_filter=...]
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "store/record_store.h"
#include "store/store_cursor.h"

namespace duosync {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<TableSchema> SysbenchTable() {
  auto t = std::make_shared<TableSchema>();
  t->schema = "sbtest";
  t->table = "sbtest1";
  t->columns = {{"id", coltype::kLong, 0, false, "", ""},
                {"k", coltype::kLong, 0, false, "", ""},
                {"c", coltype::kString, 0xfe78, false, "utf8mb4", "utf8mb4_general_ci"},
                {"pad", coltype::kString, 0xfe3c, false, "utf8mb4", "utf8mb4_general_ci"}};
  t->unique_keys = {{0}};
  t->key_columns = {0};
  return t;
}

Row SysbenchRow(int64_t id) {
  return {Value::Int(id), Value::Int(id * 7 % 10000),
          Value::String("68487932199-96439406143-93774651418-41631865787-96406072701-20604855487-"
                        "25459966574-28203206787-41238978918-19503783441"),
          Value::String("22195207048-70116052123-74140395089-76317954521-98694025897")};
}

Transaction SysbenchTxn(const std::shared_ptr<TableSchema>& t, uint64_t n) {
  Transaction txn;
  txn.gtid = Gtid::Maria(0, 1, n);
  txn.commit_time = 1700000000 + static_cast<uint32_t>(n / 1000);
  for (int i = 0; i < 2; ++i) {
    RowChange u{RowOp::kUpdate, t, SysbenchRow(n * 4 + i), SysbenchRow(n * 4 + i)};
    u.after[1] = Value::Int(42);
    txn.changes.push_back(std::move(u));
  }
  txn.changes.push_back(RowChange{RowOp::kDelete, t, SysbenchRow(n * 4 + 2), {}});
  txn.changes.push_back(RowChange{RowOp::kInsert, t, {}, SysbenchRow(n * 4 + 2)});
  return txn;
}

std::string TempDir() {
  char tmpl[] = "/tmp/duosync-store-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  return tmpl;
}

constexpr int kTransactions = 20000;

// Appends kTransactions per iteration to a fresh store.
void BM_StoreAppend(benchmark::State& state) {
  auto schema = SysbenchTable();
  std::vector<Transaction> txns;
  for (uint64_t n = 1; n <= kTransactions; ++n) txns.push_back(SysbenchTxn(schema, n));
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = TempDir();
    StoreOptions o;
    o.dir = dir;
    auto store = RecordStore::Open(o);
    if (!store.ok() || !(*store)->Reset(GtidPosition()).ok()) std::abort();
    state.ResumeTiming();
    for (const Transaction& t : txns) {
      if (!(*store)->Append(t).ok()) std::abort();
    }
    if (!(*store)->Sync().ok()) std::abort();
    state.PauseTiming();
    bytes += (*store)->stats().bytes;
    store->reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * kTransactions);
}
BENCHMARK(BM_StoreAppend)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the same bytes written to a plain file, one write() per transaction's share.
void BM_PlainFileWrite(benchmark::State& state) {
  // The store's bytes for the same transactions, measured once.
  const std::string probe = TempDir();
  uint64_t store_bytes = 0;
  {
    auto schema = SysbenchTable();
    StoreOptions o;
    o.dir = probe;
    auto store = RecordStore::Open(o);
    if (!store.ok() || !(*store)->Reset(GtidPosition()).ok()) std::abort();
    for (uint64_t n = 1; n <= kTransactions; ++n) (void)(*store)->Append(SysbenchTxn(schema, n));
    store_bytes = (*store)->stats().bytes;
  }
  fs::remove_all(probe);
  const std::string chunk(store_bytes / kTransactions, 'x');
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = TempDir();
    const std::string path = dir + "/plain";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    state.ResumeTiming();
    for (int i = 0; i < kTransactions; ++i) {
      if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) std::abort();
    }
    ::fdatasync(fd);
    state.PauseTiming();
    ::close(fd);
    bytes += chunk.size() * kTransactions;
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * kTransactions);
}
BENCHMARK(BM_PlainFileWrite)->Unit(benchmark::kMillisecond)->UseRealTime();

// A store of kTransactions, written once, read by a cursor (decoded) per iteration.
class StoreFixture {
 public:
  StoreFixture() : dir_(TempDir()) {
    auto schema = SysbenchTable();
    StoreOptions o;
    o.dir = dir_;
    o.segment_bytes = 16 << 20;
    auto store = RecordStore::Open(o);
    if (!store.ok() || !(*store)->Reset(GtidPosition()).ok()) std::abort();
    store_ = std::move(*store);
    for (uint64_t n = 1; n <= kTransactions; ++n) (void)store_->Append(SysbenchTxn(schema, n));
    (void)store_->Sync();
  }
  ~StoreFixture() { fs::remove_all(dir_); }
  RecordStore* store() { return store_.get(); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<RecordStore> store_;
};

StoreFixture& Fixture() {
  static StoreFixture* f = new StoreFixture();
  return *f;
}

void BM_StoreRead(benchmark::State& state) {
  RecordStore* store = Fixture().store();
  uint64_t rows = 0;
  for (auto _ : state) {
    auto cursor = store->NewCursor(GtidPosition());
    if (!cursor.ok()) std::abort();
    int n = 0;
    while (true) {
      auto next = (*cursor)->Next(absl::ZeroDuration());
      if (!next.ok()) std::abort();
      if (!next->has_value()) break;
      rows += (*next)->changes.size();
      ++n;
    }
    if (n != kTransactions) std::abort();
  }
  benchmark::DoNotOptimize(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * store->stats().bytes));
  state.SetItemsProcessed(state.iterations() * kTransactions);
}
BENCHMARK(BM_StoreRead)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the same segment files read with pread in 1 MiB chunks (page cache, no decoding).
void BM_PlainFileRead(benchmark::State& state) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(Fixture().dir())) {
    if (e.path().extension() == ".seg") files.push_back(e.path());
  }
  std::string buf(1 << 20, '\0');
  uint64_t bytes = 0, sum = 0;
  for (auto _ : state) {
    for (const std::string& f : files) {
      const int fd = ::open(f.c_str(), O_RDONLY);
      off_t off = 0;
      ssize_t n;
      while ((n = ::pread(fd, buf.data(), buf.size(), off)) > 0) {
        off += n;
        bytes += static_cast<uint64_t>(n);
        sum += static_cast<unsigned char>(buf[0]);
      }
      ::close(fd);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * kTransactions);
}
BENCHMARK(BM_PlainFileRead)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace duosync

BENCHMARK_MAIN();
