// Conflicts of active-active links: a change that reaches a row whose current state is not the
// change's before image (UPDATE/DELETE of a row changed or removed meanwhile, INSERT of an existing
// key). The policy decides; every conflict is logged with both images and the outcome.
#ifndef DUOSYNC_SRC_APPLY_CONFLICT_H_
#define DUOSYNC_SRC_APPLY_CONFLICT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "duosync/config.pb.h"
#include "route/router.h"
#include "sql/sql_connection.h"

namespace duosync {

struct ConflictRecord {
  std::string link;            // "forward" / "reverse"
  std::string table;           // destination "schema.table"
  std::string key;             // "id=5"
  std::string operation;       // INSERT / UPDATE / DELETE
  std::string incoming_before; // row images as "col=value, ..." ("" when absent)
  std::string incoming_after;
  std::string destination;     // the destination's row when the change arrived ("" = no row)
  std::string policy;
  std::string outcome;         // "applied incoming", "kept destination", "stopped", ...
  int64_t time = 0;            // unix seconds
};

// A bounded, thread-safe log of the latest conflicts plus a total count.
class ConflictLog {
 public:
  explicit ConflictLog(size_t capacity = 1000) : capacity_(capacity) {}
  void Add(ConflictRecord record);
  // Called with each new record's JSON, after it is logged. REQUIRES: set before use.
  void SetListener(std::function<void(const std::string& json)> listener) { listener_ = std::move(listener); }
  std::vector<ConflictRecord> Latest() const;
  uint64_t total() const;
  // {"total": N, "conflicts": [{...}]} (JSON).
  std::string ToJson() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ConflictRecord> records_;
  uint64_t total_ = 0;
  std::function<void(const std::string&)> listener_;
};

// Decides and applies conflicts of one link.
class ConflictResolver {
 public:
  // `incoming_wins_ties`: LAST_WRITER_WINS ties go to region A's change, so the forward link's
  // incoming change wins a tie and the reverse link's loses: both regions pick the same row.
  ConflictResolver(const config::ConflictSettings& settings, std::string link_name,
                   bool incoming_wins_ties, ConflictLog* log);

  // Applies `change` inside the open destination transaction on `conn`, resolving a conflict by
  // policy. FailedPrecondition for STOP (the conflict is logged, nothing of the change applied).
  absl::Status Apply(SqlConnection* conn, const RoutedChange& change);

 private:
  struct TablePolicy {
    config::ConflictPolicy policy;
    std::string column;
  };
  TablePolicy PolicyFor(const Route& route) const;

  config::ConflictSettings settings_;
  std::string link_name_;
  bool incoming_wins_ties_;
  ConflictLog* log_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CONFLICT_H_
