// MySQL 8's TRANSACTION_PAYLOAD event (binlog_transaction_compression=ON): a whole transaction's
// events, zstd-compressed, one after another, each with a common header and no checksum.
// Read event by event, decompressing as it goes, so memory stays at one inner event however big
// the transaction is (and a corrupt size field cannot make it allocate gigabytes).
#ifndef DUOSYNC_SRC_SOURCE_TRANSACTION_PAYLOAD_H_
#define DUOSYNC_SRC_SOURCE_TRANSACTION_PAYLOAD_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace duosync {

class TransactionPayload {
 public:
  // Parses the event body's fields (size, compression, uncompressed size) and points at the
  // payload, which must outlive this object. DataLoss when malformed, Unimplemented for a
  // compression other than zstd and none.
  static absl::StatusOr<std::unique_ptr<TransactionPayload>> Open(absl::string_view body);
  ~TransactionPayload();

  // The next inner event; nullopt after the last. DataLoss when the payload does not
  // decompress, ends inside an event, or is longer or shorter than its declared size.
  absl::StatusOr<std::optional<std::string>> Next();

 private:
  struct Zstd;
  TransactionPayload() = default;
  absl::Status Fill();  // decompresses more into pending_

  absl::string_view input_;
  bool compressed_ = false;
  uint64_t declared_size_ = 0, produced_ = 0;
  std::unique_ptr<Zstd> zstd_;
  std::string pending_;  // decompressed bytes not yet returned
  bool input_done_ = false;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_TRANSACTION_PAYLOAD_H_
