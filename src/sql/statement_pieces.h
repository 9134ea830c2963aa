// Runs many statements on one connection in as few round trips as the server's
// max_allowed_packet allows: joined into multi-statement pieces, none larger than the limit.
#ifndef DUOSYNC_SRC_SQL_STATEMENT_PIECES_H_
#define DUOSYNC_SRC_SQL_STATEMENT_PIECES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sql/sql_connection.h"

namespace duosync {

// Executes `statements` in order (inside the caller's transaction, if one is open).
// FailedPrecondition, before anything is sent, for a statement that can fit no packet: its size,
// the limit, and the setting to raise. `what` names the statements in that error ("repair").
absl::Status ExecuteInPieces(SqlConnection* conn, const std::vector<std::string>& statements,
                             const std::string& what);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_STATEMENT_PIECES_H_
