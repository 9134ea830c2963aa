// Table-parallel work (the full copy, verification): up to `threads` threads, each with its own
// connections, take the next table until every table is done or one fails.
#ifndef DUOSYNC_SRC_FULL_TABLE_WORK_QUEUE_H_
#define DUOSYNC_SRC_FULL_TABLE_WORK_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace duosync {

// Runs work(connections, i) for every table i in [0, tables), on up to `threads` threads; each
// thread first makes its own `Connections` with connect(). After the first error no table is
// started any more; that error is returned once the threads have ended.
template <typename Connections>
absl::Status ForEachTableInParallel(size_t tables, int threads,
                                    const std::function<absl::StatusOr<Connections>()>& connect,
                                    const std::function<absl::Status(Connections&, size_t)>& work) {
  std::mutex mu;
  size_t next = 0;
  absl::Status first_error;
  auto fail = [&](const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = s;
  };
  auto worker = [&] {
    absl::StatusOr<Connections> connections = connect();
    if (!connections.ok()) return fail(connections.status());
    while (true) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error.ok() || next >= tables) return;
        i = next++;
      }
      absl::Status s = work(*connections, i);
      if (!s.ok()) return fail(s);
    }
  };
  std::vector<std::thread> pool;
  const size_t n = std::max<size_t>(1, std::min<size_t>(std::max(threads, 1), tables));
  for (size_t i = 0; i < n; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_TABLE_WORK_QUEUE_H_
