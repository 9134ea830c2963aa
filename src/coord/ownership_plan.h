// Which links this process should take or give up, from one read of etcd: pure logic, so that the
// spreading rules are tested without servers.
//
// The rules:
//   - a link nobody owns goes to the least-loaded live member serving its project (fewest links
//     owned by its process, over every project under the prefix; ties by member id). That member
//     takes it at once; any other member takes it once it has stayed free for `free_grace` (the
//     chosen one may be unable to), and etcd's compare-and-put lets exactly one of them win;
//   - a member that owns two links more than another live member, which has been a member for at
//     least `settle`, gives one up (the other then takes it): links move back to a process that
//     returns, and spread over processes that join, one at a time.
#ifndef DUOSYNC_SRC_COORD_OWNERSHIP_PLAN_H_
#define DUOSYNC_SRC_COORD_OWNERSHIP_PLAN_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace duosync {

struct OwnershipView {
  std::string self;  // this member
  // Live members serving this project (this one included) and how long each has been seen.
  std::map<std::string, absl::Duration> members;
  // Links owned per member, over every project under the prefix (members of other projects too).
  std::map<std::string, int> load;
  // This project's links -> owning member ("" or absent: nobody), and how long a free one has
  // been free as this process saw it.
  std::map<std::string, std::string> owners;
  std::map<std::string, absl::Duration> free_for;
  // Links this member gave up to balance and took back since (the other member could not run
  // them): not given up again for a while, so a link does not bounce.
  std::set<std::string> keep;
};

struct OwnershipPlan {
  std::vector<std::string> take;
  std::vector<std::string> give_up;  // at most one per plan
};

struct OwnershipRules {
  absl::Duration free_grace = absl::Seconds(1);
  absl::Duration settle = absl::Seconds(6);
};

// `links`: this project's link names, in a fixed order.
OwnershipPlan PlanOwnership(const OwnershipView& view, const std::vector<std::string>& links,
                            const OwnershipRules& rules);

}  // namespace duosync

#endif  // DUOSYNC_SRC_COORD_OWNERSHIP_PLAN_H_
