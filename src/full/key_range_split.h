// Parallelism inside one table's full copy: the table is cut into pieces by ranges of the first
// key column (an integer), each copied by its own thread and resumed by its own progress row.
//
// The cut is saved when the table's copy starts (the table's row in duosync.full_progress keeps
// it as "$$pieces:b1,b2,...") and used again on resume, whatever the table's keys are by then:
// piece i holds first-key values in [b(i-1), b(i)), the first piece everything below b1 and the
// last everything from its bound up. Piece rows are named "<table>$$<i>": "$$" is refused in
// schema and table names, so no table's own row can take that name.
#ifndef DUOSYNC_SRC_FULL_KEY_RANGE_SPLIT_H_
#define DUOSYNC_SRC_FULL_KEY_RANGE_SPLIT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace duosync {

// A table is cut only where each piece gets at least this many rows (by the server's estimate).
constexpr uint64_t kMinRowsPerPiece = 50000;

// How many pieces a table of about `estimated_rows` is cut into for `threads` threads.
int PieceCount(uint64_t estimated_rows, int threads);

// The n-1 inner bounds (decimal) cutting [min, max] of an integer column into n ranges of equal
// width; fewer when the range is narrower than n values. InvalidArgument for text that is not an
// integer of at most 64 bits.
absl::StatusOr<std::vector<std::string>> SplitIntegerRange(const std::string& min, const std::string& max,
                                                           int n);

// The saved cut: "$$pieces:" and the bounds joined by ','. ParseSplit gives nullopt for a
// last_key that is not a cut (a table copied whole keeps its last key there), DataLoss for a cut
// that does not read back.
std::string SplitText(const std::vector<std::string>& bounds);
absl::StatusOr<std::optional<std::vector<std::string>>> ParseSplit(const std::string& last_key);

// The progress row of piece `index` (1-based) of `table`.
std::string PieceName(const std::string& table, int index);

// The WHERE condition (" AND ..." or "") keeping piece `index` of `bounds.size() + 1` pieces on
// the quoted column `column`.
std::string PieceCondition(const std::string& column, const std::vector<std::string>& bounds, int index);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_KEY_RANGE_SPLIT_H_
