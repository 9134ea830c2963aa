// One direction of a project: source endpoint -> destination endpoint, running its stages in a
// background thread. The link's parts, along the data path:
//   link_session      one connected run: initial migration, then feed -> planner -> applier;
//   link_store        the record store's lifecycle (pump, truncation, replay);
//   link_state        what the threads share with status readers;
//   link.cc           the lifecycle: start, stop, retries with backoff, status.
#ifndef DUOSYNC_SRC_LINK_LINK_H_
#define DUOSYNC_SRC_LINK_LINK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/resolved_config.h"
#include "duosync/report.pb.h"
#include "link/link_events.h"

namespace duosync {

class Link {
 public:
  // Unimplemented for a link without an INCREMENTAL stage.
  static absl::StatusOr<std::unique_ptr<Link>> Create(const LinkConfig& config);
  virtual ~Link() = default;

  // Receives stage changes, conflicts and errors; called from the link's threads, must be quick.
  // REQUIRES: set before Start.
  virtual void SetEventHandler(LinkEventHandler handler) = 0;

  // Connects, records the start position durably, then runs in a background thread.
  virtual absl::Status Start() = 0;
  // Records where the link starts (its migration stage, then its checkpoint) if it has not yet,
  // without taking the link over; returns the position it starts from. Coordinated mode calls it
  // at the project's Start, so that nothing written after Start returns is lost, whichever
  // process runs the link later.
  virtual absl::StatusOr<std::string> RecordStart() = 0;
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
