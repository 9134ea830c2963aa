// Full verification of a forward link: per chunk of the key order, a row count and two aggregate
// checksums (SUM and BIT_XOR of each row's CRC32) computed inside each database; chunks that
// differ are drilled down to their rows. Rows that differ are re-checked after a pause (a live
// link may simply not have applied them yet); those that still differ are reported — missing on
// the destination, extra on the destination, different — with repair statements.
// A row's CRC covers every synced column exactly (FLOAT widened, NULL told apart from empty,
// trailing spaces and letter case count), so collation traps are found, not hidden.
#ifndef DUOSYNC_SRC_FULL_VERIFIER_H_
#define DUOSYNC_SRC_FULL_VERIFIER_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/object_selector.h"
#include "sql/sql_connection.h"

namespace duosync {

struct VerifyOptions {
  ConnectOptions source, destination;
  std::vector<SelectedTable> tables;
  int threads = 4;
  int chunk_rows = 5000;
  int recheck_rounds = 3;
  absl::Duration recheck_delay = absl::Seconds(1);
  bool repair = false;  // apply the repair statements to the destination
  uint32_t origin = 0;  // session origin of repair writes (active-active: they must not echo)
  // With `repair`, around the final read of the differing rows' source images: `hold_link` is
  // called just before it (when some row differs), so that a live link stops moving the rows;
  // `apply_repair` then applies the statements built from those images (instead of one plain
  // destination transaction).
  std::function<absl::Status()> hold_link;
  std::function<absl::Status(const std::vector<std::string>& statements)> apply_repair;
  // Called (from worker threads, serialized) after each chunk with tables done/total and rows
  // checked so far.
  std::function<void(int tables_done, int tables_total, uint64_t rows_checked)> progress;
};

struct TableDiff {
  std::string table;  // source "schema.table"
  uint64_t rows_checked = 0;
  uint64_t chunks = 0;
  std::vector<std::string> missing, extra, different;  // keys, "id=5"
};

struct VerifyReport {
  bool equal = true;
  uint64_t rows_checked = 0;
  double seconds = 0;
  std::vector<TableDiff> tables;
  std::vector<std::string> repair;  // SQL for the destination
  bool repaired = false;
};

absl::StatusOr<VerifyReport> RunVerification(const VerifyOptions& options);

// {"equal", "rows_checked", "seconds", "repaired", "tables": [{"table", "rows_checked", "chunks",
//  "missing": [...], "extra": [...], "different": [...]}], "repair": [...]}
std::string VerifyReportJson(const VerifyReport& report);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_VERIFIER_H_
