#include "link/reader_options.h"

#include "base/names.h"
#include "route/loop_prevention.h"

namespace duosync {
namespace {

// A replica server id of our own for the link's binlog dump: stable across restarts (a restarted
// link replaces its old dump connection) and away from the small ids real servers use.
uint32_t ReplicaServerId(const std::string& link_id) {
  return 1000000000u + static_cast<uint32_t>(StableHash(link_id) % 2000000000u);
}

}  // namespace

ReaderOptions ReaderOptionsFor(const LinkConfig& link, const Router* router) {
  ReaderOptions options;
  options.source = link.source;
  options.replica_server_id = ReplicaServerId(link.id);
  options.wants = [router, guard = link.guard](const TableRef& t) {
    return router->Wants(t) || IsMarkerTable(t, guard);
  };
  options.skip_rows_of_origin = link.guard.drop_origin;
  options.history = SchemaHistoryOptions{link.destination, link.id};
  return options;
}

}  // namespace duosync
