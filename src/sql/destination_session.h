// A connection prepared for writing to a destination, as every writer needs it (the applier's
// workers, the full copy, verification repair, the bookkeeping tables): UTC time zone, strict SQL
// mode (a value that does not fit is an error, never silently cut), foreign-key checks off, and,
// for loop prevention by session origin, tagged with the link's origin.
#ifndef DUOSYNC_SRC_SQL_DESTINATION_SESSION_H_
#define DUOSYNC_SRC_SQL_DESTINATION_SESSION_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "sql/sql_connection.h"

namespace duosync {

// Connects and prepares the session. A non-zero `origin` tags everything the session writes with
// that server_id and gtid_domain_id; FailedPrecondition (naming the privilege) when it cannot.
absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectDestination(const ConnectOptions& destination,
                                                                  uint32_t origin = 0);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_DESTINATION_SESSION_H_
