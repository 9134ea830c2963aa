// Defaults the command line fills in where an embedding host must choose for itself: a project
// that keeps record stores (retention_hours) without a data_dir gets one under the user's state
// directory ($XDG_STATE_HOME/duosync, else ~/.local/state/duosync).
#ifndef DUOSYNC_SRC_CLI_CLI_DEFAULTS_H_
#define DUOSYNC_SRC_CLI_CLI_DEFAULTS_H_

#include <string>

namespace duosync {

// The config with the CLI's defaults; `note` says what was filled in (empty when nothing was).
// A config that does not parse comes back unchanged (validation then says what is wrong).
std::string WithCliDefaults(const std::string& config_json, std::string* note);

// The user's state directory for duosync, as above.
std::string UserStateDir();

}  // namespace duosync

#endif  // DUOSYNC_SRC_CLI_CLI_DEFAULTS_H_
