// Events a link reports to its project (numbered as DUO_EVENT_* in capi/duosync.h), each with a
// JSON payload.
#ifndef DUOSYNC_SRC_LINK_LINK_EVENTS_H_
#define DUOSYNC_SRC_LINK_LINK_EVENTS_H_

#include <functional>
#include <string>

namespace duosync {

enum LinkEvent {
  kEventStage = 1, kEventProgress = 2, kEventConflict = 3, kEventError = 4, kEventVerify = 5
};
using LinkEventHandler = std::function<void(int event, const std::string& json)>;

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_LINK_EVENTS_H_
