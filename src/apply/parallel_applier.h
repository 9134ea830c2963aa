// ParallelApplier: applies transactions on N workers (each with its own destination connection),
// in parallel by unique key: a transaction starts only when every earlier transaction sharing a
// primary/unique key value (before or after image) has committed; barriers run alone.
//
// Exactly-once with out-of-order commits: every applied source transaction records its GTID in
// duosync.applied inside its own destination transaction; a watermark thread advances
// duosync.checkpoint to the end of the committed prefix and drops the GTIDs it covers, atomically.
// After a crash the link resumes at the checkpoint and skips the recorded GTIDs above it.
//
// Release before commit: see dependency_tracker.h and ReleaseAndWait.
//
// Ordered retry: a batch that fails on a duplicate key, a missing row or a deadlock while earlier
// transactions are still in flight may have run too early (a key our normalization did not see as
// equal, a gap lock): it is retried alone once everything before it has committed; only then is
// an error final. So is a batch written with grouped statements (statement_grouping.h) that failed
// on anything but a lost connection or a takeover; the retry writes each transaction ungrouped.
#ifndef DUOSYNC_SRC_APPLY_PARALLEL_APPLIER_H_
#define DUOSYNC_SRC_APPLY_PARALLEL_APPLIER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "apply/checkpoint_tables.h"
#include "apply/dependency_tracker.h"
#include "apply/sink.h"
#include "base/gtid_position.h"
#include "route/apply_task.h"

namespace duosync {

struct ApplierOptions {
  ConnectOptions destination;
  std::string link_id;
  uint32_t origin = 0;  // session origin tag (loop prevention); 0 = none
  uint64_t epoch = 0;   // ownership epoch fencing every write (fence.h); 0 = unfenced
  // Active-active: UPDATE/DELETE must match the before image, and a conflicting transaction is
  // applied (alone, in order) through the resolver. Null: a mismatch is an error.
  ConflictResolver* resolver = nullptr;
  int workers = 16;
  // One worker, each destination transaction a run of consecutive source transactions: nothing
  // commits before everything earlier has (a STOP conflict policy: nothing after it applied).
  bool in_order = false;
  size_t window = 4096;        // transactions held at once (back-pressure beyond)
  // Bytes of row images held at once (estimated); a transaction bigger than this alone is still
  // taken when nothing else is held.
  size_t window_bytes = size_t{256} << 20;
  int batch_transactions = 200;
  int batch_rows = 5000;
  // How long a worker may wait for more ready transactions to fill a batch while the reader is
  // still handing them over (a latency bound on merging).
  std::chrono::microseconds batch_linger{2000};
  // How long a worker may wait for a full batch while other batches are in flight, when the
  // destination is near (a round trip under `near_round_trip`): there the destination's CPU, not
  // the distance, bounds the rate, and many small batches at once cost it more per row (a commit,
  // a statement of each kind) than fewer full ones. A far destination gets `batch_linger`: its
  // batches wait on the network, and a partial batch sent now overlaps that wait.
  std::chrono::microseconds partial_batch_wait{20000};
  std::chrono::microseconds near_round_trip{1000};
  std::function<void()> on_failure;  // called (from a worker) when the applier fails
};

struct ApplierProgress {
  std::string position;       // the end of the committed prefix (written as the checkpoint soon)
  std::string durable_position;  // the checkpoint last written to the destination
  uint32_t commit_time = 0;   // source commit time of the transaction at the watermark
  uint64_t transactions = 0;  // source transactions applied (excluding no-ops)
  uint64_t rows = 0;
};

class ParallelApplier {
 public:
  // Connects the workers and reads the GTIDs already applied above the checkpoint.
  static absl::StatusOr<std::unique_ptr<ParallelApplier>> Start(const ApplierOptions& options,
                                                                 const GtidPosition& checkpoint);
  ~ParallelApplier();

  // True when `gtid` was applied before (by an earlier session): submit it as a no-op.
  bool AlreadyApplied(const Gtid& gtid) const;

  // Hands over a transaction (in source order). Blocks while the window is full. Returns the
  // applier's error once it has failed.
  absl::Status Submit(ApplyTask task);

  // Applies a transaction that arrives in parts (Transaction::more_parts; the first in `first`,
  // the rest from `next`), alone: after everything submitted before it has committed, in one
  // destination transaction on a connection of its own, holding one part at a time. Then its
  // place in order moves the watermark like any other's. On failure nothing of it is committed
  // and the error is returned (the applier itself goes on; the caller ends the session).
  absl::Status ApplyStreamed(ApplyTask first, const Sink::NextPart& next);

