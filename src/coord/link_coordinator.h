// LinkCoordinator: coordinated mode for one project in one process. The process registers as a
// member under an etcd lease and runs the links etcd says it owns; the owner key of a link lives
// under the owner's lease, so it vanishes when the owner dies, stalls or loses etcd, and another
// member takes it over (rules: ownership_plan.h).
//
// Three threads, so that no wait delays another:
//   - the lease thread renews the lease every ttl/6 (a renewal to a partitioned member costs a
//     timeout per endpoint);
//   - the watchdog stops every link run here once the last renewal is older than 2/3 of the TTL:
//     the lease may then expire in the others' view soon (the destination fence refuses whatever
//     a frozen thread still tries);
//   - the reconcile thread reads the prefix, runs what it owns, takes free links, gives one up
//     to balance, and notices links that were taken over (a takeover's fencing epoch may wait
//     for the old owner's open transaction).
// Keys: <prefix>/members/<project>/<member> and <prefix>/owners/<project>/<link> = member.
#ifndef DUOSYNC_SRC_COORD_LINK_COORDINATOR_H_
#define DUOSYNC_SRC_COORD_LINK_COORDINATOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coord/etcd_client.h"
#include "coord/ownership_plan.h"
#include "duosync/report.pb.h"

namespace duosync {

struct CoordinatorSettings {
  EtcdOptions etcd;
  int lease_ttl_seconds = 3;
  std::string key_prefix = "/duosync";
  std::string project;
  std::vector<std::string> links;  // "forward", "reverse"
  OwnershipRules rules;
};

// What the coordinator does to a link of its project; called from its reconcile thread only.
struct CoordinatorHooks {
  // Starts the link here; the fencing epoch it took on the destination.
  std::function<absl::StatusOr<uint64_t>(const std::string& link)> start;
  // Stops the link here (joins its threads). Idempotent.
  std::function<void(const std::string& link)> stop;
  // OK while the link started here runs; else why it ended (IsFenced: another process took it).
  std::function<absl::Status(const std::string& link)> state;
};

class LinkCoordinator {
 public:
  // Registers this process as a member (Unavailable, naming the endpoints, when etcd cannot be
  // reached) and starts the threads.
  static absl::StatusOr<std::unique_ptr<LinkCoordinator>> Start(const CoordinatorSettings& settings,
                                                                CoordinatorHooks hooks);
  ~LinkCoordinator();
  LinkCoordinator(const LinkCoordinator&) = delete;
  LinkCoordinator& operator=(const LinkCoordinator&) = delete;

  // Stops the links run here, releases their keys and revokes the lease (others take over at
  // once, not after the TTL). Idempotent.
  void Stop();

  struct LinkView {
    std::string owner;  // the owning member as last read ("" none)
    bool here = false;  // running (or failed) in this process
    std::vector<report::Takeover> takeovers;
  };
  LinkView View(const std::string& link) const;
  report::CoordinationStatus Status() const;

 private:
  struct State;
  explicit LinkCoordinator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_COORD_LINK_COORDINATOR_H_
