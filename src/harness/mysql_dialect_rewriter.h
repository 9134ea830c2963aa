// Rewrites a MariaDB binlog file into the MySQL dialect, event for event, so that the MySQL paths
// (binlog files as a source, and what OceanBase's binlog service sends) are tested with what a real
// server wrote under a real workload. Our harness can only run MariaDB; the rewrite changes the
// framing, never a row image:
//   FORMAT_DESCRIPTION  MySQL's (the given server version, CRC32 checksums);
//   GTID_LIST           PREVIOUS_GTIDS (domain d up to N -> RewrittenUuid(d):1-N), or an empty one;
//   GTID                GTID_LOG_EVENT RewrittenUuid(domain):sequence, or ANONYMOUS_GTID (gtid_mode
//                       OFF), then QUERY "BEGIN" unless the group is a standalone DDL;
//   rows events v1      v2 (MySQL's), TABLE_MAP optionally without its optional metadata (no column
//                       names: OceanBase, binlog_row_metadata=MINIMAL);
//   QUERY               rebuilt with MySQL's status variables (sql_mode, utf8mb4);
//   ANNOTATE_ROWS, BINLOG_CHECKPOINT dropped; ROTATE names the rewritten series.
// Anything else MariaDB-only (compressed or encrypted events) is refused.
#ifndef DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_REWRITER_H_
#define DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_REWRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace duosync::harness {

struct MysqlDialect {
  std::string server_version = "5.7.44-log";  // "8.0.36" for MySQL 8
  bool gtids = true;         // false: every transaction anonymous (a server without gtid_mode)
  bool column_names = true;  // false: TABLE_MAP carries no optional metadata
  bool dump_by_gtids = true;  // the source serves COM_BINLOG_DUMP_GTID (MySQL 5.6+, OceanBase)
};

// The MySQL server uuid MariaDB domain `domain` becomes.
std::string RewrittenUuid(uint32_t domain);

// Writes `to` (a binlog file named like `series.NNNNNN`) from MariaDB file `from`.
absl::Status RewriteAsMysql(const std::string& from, const std::string& to, const MysqlDialect& dialect);

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_REWRITER_H_
