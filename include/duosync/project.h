// duosync's C++ API: a project joins two endpoints with a forward link (A->B) and, for
// active-active, a reverse link (B->A). Configuration enters as JSON (see proto/duosync/config.proto);
// reports and status leave as JSON (proto/duosync/report.proto), like the C ABI.
//
// Thread safety: all methods may be called from any thread; Start/Stop/Wait are serialized inside.
#ifndef DUOSYNC_PROJECT_H_
#define DUOSYNC_PROJECT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace duosync {

inline constexpr const char* kVersion = "0.4.0";

class Project {
 public:
  // Parses and validates `config_json`. InvalidArgument naming every broken rule (field, problem,
  // fix) when the config is not valid.
  static absl::StatusOr<std::unique_ptr<Project>> Create(absl::string_view config_json);

  // Validation report as JSON ({"ok", "errors": [{field, message, fix}], "warnings": [...]}).
  // Never fails: a config that does not parse is reported as one error.
  static std::string Validate(absl::string_view config_json, bool* ok);

  ~Project();
  Project(const Project&) = delete;
  Project& operator=(const Project&) = delete;

  const std::string& name() const;

  // Warnings of the validation the project passed, as the JSON report.
  std::string ValidationJson() const;

  // Connects to both endpoints and runs every precheck. Returns the report JSON; `*ok` tells
  // whether no check failed. Blocks for the duration of the checks.
  std::string Precheck(bool* ok);

  // Starts the links' stages in background threads and returns once each link has recorded where
  // it starts (so a crash afterwards loses nothing written to the source after Start returned).
  // FailedPrecondition when already running. With a coordination section, Start registers this
  // process with etcd instead (Unavailable when etcd cannot be reached) and each link runs in
  // whichever of the project's processes etcd gives it to; the others show it as "standby".
  absl::Status Start();

  // Stops every link; returns when their threads have ended. Idempotent.
  absl::Status Stop();

  // Pauses a running link ("forward" / "reverse"), or every link when `link` is empty; Resume
  // restarts it from its checkpoint. NotFound for an unknown link, FailedPrecondition when the
  // project is not running.
  absl::Status Pause(absl::string_view link);
  absl::Status Resume(absl::string_view link);

  // Waits until every link has ended by itself (failed or finished), or `timeout` passed.
  // Returns the first link error, DeadlineExceeded on timeout.
  absl::Status Wait(absl::Duration timeout);

  // Status JSON: project state and, per link, stage, position, lag, rates, counters, last error.
  // Passwords never appear.
  std::string StatusJson() const;

  // Swaps the roles of a running one-way (DATA_MIGRATION) project: optionally makes the source
  // read-only, waits until the forward link has applied everything the source wrote, stops it,
  // and starts the reverse link (B -> A) from B's current position — nothing lost either way.
  // FailedPrecondition for an active-active or stopped project; DeadlineExceeded when the forward
  // link does not catch up within `timeout` (it keeps running then).
  absl::Status Switchover(bool make_source_read_only, absl::Duration timeout);

  // Replays a link ("forward" / "reverse") from its record store (options.retention_hours > 0):
  // rewinds it to `from` — a source commit time ("2026-11-24 10:00:00" in UTC, RFC 3339 or
  // "@<Unix seconds>") or a GTID position — and applies every stored transaction after it again,
  // idempotently up to where the link had got, so rows changed on the destination since are
  // brought back to the source's state. A running link is stopped and restarted; a stopped
  // project stays stopped (its next Start replays). Returns the GTID position rewound to.
  // OutOfRange when the store no longer holds `from`; FailedPrecondition when the link keeps
  // no records or has not reached incremental migration; NotFound for an unknown link.
  absl::StatusOr<std::string> Replay(absl::string_view link, absl::string_view from);

  // Full verification of the forward link's tables (source A against destination B): per-chunk
  // checksums inside each database, drilled down to rows; differing rows are re-checked before
  // they are reported. With `repair`, the repair statements are applied to B (under the forward
  // link's origin in an active-active project). Returns the report JSON; `*equal` tells whether
  // no difference was found (before any repair).
  absl::StatusOr<std::string> Verify(bool repair, bool* equal);

  // Receives events: 1 stage change {"link","stage"}, 2 progress (the status JSON, every second
  // while running), 3 conflict (a conflict record), 4 link error {"link","code","error"},
  // 5 verification progress {"tables_done","tables_total","rows_checked"} during Verify. Called
  // from a thread of the project's own, never inside its locks; a non-zero return unsubscribes.
  // Replaces an earlier callback; none is called after the project is destroyed.
  void SetEventCallback(std::function<int(int event, const std::string& json)> callback);

  // Conflicts met by the links (active-active) as each destination keeps them (duosync.conflicts,
  // written with the resolution, so they outlast the process), the latest 1000 per link first:
  // {"forward": {"total": N, "conflicts": [{link, table, key, operation, reason, incoming_before,
  //  incoming_after, destination, colliding, policy, outcome, time}]}, "reverse": {...}}. A link
  // whose destination cannot be reached shows what this process saw, with an "error".
  std::string ConflictsJson() const;

  struct Rep;

 private:
  explicit Project(std::unique_ptr<Rep> rep);
  // Start's coordinated mode: registers with etcd; the links run where etcd gives them.
  absl::Status StartCoordinated();
  std::unique_ptr<Rep> rep_;
};

}  // namespace duosync

#endif  // DUOSYNC_PROJECT_H_
