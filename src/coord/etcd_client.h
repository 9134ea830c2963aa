// EtcdClient: the few etcd v3 calls coordinated mode needs (leases, compare-and-put, prefix reads),
// through etcd's JSON gateway (POST /v3/...) over cpp-httplib, which the status server already
// uses. Why the gateway and not gRPC: etcd's published .proto files pull in gogoproto and Google
// API annotations that Debian does not package, and these calls are few, small and short-lived;
// HTTP/1.1 with keep-alive per endpoint is plenty at a few requests a second.
//
// Every call tries the endpoints in turn (the last one that answered first) with a short timeout,
// so a dead or partitioned member costs one timeout, not the call. Thread-safe.
#ifndef DUOSYNC_SRC_COORD_ETCD_CLIENT_H_
#define DUOSYNC_SRC_COORD_ETCD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace duosync {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://host:port" / "https://host:port"
  std::string ca_file;                 // https: the CA that signed etcd's certificate
  std::string cert_file, key_file;     // https: a client certificate, when etcd asks for one
  std::string user, password;          // etcd authentication, when enabled
  absl::Duration timeout = absl::Seconds(1);  // per request and endpoint
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t lease = 0;
  int64_t create_revision = 0;
};

class EtcdClient {
 public:
  // InvalidArgument for an endpoint that is not http(s)://host:port.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(const EtcdOptions& options);
  ~EtcdClient();

  // A new lease of `ttl_seconds`; its id.
  absl::StatusOr<int64_t> GrantLease(int64_t ttl_seconds);
  // Renews `lease`; NotFound once it has expired (or was revoked).
  absl::Status KeepAlive(int64_t lease);
  // Seconds `lease` has left and was granted for; NotFound once it has expired.
  absl::StatusOr<std::pair<int64_t, int64_t>> TimeToLive(int64_t lease);
  absl::Status Revoke(int64_t lease);

  // Every key that starts with `prefix`, in key order.
  absl::StatusOr<std::vector<EtcdKeyValue>> ReadPrefix(const std::string& prefix);
  absl::Status Put(const std::string& key, const std::string& value, int64_t lease);
  // Puts `key` only if it does not exist: true when this call created it.
  absl::StatusOr<bool> CreateIfAbsent(const std::string& key, const std::string& value, int64_t lease);
  // Deletes `key` only if it holds `value` (a release that cannot remove a successor's key).
  absl::Status DeleteIfValue(const std::string& key, const std::string& value);

  // Any other gateway call (administration, tests): POSTs `json` to `path` ("/v3/auth/enable");
  // the reply's JSON.
  absl::StatusOr<std::string> Call(const std::string& path, const std::string& json) { return Post(path, json); }

  // The endpoint that answered last (for messages).
  std::string current_endpoint() const;

 private:
  struct Endpoint;
  EtcdClient() = default;
  // POSTs `body` (JSON) to `path` on the endpoints in turn; the reply's JSON. A reply with an
  // etcd error becomes a status of its gRPC code; Unavailable when no endpoint answered.
  absl::StatusOr<std::string> Post(const std::string& path, const std::string& body);
  absl::StatusOr<std::string> PostOnce(Endpoint* endpoint, const std::string& path, const std::string& body,
                                       bool* transport_error);
  absl::Status Authenticate(Endpoint* endpoint);

  EtcdOptions options_;
  mutable std::mutex mu_;  // one request at a time: replies are small and calls few
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  size_t current_ = 0;
  std::string token_;  // guarded by mu_
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_COORD_ETCD_CLIENT_H_
