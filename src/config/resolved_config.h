// The project config resolved once, at the edge: defaults filled and derived values computed in
// this one place, into plain structs that every stage reads (the link, precheck, verification).
// Nothing downstream looks at the tenant mode, the scenario or an unset option again.
#ifndef DUOSYNC_SRC_CONFIG_RESOLVED_CONFIG_H_
#define DUOSYNC_SRC_CONFIG_RESOLVED_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "base/link_direction.h"
#include "duosync/config.pb.h"
#include "sql/sql_connection.h"

namespace duosync {

// How long each destination keeps a link's conflict records (ConflictSettings.log_retention_days).
inline constexpr uint32_t kDefaultConflictLogRetentionDays = 30;
inline constexpr uint32_t kMaxConflictLogRetentionDays = 36500;
inline absl::Duration ConflictLogRetention(const config::ConflictSettings& c) {
  const uint32_t days = c.log_retention_days() == 0 ? kDefaultConflictLogRetentionDays : c.log_retention_days();
  return absl::Hours(24) * days;
}

// Fills the defaults the product defines, before validation: tenant mode MYSQL, scenario
// DATA_MIGRATION, all three DML ops when none is given, the endpoints' tenant mode from the project.
void ApplyDefaults(config::Project* project);

// Names compare case-insensitively in MySQL tenants (OceanBase MySQL mode and
// lower_case_table_names=1), exactly in Oracle tenants.
bool NamesCaseInsensitive(const config::Project& project);

ConnectOptions ConnectOptionsFor(const config::Endpoint& endpoint);

// Threads and chunk size of a copy or verification concurrency level (README's table).
struct CopyLevel {
  int threads = 4;
  int chunk_rows = 5000;
};
CopyLevel CopyLevelFor(config::Concurrency level);

// Loop prevention of one link of an active-active project (route/loop_prevention.h): what its
// applier tags its writes with, and what its reader drops because the opposite link applied it.
struct LoopGuard {
  uint32_t own_origin = 0;          // session origin of this link's applier; 0 = untagged
  uint32_t drop_origin = 0;         // the reader drops transactions of this origin; 0 = none
  std::string drop_marker_link_id;  // the reader drops transactions marked by this link
};

// Reserved origins of the forward and reverse appliers (explicit, or derived from the name).
std::pair<uint32_t, uint32_t> OriginIds(const config::Project& project);

// The id a link records in duosync.checkpoint / duosync.applied: "<project>/<forward|reverse>".
std::string LinkId(const config::Project& project, LinkDirection direction);

// One link, resolved.
struct LinkConfig {
  LinkDirection direction = LinkDirection::kForward;
  std::string id;  // LinkId
  ConnectOptions source, destination;
  bool case_insensitive = true;  // NamesCaseInsensitive
  bool active_active = false;

  config::Link link;                 // as configured, defaults applied (DML ops, DDL, options)
  config::ObjectSelection objects;   // effective: a reverse link without its own mirrors forward's
  bool schema_migration = false;     // SCHEMA among the migration types
  bool full_copy = false;            // FULL among the migration types
  bool incremental = false;          // INCREMENTAL among the migration types
  std::string start_position;        // start_gtid; empty = the source's current end
  // Source endpoint's binlog_dir: the link reads binlog files there instead of a server (and an
  // empty start_position means the first file's beginning).
  std::string source_binlog_dir;

  LoopGuard guard;                    // empty unless active-active
  config::ConflictSettings conflicts;  // active-active only
  // Active-active: this link's incoming changes come from the priority region (they win
  // REGION_PRIORITY conflicts and LAST_WRITER_WINS ties).
  bool incoming_has_priority = false;

  // Incremental apply.
  int apply_workers = 16;
  int apply_batch_transactions = 200;
  int apply_batch_rows = 5000;
  size_t transaction_part_bytes = size_t{32} << 20;  // a bigger transaction is applied in parts

  // Schema and full migration.
  CopyLevel copy;
  config::FullLoad full_load = config::FULL_LOAD_AUTO;
  bool post_indexing = false;
  bool allow_nonempty_destination = false;

  // The record store: kept when retention_hours > 0, in <data_dir>/<project>/<link>.
  bool keeps_records = false;
  std::string store_dir;
  absl::Duration retention = absl::ZeroDuration();
  uint64_t store_segment_bytes = 0;  // 0 = the store's default
};

// Coordinated mode (the config's coordination section), resolved: the password read.
struct CoordinationConfig {
  std::vector<std::string> etcd_endpoints;  // empty: not coordinated
  std::string ca_file, cert_file, key_file;
  std::string user, password;
  int lease_ttl_seconds = 3;
  std::string key_prefix = "/duosync";
};

// The whole project, resolved.
struct ProjectConfig {
  config::Project raw;  // validated, defaults applied
  bool case_insensitive = true;
  ConnectOptions a, b;
  LinkConfig forward;
  std::optional<LinkConfig> reverse;
  CopyLevel verify;  // verification of the forward link
  CoordinationConfig coordination;
};

// REQUIRES: `project` has defaults applied and passed validation.
LinkConfig ResolveLink(const config::Project& project, LinkDirection direction);
ProjectConfig ResolveProject(const config::Project& project);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_RESOLVED_CONFIG_H_
