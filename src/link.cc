#include "link.h"

namespace duosync {

const char* LinkName(LinkDirection direction) {
  return direction == LinkDirection::kForward ? "forward" : "reverse";
}

absl::StatusOr<std::unique_ptr<Link>> Link::Create(const config::Project& project,
                                                   LinkDirection direction) {
  return absl::UnimplementedError("incremental migration is not built yet (issue #3)");
}

}  // namespace duosync
