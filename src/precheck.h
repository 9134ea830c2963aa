// Precheck: checks a validated project against its real endpoints before any data moves.
// Every check is PASSED, WARNING (the link runs, something is left out) or FAILED, with the reason
// and the fix.
#ifndef DUOSYNC_SRC_PRECHECK_H_
#define DUOSYNC_SRC_PRECHECK_H_

#include <string>
#include <vector>

#include "duosync/config.pb.h"
#include "duosync/report.pb.h"
#include "object_selector.h"
#include "sql_connection.h"

namespace duosync {

ConnectOptions ConnectOptionsFor(const config::Endpoint& endpoint);

// The objects of a link as seen on its source, with the keys they sync by.
struct TableKeyInfo {
  TableRef table;
  bool has_primary_key = false;
  bool has_not_null_unique_key = false;
  bool has_untrusted_unique_key = false;  // function-based / hash ("long unique") keys
};

// Lists the base tables of `conn`'s server, outside the system schemas.
absl::StatusOr<std::vector<TableRef>> ListTables(SqlConnection* conn);
// Lists the views of `conn`'s server, outside the system schemas.
absl::StatusOr<std::vector<TableRef>> ListViews(SqlConnection* conn);

// Key facts of `tables` on `conn`'s server.
absl::StatusOr<std::vector<TableKeyInfo>> ReadKeyInfo(SqlConnection* conn,
                                                      const std::vector<TableRef>& tables);

// Runs all checks. REQUIRES: `project` passed validation (defaults applied).
report::PrecheckReport RunPrecheck(const config::Project& project);

}  // namespace duosync

#endif  // DUOSYNC_SRC_PRECHECK_H_
