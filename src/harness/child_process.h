// What the harness's servers share: a free loopback port, a child process with its output in a
// log, the end of a log for error messages.
#ifndef DUOSYNC_SRC_HARNESS_CHILD_PROCESS_H_
#define DUOSYNC_SRC_HARNESS_CHILD_PROCESS_H_

#include <string>
#include <vector>

namespace duosync::harness {

// A port that was free a moment ago. A server may still lose a race for it; callers retry.
unsigned PickFreePort();

// The last `bytes` of the file at `path`.
std::string Tail(const std::string& path, size_t bytes);

// In a forked child: output to `log`, then exec `argv`. Never returns.
[[noreturn]] void ExecLogged(const std::vector<std::string>& argv, const std::string& log);

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_CHILD_PROCESS_H_
