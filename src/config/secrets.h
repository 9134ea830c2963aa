// Secrets in configs: an endpoint's password from the config, an environment variable or a file,
// and error messages about config text that never quote it (a password may stand anywhere in a
// malformed config).
#ifndef DUOSYNC_SRC_CONFIG_SECRETS_H_
#define DUOSYNC_SRC_CONFIG_SECRETS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "duosync/config.pb.h"

namespace duosync {

// The endpoint's password: `password`, else the environment variable `password_env` names, else
// the first line of `password_file`. FailedPrecondition (naming the variable or file, never its
// content) when the variable is unset or the file unreadable; InvalidArgument when more than one
// is given.
absl::StatusOr<std::string> ReadPassword(const config::Endpoint& endpoint);
// The same for any password given those three ways (etcd's, in coordination).
absl::StatusOr<std::string> ReadSecret(const std::string& password, const std::string& password_env,
                                       const std::string& password_file);

// A JSON parser's error about `json` with no text of `json` in it: the snippet around the fault
// becomes its line and column, values quoted by a type error are left out.
std::string SafeJsonError(absl::string_view json, absl::string_view parser_message);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_SECRETS_H_
