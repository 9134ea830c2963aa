// Where a link's applier takes its source transactions from: straight from the binlog reader, or
// from the record store that a reader fills (store_pump.h).
#ifndef DUOSYNC_SRC_SOURCE_TRANSACTION_FEED_H_
#define DUOSYNC_SRC_SOURCE_TRANSACTION_FEED_H_

#include <optional>

#include "absl/status/statusor.h"
#include "base/gtid_position.h"
#include "base/transaction.h"

namespace duosync {

class TransactionFeed {
 public:
  virtual ~TransactionFeed() = default;
  // The next source transaction; nullopt when none came for a while (the caller may stop).
  virtual absl::StatusOr<std::optional<Transaction>> Next() = 0;
  // The source position just after the last transaction returned.
  virtual const GtidPosition& position() const = 0;
  // Makes a Next() blocked in another thread return soon. Thread-safe.
  virtual void Cancel() = 0;
  // Whether the source went on to a new binlog file since the last call. The checkpoint must then
  // leave the old file even over transactions not worth a write of their own: once the old file
  // is purged, a position inside it cannot be served any more. (A feed from the record store never
  // says so: the store keeps what the checkpoint needs.)
  virtual bool TakeRotated() { return false; }
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_TRANSACTION_FEED_H_
