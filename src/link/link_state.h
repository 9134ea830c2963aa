// LinkState: what a link's threads share with the readers of its status — the stage and last
// error (reported as events), the running session's applier and feed, and the counters of ended
// sessions. Thread-safe.
#ifndef DUOSYNC_SRC_LINK_LINK_STATE_H_
#define DUOSYNC_SRC_LINK_LINK_STATE_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apply/parallel_applier.h"
#include "base/link_direction.h"
#include "duosync/report.pb.h"
#include "link/link_events.h"
#include "source/transaction_feed.h"

namespace duosync {

class LinkState {
 public:
  explicit LinkState(LinkDirection direction);

  // REQUIRES: set before the link starts.
  void SetEventHandler(LinkEventHandler handler) { events_ = std::move(handler); }
  void Emit(int event, const std::string& json) const;

  // Stage changes are reported as events.
  void SetStage(const std::string& stage);
  std::string stage() const;
  // A retryable error: shown as last_error until a session makes progress again.
  void SetRetrying(const absl::Status& status);
  // The link stopped for good: stage "failed", its error shown and reported.
  void SetFailed(const absl::Status& status);
  // A (re)start or rewind at `position`, the checkpoint on the destination.
  void SetStarted(const std::string& stage, const std::string& position);
  void SetRewound(const std::string& position);
  // This process writes the link as `owner` under ownership `epoch` (fence.h).
  void SetOwner(const std::string& owner, uint64_t epoch);
  void SetFullProgress(uint64_t rows_copied, uint64_t rows_estimated, int tables_done, int tables_total);

  // The running session: its applier (read for progress) and feed (cancelled by Stop and by a
  // failed apply).
  void SessionStarted(const ParallelApplier* applier, TransactionFeed* feed);
  void SessionEnded(const ApplierProgress& progress);
  // Makes the running session's feed return soon.
  void CancelFeed();

  // The reader waits at the source's end at `position` (the session made progress: its error is
  // over) / reads again.
  void ReaderIdle(const std::string& position, bool session_made_progress);
  void ReaderBusy();
  void AddEcho();
  void NoteFiltered(const std::vector<std::string>& tables);
  // Tables left out for their names (Router::RefusedTables).
  void NoteRefused(const std::vector<std::string>& tables);

  // What the destination has durably applied (the watermark), as far as known.
  std::string durable_position() const;

  // A snapshot with rates and lag; the caller adds the conflict count and the store.
  report::LinkStatus Snapshot() const;

 private:
  const LinkDirection direction_;
  LinkEventHandler events_;

  mutable std::mutex mu_;
  report::LinkStatus status_;
  uint64_t base_transactions_ = 0, base_rows_ = 0;  // of ended sessions
  std::string durable_position_;                    // the checkpoint, as far as known
  const ParallelApplier* applier_ = nullptr;        // of the running session
  std::string reader_idle_position_;                // set while the reader waits at the end
  std::set<std::string> filtered_;
  std::set<std::string> refused_;
  uint64_t echoes_ = 0;
  mutable std::chrono::steady_clock::time_point rate_mark_;
  mutable uint64_t rate_rows_ = 0;
  mutable double rate_ = 0;

  std::mutex feed_mu_;
  TransactionFeed* feed_ = nullptr;  // guarded by feed_mu_
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_LINK_STATE_H_
