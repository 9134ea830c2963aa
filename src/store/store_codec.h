// Transactions to and from the record store's protobuf records (proto/duosync/store.proto).
//
// A table schema is written once per segment (a Schema record) and referred to by id, so a record
// costs about what its row values do. Each segment defines its own ids, so reading can start at
// any segment.
#ifndef DUOSYNC_SRC_STORE_STORE_CODEC_H_
#define DUOSYNC_SRC_STORE_STORE_CODEC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"

namespace duosync {

class RecordEncoder {
 public:
  // Appends `txn` as framed records to `out`: first the schemas the segment has not defined yet.
  // FailedPrecondition (and nothing appended) when the transaction is too big for one record.
  absl::Status Encode(const Transaction& txn, std::string* out);
  // A new segment begins: schemas are defined again.
  void Reset();

 private:
  absl::flat_hash_map<const TableSchema*, uint32_t> ids_;
  std::vector<std::shared_ptr<const TableSchema>> keep_alive_;  // ids_ is keyed by address
  std::string scratch_;
};

// What one record held.
struct DecodedRecord {
  enum class Kind { kSchema, kTransaction, kFooter };
  Kind kind = Kind::kSchema;
  std::optional<Transaction> transaction;  // kTransaction
  std::string end_position;                // kFooter
};

class RecordDecoder {
 public:
  // Decodes one record payload. DataLoss when it does not parse or refers to an undefined
  // schema or a column a schema does not have — whatever the bytes, nothing undefined happens.
  absl::StatusOr<DecodedRecord> Decode(absl::string_view payload);
  // A new segment begins: its schema ids start afresh.
  void Reset() { by_id_.clear(); }

 private:
  std::map<uint32_t, std::shared_ptr<const TableSchema>> by_id_;
  // The same schema in a later segment decodes to the same object (the router keys routes by it).
  std::map<std::string, std::shared_ptr<const TableSchema>> by_content_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_STORE_CODEC_H_
