// The conflicts of one link: every one is kept on the destination (duosync.conflicts, written in
// the same transaction as its resolution, so it lasts exactly as long as the outcome does), and
// the latest are held in memory for status and events.
#ifndef DUOSYNC_SRC_APPLY_CONFLICT_LOG_H_
#define DUOSYNC_SRC_APPLY_CONFLICT_LOG_H_

#include <cstdint>
#include <deque>
#include <map>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sql/sql_connection.h"

namespace duosync {

struct ConflictRecord {
  std::string link;            // "forward" / "reverse"
  std::string table;           // destination "schema.table"
  std::string key;             // "id=5"
  std::string operation;       // INSERT / UPDATE / DELETE
  std::string reason;          // what made it a conflict
  std::string incoming_before; // row images as "col=value, ..." ("" when absent)
  std::string incoming_after;
  std::string destination;     // the destination's row at the key when the change arrived ("" = none)
  std::string colliding;       // other destination rows holding one of its unique values ("; "-joined)
  std::string policy;
  std::string outcome;         // "applied the incoming change", "kept the destination's row", ...
  int64_t time = 0;            // unix seconds
};

// `{"link": ..., "time": N}` of one record.
std::string ConflictRecordJson(const ConflictRecord& record);

// Creates duosync.conflicts on the destination when missing.
absl::Status EnsureConflictTable(SqlConnection* conn);
// Inserts `record` for link `link_id` in the transaction open on `conn`.
absl::Status WriteConflict(SqlConnection* conn, const std::string& link_id, const ConflictRecord& record);
// The conflicts a destination keeps for `link_id`: {"total": N, "conflicts": [the latest `limit`,
// newest first]}; empty when the table was never created.
absl::StatusOr<std::string> ReadConflicts(SqlConnection* conn, const std::string& link_id, int limit);

// Deletes `link_id`'s records older than `before` (unix seconds), oldest first, in batches of at
// most `batch` rows, until none is left or `stop()` turns true; returns how many. Each batch is
// found by a plain read and deleted by id range (no scan of the link's records under locks);
// finding none writes nothing.
absl::StatusOr<uint64_t> PruneConflicts(SqlConnection* conn, const std::string& link_id, int64_t before,
                                        const std::function<bool()>& stop = [] { return false; },
                                        int batch = 10000);

// A bounded, thread-safe log of the latest conflicts plus a total count.
class ConflictLog {
 public:
  explicit ConflictLog(size_t capacity = 1000) : capacity_(capacity) {}
  void Add(ConflictRecord record);
  // Counts `n` conflicts of (policy, outcome) whose records are not kept here (nor sent to the
  // listener): those of one huge transaction beyond what memory should hold. The destination's
  // duosync.conflicts has every one.
  void Count(const std::string& policy, const std::string& outcome, uint64_t n);
  // Called with each new record's JSON, after it is logged. REQUIRES: set before use.
  void SetListener(std::function<void(const std::string& json)> listener) { listener_ = std::move(listener); }
  std::vector<ConflictRecord> Latest() const;
  uint64_t total() const;
  // Conflicts counted by (policy, outcome), since the log was made.
  std::map<std::pair<std::string, std::string>, uint64_t> ByOutcome() const;
  // {"total": N, "conflicts": [{...}]} (JSON).
  std::string ToJson() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ConflictRecord> records_;
  uint64_t total_ = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> by_outcome_;
  std::function<void(const std::string&)> listener_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CONFLICT_LOG_H_
