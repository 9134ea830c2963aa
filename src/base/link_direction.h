// The two links of a project: forward (endpoint A -> B) and reverse (B -> A).
#ifndef DUOSYNC_SRC_BASE_LINK_DIRECTION_H_
#define DUOSYNC_SRC_BASE_LINK_DIRECTION_H_

namespace duosync {

enum class LinkDirection { kForward, kReverse };

// "forward" / "reverse", as status, events and link ids name them.
inline const char* LinkName(LinkDirection direction) {
  return direction == LinkDirection::kForward ? "forward" : "reverse";
}

inline LinkDirection Opposite(LinkDirection direction) {
  return direction == LinkDirection::kForward ? LinkDirection::kReverse : LinkDirection::kForward;
}

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_LINK_DIRECTION_H_
