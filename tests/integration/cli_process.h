// `duosync run CONFIG` as a child process (the real CLI, DUOSYNC_CLI_PATH), its output appended to
// a log: the process the kill -9 tests kill and restart.
#ifndef DUOSYNC_TESTS_INTEGRATION_CLI_PROCESS_H_
#define DUOSYNC_TESTS_INTEGRATION_CLI_PROCESS_H_

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>

namespace duosync::testing {

inline pid_t StartCliRun(const std::string& config_path, const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(DUOSYNC_CLI_PATH, "duosync", "run", config_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace duosync::testing

#endif  // DUOSYNC_TESTS_INTEGRATION_CLI_PROCESS_H_
