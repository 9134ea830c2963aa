// StatusServer: the read-only HTTP listener beside running projects (`duosync run --listen`,
// duo_project_listen in the C ABI): GET / the console page, GET /metrics in Prometheus' text
// format, GET /status and GET /conflicts as JSON.
// Binds where it is told (loopback unless the host says otherwise); it never shows a secret,
// since project statuses hold none. Built on cpp-httplib (Debian's libcpp-httplib-dev), whose
// header stays in the .cc.
#ifndef DUOSYNC_SRC_SERVE_STATUS_SERVER_H_
#define DUOSYNC_SRC_SERVE_STATUS_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "duosync/report.pb.h"

namespace duosync {

class StatusServer {
 public:
  using Snapshot = std::function<std::vector<report::ProjectStatus>()>;
  // {"<project>": <its conflicts JSON, as Project::ConflictsJson gives it>, ...}
  using ConflictsSnapshot = std::function<std::string()>;

  // `listen` is "HOST:PORT" or ":PORT" (127.0.0.1); port 0 takes a free one. InvalidArgument for
  // a malformed address, Unavailable when it cannot bind. Serves / (the console page), /metrics,
  // /status and /conflicts ("{}" without `conflicts`).
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(const std::string& listen, Snapshot snapshot,
                                                             ConflictsSnapshot conflicts = nullptr);
  ~StatusServer();  // stops serving

  int port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  struct Impl;
  StatusServer() = default;
  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SERVE_STATUS_SERVER_H_
