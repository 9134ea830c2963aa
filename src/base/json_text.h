// Writing JSON text by hand where a protobuf message would be heavier (events, reports).
#ifndef DUOSYNC_SRC_BASE_JSON_TEXT_H_
#define DUOSYNC_SRC_BASE_JSON_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace duosync {

// Appends `text` as a JSON string: quoted, with '"', '\' and control characters escaped.
void AppendJsonString(absl::string_view text, std::string* out);

// Appends ["a","b",...].
void AppendJsonStringList(const std::vector<std::string>& items, std::string* out);

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_JSON_TEXT_H_
