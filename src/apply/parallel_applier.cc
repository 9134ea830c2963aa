#include "apply/parallel_applier.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "apply/key_extractor.h"
#include "glog/logging.h"

namespace duosync {
namespace {

// A transaction's identity: a sequence number alone may be reused by another server after a
// failover to a replica that had fewer transactions.
std::string GtidKey(const Gtid& g) { return g.ToString(); }

// Errors a transaction can get from running before an earlier one it conflicts with.
bool MayBeOrderingError(const absl::Status& s) {
  if (IsFenced(s)) return false;  // another process owns the link: nothing to retry
  return absl::IsAlreadyExists(s) || absl::IsFailedPrecondition(s) || absl::IsAborted(s);
}

// The shortest of a few round trips to the destination (a statement that does nothing).
std::chrono::steady_clock::duration MeasureRoundTrip(SqlConnection* conn) {
  std::chrono::steady_clock::duration best = std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!conn->Execute("DO 0").ok()) break;
    best = std::min(best, std::chrono::steady_clock::now() - start);
  }
  return best;
}

}  // namespace

ParallelApplier::ParallelApplier(const ApplierOptions& options)
    : options_(options), tracker_(options.window) {
  // A batch never waits to hold more transactions than the window can.
  options_.batch_transactions = static_cast<int>(
      std::min<size_t>(std::max(1, options_.batch_transactions), std::max<size_t>(1, options_.window)));
}

absl::StatusOr<std::unique_ptr<ParallelApplier>> ParallelApplier::Start(
    const ApplierOptions& options, const GtidPosition& checkpoint) {
  std::unique_ptr<ParallelApplier> a(new ParallelApplier(options));
  const int workers = options.in_order ? 1 : std::max(1, options.workers);
  // Connect in parallel: over a long link each connection costs several round trips.
  std::vector<absl::StatusOr<std::unique_ptr<Sink>>> sinks(workers);
  absl::StatusOr<std::unique_ptr<CheckpointTables>> tables;  // the watermark's connection
  std::vector<std::thread> connecting;
  for (int i = 0; i < workers; ++i) {
    connecting.emplace_back([&, i] {
      sinks[i] = Sink::Connect(options.destination, options.link_id, options.origin, options.epoch);
    });
  }
  connecting.emplace_back([&] {
    tables = CheckpointTables::Connect(options.destination, options.link_id, options.origin);
  });
  for (auto& t : connecting) t.join();
  for (auto& sink : sinks) {
    if (!sink.ok()) return sink.status();
    a->sinks_.push_back(std::move(*sink));
  }
  if (!tables.ok()) return tables.status();
  a->checkpoint_tables_ = std::move(*tables);
  a->checkpoint_tables_->set_fence(options.epoch);
  auto applied = a->checkpoint_tables_->ReadApplied();
  if (!applied.ok()) return applied.status();
  for (const Gtid& g : *applied) {
    if (!checkpoint.Covers(g)) a->already_applied_.insert(GtidKey(g));
  }
  if (!a->already_applied_.empty()) {
    LOG(INFO) << options.link_id << ": " << a->already_applied_.size()
              << " transaction(s) above the checkpoint were applied before; they will be skipped";
  }
  // (Measured once every connection is made: connecting them all at once keeps the CPU busy.)
  const auto round_trip = MeasureRoundTrip(a->sinks_[0]->connection());
  const bool near = round_trip < options.near_round_trip;
  a->partial_wait_ = near ? std::max(options.partial_batch_wait, options.batch_linger) : options.batch_linger;
  VLOG(1) << options.link_id << ": destination round trip "
          << std::chrono::duration_cast<std::chrono::microseconds>(round_trip).count() << " us ("
          << (near ? "near" : "far") << ")";
  a->progress_.position = checkpoint.ToString();
  a->watermark_position_ = a->progress_.position;
  for (int i = 0; i < workers; ++i) {
    Sink* sink = a->sinks_[i].get();
    a->threads_.emplace_back([p = a.get(), sink] { p->WorkerLoop(sink); });
  }
  a->threads_.emplace_back([p = a.get()] { p->WatermarkLoop(); });
  return a;
}

ParallelApplier::~ParallelApplier() { Stop(); }

bool ParallelApplier::AlreadyApplied(const Gtid& gtid) const {
  return already_applied_.count(GtidKey(gtid)) > 0;
}

namespace {

// What a transaction's row images take in memory, roughly.
size_t EstimatedBytes(const Transaction& txn) {
  size_t bytes = sizeof(Transaction);
  for (const RowChange& c : txn.changes) bytes += duosync::EstimatedBytes(c);
  return bytes;
}

}  // namespace

