#include "config/secrets.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace duosync {

absl::StatusOr<std::string> ReadPassword(const config::Endpoint& e) {
  return ReadSecret(e.password(), e.password_env(), e.password_file());
}

absl::StatusOr<std::string> ReadSecret(const std::string& password, const std::string& password_env,
                                       const std::string& password_file) {
  const int given = !password.empty() + !password_env.empty() + !password_file.empty();
  if (given > 1) {
    return absl::InvalidArgumentError("give the password one way: password, password_env or password_file");
  }
  if (!password_env.empty()) {
    const char* value = std::getenv(password_env.c_str());
    if (value == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("the environment variable ", password_env, " (password_env) is not set"));
    }
    return std::string(value);
  }
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat("cannot read the password_file ", password_file,
                                                        ": ", std::strerror(errno)));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  return password;
}

std::string SafeJsonError(absl::string_view json, absl::string_view message) {
  std::vector<absl::string_view> lines = absl::StrSplit(message, '\n');
  std::string out(lines[0]);
  // Protobuf's syntax errors quote the input around the fault, with a caret line under it.
  if (lines.size() >= 3) {
    const size_t caret = lines[2].find('^');
    const size_t at = json.find(lines[1]);
    if (caret != absl::string_view::npos && at != absl::string_view::npos) {
      const size_t offset = at + caret;
      int line = 1, column = 1;
      for (size_t i = 0; i < offset && i < json.size(); ++i) {
        if (json[i] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      absl::StrAppend(&out, " (at line ", line, ", column ", column, ")");
    }
  }
  // Type errors quote the offending value: "(path): invalid value <value> for type T".
  const std::string kInvalid = "invalid value ", kForType = " for type ";
  const size_t v = out.find(kInvalid);
  const size_t t = v == std::string::npos ? std::string::npos : out.find(kForType, v + kInvalid.size());
  if (t != std::string::npos) out.replace(v + kInvalid.size(), t - v - kInvalid.size(), "(not shown)");
  // An unknown field is named by the parser; a name is no secret, but cap a runaway one.
  if (out.size() > 300) out = absl::StrCat(out.substr(0, 300), "...");
  return out;
}

}  // namespace duosync
