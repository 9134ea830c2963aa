// DependencyTracker: which transactions may be applied now. Transactions are numbered 1, 2, ... in
// source order; one may start only when every earlier transaction that shares a key hash with it has
// completed. A barrier waits for every earlier transaction, and every later one waits for it.
// The window bounds the transactions held (from the oldest incomplete one on): when it is full the
// caller must wait (back-pressure). Pure logic, not thread-safe: the applier holds a lock.
//
// Release: a transaction whose statements have run on the destination holds the row locks of
// every row it wrote until it commits, so a later one sharing its keys may start already: on the
// destination it waits for those locks, which keeps source order. Released transactions' dependents
// become ready; TakeBatch names the released, uncommitted ones a batch follows (its gate: it may
// commit only after they have). A barrier is never released and waits for commits.
#ifndef DUOSYNC_SRC_APPLY_DEPENDENCY_TRACKER_H_
#define DUOSYNC_SRC_APPLY_DEPENDENCY_TRACKER_H_

#include <cstdint>
#include <algorithm>
#include <deque>
#include <set>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace duosync {

class DependencyTracker {
 public:
  explicit DependencyTracker(size_t window) : window_(window) {}

  // True when Add must wait for completions.
  bool full() const { return nodes_.size() >= window_; }

  // Adds transaction `seq` (REQUIRES: the next number, and !full()).
  void Add(uint64_t seq, std::vector<uint64_t> keys, bool barrier);

  // Adds transaction `seq` as already complete (nothing to apply); it only holds its place in order.
  void AddDone(uint64_t seq);

  // Removes and returns the lowest ready transaction, or 0 when none is ready.
  uint64_t TakeReady();

  // Takes a batch to apply in one destination transaction, in source order: the lowest ready
  // transaction, then later ones whose every unfinished dependency is already in the batch (a chain
  // of dependent transactions applied in order inside one transaction is still source order).
  // At most `max_transactions`, stopping once `rows(seq)` summed reaches `max_rows`. A barrier is
  // always alone. Empty when nothing is ready. `consecutive`: no transaction is passed over: the
  // batch starts at the oldest incomplete transaction (empty unless it is ready) and ends before
  // the first that cannot join it.
  // `gate` (optional) receives the released, uncommitted transactions the batch follows.
  template <typename RowsFn>
  std::vector<uint64_t> TakeBatch(size_t max_transactions, size_t max_rows, RowsFn rows,
                                  bool consecutive = false, std::vector<uint64_t>* gate = nullptr);
  bool has_ready() const { return !ready_.empty(); }
  size_t ready_count() const { return ready_.size(); }
  // `rows(seq)` summed over the ready transactions, counting only until it reaches `enough`.
  template <typename RowsFn>
  size_t ReadyRows(RowsFn rows, size_t enough) const {
    size_t total = 0;
    for (auto it = ready_.begin(); it != ready_.end() && total < enough; ++it) total += rows(*it);
    return total;
  }

  // Marks `seq` (taken earlier) complete; later transactions waiting only on it become ready.
  void Complete(uint64_t seq);
  // Marks `seq` (taken, not a barrier) as run but not committed: its dependents become ready
  // (except barriers, which wait for its commit).
  void Release(uint64_t seq);
  // Takes a release back (its batch rolled back after all): transactions added from now on wait
  // for its commit again. (Those already ready name it in their gate, and will not commit.)
  void Unrelease(uint64_t seq);
  // Whether `seq` has completed.
  bool done(uint64_t seq) const;

  // The oldest incomplete transaction, or 0 when all are complete.
  uint64_t oldest_incomplete() const;
  // The highest seq such that it and everything before it completed (0 if none yet).
  uint64_t completed_prefix() const { return completed_prefix_; }
  size_t held() const { return nodes_.size(); }

 private:
  struct Node {
    std::vector<uint64_t> keys;
    std::vector<uint64_t> deps;        // transactions it waits for
    std::vector<uint64_t> dependents;  // transactions waiting for it (to run, or to commit: barriers)
    std::vector<uint64_t> barrier_dependents;  // barriers waiting for it to commit
    int pending = 0;
    bool done = false;
    bool taken = false;
    bool barrier = false;
    bool released = false;
  };
  Node* Find(uint64_t seq);
  void PopCompletedPrefix();

  size_t window_;
  std::deque<Node> nodes_;  // nodes_[i] is transaction first_seq_ + i
  uint64_t first_seq_ = 1;
  uint64_t completed_prefix_ = 0;
  absl::flat_hash_map<uint64_t, uint64_t> key_owner_;  // key -> last incomplete transaction with it
  uint64_t last_barrier_ = 0;
  std::set<uint64_t> ready_;
};

template <typename RowsFn>
std::vector<uint64_t> DependencyTracker::TakeBatch(size_t max_transactions, size_t max_rows,
                                                   RowsFn rows, bool consecutive,
                                                   std::vector<uint64_t>* gate) {
  std::vector<uint64_t> batch;
  if (consecutive && ready_.count(oldest_incomplete()) == 0) return batch;  // it must go first
  const uint64_t first = TakeReady();
  if (first == 0) return batch;
  batch.push_back(first);
  size_t total_rows = rows(first);
  if (gate != nullptr) gate->clear();
  auto add_gate = [&](uint64_t seq) {
    if (gate == nullptr) return;
    for (uint64_t d : Find(seq)->deps) {
      const Node* dep = Find(d);
      if (dep != nullptr && !dep->done && !std::binary_search(batch.begin(), batch.end(), d)) gate->push_back(d);
    }
  };
  add_gate(first);
  if (Find(first)->barrier) return batch;
  // Scan forward a bounded distance for transactions whose dependencies are all satisfied by
  // completed transactions or by the batch itself.
  const uint64_t end = first_seq_ + nodes_.size();
  const uint64_t scan_end = std::min<uint64_t>(end, first + 8 * max_transactions);
  for (uint64_t seq = first + 1; seq < scan_end; ++seq) {
    if (batch.size() >= max_transactions || total_rows >= max_rows) break;
    Node* node = Find(seq);
    if (node->done) continue;
    if (node->taken) {
      if (consecutive) break;
      continue;
    }
    if (node->barrier) break;
    bool satisfied = true;
    for (uint64_t d : node->deps) {
      const Node* dep = Find(d);
      if (dep == nullptr || dep->done || dep->released) continue;
      if (!std::binary_search(batch.begin(), batch.end(), d)) {
        satisfied = false;
        break;
      }
    }
    if (!satisfied) {
      if (consecutive) break;
      continue;
    }
    node->taken = true;
    ready_.erase(seq);
    batch.push_back(seq);  // ascending: binary_search above stays valid
    total_rows += rows(seq);
    add_gate(seq);
  }
  if (gate != nullptr) {
    std::sort(gate->begin(), gate->end());
    gate->erase(std::unique(gate->begin(), gate->end()), gate->end());
  }
  return batch;
}

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_DEPENDENCY_TRACKER_H_
