// BinlogReader: follows a source's binlog as a replica (MariaDB Connector/C's mariadb_rpl API),
// from a GTID position, and hands on complete transactions with decoded row changes.
//
// Each call to Next() returns at most one transaction; position() is the GTID position just after
// the last transaction returned, which is where a new reader resumes after a failure.
// Heartbeats (every second while the source is idle) make Next() return nothing regularly, so the
// caller can stop, and let a dead connection be noticed by the read timeout.
// Not thread-safe.
#ifndef DUOSYNC_SRC_SOURCE_BINLOG_READER_H_
#define DUOSYNC_SRC_SOURCE_BINLOG_READER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/gtid_position.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "source/binlog_events.h"
#include "source/schema_history.h"
#include "source/transaction_feed.h"
#include "sql/sql_connection.h"

namespace duosync {

struct ReaderOptions {
  ConnectOptions source;
  uint32_t replica_server_id = 0;  // unique, non-zero: a second dump with the same id kills ours
  GtidPosition start;
  // Rows of tables for which this returns false are skipped undecoded.
  std::function<bool(const TableRef&)> wants;
  // Transactions written under this server_id come back without rows (they are echoes); 0 = none.
  uint32_t skip_rows_of_origin = 0;
  // Where the link keeps its schema history (used when the source logs no column names).
  std::optional<SchemaHistoryOptions> history;
  // A transaction whose decoded rows pass this many bytes (estimated) is handed on in parts of
  // about this size (Transaction::more_parts), so that memory stays bounded; 0 = whole.
  size_t part_bytes = 0;
  // A source that failed over to a replica lacking the start (failover_start.h) may be read from
  // an earlier GTID. False: it stops the reader instead (a record store, whose cursor orders
  // MariaDB GTIDs by sequence number alone, cannot hold the new primary's reused numbers).
  bool follow_failover = true;
};

// Builds TableSchemas for table maps, naming columns from the map itself (binlog_row_metadata=FULL)
// or from the source's information_schema, so rows written before a DDL still decode right when
// the server sends names.
class SchemaResolver {
 public:
  // `catalog` is the server whose information_schema describes the tables: the source, or for
  // a source of binlog files the destination, under the names `catalog_name` gives (renames).
  explicit SchemaResolver(std::unique_ptr<SqlConnection> catalog,
                          std::function<TableRef(const TableRef&)> catalog_name = nullptr)
      : source_(std::move(catalog)), catalog_name_(std::move(catalog_name)) {}
  absl::StatusOr<std::shared_ptr<const TableSchema>> Resolve(const TableMapInfo& map);
  // Forgets what information_schema said (after a DDL).
  void Invalidate() {
    current_.clear();
    by_map_.clear();  // a DDL may change keys or collations without changing the table map
  }
  // Maps without column names decode by the link's schema history (as of `start`) where it knows
  // the table; it follows the DDL of the tables `wants` selects. Opened on first need, so that a
  // reader whose source names columns never needs the destination.
  void EnableHistory(SchemaHistoryOptions options, GtidPosition start, std::function<bool(const TableRef&)> wants) {
    history_options_ = std::move(options);
    history_start_ = std::move(start);
    history_wants_ = std::move(wants);
  }
  // A DDL at `gtid` (default database `schema`, read under `mode`): forgets the catalog, and the
  // history follows it.
  absl::Status FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql, DdlSqlMode mode);

 private:
  // A table that no longer exists (renamed or dropped since the row was written): its schema from
  // the table map alone. NotFound when the map lacks names or the primary key.
  absl::StatusOr<std::shared_ptr<TableSchema>> FromMapAlone(const TableMapInfo& map);

  std::unique_ptr<SqlConnection> source_;
  std::function<TableRef(const TableRef&)> catalog_name_;
  std::map<std::string, std::shared_ptr<const TableSchema>> by_map_;
  std::map<std::string, TableSchema> current_;
  // The history, once opened (null when the link keeps none).
  absl::StatusOr<SchemaHistory*> History();
  std::optional<SchemaHistoryOptions> history_options_;  // unset: no history is used
  GtidPosition history_start_;
  std::function<bool(const TableRef&)> history_wants_;
  bool history_opened_ = false;
  std::unique_ptr<SchemaHistory> history_;
};

// What a replication connection's error means for a link: Unavailable (retry), FailedPrecondition
// (the source cannot serve the position), DataLoss (a corrupt event), ... with `what` and the
// server's message.
absl::Status ReplicationError(MYSQL* mysql, absl::string_view what);
// The same for an error code and message (an error packet read off the wire).
absl::Status ReplicationError(unsigned err, absl::string_view message, absl::string_view what);

class BinlogReader : public TransactionFeed {
 public:
  static absl::StatusOr<std::unique_ptr<BinlogReader>> Open(const ReaderOptions& options);
  ~BinlogReader() override;

  // The next complete transaction; nullopt after a heartbeat. Unavailable when the connection is
  // lost (open a new reader at position()), FailedPrecondition when the source cannot serve the
  // position (binlog purged), DataLoss for a malformed event.
  absl::StatusOr<std::optional<Transaction>> Next() override;

  // Makes a Next() blocked in another thread return (with an error) soon. Thread-safe.
  void Cancel() override;

  const GtidPosition& position() const override { return position_; }
  bool TakeRotated() override {
    const bool rotated = rotated_;
    rotated_ = false;
    return rotated;
  }
  // Timestamp (source clock) of the last event seen, heartbeats included.
  uint32_t last_event_time() const { return last_event_time_; }

 private:
  struct Rpl;
  BinlogReader(const ReaderOptions& options, std::unique_ptr<Rpl> rpl,
               std::unique_ptr<SchemaResolver> resolver);
  // Next's work, before transactions applied ahead of a failed-over source are passed over.
  absl::StatusOr<std::optional<Transaction>> ReadTransaction();
  bool AppliedBeforeFailover(const Gtid& gtid) const;

  ReaderOptions options_;
  std::unique_ptr<Rpl> rpl_;
  std::unique_ptr<SchemaResolver> resolver_;
  GtidPosition position_;
  // A source that failed over was asked to start earlier than position_ (failover_start.h):
  // (domain, server) -> the last sequence number applied, passed over when it comes again.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> applied_through_;
  uint32_t last_event_time_ = 0;
  bool rotated_ = false;  // a ROTATE event came (also the one that opens every dump)
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_BINLOG_READER_H_
