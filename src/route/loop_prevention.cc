#include "route/loop_prevention.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/names.h"
#include "base/system_schemas.h"
#include "base/table_schema.h"

namespace duosync {

std::pair<uint32_t, uint32_t> OriginIds(const config::Project& project) {
  const auto& aa = project.active_active();
  // Stable per project name, even and odd, away from the small ids servers use and from the ids
  // of the links' binlog dumps (1,000,000,000..3,000,000,000).
  const uint32_t base = 3000000000u + static_cast<uint32_t>(StableHash(project.name()) % 500000000u) * 2;
  return {aa.forward_origin_id() ? aa.forward_origin_id() : base,
          aa.reverse_origin_id() ? aa.reverse_origin_id() : base + 1};
}

std::string LinkId(const config::Project& project, LinkDirection direction) {
  return absl::StrCat(project.name(), "/", LinkName(direction));
}

LoopGuard LoopGuardFor(const config::Project& project, LinkDirection direction) {
  LoopGuard guard;
  if (project.scenario() != config::ACTIVE_ACTIVE) return guard;
  const bool forward = direction == LinkDirection::kForward;
  const LinkDirection opposite = forward ? LinkDirection::kReverse : LinkDirection::kForward;
  if (project.active_active().loop_prevention() == config::MARKER_TABLE) {
    guard.drop_marker_link_id = LinkId(project, opposite);
    return guard;
  }
  const auto [fwd, rev] = OriginIds(project);
  guard.own_origin = forward ? fwd : rev;
  guard.drop_origin = forward ? rev : fwd;
  return guard;
}

bool IsEcho(const Transaction& txn, const LoopGuard& guard) {
  if (guard.drop_origin != 0 && txn.origin_server_id == guard.drop_origin) return true;
  if (guard.drop_marker_link_id.empty()) return false;
  for (const RowChange& c : txn.changes) {
    if (c.op != RowOp::kInsert || !absl::EqualsIgnoreCase(c.table->schema, kMetaSchema) ||
        !absl::EqualsIgnoreCase(c.table->table, "applied")) {
      continue;
    }
    const int col = c.table->ColumnIndex("link_id");
    if (col >= 0 && c.after[col].s == guard.drop_marker_link_id) return true;
  }
  return false;
}

}  // namespace duosync
