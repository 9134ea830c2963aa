// Reading a project config from JSON and checking every product rule on it. Each problem names the
// field, says what is wrong and how to fix it.
#ifndef DUOSYNC_SRC_CONFIG_VALIDATION_H_
#define DUOSYNC_SRC_CONFIG_VALIDATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "duosync/config.pb.h"
#include "duosync/report.pb.h"

namespace duosync {

// More objects than this in one link draws a warning (the product's rule of thumb for one link).
inline constexpr int kManyObjectsWarning = 10000;

// Parses JSON in protobuf's JSON mapping. Unknown fields and wrong types are InvalidArgument.
absl::StatusOr<config::Project> ParseProjectJson(absl::string_view json);

// Checks every rule. REQUIRES: ApplyDefaults (resolved_config.h) ran.
report::ValidationReport ValidateProject(const config::Project& project);

// "field: message (fix: ...)" for each error, joined by "; ".
std::string SummarizeErrors(const report::ValidationReport& report);

// True when the link's config selects objects with matching rules.
bool UsesMatchingRules(const config::ObjectSelection& objects);

// True when `link` has migration type `type`.
bool HasMigrationType(const config::Link& link, config::MigrationType type);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_VALIDATION_H_
