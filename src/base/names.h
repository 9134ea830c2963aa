// Rules for database object names, shared by validation, matching rules and SQL generation.
#ifndef DUOSYNC_SRC_BASE_NAMES_H_
#define DUOSYNC_SRC_BASE_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace duosync {

// True when `s` holds a Chinese character (CJK ideographs, radicals, strokes, bopomofo, CJK and
// full-width punctuation). Invalid UTF-8 also counts: such a name cannot be handled safely.
bool HasChineseCharacter(absl::string_view s);

// Empty when `name` is a usable schema/table name, else why not. `kind` is "schema", "table" or
// "column"; "$$" is refused in schema and table names only (product rule).
std::string CheckObjectName(absl::string_view name, absl::string_view kind);

// `name` quoted as a MySQL identifier: `a``b`.
std::string QuoteIdent(absl::string_view name);

// "`schema`.`table`".
std::string QuoteTable(absl::string_view schema, absl::string_view table);

// MySQL-mode names compare case-insensitively (OceanBase MySQL tenants and
// lower_case_table_names=1); Oracle-mode names compare exactly.
bool NamesEqual(absl::string_view a, absl::string_view b, bool case_insensitive);

// A hash that is the same in every process and build (FNV-1a, 64 bits), for ids derived from
// names that must survive restarts. (absl::Hash is seeded per process.)
uint64_t StableHash(absl::string_view s);

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_NAMES_H_
