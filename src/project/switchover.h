// Which way a one-way project runs, kept on the servers so that a restart, a second process or a
// second switchover follows the last switchover: the retired link's stage row on its destination
// says "switched", and the running link's checkpoint says where it starts.
#ifndef DUOSYNC_SRC_PROJECT_SWITCHOVER_H_
#define DUOSYNC_SRC_PROJECT_SWITCHOVER_H_

#include <string>

#include "absl/status/statusor.h"
#include "base/link_direction.h"
#include "config/resolved_config.h"

namespace duosync {

// The link a one-way project runs now: forward unless a switchover retired it (read on B).
absl::StatusOr<LinkDirection> ActiveDirection(const ProjectConfig& project);

// A one-way project's reverse link (B -> A): it mirrors the forward link's objects, DML choice and
// options.
LinkConfig ReverseOf(const config::Project& project);

// Records `link`'s start at `position` (forgetting what it applied before) and its stage as
// incremental, taking it over.
absl::Status StartLinkAt(const LinkConfig& link, const std::string& position);

// Records a swap from link `from` to link `to`, which starts at `position` (its source's end, with
// everything `from` read applied): `to`'s start and `from` retired, each taking its link over so
// that a process still running it is fenced. The forward link's row decides the direction and is
// written last: a crash in between leaves the old direction in force (switching to reverse), or
// both retired, which ActiveDirection completes (switching back).
absl::Status RecordSwitch(const LinkConfig& from, const LinkConfig& to, const std::string& position);

}  // namespace duosync

#endif  // DUOSYNC_SRC_PROJECT_SWITCHOVER_H_
