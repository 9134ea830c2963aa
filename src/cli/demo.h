// `duosync demo`: two local MariaDB servers as two regions, a project between them, live traffic,
// and a final row-by-row comparison.
#ifndef DUOSYNC_SRC_CLI_DEMO_H_
#define DUOSYNC_SRC_CLI_DEMO_H_

#include <atomic>

namespace duosync {

// Runs the demo for about `seconds` of traffic (or until *stop). Returns the process exit code.
int RunDemo(int seconds, const std::atomic<bool>* stop);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CLI_DEMO_H_
