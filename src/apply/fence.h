// Fencing: one writer per link, whatever runs it. Each process that starts a link takes a new
// ownership epoch in duosync.owner on the link's destination; every destination transaction it
// writes (applied rows, the checkpoint, full-copy chunks) first reads that row under a shared lock
// and checks the epoch. A takeover's epoch bump waits for the old owner's open transactions, and
// every later one fails: once another process has taken the link, this one commits nothing more
// and stops with the name of the new owner.
#ifndef DUOSYNC_SRC_APPLY_FENCE_H_
#define DUOSYNC_SRC_APPLY_FENCE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

// Lending: a tool that must write a link's destination for a moment while another process may run
// the link (`verify --repair`) borrows the link instead of taking it over. It holds the link's lend
// lock (a named lock of the destination server, freed when the tool ends or dies) and then takes
// ownership under a borrower's name. The owner it fenced sees the borrower, waits for the lock to be
// free and takes the link back, resuming from what is durable on the destination.

// The owner name of a borrower: "on loan to <what> (host:pid#n)".
std::string BorrowerName(const std::string& what);
// Takes the link's lend lock on `conn` (the lock lives as long as that session), waiting up to
// `timeout` for another borrower to finish.
absl::Status HoldLendLock(SqlConnection* conn, const std::string& link_id, absl::Duration timeout);
// After `owner` was fenced: when the link's owner is a borrower, calls `waiting(borrower)`, waits
// until the borrower is done (its lend lock is free) and, still holding the lock, takes the link
// back as `owner` provided the borrower is still its owner. The new epoch; nullopt when the owner
// is not a borrower (a real takeover, also one made during the loan) or `give_up()` turned true.
// When `owner` already owns the link (a take-back whose reply was lost), its epoch.
absl::StatusOr<std::optional<uint64_t>> TakeBackAfterLoan(SqlConnection* conn, const std::string& link_id,
                                                          const std::string& owner,
                                                          const std::function<void(const std::string& borrower)>& waiting,
                                                          const std::function<bool()>& give_up);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_FENCE_H_