  // Waits until everything submitted has committed and the watermark is written.
  absl::Status Drain();

  // Writes the checkpoint soon even if it only passed transactions that defer it
  // (ApplyTask::defers_checkpoint). Thread-safe.
  void CheckpointDeferred();

  // Stops the workers after their current batch and writes the watermark. Idempotent.
  void Stop();

  ApplierProgress progress() const;
  // The first error of a worker, OK while none.
  absl::Status error() const;

 private:
  struct Held {
    ApplyTask task;
    size_t bytes = 0;  // estimated memory of its row images
    bool done = false;
  };
  explicit ParallelApplier(const ApplierOptions& options);
  void WorkerLoop(Sink* sink);
  // A batch as full as TakeBatch makes one (by transactions or by rows) is ready, or what is
  // ready is all there will be for now (the reader waits for room in the window). REQUIRES: mu_.
  bool FullBatchReady() const;
  // Waits (at most the linger bounds allow) for a full batch to be ready. REQUIRES: mu_ held
  // through `lock`, this worker the lingering one.
  void LingerForBatch(std::unique_lock<std::mutex>& lock);
  void WatermarkLoop();
  void Complete(const std::vector<uint64_t>& seqs);
  // Drops the transactions of the completed prefix, moving the watermark. REQUIRES: mu_ held.
  void AdvancePrefix();
  // Wakes a worker when there is work a busy one would not take soon. REQUIRES: mu_ held.
  void WakeWorkers();
  // A batch whose statements have run: releases its dependents, then waits until every batch in
  // `gate` has committed. Aborted when one of them was rolled back instead.
  absl::Status ReleaseAndWait(const std::vector<uint64_t>& batch, const std::vector<uint64_t>& gate,
                              bool* released);
  void Fail(const absl::Status& s);
  absl::Status WriteWatermark();
  Held& held(uint64_t seq) { return held_[seq - first_held_]; }
  const Held& held(uint64_t seq) const { return held_[seq - first_held_]; }

  ApplierOptions options_;
  std::vector<std::unique_ptr<Sink>> sinks_;  // one per worker
  std::unique_ptr<Sink> streamed_sink_;       // for transactions in parts; connected on first use
  std::unique_ptr<CheckpointTables> checkpoint_tables_;  // the watermark thread's
  std::vector<std::thread> threads_;
  absl::flat_hash_set<std::string> already_applied_;  // "domain-server-seq"

  mutable std::mutex mu_;
  std::condition_variable cv_;  // room in the window, progress, the watermark (not the workers')
  // Workers wait here for work, woken one at a time as it appears: waking every worker for every
  // submitted transaction costs more CPU than it saves, on a machine with fewer cores than workers.
  std::condition_variable work_cv_;
  // One worker at a time waits for a partial batch to fill (the others wait for a full batch
  // more): with every idle worker lingering, each took what was ready when its own wait ended,
  // and a backlog went out in batches a third full. The lingering worker waits here.
  bool lingering_ = false;
  std::condition_variable linger_cv_;
  // batch_linger or partial_batch_wait, as the destination's round trip measured at start says.
  std::chrono::microseconds partial_wait_{0};
  DependencyTracker tracker_;
  std::deque<Held> held_;  // tasks first_held_.. in seq order, until the prefix passes them
  size_t held_bytes_ = 0;  // sum of held_[].bytes
  uint64_t first_held_ = 1;
  uint64_t next_seq_ = 1;
  int in_flight_ = 0;                     // batches the workers are applying
  int releasing_ = 0;                     // of those, batches whose statements ran (ReleaseAndWait)
  bool submit_waiting_ = false;           // Submit waits for room in the window
  std::set<uint64_t> retry_;              // failed, waiting to be the oldest incomplete
  // Released transactions whose batch then failed: a batch that follows one must not commit,
  // even once its retry has (the batch's statements ran before it). Kept for the applier's life:
  // only failures after a release add to it.
  std::set<uint64_t> rolled_back_;
  std::map<uint64_t, int> attempts_;      // ordered retries per transaction
  std::chrono::steady_clock::time_point last_submit_;
  bool stopping_ = false;
  bool workers_stopped_ = false;  // set by Stop once the workers have ended
  absl::Status error_;
  ApplierProgress progress_;
  std::string watermark_position_;  // last position written to the checkpoint
  uint32_t watermark_commit_time_ = 0;
  bool watermark_dirty_ = false;
  uint64_t flush_through_ = 0;  // transactions up to this seq move the checkpoint even if deferring
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_PARALLEL_APPLIER_H_
