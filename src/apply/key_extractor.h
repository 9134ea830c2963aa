// Key extraction for the parallel applier: every row change yields, for the primary key and each
// NOT NULL unique key of its table, a hash of (destination table, key columns, normalized values)
// for the before and the after image, and for each foreign key to a synced table the hash its
// parent row's key has. Two transactions that share a hash must apply in source order.
//
// Normalization follows the column's collation so that values the destination considers equal
// collide: case-insensitive collations fold case (ASCII and Latin-1/Latin Extended-A letters, with
// accents removed), PAD SPACE collations ignore trailing spaces. Where our folding is coarser than
// the server's, transactions merely wait for each other; where the server is coarser than us (exotic
// collations), the applier's ordered retry on a duplicate key still keeps the result right.
#ifndef DUOSYNC_SRC_APPLY_KEY_EXTRACTOR_H_
#define DUOSYNC_SRC_APPLY_KEY_EXTRACTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/table_schema.h"
#include "base/transaction.h"
#include "route/router.h"

namespace duosync {

// Appends the key hashes of `change` to `out` (duplicates allowed).
void ExtractKeys(const RoutedChange& change, std::vector<uint64_t>* out);

// The comparison form of a value of `column` under its collation (exposed for tests).
std::string NormalizeKeyValue(const Value& value, const ColumnSchema& column);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_KEY_EXTRACTOR_H_
