// Precheck: checks a validated project against its real endpoints before any data moves.
// Every check is PASSED, WARNING (the link runs, something is left out) or FAILED, with the reason
// and the fix.
#ifndef DUOSYNC_SRC_PROJECT_PRECHECK_H_
#define DUOSYNC_SRC_PROJECT_PRECHECK_H_

#include <string>
#include <vector>

#include "config/resolved_config.h"
#include "duosync/report.pb.h"

namespace duosync {

// Runs all checks. REQUIRES: `project` passed validation.
report::PrecheckReport RunPrecheck(const ProjectConfig& project);

}  // namespace duosync

#endif  // DUOSYNC_SRC_PROJECT_PRECHECK_H_
