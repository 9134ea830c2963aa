#include "coord/ownership_plan.h"

#include <limits>

namespace duosync {

OwnershipPlan PlanOwnership(const OwnershipView& view, const std::vector<std::string>& links,
                            const OwnershipRules& rules) {
  OwnershipPlan plan;
  std::map<std::string, int> load;
  for (const auto& [member, age] : view.members) {
    auto it = view.load.find(member);
    load[member] = it == view.load.end() ? 0 : it->second;
  }
  auto least_loaded = [&load]() {
    std::string best;
    int best_load = std::numeric_limits<int>::max();
    for (const auto& [member, n] : load) {  // map order: ties go to the smallest id
      if (n < best_load) {
        best = member;
        best_load = n;
      }
    }
    return best;
  };
  for (const std::string& link : links) {
    auto owner = view.owners.find(link);
    if (owner != view.owners.end() && !owner->second.empty()) continue;
    const std::string chosen = least_loaded();
    if (chosen.empty()) break;  // not even this member is registered yet
    auto free_for = view.free_for.find(link);
    const bool waited = free_for != view.free_for.end() && free_for->second >= rules.free_grace;
    if (chosen == view.self || waited) plan.take.push_back(link);
    ++load[chosen == view.self || !waited ? chosen : view.self];  // as the links will stand
  }
  if (!plan.take.empty()) return plan;  // one kind of move at a time
  // Balance: give one link up to a settled member with two fewer.
  const int mine = load.count(view.self) ? load[view.self] : 0;
  for (const auto& [member, n] : load) {
    if (member == view.self || n + 2 > mine) continue;
    if (view.members.at(member) < rules.settle) continue;
    for (auto it = links.rbegin(); it != links.rend(); ++it) {
      auto owner = view.owners.find(*it);
      if (owner != view.owners.end() && owner->second == view.self && !view.keep.count(*it)) {
        plan.give_up.push_back(*it);
        return plan;
      }
    }
  }
  return plan;
}

}  // namespace duosync
