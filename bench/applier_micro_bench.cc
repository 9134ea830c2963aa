// Hot paths of the parallel applier, per core: key extraction and the dependency tracker, for
// realistic key mixes (all disjoint, 1% conflicts, hot keys). Baseline in the same run: hashing the
// same values without collation folding, and a tracker that only queues (no dependencies).
//
//   build/bench/applier_micro_bench
#include <memory>
#include <random>
#include <vector>

#include "apply/dependency_tracker.h"
#include "apply/key_extractor.h"
#include "benchmark/benchmark.h"

namespace duosync {
namespace {

std::shared_ptr<TableSchema> SysbenchTable() {
  auto t = std::make_shared<TableSchema>();
  t->schema = "sbtest";
  t->table = "sbtest1";
  ColumnSchema id{"id", coltype::kLong, 0, false, "", ""};
  ColumnSchema k{"k", coltype::kLong, 0, false, "", ""};
  ColumnSchema c{"c", coltype::kString, 0, false, "utf8mb4", "utf8mb4_general_ci"};
  ColumnSchema pad{"pad", coltype::kString, 0, false, "utf8mb4", "utf8mb4_general_ci"};
  t->columns = {id, k, c, pad};
  t->unique_keys = {{0}};
  t->key_columns = {0};
  return t;
}

// An oltp_write_only-like transaction: two updates, a delete and an insert.
struct Workload {
  std::shared_ptr<TableSchema> schema = SysbenchTable();
  Route route;
  std::vector<Row> rows;
  Workload() {
    route.schema = schema;
    route.destination = {"sbtest", "sbtest1"};
    route.columns = {0, 1, 2, 3};
    route.key_columns = {0};
    std::mt19937 rng(1);
    for (int i = 0; i < 1024; ++i) {
      rows.push_back({Value::Int(rng() % 100000), Value::Int(rng() % 100000),
                      Value::Bytes(std::string(120, 'a' + i % 26)), Value::Bytes(std::string(60, 'p'))});
    }
  }
};

void BM_ExtractKeys(benchmark::State& state) {
  Workload w;
  std::vector<uint64_t> keys;
  size_t i = 0;
  for (auto _ : state) {
    keys.clear();
    const Row& a = w.rows[i++ % w.rows.size()];
    const Row& b = w.rows[i++ % w.rows.size()];
    ExtractKeys(RoutedChange{RowOp::kUpdate, &w.route, &a, &b}, &keys);
    ExtractKeys(RoutedChange{RowOp::kUpdate, &w.route, &b, &a}, &keys);
    ExtractKeys(RoutedChange{RowOp::kDelete, &w.route, &a, nullptr}, &keys);
    ExtractKeys(RoutedChange{RowOp::kInsert, &w.route, nullptr, &a}, &keys);
    benchmark::DoNotOptimize(keys.data());
  }
  state.SetItemsProcessed(state.iterations());  // transactions
}
BENCHMARK(BM_ExtractKeys);

// Baseline: the same values hashed raw, no normalization or table/key framing.
void BM_ExtractKeysBaselineRawHash(benchmark::State& state) {
  Workload w;
  std::vector<uint64_t> keys;
  size_t i = 0;
  for (auto _ : state) {
    keys.clear();
    for (int n = 0; n < 4; ++n) {
      const Row& r = w.rows[i++ % w.rows.size()];
      keys.push_back(std::hash<int64_t>()(r[0].i));
      keys.push_back(std::hash<int64_t>()(r[0].i + 1));
    }
    benchmark::DoNotOptimize(keys.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExtractKeysBaselineRawHash);

// Tracker throughput: add, take in batches, complete — the full life of each transaction.
// Arg 0: key mix (0 = all disjoint, 1 = 1% conflicts, 2 = hot keys: half the transactions touch
// one of 8 rows).
void BM_Tracker(benchmark::State& state) {
  const int mix = state.range(0);
  std::mt19937_64 rng(7);
  uint64_t next_key = 1000000;
  auto keys_for = [&](std::vector<uint64_t>* keys) {
    keys->clear();
    for (int k = 0; k < 4; ++k) {
      const bool conflict = (mix == 1 && rng() % 100 == 0) || (mix == 2 && rng() % 2 == 0);
      keys->push_back(conflict ? rng() % (mix == 2 ? 8 : 1000) : next_key++);
    }
  };
  DependencyTracker tracker(4096);
  uint64_t seq = 1;
  std::vector<uint64_t> keys;
  for (auto _ : state) {
    keys_for(&keys);
    if (tracker.full()) {
      for (auto b = tracker.TakeBatch(100, 5000, [](uint64_t) { return 4; }); !b.empty();
           b = tracker.TakeBatch(100, 5000, [](uint64_t) { return 4; })) {
        for (uint64_t s : b) tracker.Complete(s);
      }
    }
    tracker.Add(seq++, keys, false);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Tracker)->Arg(0)->Arg(1)->Arg(2);

// Baseline: a tracker that only queues and completes in order (no dependency bookkeeping).
void BM_TrackerBaselineQueueOnly(benchmark::State& state) {
  DependencyTracker tracker(4096);
  uint64_t seq = 1;
  for (auto _ : state) {
    if (tracker.full()) {
      for (uint64_t s = tracker.TakeReady(); s != 0; s = tracker.TakeReady()) tracker.Complete(s);
    }
    tracker.Add(seq++, {}, false);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackerBaselineQueueOnly);

}  // namespace
}  // namespace duosync

BENCHMARK_MAIN();
