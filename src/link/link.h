// One direction of a project: source endpoint -> destination endpoint, running its stages
// (incremental migration for now) in a background thread.
#ifndef DUOSYNC_SRC_LINK_LINK_H_
#define DUOSYNC_SRC_LINK_LINK_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/link_direction.h"
#include "duosync/config.pb.h"
#include "duosync/report.pb.h"

namespace duosync {

// Events a link reports (numbered as DUO_EVENT_* in capi/duosync.h), with a JSON payload.
enum LinkEvent {
  kEventStage = 1, kEventProgress = 2, kEventConflict = 3, kEventError = 4, kEventVerify = 5
};
using LinkEventHandler = std::function<void(int event, const std::string& json)>;

class Link {
 public:
  // REQUIRES: `project` validated, defaults applied; the link exists in it.
  static absl::StatusOr<std::unique_ptr<Link>> Create(const config::Project& project,
                                                      LinkDirection direction);
  virtual ~Link() = default;

  // Receives stage changes, conflicts and errors; called from the link's threads, must be quick.
  // REQUIRES: set before Start.
  virtual void SetEventHandler(LinkEventHandler handler) = 0;

  // Connects, records the start position durably, then runs in a background thread.
  virtual absl::Status Start() = 0;
  // Like Start, but from `position` whatever the link recorded before (a switchover).
  virtual absl::Status StartAt(const std::string& position) = 0;
  // Asks the thread to stop and joins it. Idempotent.
  virtual void Stop() = 0;
  // Stops like Stop, reporting stage "paused"; Start resumes from the checkpoint.
  virtual void Pause() = 0;
  // Waits until the thread has ended by itself; DeadlineExceeded on timeout; else its result.
  virtual absl::Status Wait(absl::Duration timeout) = 0;
  // Rewinds a stopped link to `from`, read back from its record store: a source commit time
  // ("2026-11-24 10:00:00" in UTC, RFC 3339, or "@<Unix seconds>") or a GTID position. The next
  // Start applies every stored transaction after that point again, idempotently up to where the
  // link had got (so rows changed since are brought back to the source's state). Returns the
  // position it rewound to. FailedPrecondition while the link runs, when it keeps no records, or
  // before its incremental stage; OutOfRange when the store no longer holds `from`.
  virtual absl::StatusOr<std::string> Replay(const std::string& from) = 0;
  // A snapshot of progress; thread-safe.
  virtual report::LinkStatus Status() const = 0;
  // The latest conflicts as JSON ({"total", "conflicts": [...]}); thread-safe.
  virtual std::string ConflictsJson() const = 0;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_LINK_H_
