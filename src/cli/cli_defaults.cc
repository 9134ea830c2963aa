#include "cli/cli_defaults.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "config/validation.h"
#include "google/protobuf/util/json_util.h"

namespace duosync {

std::string UserStateDir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/duosync");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return absl::StrCat(home, "/.local/state/duosync");
  return absl::StrCat("/tmp/duosync-state-", getuid());
}

std::string WithCliDefaults(const std::string& config_json, std::string* note) {
  note->clear();
  auto project = ParseProjectJson(config_json);
  if (!project.ok() || !project->data_dir().empty()) return config_json;
  const bool keeps = project->forward().options().retention_hours() > 0 ||
                     project->reverse().options().retention_hours() > 0;
  if (!keeps) return config_json;
  project->set_data_dir(UserStateDir());
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*project, &out, options).ok()) return config_json;
  *note = absl::StrCat("record stores go to ", project->data_dir(), "/", project->name(),
                       " (data_dir not set; the CLI's default)");
  return out;
}

}  // namespace duosync
