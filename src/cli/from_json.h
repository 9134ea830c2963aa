// The CLI reads the library's JSON results (status, reports) back into their protobuf messages to
// print them; fields a newer library adds are ignored.
#ifndef DUOSYNC_SRC_CLI_FROM_JSON_H_
#define DUOSYNC_SRC_CLI_FROM_JSON_H_

#include <string>

#include "google/protobuf/util/json_util.h"

namespace duosync {

template <typename M>
M FromJson(const std::string& json) {
  M m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(json, &m, o);
  return m;
}

}  // namespace duosync

#endif  // DUOSYNC_SRC_CLI_FROM_JSON_H_
