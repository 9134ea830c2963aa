// A replication position as a set of MariaDB GTIDs, one per replication domain — the form of
// @@gtid_binlog_pos and of @slave_connect_state.
#ifndef DUOSYNC_SRC_BASE_GTID_POSITION_H_
#define DUOSYNC_SRC_BASE_GTID_POSITION_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/transaction.h"

namespace duosync {

class GtidPosition {
 public:
  // Parses "0-1-100,1-2-7" (empty = nothing yet). InvalidArgument otherwise.
  static absl::StatusOr<GtidPosition> Parse(absl::string_view text);

  // Records `gtid` as the latest of its domain.
  void Advance(const Gtid& gtid) { domains_[gtid.domain] = gtid; }
  // True when `gtid` is at or before this position in its domain.
  bool Covers(const Gtid& gtid) const;
  // True when this position is at or after `other` in every domain `other` names.
  bool CoversAll(const GtidPosition& other) const;
  bool empty() const { return domains_.empty(); }
  std::string ToString() const;
  const std::map<uint32_t, Gtid>& domains() const { return domains_; }

 private:
  std::map<uint32_t, Gtid> domains_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_GTID_POSITION_H_
