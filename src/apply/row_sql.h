// SQL fragments for one routed row: the destination's table, columns, key and images.
#ifndef DUOSYNC_SRC_APPLY_ROW_SQL_H_
#define DUOSYNC_SRC_APPLY_ROW_SQL_H_

#include <string>
#include <vector>

#include "route/router.h"

namespace duosync {

// "`schema`.`table`" of the destination.
std::string DestinationTable(const Route& route);
// "(`a`,`b`)" of the written columns.
void AppendColumnList(const Route& route, std::string* sql);
// "(v1,v2)" of the written columns of `row`.
void AppendValueTuple(const Route& route, const Row& row, std::string* sql);
// "`a`=v1,`b`=v2" of the written columns of `row`.
void AppendSetList(const Route& route, const Row& row, std::string* sql);
// "`a`=v1" for the written columns whose value differs between `before` and `after` (less for the
// server to parse and write), and every ON UPDATE CURRENT_TIMESTAMP column; "`k`=`k`" on the first
// key column when none is, so the row is still matched and counted.
void AppendChangedSetList(const Route& route, const Row& before, const Row& after, std::string* sql);
// "`k1`=v1 AND `k2`=v2" of the key columns of `row`.
void AppendKeyCondition(const Route& route, const Row& row, std::string* sql);
// "`a`<=>v1 AND `b`<=>v2": the row is exactly this image (NULL-safe) in the written columns.
void AppendImageCondition(const Route& route, const Row& row, std::string* sql);
// "`a`=v1 AND `b`=v2" of the given columns (source positions) of `row`.
void AppendColumnsCondition(const Route& route, const Row& row, const std::vector<int>& columns,
                            std::string* sql);
// "(v1,v2)" of the key columns of `row`.
void AppendKeyTuple(const Route& route, const Row& row, std::string* sql);
// "k1=v1, k2=v2" / "a=v1, b=v2" for messages and the conflict log.
std::string DescribeKey(const Route& route, const Row& row);
std::string DescribeRow(const Route& route, const Row& row);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_ROW_SQL_H_