absl::Status ParallelApplier::Submit(ApplyTask task) {
  std::vector<uint64_t> keys;
  if (!task.barrier) {
    for (const RoutedChange& c : task.changes) ExtractKeys(c, &keys);
  }
  const size_t bytes = EstimatedBytes(task.txn);
  std::unique_lock<std::mutex> lock(mu_);
  auto bytes_room = [&] { return held_bytes_ == 0 || held_bytes_ + bytes <= options_.window_bytes; };
  if (!bytes_room() && error_.ok() && !stopping_) {
    // Big transactions fill the window by their bytes: what is ready now is all the workers get
    // until some of it commits, so none waits for more. (A window full by count, with fewer
    // ready than a batch, waits on dependencies: there a full batch still comes as they commit.)
    submit_waiting_ = true;
    work_cv_.notify_all();
    linger_cv_.notify_one();
  }
  cv_.wait(lock, [&] { return (!tracker_.full() && bytes_room()) || !error_.ok() || stopping_; });
  submit_waiting_ = false;
  if (!error_.ok()) return error_;
  if (stopping_) return absl::CancelledError("the applier is stopping");
  const uint64_t seq = next_seq_++;
  last_submit_ = std::chrono::steady_clock::now();
  const bool noop = task.changes.empty() && task.ddl_sql.empty();
  if (noop) task.record = false;
  held_.push_back(Held{std::move(task), bytes});
  held_bytes_ += bytes;
  if (noop) {
    held_.back().done = true;
    tracker_.AddDone(seq);
    AdvancePrefix();  // its place in order still moves the watermark
    cv_.notify_all();
  } else {
    tracker_.Add(seq, std::move(keys), held_.back().task.barrier);
    WakeWorkers();
  }
  return absl::OkStatus();
}

void ParallelApplier::WorkerLoop(Sink* sink) {
  while (true) {
    std::vector<uint64_t> batch;
    std::vector<uint64_t> gate;  // released, uncommitted transactions it must commit after
    std::vector<const ApplyTask*> tasks;
    bool ordered = false;  // a retry, run now that everything before it has committed
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto retry_due = [this] {
        return !retry_.empty() && *retry_.begin() == tracker_.oldest_incomplete();
      };
      // Work: a full batch, or a partial one while no other worker is waiting for it to fill.
      work_cv_.wait(lock, [&] {
        return (tracker_.has_ready() && (!lingering_ || FullBatchReady())) || retry_due() || stopping_ ||
               !error_.ok();
      });
      if (stopping_ || !error_.ok()) return;
      if (retry_due()) {
        batch.push_back(*retry_.begin());
        retry_.erase(retry_.begin());
        ordered = true;
      } else {
        if (!lingering_ && !FullBatchReady()) {
          lingering_ = true;
          LingerForBatch(lock);
          lingering_ = false;
        }
        if (stopping_ || !error_.ok()) return;
        if (!tracker_.has_ready()) continue;  // another worker took them
        // Ready transactions share no key with each other, and a dependent one may follow its
        // dependencies inside the same batch: either way one destination transaction keeps order.
        batch = tracker_.TakeBatch(options_.batch_transactions, options_.batch_rows,
                                   [this](uint64_t seq) { return held(seq).task.changes.size(); },
                                   /*consecutive=*/options_.in_order, &gate);
        if (batch.empty()) continue;  // (in order, the oldest is not ready yet)
      }
      // What this batch left ready goes to the next worker (a chain of wakeups, not a herd).
      if (tracker_.has_ready()) work_cv_.notify_one();
      ++in_flight_;
      // held_ entries stay in place until done, so these pointers outlive the apply.
      for (uint64_t seq : batch) tasks.push_back(&held(seq).task);
    }
    // A retried transaction of an active-active link meets its conflicts through the resolver.
    const bool resolve = ordered && options_.resolver != nullptr && tasks[0]->ddl_sql.empty();
    // Once its statements have run, a batch of a one-way link releases its dependents (they wait
    // on the destination for its row locks) and commits only after the batches it follows have
    // (dependency_tracker.h): the next level of a chain of dependent transactions goes out while
    // this one's COMMIT is on its way (LingerForBatch does not count it as busy).
    const bool release = !ordered && options_.resolver == nullptr && !options_.in_order && sinks_.size() > 1 &&
                         sink->waits_for_uncommitted_rows() && tasks[0]->ddl_sql.empty() && !tasks[0]->barrier;
    bool released = false;
    std::function<absl::Status()> before_commit;
    if (release) before_commit = [&] { return ReleaseAndWait(batch, gate, &released); };
    absl::Status s = resolve ? sink->ApplyResolving(*tasks[0], options_.resolver)
                             : sink->ApplyBatch(tasks, options_.resolver != nullptr, /*group_statements=*/!ordered,
                                                before_commit);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
      // (On success Complete wakes the lingering worker, once this batch's dependents are ready.)
      if (!s.ok()) linger_cv_.notify_one();
      if (!s.ok() && released) {
        // Batches started behind it may have read rows without it: they must not commit.
        for (uint64_t seq : batch) {
          rolled_back_.insert(seq);
          tracker_.Unrelease(seq);
        }
        cv_.notify_all();
      }
    }
    // A commit whose reply an earlier session lost: the transaction is in already.
    if (IsAlreadyApplied(s) && batch.size() == 1) s = absl::OkStatus();
    if (s.ok()) {
      Complete(batch);
      continue;
    }
    // A batch written with grouped statements that failed otherwise (a server limit a big joined
    // statement met) gets the same second chance: each transaction alone, ungrouped.
    const bool grouped = !ordered && options_.resolver == nullptr && tasks[0]->ddl_sql.empty();
    if (!MayBeOrderingError(s) &&
        !(grouped && !IsFenced(s) && !absl::IsUnavailable(s) && !absl::IsCancelled(s))) {
      Fail(s);
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (ordered && (!absl::IsAborted(s) || ++attempts_[batch[0]] > 5)) {
      // Alone and in order, only a deadlock (with a reader of the destination) is worth retrying.
      lock.unlock();
      Fail(s);
      return;
    }
    // It may have run too early: retry each alone once everything before it has committed.
    for (uint64_t seq : batch) retry_.insert(seq);
    work_cv_.notify_all();
  }
}

