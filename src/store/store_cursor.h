// StoreCursor: reads a record store's transactions in source order from a position on, following
// the writer as it appends, starts and seals segments. Made by RecordStore::NewCursor.
#ifndef DUOSYNC_SRC_STORE_STORE_CURSOR_H_
#define DUOSYNC_SRC_STORE_STORE_CURSOR_H_

#include <atomic>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/gtid_position.h"
#include "base/transaction.h"
#include "store/record_store.h"
#include "store/store_codec.h"

namespace duosync {

class StoreCursor {
 public:
  ~StoreCursor();
  // The next transaction after the start position, in source order; nullopt when none arrived
  // within `wait` (or after Cancel). DataLoss for a corrupt record: location() tells where.
  absl::StatusOr<std::optional<Transaction>> Next(absl::Duration wait);
  // The source position just after the last transaction returned or skipped.
  const GtidPosition& position() const { return position_; }
  const RecordLocation& location() const { return location_; }
  // Makes a Next() waiting in another thread return soon. Thread-safe.
  void Cancel();

 private:
  friend class RecordStore;
  StoreCursor(const RecordStore* store, const GtidPosition& after, uint64_t segment);
  absl::Status OpenSegment(uint64_t number);
  absl::Status Fill(size_t need, uint64_t readable);

  const RecordStore* store_;
  GtidPosition after_;     // skip what this covers
  GtidPosition position_;
  bool positioned_ = false;  // position_ is known (segments must continue it)
  RecordDecoder decoder_;
  RecordStore::SegmentView seg_;
  int fd_ = -1;
  std::string buf_;         // bytes of the segment from buf_offset_
  uint64_t buf_offset_ = 0;
  size_t pos_ = 0;          // next record within buf_
  RecordLocation location_;
  std::atomic<bool> cancel_{false};
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_STORE_CURSOR_H_
