// The console: one read-only page served at "/" beside /metrics and /status. Static HTML and
// JavaScript shipped inside the library (no build step, no CDN): it polls /status each second
// and /conflicts every few seconds, and shows every project's links with stage, lag (a chart of
// the last minutes), rates, counters, full-migration progress, errors, and the latest conflicts
// with both images.
#ifndef DUOSYNC_SRC_SERVE_CONSOLE_PAGE_H_
#define DUOSYNC_SRC_SERVE_CONSOLE_PAGE_H_

namespace duosync {

const char* ConsolePageHtml();

}  // namespace duosync

#endif  // DUOSYNC_SRC_SERVE_CONSOLE_PAGE_H_
