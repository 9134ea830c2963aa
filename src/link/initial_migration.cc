#include "link/initial_migration.h"

#include "base/status_macros.h"
#include "config/object_selector.h"
#include "full/full_migration.h"
#include "sql/catalog.h"

namespace duosync {

absl::Status RunInitialMigration(const LinkConfig& link, uint64_t epoch, CheckpointTables* tables,
                                   const std::atomic<bool>* stop, LinkState* state) {
  state->SetStage(link.full_copy ? "full" : "schema");
  auto source = SqlConnection::Connect(link.source);
  if (!source.ok()) return source.status();
  auto source_tables = ListTables(source->get());
  if (!source_tables.ok()) return source_tables.status();
  FullMigrationOptions o;
  o.source = link.source;
  o.destination = link.destination;
  o.link_id = link.id;
  o.schema = link.schema_migration;
  o.copy = link.full_copy;
  o.post_indexing = link.post_indexing;
  o.allow_nonempty_destination = link.allow_nonempty_destination;
  o.origin = link.guard.own_origin;
  o.epoch = epoch;
  o.stop = stop;
  o.threads = link.copy.threads;
  o.chunk_rows = link.copy.chunk_rows;
  o.full_load = link.full_load;
  auto views = ListViews(source->get());
  if (!views.ok()) return views.status();
  const ObjectSelector selector(link.objects, link.case_insensitive);
  o.tables = selector.SelectAll(*source_tables);
  o.views = selector.SelectAll(*views);
  DUO_RETURN_IF_ERROR(RunFullMigration(o, [state](const FullMigrationProgress& p) {
    state->SetFullProgress(p.rows_copied, p.rows_estimated, p.tables_done, p.tables_total);
  }));
  std::string copy_end;
  if (link.full_copy) {
    auto end = ReadBinlogPosition(source->get());
    if (!end.ok()) return end.status();
    copy_end = *end;
  }
  DUO_RETURN_IF_ERROR(tables->WriteStage("incremental", copy_end));
  state->SetStage("incremental");
  return absl::OkStatus();
}

}  // namespace duosync
