// Schema migration and full migration of a forward link.
//
// Schema: each selected table is created on the destination from the source's definition (renamed,
// charset and collation kept, left-out columns dropped); an existing table must have every synced
// column with the same type, else the difference is named. With post-indexing, secondary indexes
// are dropped before the load and added after it (also after a crash: missing indexes are added).
//
// Full copy: the incremental start position P0 is recorded first; tables are then copied in key
// order, chunk by chunk (no long locks), by several threads; each chunk is written in one
// destination transaction together with the table's progress, so an interrupted copy resumes at
// the next chunk. When every table is done, the source position P1 is recorded: the incremental
// stage applies changes up to P1 idempotently (the copy may already hold them), strictly after.
#ifndef DUOSYNC_SRC_FULL_FULL_MIGRATION_H_
#define DUOSYNC_SRC_FULL_FULL_MIGRATION_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/object_selector.h"
#include "duosync/config.pb.h"
#include "sql/sql_connection.h"

namespace duosync {

struct FullMigrationOptions {
  ConnectOptions source, destination;
  std::string link_id;
  std::vector<SelectedTable> tables;
  std::vector<SelectedTable> views;  // created after the tables (schema migration)
  bool schema = false;  // run schema migration first
  bool copy = false;    // run the full copy
  bool post_indexing = false;
  bool allow_nonempty_destination = false;
  uint32_t origin = 0;  // session origin tag of the destination writes (active-active)
  uint64_t epoch = 0;   // ownership epoch fencing each chunk's transaction (fence.h); 0 = none
  int threads = 4;
  int chunk_rows = 5000;
  config::FullLoad full_load = config::FULL_LOAD_AUTO;  // the forms chunks may be written in (chunk_writer.h)
  const std::atomic<bool>* stop = nullptr;
};

struct FullMigrationProgress {
  uint64_t rows_copied = 0;
  uint64_t rows_estimated = 0;
  int tables_done = 0;
  int tables_total = 0;
};

// Runs the schema and copy steps; resumable. `progress` is called from worker threads.
absl::Status RunFullMigration(const FullMigrationOptions& options,
                              const std::function<void(const FullMigrationProgress&)>& progress);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_FULL_MIGRATION_H_
