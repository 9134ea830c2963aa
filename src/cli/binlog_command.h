// `duosync binlog FILE... [--json]`: prints the transactions of binlog files (either dialect) with
// their position, GTID, tables, operations and before/after values, like `mysqlbinlog --verbose`.
#ifndef DUOSYNC_SRC_CLI_BINLOG_COMMAND_H_
#define DUOSYNC_SRC_CLI_BINLOG_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace duosync {

// Returns the exit code: 0, or 1 when a file cannot be read or holds an event that cannot be
// decoded (the message names the file, the event and its position).
int PrintBinlogFiles(const std::vector<std::string>& files, bool json, std::ostream& out,
                     std::ostream& err);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CLI_BINLOG_COMMAND_H_
