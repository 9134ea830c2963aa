// One direction of a project: source endpoint -> destination endpoint, running its stages
// (incremental migration for now) in a background thread.
#ifndef DUOSYNC_SRC_LINK_H_
#define DUOSYNC_SRC_LINK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "duosync/config.pb.h"
#include "duosync/report.pb.h"

namespace duosync {

enum class LinkDirection { kForward, kReverse };

class Link {
 public:
  // REQUIRES: `project` validated, defaults applied; the link exists in it.
  static absl::StatusOr<std::unique_ptr<Link>> Create(const config::Project& project,
                                                      LinkDirection direction);
  virtual ~Link() = default;

  // Connects, records the start position durably, then runs in a background thread.
  virtual absl::Status Start() = 0;
  // Like Start, but from `position` whatever the link recorded before (a switchover).
  virtual absl::Status StartAt(const std::string& position) = 0;
  // Asks the thread to stop and joins it. Idempotent.
  virtual void Stop() = 0;
  // Waits until the thread has ended by itself; DeadlineExceeded on timeout; else its result.
  virtual absl::Status Wait(absl::Duration timeout) = 0;
  // A snapshot of progress; thread-safe.
  virtual report::LinkStatus Status() const = 0;
  // The latest conflicts as JSON ({"total", "conflicts": [...]}); thread-safe.
  virtual std::string ConflictsJson() const = 0;
};

// "forward" / "reverse".
const char* LinkName(LinkDirection direction);

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_H_
