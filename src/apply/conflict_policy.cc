#include "apply/conflict_policy.h"

namespace duosync {

ConflictVerdict DecideConflict(config::ConflictPolicy policy, bool incoming_has_priority,
                               const std::vector<int>& version_order) {
  switch (policy) {
    case config::STOP:
      return ConflictVerdict::kStop;
    case config::IGNORE:
      return ConflictVerdict::kDestinationWins;
    case config::OVERWRITE:
      return ConflictVerdict::kIncomingWins;
    case config::LAST_WRITER_WINS:
      // The change must outrank every row it would replace or remove.
      for (int order : version_order) {
        if (order < 0 || (order == 0 && !incoming_has_priority)) return ConflictVerdict::kDestinationWins;
      }
      return ConflictVerdict::kIncomingWins;
    default:  // REGION_PRIORITY (and unspecified)
      return incoming_has_priority ? ConflictVerdict::kIncomingWins : ConflictVerdict::kDestinationWins;
  }
}

bool MayStop(const config::ConflictSettings& settings) {
  if (settings.policy() == config::STOP) return true;
  for (const auto& t : settings.tables()) {
    if (t.policy() == config::STOP) return true;
  }
  return false;
}

}  // namespace duosync
