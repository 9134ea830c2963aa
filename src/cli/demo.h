// `duosync demo`: two local MariaDB servers as two regions, a project between them, live traffic,
// and a final row-by-row comparison.
#ifndef DUOSYNC_SRC_CLI_DEMO_H_
#define DUOSYNC_SRC_CLI_DEMO_H_

#include <atomic>
#include <string>

namespace duosync {

// Runs the demo for about `seconds` of traffic (or until *stop). Returns the process exit code.
// `listen`: where the console and metrics are served while the demo runs ("127.0.0.1:0" = a free
// port); empty = not served.
int RunDemo(int seconds, const std::atomic<bool>* stop, const std::string& listen = "127.0.0.1:0");

}  // namespace duosync

#endif  // DUOSYNC_SRC_CLI_DEMO_H_
