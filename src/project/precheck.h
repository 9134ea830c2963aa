// Precheck: checks a validated project against its real endpoints before any data moves.
// Every check is PASSED, WARNING (the link runs, something is left out) or FAILED, with the reason
// and the fix.
#ifndef DUOSYNC_SRC_PROJECT_PRECHECK_H_
#define DUOSYNC_SRC_PROJECT_PRECHECK_H_

#include <string>
#include <vector>

#include "duosync/config.pb.h"
#include "duosync/report.pb.h"
#include "sql/catalog.h"
#include "sql/sql_connection.h"

namespace duosync {

ConnectOptions ConnectOptionsFor(const config::Endpoint& endpoint);

// Runs all checks. REQUIRES: `project` passed validation (defaults applied).
report::PrecheckReport RunPrecheck(const config::Project& project);

}  // namespace duosync

#endif  // DUOSYNC_SRC_PROJECT_PRECHECK_H_
