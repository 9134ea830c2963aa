// BinlogDirectoryFeed: a link's source transactions from a directory of binlog files (archived
// binlogs, a backup's binlogs) instead of a server: point-in-time roll-forward with everything a
// live link has downstream (filters, renames, parallel apply, exactly-once checkpoints).
//
// Files are one series `name.NNNNNN`, read in sequence order; a start position skips every file
// whose successor's GTID_LIST it covers, then every transaction it covers. At the end of the last
// file it waits for more (a file still being written, or new files copied in) and reports idle.
// A file that ends inside an event while a later file exists is damaged: DataLoss.
// Either dialect: MariaDB GTIDs, MySQL GTIDs, or (MySQL without gtid_mode) file places.
#ifndef DUOSYNC_SRC_SOURCE_BINLOG_DIRECTORY_FEED_H_
#define DUOSYNC_SRC_SOURCE_BINLOG_DIRECTORY_FEED_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/gtid_position.h"
#include "base/table_ref.h"
#include "source/binlog_file.h"
#include "source/transaction_assembler.h"
#include "source/transaction_feed.h"

namespace duosync {

// The GTID_LIST (MariaDB) or PREVIOUS_GTIDS (MySQL) a binlog file starts with (the state before
// its first transaction); nullopt when the file has none (or an empty one) before it.
absl::StatusOr<std::optional<GtidPosition>> StartingGtidList(const std::string& path);

class BinlogDirectoryFeed : public TransactionFeed {
 public:
  struct Options {
    std::string directory;
    GtidPosition start;  // transactions it covers are passed over
    std::function<bool(const TableRef&)> wants;
    TransactionAssembler::SchemaFor schema_for;
    // At each DDL transaction, before any later row is decoded (table definitions may change);
    // `covered`: the start covers it. An error stops the feed (retry).
    std::function<absl::Status(const Transaction& ddl, bool covered)> on_ddl;
    absl::Duration idle_wait = absl::Milliseconds(500);  // at the end, before reporting idle
    size_t part_bytes = 0;  // TransactionAssembler::Options::part_bytes
  };

  // NotFound when the directory holds no binlog file, InvalidArgument for two series in it.
  static absl::StatusOr<std::unique_ptr<BinlogDirectoryFeed>> Open(Options options);

  absl::StatusOr<std::optional<Transaction>> Next() override;
  const GtidPosition& position() const override { return position_; }
  void Cancel() override;
  bool TakeRotated() override {
    const bool r = rotated_;
    rotated_ = false;
    return r;
  }
  // The file being read, for status.
  std::string current_file() const;
  // The version its FORMAT_DESCRIPTION gives ("" before the first event).
  std::string server_version() const;

 private:
  explicit BinlogDirectoryFeed(Options options);
  // Lists the series' files in order. Only files after the ones already known are added.
  absl::Status Refresh();
  // The first file worth reading for options_.start.
  absl::StatusOr<size_t> FirstFile();

  Options options_;
  std::vector<std::string> files_;  // full paths, in sequence order
  std::vector<uint64_t> numbers_;   // their numbers (name.NNNNNN)
  std::string series_;              // the base name every file shares
  size_t index_ = 0;
  std::unique_ptr<BinlogFile> file_;
  std::unique_ptr<TransactionAssembler> assembler_;
  GtidPosition position_;
  bool rotated_ = false;
  // True when an event at `offset` of the current file lies before the start's file place.
  bool BeforeStartPlace(uint64_t offset) const;
  bool skipping_ = false;  // the transaction being read is covered by the start: not decoded
  bool reread_before_next_ = false;  // the end of the current file was read again after a newer one appeared
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_BINLOG_DIRECTORY_FEED_H_
