#include "apply/conflict_log_pruner.h"

#include <utility>

#include "apply/conflict_log.h"
#include "glog/logging.h"
#include "sql/destination_session.h"

namespace duosync {

ConflictLogPruner::ConflictLogPruner(ConnectOptions destination, uint32_t origin, std::string link_id,
                                     absl::Duration keep)
    : destination_(std::move(destination)), origin_(origin), link_id_(std::move(link_id)), keep_(keep) {
  thread_ = std::thread([this] { Run(); });
}

ConflictLogPruner::~ConflictLogPruner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ConflictLogPruner::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    PruneOnce();
    lock.lock();
    cv_.wait_for(lock, std::chrono::hours(1), [this] { return stop_; });
  }
}

void ConflictLogPruner::PruneOnce() {
  auto conn = ConnectDestination(destination_, origin_);
  if (!conn.ok()) return;  // the next hour tries again; the link reports a lost destination
  const int64_t before = absl::ToUnixSeconds(absl::Now() - keep_);
  auto deleted = PruneConflicts(conn->get(), link_id_, before, [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  });
  if (!deleted.ok()) {
    LOG(WARNING) << link_id_ << ": cannot delete old conflict records: " << deleted.status();
  } else if (*deleted > 0) {
    LOG(INFO) << link_id_ << ": deleted " << *deleted << " conflict records older than " << absl::FormatDuration(keep_);
  }
}

}  // namespace duosync
