// Where to ask a MariaDB source for the link's position when the source does not hold it because
// it failed over: a replica was promoted (or is followed) that had fewer of the old primary's
// transactions than the link applied. Such a server holds the old primary's transactions up to
// some point and then, if promoted, its own, which may reuse the sequence numbers of those it
// never had. The link is asked to start after the last of the old primary's it holds; the old
// primary's transactions up to the link's position, if they ever come (a replica still catching
// up), are passed over as applied. A server never reuses its own sequence numbers, so this holds
// unless the source is that same server (restored from a backup): then nothing is planned and the
// source refuses the position. Nor is a domain that a third server wrote in rewound (which of its
// transactions the link applied is not known from the position).
#ifndef DUOSYNC_SRC_SOURCE_FAILOVER_START_H_
#define DUOSYNC_SRC_SOURCE_FAILOVER_START_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/gtid_position.h"

namespace duosync {

struct FailoverStart {
  GtidPosition request;  // the start to send: the link's position, rewound in failed-over domains
  // (domain, server id) -> the last sequence number of that server applied: anything of it at or
  // below is passed over.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> applied_through;
  std::vector<std::string> notes;  // what each domain rewound is missing, for the log or an error
  bool rewound() const { return !applied_through.empty(); }
};

// `position`: the link's (MariaDB GTIDs); `source_server_id`: the source's @@server_id;
// `binlog_state`: its @@gtid_binlog_state (the last GTID of each domain and server in its binlogs).
// InvalidArgument for a state that does not parse.
absl::StatusOr<FailoverStart> PlanFailoverStart(const GtidPosition& position, uint32_t source_server_id,
                                                absl::string_view binlog_state);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_FAILOVER_START_H_
