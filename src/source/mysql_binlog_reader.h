// MysqlBinlogReader: follows a MySQL-dialect source (MySQL 5.7/8, OceanBase's binlog service) as a
// replica, from a MySQL GTID set or a binlog file place, and hands on complete transactions.
//
// A GTID set is sent as is (COM_BINLOG_DUMP_GTID, as a MySQL replica with auto-positioning does):
// the source finds where the transactions the set lacks begin. A source that does not take it
// is read by file and offset (COM_BINLOG_DUMP): the newest binlog file whose PREVIOUS_GTIDS the
// set covers holds every transaction the set lacks. Either way the ones the set has are passed
// over by GTID. A file place resumes right after the last transaction applied. Events go through the same
// TransactionAssembler as binlog files. Not thread-safe (Cancel excepted).
#ifndef DUOSYNC_SRC_SOURCE_MYSQL_BINLOG_READER_H_
#define DUOSYNC_SRC_SOURCE_MYSQL_BINLOG_READER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/gtid_position.h"
#include "source/binlog_reader.h"
#include "source/transaction_assembler.h"
#include "source/transaction_feed.h"

namespace duosync {

class MysqlBinlogReader : public TransactionFeed {
 public:
  static absl::StatusOr<std::unique_ptr<MysqlBinlogReader>> Open(const ReaderOptions& options);
  ~MysqlBinlogReader() override;

  // The next complete transaction; nullopt after a heartbeat. Errors as BinlogReader's.
  absl::StatusOr<std::optional<Transaction>> Next() override;
  void Cancel() override;
  const GtidPosition& position() const override { return position_; }
  bool TakeRotated() override {
    const bool rotated = rotated_;
    rotated_ = false;
    return rotated;
  }

 private:
  struct Dump;
  explicit MysqlBinlogReader(const ReaderOptions& options);
  // A fresh dump connection and assembler.
  absl::Status ConnectDump();
  // Starts a dump at `file`:`offset` (COM_BINLOG_DUMP).
  absl::Status StartDump(const std::string& file, uint64_t offset);
  // Starts a dump at options_.start's GTID set (COM_BINLOG_DUMP_GTID); false when the source
  // does not take one (or the set has tagged GTIDs).
  absl::StatusOr<bool> StartDumpByGtids();
  // The raw bytes of the next event of the dump (header to checksum).
  absl::StatusOr<std::string> NextEvent();
  // Starts the dump in the newest file whose PREVIOUS_GTIDS options_.start covers.
  absl::Status StartAtGtidSet(const std::vector<std::string>& files);

  ReaderOptions options_;
  std::unique_ptr<Dump> dump_;
  std::optional<std::string> pending_;  // an event read ahead, handed out first
  std::shared_ptr<SchemaResolver> resolver_;
  std::unique_ptr<TransactionAssembler> assembler_;
  bool checksums_ = true;   // the source's events end with a CRC32 (@@global.binlog_checksum)
  std::string series_;      // of the file being read
  uint64_t file_number_ = 0;
  uint64_t last_event_end_ = 0;  // for messages
  GtidPosition position_;
  bool skipping_ = false;  // the transaction being read is covered by the start: not decoded
  bool rotated_ = false;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_MYSQL_BINLOG_READER_H_
