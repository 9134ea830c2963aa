// MySQL's binary JSON (the JSON column type of MySQL 5.7+ and its binlog rows) and the JSON diffs
// of PARTIAL_UPDATE_ROWS events, turned into the JSON text any MySQL-compatible server accepts.
// MariaDB stores JSON as text, so a MySQL source's JSON reaches it as text with the same value.
// Pure functions over bytes: no server.
#ifndef DUOSYNC_SRC_SOURCE_MYSQL_JSON_H_
#define DUOSYNC_SRC_SOURCE_MYSQL_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace duosync {

// A parsed JSON document. Scalars keep their JSON text (a number, a quoted string, true, ...).
struct JsonNode {
  enum class Kind { kScalar, kObject, kArray };
  Kind kind = Kind::kScalar;
  std::string scalar = "null";
  std::vector<std::pair<std::string, JsonNode>> members;  // kObject, in MySQL's key order
  std::vector<JsonNode> items;                             // kArray
};

// Parses a binary JSON document (type byte, then value). An empty input is JSON null, as MySQL
// reads it. DataLoss on malformed bytes.
absl::StatusOr<JsonNode> ParseBinaryJson(absl::string_view bytes);

// The JSON text of a node, spaced as MySQL prints it: {"a": 1, "b": [1, 2]}.
std::string JsonText(const JsonNode& node);

// ParseBinaryJson then JsonText.
absl::StatusOr<std::string> BinaryJsonToText(absl::string_view bytes);

// One change of a partial JSON update: at `path` (MySQL path syntax, e.g. $.a[2]."b c").
struct JsonDiff {
  enum class Op { kReplace = 0, kInsert = 1, kRemove = 2 };
  Op op = Op::kReplace;
  std::string path;
  std::string value;  // binary JSON; empty for kRemove
};

// The diff list a PARTIAL_UPDATE_ROWS event stores for a JSON column. DataLoss when malformed.
absl::StatusOr<std::vector<JsonDiff>> ParseJsonDiffs(absl::string_view bytes);

// The diff list as the SQL that makes it from `column`, e.g. JSON_REPLACE(@2, '$.age', 26), for
// showing a change whose before image lacks the document.
absl::StatusOr<std::string> JsonDiffsAsSql(absl::string_view bytes, absl::string_view column);

// Applies one diff as the source server did. FailedPrecondition when the path does not fit the
// document (the row in the binlog does not match the before image the diff was made against).
absl::Status ApplyJsonDiff(const JsonDiff& diff, JsonNode* document);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_MYSQL_JSON_H_
