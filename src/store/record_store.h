// RecordStore: the incremental record store of one link — the decoded source transactions, kept on
// disk in segment files (record_file.h) for `retention`, so that
//   - the binlog reader and the applier are decoupled: the reader appends while the destination is
//     slow or down, the applier reads from its checkpoint on (a StoreCursor);
//   - the link can replay from any retained position or source time;
//   - a link restarts reading the source where the store ends, not where the destination is.
//
// The store holds every source transaction after start() up to end(), in source order (a
// transaction without synced rows is a small record too, so positions stay exact). Positions are
// derived: a segment's header names the position before its first transaction, each transaction
// advances it by its GTID, exactly as the binlog reader does.
//
// Durability (fsync policy): each transaction is written to the segment file when it is appended,
// so a kill -9 of the process loses nothing; the file is fdatasync'ed at most every
// `fsync_interval`, when a segment is sealed and on close, so a power loss may lose the last
// interval. Neither loses data of the link: the destination's checkpoint is the truth, and what
// the store lacks past its (recovered) end is read from the source again. A torn or corrupt tail
// is found by CRC when the store opens and cut off; a corrupt record found later by a cursor is
// reported as DataLoss with its location, and the link truncates the store there (TruncateAt)
// and reads the rest from the source again. Nothing corrupt is ever decoded or applied.
//
// Retention: a sealed segment last written more than `retention` ago is deleted once the applied
// position covers all of it — never data the applier still needs, and always from the oldest, so
// the store stays one contiguous range.
//
// Thread-safety: one writer (Append/MaybeSync) and any number of cursors may run at once;
// Reset/TruncateAt need both stopped. stats(), start(), end() are safe from any thread.
#ifndef DUOSYNC_SRC_STORE_RECORD_STORE_H_
#define DUOSYNC_SRC_STORE_RECORD_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/gtid_position.h"
#include "base/transaction.h"
#include "store/store_codec.h"

namespace duosync {

struct StoreOptions {
  std::string dir;                      // created if missing; one store per directory
  uint64_t segment_bytes = 64ull << 20;  // a segment is sealed once it grows past this
  absl::Duration fsync_interval = absl::Seconds(1);
  absl::Duration retention = absl::Hours(24);
};

struct StoreStats {
  uint64_t bytes = 0;  // on disk
  uint32_t segments = 0;
  uint64_t transactions = 0;
  uint32_t oldest_commit_time = 0;  // lowest / highest source commit time held, 0 = none
  uint32_t newest_commit_time = 0;
  std::string start_position;       // transactions after this ...
  std::string end_position;         // ... up to this are in the store
};

// Where a record starts: segment number and byte offset.
struct RecordLocation {
  uint64_t segment = 0;
  uint64_t offset = 0;
  std::string ToString() const;
};

class StoreCursor;

class RecordStore {
 public:
  // Opens (creating) the store in options.dir, locking it against a second process, and
  // recovers: a torn or corrupt tail is cut off at the last valid record (logged).
  static absl::StatusOr<std::unique_ptr<RecordStore>> Open(const StoreOptions& options);
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Whether the store has a range at all (false until the first Reset).
  bool initialized() const;
  GtidPosition start() const;
  GtidPosition end() const;
  // Whether every transaction after `position` can be read from the store (start() <= position).
  bool Holds(const GtidPosition& position) const;

  // Drops every record; the store then holds the (empty) range starting at `start`.
  // REQUIRES: no writer or cursor running.
  absl::Status Reset(const GtidPosition& start);

  // Appends the next source transaction (the one after end()). Writer thread only.
  // REQUIRES: initialized().
  absl::Status Append(const Transaction& txn);
  // fdatasyncs if `fsync_interval` passed since the last sync. Writer thread only.
  absl::Status MaybeSync();
  absl::Status Sync();

  // Deletes the oldest sealed segments that are past retention and covered by `applied`.
  // Returns how many were deleted. Writer thread only.
  absl::StatusOr<int> ApplyRetention(const GtidPosition& applied);

  // Cuts the store off before the record at `at` (a corrupt record a cursor found): that segment
  // ends there and later segments are deleted. REQUIRES: no writer or cursor running.
  absl::Status TruncateAt(const RecordLocation& at);

  // The position just before the first transaction with a source commit time >= `time`
  // (end() when none is that new). OutOfRange when the store's oldest record is newer than that
  // (retention removed it), naming the range held.
  absl::StatusOr<GtidPosition> PositionAtTime(uint32_t time) const;

  // Reads the transactions after `after` (those `after` does not cover), waiting for more as the
  // writer appends. FailedPrecondition when !Holds(after).
  absl::StatusOr<std::unique_ptr<StoreCursor>> NewCursor(const GtidPosition& after);

  StoreStats stats() const;
  const std::string& dir() const { return options_.dir; }

 private:
  friend class StoreCursor;
  struct Segment {
    uint64_t number = 0;
    std::string path;
    GtidPosition start, end;
    uint64_t bytes = 0;  // readable (whole records)
    uint64_t transactions = 0;
    uint32_t min_commit_time = 0, max_commit_time = 0;  // of its transactions (0 = none)
    uint32_t created_time = 0;  // local clock: the segment holds nothing committed before it
    bool sealed = false;
  };
  // What a cursor needs to read a segment: a snapshot of it.
  struct SegmentView {
    bool exists = false;
    uint64_t number = 0;
    std::string path;
    GtidPosition start;
    uint64_t bytes = 0;
    bool sealed = false;
  };

  explicit RecordStore(const StoreOptions& options);
  absl::Status Recover();
  // Reads a whole segment, checking every record; cuts it at the first bad one.
  absl::Status ScanSegment(Segment* seg, bool* cut);
  absl::Status StartSegment(const GtidPosition& start);  // REQUIRES: no active segment
  absl::Status SealActive();
  // Writes the footer and trailer of `seg` to `fd` (its file, open for appending) and syncs it,
  // then the index file; *sealed_bytes receives the sealed file's size.
  absl::Status WriteSeal(const Segment& seg, int fd, uint64_t* sealed_bytes);
  absl::Status WriteIndex(const std::string& segment_path, absl::string_view trailer);
  absl::Status DeleteSegmentsFrom(size_t index);  // REQUIRES: mu_ held
  SegmentView View(uint64_t number) const;         // first segment with number >= `number`
  void WaitForGrowth(uint64_t number, uint64_t bytes, absl::Duration wait,
                     const std::atomic<bool>& cancel) const;
  // Waits until a segment numbered `number` or later exists.
  void WaitForSegment(uint64_t number, absl::Duration wait, const std::atomic<bool>& cancel) const;

  const StoreOptions options_;
  int lock_fd_ = -1;
  // The writer's own state.
  int active_fd_ = -1;
  RecordEncoder encoder_;
  bool mid_transaction_ = false;  // the last record appended was a part with more to come (writer only)
  uint64_t mid_transaction_bytes_ = 0;  // the active segment's size before that transaction's first part
  std::string buffer_;
  absl::Time last_sync_;
  bool dirty_ = false;
  absl::Status broken_;  // a failed write: the store must be reopened

  mutable std::mutex mu_;
  mutable std::condition_variable grew_;  // records appended, a segment started or sealed
  bool initialized_ = false;
  std::vector<Segment> segments_;  // oldest first; the last one is active unless sealed
  GtidPosition start_;             // when segments_ is empty
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_RECORD_STORE_H_
