#include "full/key_range_split.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace duosync {
namespace {

constexpr char kSplitPrefix[] = "$$pieces:";

// A signed or unsigned 64-bit integer's text as a 128-bit value (both fit, with room for sums).
bool ParseWide(const std::string& text, __int128* out) {
  int64_t s;
  uint64_t u;
  if (absl::SimpleAtoi(text, &s)) {
    *out = s;
    return true;
  }
  if (absl::SimpleAtoi(text, &u)) {
    *out = u;
    return true;
  }
  return false;
}

std::string WideText(__int128 v) {
  if (v < 0) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(static_cast<uint64_t>(v));
}

}  // namespace

int PieceCount(uint64_t estimated_rows, int threads) {
  if (threads <= 1) return 1;
  return static_cast<int>(std::clamp<uint64_t>(estimated_rows / kMinRowsPerPiece, 1, threads));
}

absl::StatusOr<std::vector<std::string>> SplitIntegerRange(const std::string& min, const std::string& max,
                                                           int n) {
  __int128 lo, hi;
  if (!ParseWide(min, &lo) || !ParseWide(max, &hi)) {
    return absl::InvalidArgumentError(absl::StrCat("key range [", min, ", ", max, "] is not of integers"));
  }
  std::vector<std::string> bounds;
  if (hi < lo || n <= 1) return bounds;
  const __int128 width = hi - lo + 1;
  __int128 last = lo;
  for (int i = 1; i < n; ++i) {
    const __int128 b = lo + width * i / n;
    if (b <= last) continue;  // fewer values than pieces: no empty range
    bounds.push_back(WideText(b));
    last = b;
  }
  return bounds;
}

std::string SplitText(const std::vector<std::string>& bounds) {
  return absl::StrCat(kSplitPrefix, absl::StrJoin(bounds, ","));
}

absl::StatusOr<std::optional<std::vector<std::string>>> ParseSplit(const std::string& last_key) {
  if (!absl::StartsWith(last_key, kSplitPrefix)) return std::nullopt;
  std::vector<std::string> bounds =
      absl::StrSplit(last_key.substr(sizeof(kSplitPrefix) - 1), ',', absl::SkipEmpty());
  __int128 previous = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    __int128 v;
    if (!ParseWide(bounds[i], &v) || (i > 0 && v <= previous)) {
      return absl::DataLossError(absl::StrCat("the saved cut of a table's copy reads '", last_key,
                                              "': not rising integers"));
    }
    previous = v;
  }
  return std::optional<std::vector<std::string>>(std::move(bounds));
}

std::string PieceName(const std::string& table, int index) { return absl::StrCat(table, "$$", index); }

std::string PieceCondition(const std::string& column, const std::vector<std::string>& bounds, int index) {
  std::string out;
  if (index > 1) absl::StrAppend(&out, " AND ", column, ">=", bounds[index - 2]);
  if (index <= static_cast<int>(bounds.size())) absl::StrAppend(&out, " AND ", column, "<", bounds[index - 1]);
  return out;
}

}  // namespace duosync
