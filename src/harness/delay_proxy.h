// DelayProxy: a TCP proxy on a free loopback port that forwards to a target and holds every chunk
// for a fixed one-way delay in each direction — two cities on one machine (no tc netem needed).
// Bandwidth is not limited; order within a connection is kept. Cut(true) partitions: bytes in
// either direction are dropped (connections stay open and time out) until Cut(false).
// CloseNextConnectionAt(n) cuts one connection short: the next one accepted is closed when its
// client sends its n-th message (a query in flight meets a lost connection).
#ifndef DUOSYNC_SRC_HARNESS_DELAY_PROXY_H_
#define DUOSYNC_SRC_HARNESS_DELAY_PROXY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace duosync::harness {

class DelayProxy {
 public:
  static absl::StatusOr<std::unique_ptr<DelayProxy>> Start(const std::string& target_host,
                                                           unsigned target_port,
                                                           absl::Duration one_way_delay);
  ~DelayProxy();  // closes every connection
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  unsigned port() const { return port_; }
  void Cut(bool on) { cut_ = on; }
  void CloseNextConnectionAt(int client_chunk) { close_next_at_ = client_chunk; }

 private:
  DelayProxy() = default;
  void AcceptLoop();
  void Serve(int client_fd);

  std::string target_host_;
  unsigned target_port_ = 0;
  absl::Duration delay_;
  int listen_fd_ = -1;
  unsigned port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_{false};
  std::atomic<int> close_next_at_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;              // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
};

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_DELAY_PROXY_H_
