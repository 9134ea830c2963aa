// Keeps a link's conflict log on its destination bounded: records older than the retention are
// deleted when the link starts and then every hour, on a thread of their own (a long delete never
// holds up the applier). A run that finds nothing old writes nothing, so an idle project stays idle.
#ifndef DUOSYNC_SRC_APPLY_CONFLICT_LOG_PRUNER_H_
#define DUOSYNC_SRC_APPLY_CONFLICT_LOG_PRUNER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "sql/sql_connection.h"

namespace duosync {

class ConflictLogPruner {
 public:
  // `origin`: the link's session origin (its deletes must not come back as the other region's).
  ConflictLogPruner(ConnectOptions destination, uint32_t origin, std::string link_id, absl::Duration keep);
  ~ConflictLogPruner();  // stops the thread
  ConflictLogPruner(const ConflictLogPruner&) = delete;
  ConflictLogPruner& operator=(const ConflictLogPruner&) = delete;

 private:
  void Run();
  void PruneOnce();

  const ConnectOptions destination_;
  const uint32_t origin_;
  const std::string link_id_;
  const absl::Duration keep_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CONFLICT_LOG_PRUNER_H_
