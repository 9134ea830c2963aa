#include "project/switchover.h"

#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "base/status_macros.h"

namespace duosync {

absl::StatusOr<LinkDirection> ActiveDirection(const ProjectConfig& project) {
  auto forward = CheckpointTables::Connect(project.forward.destination, project.forward.id);
  if (!forward.ok()) return forward.status();
  auto stage = (*forward)->ReadStage();
  if (absl::IsNotFound(stage.status())) return LinkDirection::kForward;  // never started
  if (!stage.ok()) return stage.status();
  if (stage->first != kSwitchedStage) return LinkDirection::kForward;
  // Both retired: a switch back to forward stopped between its two steps. Finish it.
  const LinkConfig reverse = ReverseOf(project.raw);
  auto tables = CheckpointTables::Connect(reverse.destination, reverse.id);
  if (!tables.ok()) return tables.status();
  auto reverse_stage = (*tables)->ReadStage();
  if (!reverse_stage.ok() && !absl::IsNotFound(reverse_stage.status())) return reverse_stage.status();
  if (reverse_stage.ok() && reverse_stage->first == kSwitchedStage) {
    DUO_RETURN_IF_ERROR(StartLinkAt(project.forward, reverse_stage->second));
    return LinkDirection::kForward;
  }
  return LinkDirection::kReverse;
}

LinkConfig ReverseOf(const config::Project& project) {
  config::Project reversed = project;
  config::Link* reverse = reversed.mutable_reverse();
  reverse->add_migration_types(config::INCREMENTAL);
  *reverse->mutable_dml() = project.forward().dml();
  *reverse->mutable_options() = project.forward().options();
  return ResolveLink(reversed, LinkDirection::kReverse);
}

namespace {

// `link`'s bookkeeping tables, the link taken over by this call (a process still running it is
// fenced from now on).
absl::StatusOr<std::unique_ptr<CheckpointTables>> TakeOver(const LinkConfig& link) {
  auto tables = CheckpointTables::Connect(link.destination, link.id, link.guard.own_origin);
  if (!tables.ok()) return tables.status();
  DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
  auto epoch = (*tables)->TakeOwnership(NewOwnerName());
  if (!epoch.ok()) return epoch.status();
  return std::move(*tables);
}

// Retires `link`: its stage row says the project runs the other way from `position` on.
absl::Status RetireLink(const LinkConfig& link, const std::string& position) {
  auto tables = TakeOver(link);
  if (!tables.ok()) return tables.status();
  return (*tables)->WriteStage(kSwitchedStage, position);
}

}  // namespace

absl::Status StartLinkAt(const LinkConfig& link, const std::string& position) {
  auto tables = TakeOver(link);
  if (!tables.ok()) return tables.status();
  DUO_RETURN_IF_ERROR((*tables)->ResetCheckpoint(position));
  return (*tables)->WriteStage("incremental", "");
}

absl::Status RecordSwitch(const LinkConfig& from, const LinkConfig& to, const std::string& position) {
  // The forward link's stage row decides the direction (ActiveDirection): it is written last.
  if (to.direction == LinkDirection::kReverse) {
    DUO_RETURN_IF_ERROR(StartLinkAt(to, position));
    return RetireLink(from, position);
  }
  DUO_RETURN_IF_ERROR(RetireLink(from, position));
  return StartLinkAt(to, position);
}

}  // namespace duosync
