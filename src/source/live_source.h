// The reader for a live source server, in the server's replication dialect: BinlogReader for
// MariaDB, MysqlBinlogReader for MySQL 5.7/8 and OceanBase's binlog service.
#ifndef DUOSYNC_SRC_SOURCE_LIVE_SOURCE_H_
#define DUOSYNC_SRC_SOURCE_LIVE_SOURCE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "source/binlog_reader.h"
#include "source/transaction_feed.h"

namespace duosync {

absl::StatusOr<std::unique_ptr<TransactionFeed>> OpenLiveSource(const ReaderOptions& options);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_LIVE_SOURCE_H_
