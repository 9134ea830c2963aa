// StorePump: the reading half of a link that keeps a record store — a thread that follows the
// source's binlog from the store's end and appends every transaction to the store, whether or not
// the destination is there to take it (reconnecting to the source with backoff). It also applies
// the store's fsync policy and retention.
//
// StoreFeed: the applying half — reads the store from the link's checkpoint on, as the applier's
// TransactionFeed. When the pump has stopped for good (an error no retry helps, e.g. a malformed
// event or a purged binlog), the feed hands out everything stored before it, then that error, so
// the link stops with its checkpoint just before the transaction that could not be read.
#ifndef DUOSYNC_SRC_STORE_STORE_PUMP_H_
#define DUOSYNC_SRC_STORE_STORE_PUMP_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "source/binlog_reader.h"
#include "source/transaction_feed.h"
#include "store/record_store.h"
#include "store/store_cursor.h"

namespace duosync {

struct PumpOptions {
  ReaderOptions reader;  // `start` is ignored: the pump resumes at the store's end
  // The position the destination has durably applied; retention never deletes past it.
  std::function<GtidPosition()> applied;
  absl::Duration retention_every = absl::Seconds(10);
};

class StorePump {
 public:
  // REQUIRES: store initialized, outliving the pump.
  StorePump(RecordStore* store, PumpOptions options);
  ~StorePump();  // stops

  void Start();
  // Stops the thread (after its current append) and syncs the store. Idempotent.
  void Stop();
  // The error that ended the pump for good; OK while it runs or retries.
  absl::Status error() const;
  // The source end while the pump waits there (after a heartbeat); empty while it reads.
  std::string idle_position() const;

 private:
  void Run();
  absl::Status ReadSession();
  // Deletes what retention allows, at most every `retention_every`.
  void ApplyRetentionNow();

  RecordStore* store_;
  PumpOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  absl::Time last_retention_;
  bool appended_ = false;  // the current read session stored something (pump thread only)
  mutable std::mutex mu_;
  std::condition_variable wake_;
  TransactionFeed* reader_ = nullptr;  // of the running session
  absl::Status error_;
  std::string idle_position_;
};

class StoreFeed : public TransactionFeed {
 public:
  StoreFeed(std::unique_ptr<StoreCursor> cursor, const StorePump* pump)
      : cursor_(std::move(cursor)), pump_(pump) {}
  absl::StatusOr<std::optional<Transaction>> Next() override;
  const GtidPosition& position() const override { return cursor_->position(); }
  void Cancel() override { cursor_->Cancel(); }
  // Set when Next failed on a corrupt record of the store (not an error of the source): the
  // store must be truncated there and the rest read from the source again.
  const std::optional<RecordLocation>& corrupt_at() const { return corrupt_at_; }

 private:
  std::unique_ptr<StoreCursor> cursor_;
  const StorePump* pump_;
  std::optional<RecordLocation> corrupt_at_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_STORE_PUMP_H_