bool ParallelApplier::FullBatchReady() const {
  const size_t ready = tracker_.ready_count();
  if (ready == 0) return false;
  if (ready >= static_cast<size_t>(options_.batch_transactions) || submit_waiting_) return true;
  const size_t max_rows = static_cast<size_t>(options_.batch_rows);
  return tracker_.ReadyRows([this](uint64_t seq) { return held(seq).task.changes.size(); }, max_rows) >= max_rows;
}

void ParallelApplier::LingerForBatch(std::unique_lock<std::mutex>& lock) {
  // Wait a moment for a fuller batch (one round trip then carries many transactions, and the
  // destination writes them in fewer statements and commits) while more is coming: the reader is
  // still handing transactions over, or batches running their statements will make their
  // dependents ready (and, while they run, a near destination is busy with them: a partial batch
  // beside them would only share its CPU; partial_wait_). A batch that has run its statements and
  // waits for its COMMIT (releasing_) has made its dependents ready already.
  const auto now = std::chrono::steady_clock::now();
  const auto linger_end = now + options_.batch_linger;
  const auto partial_end = now + partial_wait_;
  while (!FullBatchReady() && !stopping_ && error_.ok()) {
    const bool arriving = std::chrono::steady_clock::now() - last_submit_ < options_.batch_linger;
    const bool running = in_flight_ > releasing_;
    if (!running && !arriving) return;
    const auto until = running ? std::max(linger_end, partial_end) : linger_end;
    if (linger_cv_.wait_until(lock, until) == std::cv_status::timeout) return;
  }
}

absl::Status ParallelApplier::ReleaseAndWait(const std::vector<uint64_t>& batch, const std::vector<uint64_t>& gate,
                                             bool* released) {
  std::unique_lock<std::mutex> lock(mu_);
  auto failed = [&] {
    for (uint64_t g : gate) {
      if (rolled_back_.count(g) > 0) return true;
    }
    return false;
  };
  const char* kFollowsARollback =
      "a transaction it follows was rolled back after its statements ran; retrying in order";
  if (failed()) return absl::AbortedError(kFollowsARollback);  // nothing released: it goes alone
  for (uint64_t seq : batch) tracker_.Release(seq);
  *released = true;
  if (tracker_.has_ready()) work_cv_.notify_one();
  ++releasing_;
  linger_cv_.notify_one();  // its dependents are ready, and it no longer runs statements
  cv_.wait(lock, [&] {
    if (!error_.ok() || failed()) return true;
    for (uint64_t g : gate) {
      if (!tracker_.done(g)) return false;
    }
    return true;
  });
  --releasing_;
  if (!error_.ok()) return absl::CancelledError("the applier failed");
  // (Checked before `done`: one that was rolled back and then retried has committed after this
  // batch's statements ran, which then did not see it.)
  if (failed()) return absl::AbortedError(kFollowsARollback);
  return absl::OkStatus();
}

void ParallelApplier::WakeWorkers() {
  // The first ready transaction, or a full batch more: one worker (idle or lingering) takes it.
  const size_t ready = tracker_.ready_count();
  if (ready == 1 || ready >= static_cast<size_t>(options_.batch_transactions)) work_cv_.notify_one();
  if (ready >= static_cast<size_t>(options_.batch_transactions)) linger_cv_.notify_one();
  // (A batch full by rows is seen when the next worker looks, or the linger ends.)
}

