#include "apply/statement_grouping.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "apply/key_extractor.h"

namespace duosync {
namespace {

bool IsIntegerType(uint8_t type) {
  switch (type) {
    case coltype::kTiny: case coltype::kShort: case coltype::kLong: case coltype::kLongLong:
    case coltype::kInt24:
      return true;
    default:
      return false;
  }
}

// Types whose literal, read back from a derived table's column and assigned, is the value the
// literal would have set directly. (BIT, JSON, ENUM, SET and spatial values go row by row.)
bool SettableThroughJoin(uint8_t type) {
  if (IsIntegerType(type)) return true;
  switch (type) {
    case coltype::kYear: case coltype::kNewDecimal: case coltype::kFloat: case coltype::kDouble:
    case coltype::kVarchar: case coltype::kVarString: case coltype::kString: case coltype::kTinyBlob:
    case coltype::kMediumBlob: case coltype::kLongBlob: case coltype::kBlob: case coltype::kDate:
    case coltype::kNewDate: case coltype::kTime: case coltype::kTime2: case coltype::kDateTime:
    case coltype::kDateTime2: case coltype::kTimestamp: case coltype::kTimestamp2:
      return true;
    default:
      return false;
  }
}

// What a change must share with the others of its group: table, operation, foreign key checks
// and, for an UPDATE, the columns it sets.
std::string Signature(const GroupedChange& g, const std::vector<int>& update_columns) {
  const RoutedChange& c = *g.change;
  std::string sig(sizeof(const Route*), '\0');
  std::memcpy(&sig[0], &c.route, sizeof(const Route*));
  sig.push_back(static_cast<char>(c.op));
  sig.push_back(c.foreign_key_checks_off ? '1' : '0');
  for (int column : update_columns) sig.append(std::to_string(column)).push_back(',');
  return sig;
}

}  // namespace

std::vector<int> JoinableUpdateColumns(const RoutedChange& change) {
  std::vector<int> columns;
  if (change.op != RowOp::kUpdate || change.before == nullptr || change.after == nullptr) return columns;
  const Route& r = *change.route;
  const TableSchema& schema = *r.schema;
  for (int k : r.key_columns) {
    if (!IsIntegerType(schema.columns[k].type)) return columns;
  }
  for (int c : r.columns) {
    if ((*change.before)[c] == (*change.after)[c] && !schema.columns[c].on_update) continue;
    if (!SettableThroughJoin(schema.columns[c].type)) return {};
    if (std::find(r.key_columns.begin(), r.key_columns.end(), c) != r.key_columns.end()) return {};
    for (const std::vector<int>& unique : schema.unique_keys) {
      if (std::find(unique.begin(), unique.end(), c) != unique.end()) return {};
    }
    columns.push_back(c);
  }
  return columns;
}

std::vector<ChangeGroup> GroupChanges(const std::vector<GroupedChange>& changes) {
  std::vector<ChangeGroup> groups;
  const bool keep_order = std::any_of(changes.begin(), changes.end(), [](const GroupedChange& g) {
    return g.idempotent || !g.change->route->parent_keys.empty();
  });
  if (keep_order) {  // one group in source order (the sink still merges consecutive rows)
    groups.push_back(ChangeGroup{changes, {}});
    return groups;
  }
  absl::flat_hash_map<uint64_t, size_t> last_group;  // key hash -> group of its latest change
  // Signature -> its groups, in order. A change joins the earliest one it may go into: joining
  // only the newest, a batch of a few hundred changes whose rows meet now and then (a row updated
  // after it was deleted and inserted again) went as ~50 statements instead of ~20, and every
  // statement costs the destination a parse and a reply.
  absl::flat_hash_map<std::string, std::vector<size_t>> open;
  std::vector<uint64_t> keys;
  for (const GroupedChange& g : changes) {
    keys.clear();
    ExtractKeys(*g.change, &keys);
    // The earliest group this change may go into: after every group with a change of its keys.
    size_t floor = 0;
    for (uint64_t k : keys) {
      auto it = last_group.find(k);
      if (it != last_group.end()) floor = std::max(floor, it->second + 1);
    }
    std::vector<int> update_columns;
    bool groupable = !g.idempotent;
    if (groupable && g.change->op == RowOp::kUpdate) {
      update_columns = JoinableUpdateColumns(*g.change);
      groupable = !update_columns.empty();
    }
    size_t target = groups.size();
    if (groupable) {
      std::vector<size_t>& same = open[Signature(g, update_columns)];
      for (auto it = std::lower_bound(same.begin(), same.end(), floor); it != same.end(); ++it) {
        if (update_columns.empty() || groups[*it].changes.size() < kMaxJoinedUpdates) {
          target = *it;
          break;
        }
      }
      if (target == groups.size()) same.push_back(target);
    }
    if (target == groups.size()) {
      groups.emplace_back();
      groups.back().update_columns = std::move(update_columns);
    }
    groups[target].changes.push_back(g);
    for (uint64_t k : keys) last_group[k] = target;
  }
  return groups;
}

}  // namespace duosync
