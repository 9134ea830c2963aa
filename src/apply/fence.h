// Fencing: one writer per link, whatever runs it. Each process that starts a link takes a new
// ownership epoch in duosync.owner on the link's destination; every destination transaction it
// writes (applied rows, the checkpoint, full-copy chunks) first reads that row under a shared lock
// and checks the epoch. A takeover's epoch bump waits for the old owner's open transactions, and
// every later one fails: once another process has taken the link, this one commits nothing more
// and stops with the name of the new owner.
#ifndef DUOSYNC_SRC_APPLY_FENCE_H_
#define DUOSYNC_SRC_APPLY_FENCE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sql/sql_connection.h"

namespace duosync {

struct Fence {
  std::string link_id;
  uint64_t epoch = 0;  // 0: not fenced (a tool that writes outside any link's ownership)
};

// Creates duosync.owner if missing (inside duosync, which exists).
absl::Status EnsureOwnerTable(SqlConnection* conn);

// Takes `link_id` over as `owner` (host:pid#n): a new epoch, higher than any before. Waits for the
// previous owner's open transactions to end.
absl::StatusOr<uint64_t> TakeOwnership(SqlConnection* conn, const std::string& link_id,
                                       const std::string& owner);

// "host:pid#n" of this process, unique per call (two links of one process are two owners).
std::string NewOwnerName();

// The statement that reads the fence row under a shared lock (one row: epoch, owner).
std::string FenceQuery(SqlConnection* conn, const Fence& fence);
// OK when `row` (of FenceQuery; null when none) shows the fence's epoch; else the fenced error.
absl::Status CheckFence(const Fence& fence, const SqlRow* row);
// Starts a transaction on `conn` and checks the fence inside it. No-op check for epoch 0.
absl::Status BeginFenced(SqlConnection* conn, const Fence& fence);

// The error of a write refused because another process took the link over.
bool IsFenced(const absl::Status& s);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_FENCE_H_
