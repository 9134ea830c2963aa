#include "base/system_schemas.h"

#include <string>

#include "absl/strings/match.h"

namespace duosync {
namespace {

constexpr absl::string_view kSystemSchemas[] = {"mysql", "information_schema", "performance_schema",
                                                "sys", "oceanbase", kMetaSchema, kScratchSchema};

}  // namespace

bool IsSystemSchema(absl::string_view schema) {
  for (absl::string_view s : kSystemSchemas) {
    if (absl::EqualsIgnoreCase(schema, s)) return true;
  }
  return false;
}

const char* SystemSchemasSqlList() {
  static const std::string* list = [] {
    auto* out = new std::string("(");
    for (absl::string_view s : kSystemSchemas) {
      if (out->size() > 1) out->push_back(',');
      out->append("'").append(s.data(), s.size()).append("'");
    }
    out->push_back(')');
    return out;
  }();
  return list->c_str();
}

}  // namespace duosync
