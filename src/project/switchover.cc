#include "project/switchover.h"

#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "base/status_macros.h"

namespace duosync {

absl::StatusOr<LinkDirection> ActiveDirection(const ProjectConfig& project) {
  auto tables = CheckpointTables::Connect(project.forward.destination, project.forward.id);
  if (!tables.ok()) return tables.status();
  auto stage = (*tables)->ReadStage();
  if (absl::IsNotFound(stage.status())) return LinkDirection::kForward;  // never started
  if (!stage.ok()) return stage.status();
  return stage->first == kSwitchedStage ? LinkDirection::kReverse : LinkDirection::kForward;
}

LinkConfig ReverseOf(const config::Project& project) {
  config::Project reversed = project;
  config::Link* reverse = reversed.mutable_reverse();
  reverse->add_migration_types(config::INCREMENTAL);
  *reverse->mutable_dml() = project.forward().dml();
  *reverse->mutable_options() = project.forward().options();
  return ResolveLink(reversed, LinkDirection::kReverse);
}

absl::Status RecordSwitch(const LinkConfig& from, const LinkConfig& to, const std::string& position) {
  const std::string owner = NewOwnerName();
  auto to_tables = CheckpointTables::Connect(to.destination, to.id, to.guard.own_origin);
  if (!to_tables.ok()) return to_tables.status();
  DUO_RETURN_IF_ERROR((*to_tables)->EnsureTables());
  auto epoch = (*to_tables)->TakeOwnership(owner);
  if (!epoch.ok()) return epoch.status();
  DUO_RETURN_IF_ERROR((*to_tables)->ResetCheckpoint(position));
  DUO_RETURN_IF_ERROR((*to_tables)->WriteStage("incremental", ""));

  auto from_tables = CheckpointTables::Connect(from.destination, from.id, from.guard.own_origin);
  if (!from_tables.ok()) return from_tables.status();
  DUO_RETURN_IF_ERROR((*from_tables)->EnsureTables());
  epoch = (*from_tables)->TakeOwnership(owner);
  if (!epoch.ok()) return epoch.status();
  return (*from_tables)->WriteStage(kSwitchedStage, position);
}

}  // namespace duosync
