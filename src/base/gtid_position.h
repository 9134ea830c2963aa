// A replication position: what a source has sent up to a point, in the source's own dialect.
//   MariaDB  one GTID per replication domain ("0-1-100,1-2-7", the form of @@gtid_binlog_pos);
//   MySQL    a GTID set: per source uuid, the sequence intervals seen
//            ("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9", the form of @@gtid_executed);
//   file     the end of the last transaction in a binlog file series ("binlog.000042:1234"), for
//            transactions a source wrote without GTIDs.
// A position may hold more than one form (a MySQL server that turned gtid_mode on keeps its older
// transactions by file). Text forms are joined by ',' in that order.
#ifndef DUOSYNC_SRC_BASE_GTID_POSITION_H_
#define DUOSYNC_SRC_BASE_GTID_POSITION_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/transaction.h"

namespace duosync {

class GtidPosition {
 public:
  // Sorted, disjoint, non-adjacent [first, last] sequence intervals of one MySQL source.
  using Intervals = std::vector<std::pair<uint64_t, uint64_t>>;

  // Parses any of the forms above (empty = nothing yet). InvalidArgument, naming the part that
  // is none of them.
  static absl::StatusOr<GtidPosition> Parse(absl::string_view text);

  // Records `gtid` as seen: the latest of its MariaDB domain, one more member of its MySQL
  // source's set, or the file place reached.
  void Advance(const Gtid& gtid);
  // Adds everything `other` has seen (the later of each domain and file place, the union of sets).
  void Merge(const GtidPosition& other);
  // True when `gtid` is at or before this position.
  bool Covers(const Gtid& gtid) const;
  // True when this position has seen everything `other` has.
  bool CoversAll(const GtidPosition& other) const;
  // Like CoversAll, but only for the domains, MySQL sources and file series this position names:
  // one it never saw belongs to its start state. (Whether a list of binlog files starting at
  // `other` leaves a gap before this position.)
  bool CoversWhereNamed(const GtidPosition& other) const;
  // True when the two share a MariaDB domain, a MySQL source or a binlog file series.
  bool NamesAnyOf(const GtidPosition& other) const;
  bool empty() const { return domains_.empty() && mysql_.empty() && file_.file_series.empty(); }
  std::string ToString() const;

  const std::map<uint32_t, Gtid>& domains() const { return domains_; }
  const std::map<std::string, Intervals>& mysql_sets() const { return mysql_; }
  // The file place reached (file_series empty when none).
  const Gtid& file_place() const { return file_; }

 private:
  std::map<uint32_t, Gtid> domains_;
  std::map<std::string, Intervals> mysql_;  // by source uuid (":tag" appended for tagged GTIDs)
  Gtid file_;
};

// Whether a configured start can be served by a source whose binlog ends at `end`, in the
// source's dialect (`mariadb_source`): InvalidArgument, naming the mismatch and what to use, for
// a position of the other dialect, one that names none of the source's servers (MariaDB domains,
// MySQL uuids, file series: a position from another server), or one past the source's end.
// Nothing to compare with an empty `end` (a source that wrote nothing yet).
absl::Status CheckStartFitsSource(const GtidPosition& start, const GtidPosition& end, bool mariadb_source);

// True for text in the form of a server uuid (8-4-4-4-12 hex digits).
bool IsServerUuid(absl::string_view text);

// "mysql-bin.000012" -> ("mysql-bin", 12); false for other names (an .index file, notes, ...).
bool SplitBinlogName(absl::string_view name, std::string* series, uint64_t* number);
// ("mysql-bin", 12) -> "mysql-bin.000012".
std::string BinlogFileName(absl::string_view series, uint64_t number);

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_GTID_POSITION_H_