void ParallelApplier::Complete(const std::vector<uint64_t>& seqs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t seq : seqs) {
    Held& h = held(seq);
    h.done = true;
    tracker_.Complete(seq);
    attempts_.erase(seq);
    if (h.task.record) ++progress_.transactions;
    progress_.rows += h.task.changes.size();
  }
  AdvancePrefix();
  cv_.notify_all();
  linger_cv_.notify_one();
  // Completions may make waiting transactions ready, or a retry due (it waits to be the oldest).
  if (!retry_.empty()) {
    work_cv_.notify_all();
  } else if (tracker_.has_ready()) {
    work_cv_.notify_one();
  }
}

void ParallelApplier::AdvancePrefix() {
  while (!held_.empty() && first_held_ <= tracker_.completed_prefix()) {
    progress_.position = held_.front().task.position;
    if (held_.front().task.txn.commit_time) progress_.commit_time = held_.front().task.txn.commit_time;
    if (!held_.front().task.defers_checkpoint || first_held_ <= flush_through_) watermark_dirty_ = true;
    held_bytes_ -= held_.front().bytes;
    held_.pop_front();
    ++first_held_;
  }
}

void ParallelApplier::CheckpointDeferred() {
  std::lock_guard<std::mutex> lock(mu_);
  flush_through_ = next_seq_ - 1;  // everything submitted so far, once committed
  if (progress_.position != watermark_position_) watermark_dirty_ = true;
}

void ParallelApplier::Fail(const absl::Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok() || absl::IsCancelled(s)) return;
    error_ = s;
    cv_.notify_all();
    work_cv_.notify_all();
    linger_cv_.notify_all();
  }
  if (options_.on_failure) options_.on_failure();
}

absl::Status ParallelApplier::WriteWatermark() {
  std::string position;
  uint32_t commit_time;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!watermark_dirty_) return absl::OkStatus();
    position = progress_.position;
    commit_time = progress_.commit_time;
  }
  auto parsed = GtidPosition::Parse(position);
  if (!parsed.ok()) return parsed.status();
  absl::Status s = checkpoint_tables_->WriteWatermark(*parsed, commit_time);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  watermark_position_ = position;
  watermark_commit_time_ = commit_time;
  if (progress_.position == position) watermark_dirty_ = false;
  cv_.notify_all();
  return absl::OkStatus();
}

void ParallelApplier::WatermarkLoop() {
  int failures = 0;
  while (true) {
    bool last;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return workers_stopped_; });
      last = workers_stopped_;  // the workers are done: this write is the final one
    }
    absl::Status s = WriteWatermark();
    // A deadlock or lock wait with the workers' inserts into duosync.applied: try again later.
    if (absl::IsAborted(s) && ++failures <= 10 && !last) continue;
    if (!s.ok()) {
      Fail(s);
      return;
    }
    failures = 0;
    if (last) return;
  }
}

absl::Status ParallelApplier::ApplyStreamed(ApplyTask first, const Sink::NextPart& next) {
  absl::Status drained = Drain();
  if (!drained.ok()) return drained;
  if (streamed_sink_ == nullptr) {
    auto sink = Sink::Connect(options_.destination, options_.link_id, options_.origin, options_.epoch);
    if (!sink.ok()) return sink.status();
    streamed_sink_ = *std::move(sink);
  }
  // What stays of it once applied: its place in order (a no-op that moves the watermark).
  ApplyTask placed;
  placed.txn.gtid = first.txn.gtid;
  placed.txn.commit_time = first.txn.commit_time;
  const bool record = first.record;
  std::string position;
  Sink::NextPart take_next = [&]() -> absl::StatusOr<std::unique_ptr<ApplyTask>> {
    auto part = next();
    if (part.ok()) position = (*part)->position;
    return part;
  };
  position = first.position;
  uint64_t rows = 0;
  absl::Status s = streamed_sink_->ApplyStreamed(std::make_unique<ApplyTask>(std::move(first)), take_next,
                                                 options_.resolver, &rows);
  if (!s.ok()) return s;
  placed.position = position;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (record) ++progress_.transactions;
    progress_.rows += rows;
  }
  return Submit(std::move(placed));
}

absl::Status ParallelApplier::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return (held_.empty() && !watermark_dirty_) || !error_.ok() || stopping_; });
  return error_;
}

void ParallelApplier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    work_cv_.notify_all();
    linger_cv_.notify_all();
  }
  // Workers first (they finish their batch), then the watermark thread writes the final position.
  for (size_t i = 0; i + 1 < threads_.size(); ++i) {
    if (threads_[i].joinable()) threads_[i].join();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers_stopped_ = true;
    cv_.notify_all();
  }
  if (!threads_.empty() && threads_.back().joinable()) threads_.back().join();
}

ApplierProgress ParallelApplier::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  ApplierProgress p = progress_;
  p.durable_position = watermark_position_;
  return p;
}

absl::Status ParallelApplier::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

}  // namespace duosync
