// Statement grouping: the order in which one destination transaction writes its row changes, so
// that changes of the same kind to the same table come together and go as one statement (a
// multi-row INSERT, a DELETE ... IN list, a joined UPDATE) instead of one statement each. On the
// destination a statement costs a parse, a table open and a reply packet whatever its rows: a batch
// of merged sysbench transactions goes from ~400 statements to a few dozen.
//
// A change moves up to join an earlier group only when no change in between shares a key hash with
// it (key_extractor.h: primary and NOT NULL unique keys, before and after image): two changes of
// one row or of one unique value keep their order. What the hashes cannot see (a nullable unique
// key, a function-based one) can only fail with a duplicate key: the applier then retries each
// transaction alone and ungrouped, in source order.
//
// Nothing moves (the changes are one group, in source order) in a batch that holds
//  - a change of a table with a foreign key to a synced table: a cascade, or a parent key that is
//    not a trusted unique key (a nullable UNIQUE, a plain index), could act on a child row that
//    moved, with no error to say so;
//  - an idempotent change (DELETE + REPLACE after a copy): REPLACE also removes rows that meet it
//    on a unique key the hashes cannot see, and a row that moved ahead of it could be one.
#ifndef DUOSYNC_SRC_APPLY_STATEMENT_GROUPING_H_
#define DUOSYNC_SRC_APPLY_STATEMENT_GROUPING_H_

#include <vector>

#include "route/router.h"

namespace duosync {

struct GroupedChange {
  const RoutedChange* change;
  bool idempotent = false;  // written as DELETE + REPLACE (sink.cc): never grouped
};

struct ChangeGroup {
  std::vector<GroupedChange> changes;  // in source order
  // An UPDATE group written as one joined statement: the columns it sets (source positions).
  // Empty for every other group (whose changes go one after another; the sink merges
  // consecutive INSERTs and DELETEs of a table).
  std::vector<int> update_columns;
};

// At most this many UPDATEs share a joined statement (each is a SELECT of its derived table).
inline constexpr size_t kMaxJoinedUpdates = 1000;

// The changes (in source order) as groups, in the order to write them.
std::vector<ChangeGroup> GroupChanges(const std::vector<GroupedChange>& changes);

// The columns an UPDATE sets, when it can share a joined UPDATE statement: its key is integer
// columns, it changes no unique key column, and it sets at least one column, each of a type whose
// literal keeps its meaning through a derived table (numbers, strings, dates). Empty otherwise.
std::vector<int> JoinableUpdateColumns(const RoutedChange& change);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_STATEMENT_GROUPING_H_
