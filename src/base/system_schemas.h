// Schemas that are never synced: the server's own, and duosync's bookkeeping schema on each
// destination (checkpoint, applied, stage, full_progress, schema_history) and its scratch schema.
#ifndef DUOSYNC_SRC_BASE_SYSTEM_SCHEMAS_H_
#define DUOSYNC_SRC_BASE_SYSTEM_SCHEMAS_H_

#include "absl/strings/string_view.h"

namespace duosync {

// Where duosync keeps its tables on a destination.
inline constexpr const char* kMetaSchema = "duosync";
// Where the schema history replays DDL on copies of table definitions (schema_history.h).
inline constexpr const char* kScratchSchema = "duosync_scratch";

// True for a server schema, kMetaSchema or kScratchSchema (case-insensitive).
bool IsSystemSchema(absl::string_view schema);

// The same list as SQL, for "TABLE_SCHEMA NOT IN <list>": "('mysql',...,'duosync')".
const char* SystemSchemasSqlList();

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_SYSTEM_SCHEMAS_H_
