// The Prometheus text exposition (format 0.0.4) of projects' status: per link, lag, applied
// transactions and rows, apply rate, echoes dropped, conflicts, reconnects, stage, full-copy
// progress, record-store size, ownership epoch. Names and labels follow Prometheus' conventions
// (`duosync_link_lag_seconds{project="p",link="forward"}`, counters end in `_total`). A status
// holds no secret (endpoints are shown as user:***@host:port), and no endpoint is a label here.
#ifndef DUOSYNC_SRC_SERVE_METRICS_TEXT_H_
#define DUOSYNC_SRC_SERVE_METRICS_TEXT_H_

#include <string>
#include <vector>

#include "duosync/report.pb.h"

namespace duosync {

std::string PrometheusMetrics(const std::vector<report::ProjectStatus>& projects);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SERVE_METRICS_TEXT_H_
