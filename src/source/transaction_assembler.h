// TransactionAssembler: turns a binlog's events, in either dialect, into complete transactions
// with decoded row changes. It knows the transaction boundaries of both (MariaDB's GTID event that
// stands for BEGIN; MySQL's GTID + BEGIN ... XID/COMMIT; a DDL alone), MySQL 8's compressed
// TRANSACTION_PAYLOAD and PARTIAL_UPDATE_ROWS, and refuses every event it does not know by name
// and position rather than pass over it. It reads bytes only: a binlog file, a live stream or a
// fuzzer feeds it.
#ifndef DUOSYNC_SRC_SOURCE_TRANSACTION_ASSEMBLER_H_
#define DUOSYNC_SRC_SOURCE_TRANSACTION_ASSEMBLER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "source/binlog_events.h"

namespace duosync {

// A table's schema for a TABLE_MAP from the map alone: names from its metadata or "@1", "@2", ...
// (as mysqlbinlog shows them), signedness and charsets where the map says. For showing a binlog;
// a link must not apply rows by position without knowing the table (it resolves schemas itself).
std::shared_ptr<const TableSchema> SchemaFromTableMap(const TableMapInfo& map);

class TransactionAssembler {
 public:
  using SchemaFor =
      std::function<absl::StatusOr<std::shared_ptr<const TableSchema>>(const TableMapInfo&)>;
  struct Options {
    SchemaFor schema_for;  // default: SchemaFromTableMap
    // Rows of tables for which this returns false are skipped undecoded.
    std::function<bool(const TableRef&)> wants;
    // Keep partial row images (binlog_row_image MINIMAL/NOBLOB), marking the columns they have,
    // instead of refusing them. Only for showing a binlog: applying them would lose columns.
    bool allow_partial_images = false;
    // A transaction whose decoded rows pass about this many bytes is handed on in parts
    // (Transaction::more_parts) so that memory stays bounded; 0 = whole. Only transactions that
    // carry their GTID from the first event are split (one without is known by where it ends),
    // and none inside a compressed TRANSACTION_PAYLOAD (held whole, compressed, anyway).
    size_t part_bytes = 0;
  };

  explicit TransactionAssembler(Options options);

  // One complete event as framed in the binlog (common header, body, checksum if the format has
  // one); `position` is its offset in its file. Returns the transaction this event completes.
  // DataLoss for malformed bytes or a checksum mismatch, Unimplemented for an event that cannot
  // be followed (named, with its position).
  absl::StatusOr<std::optional<Transaction>> Add(absl::string_view event, uint64_t position);

  bool has_format() const { return has_format_; }
  const BinlogFormat& format() const { return format_; }
  // True between a transaction's first event and its last.
  bool in_transaction() const { return in_transaction_; }
  // The GTID set the file started after (MySQL's PREVIOUS_GTIDS), or empty.
  const std::string& previous_gtids() const { return previous_gtids_; }
  // The GTID list the file started after (MariaDB's GTID_LIST), or empty.
  const std::string& gtid_list() const { return gtid_list_; }
  // Events seen, by type name, for reports.
  const std::map<std::string, uint64_t>& event_counts() const { return event_counts_; }

 private:
  absl::StatusOr<std::optional<Transaction>> AddBody(const EventHeader& h, absl::string_view body,
                                                     uint64_t position);
  absl::Status AddRows(const EventHeader& h, absl::string_view body, uint64_t position);
  // Starts a transaction; DataLoss when one handed on in parts never ended.
  absl::Status Begin(const EventHeader& h, uint64_t position);
  std::optional<Transaction> Finish(const EventHeader& h, uint64_t position);

  struct MappedTable {
    TableMapInfo info;
    std::shared_ptr<const TableSchema> schema;  // resolved when a rows event needs it
    bool wanted = false;
  };

  Options options_;
  bool has_format_ = false;
  BinlogFormat format_;
  std::string previous_gtids_, gtid_list_;
  std::map<std::string, uint64_t> event_counts_;
  // The transaction being assembled.
  bool in_transaction_ = false;
  bool saw_begin_ = false;   // MySQL: a QUERY BEGIN opened it (a lone QUERY after GTID is a DDL)
  bool standalone_ = false;  // MariaDB: the GTID event said no BEGIN/COMMIT follows
  bool in_payload_ = false;  // inside a TRANSACTION_PAYLOAD's events
  uint64_t payload_end_ = 0;  // the payload event's end, which ends the transaction's span
  Transaction current_;
  size_t current_bytes_ = 0;  // estimated memory of current_'s rows
  std::map<uint64_t, MappedTable> tables_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_TRANSACTION_ASSEMBLER_H_
