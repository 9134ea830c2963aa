#include "serve/metrics_text.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace duosync {
namespace {

// A label value with \, " and newlines escaped, as the exposition format wants.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 1e15 && v > -1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrFormat("%.15g", v);
}

struct LinkSample {
  const report::ProjectStatus* project;
  const report::LinkStatus* link;
};

class Writer {
 public:
  explicit Writer(std::vector<LinkSample> links) : links_(std::move(links)) {}

  // One metric family over every link: HELP and TYPE once, then a sample per link.
  void Family(const std::string& name, const char* type, const std::string& help,
              const std::function<double(const report::LinkStatus&)>& value,
              const std::function<bool(const report::LinkStatus&)>& applies = nullptr) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (const auto& s : links_) {
      if (applies && !applies(*s.link)) continue;
      absl::StrAppend(&out_, name, Labels(s), " ", Number(value(*s.link)), "\n");
    }
  }

  void Stage() {
    const std::string name = "duosync_link_stage";
    absl::StrAppend(&out_, "# HELP ", name, " The stage a link is in (1 for its current stage).\n# TYPE ",
                    name, " gauge\n");
    for (const auto& s : links_) {
      absl::StrAppend(&out_, name, Labels(s, absl::StrCat(",stage=\"", LabelValue(s.link->stage()), "\"")),
                      " 1\n");
    }
  }

  // The last verification of each project that ran one.
  void Verification(const std::vector<report::ProjectStatus>& projects) {
    struct Gauge {
      const char* name;
      const char* help;
      double (*value)(const report::VerificationSummary&);
    };
    const Gauge gauges[] = {
        {"duosync_verification_equal", "1 when the last verification found A and B equal.",
         [](const report::VerificationSummary& v) { return v.equal() ? 1.0 : 0.0; }},
        {"duosync_verification_rows_checked", "Rows the last verification compared.",
         [](const report::VerificationSummary& v) { return static_cast<double>(v.rows_checked()); }},
        {"duosync_verification_rows_missing", "Rows on A only at the last verification.",
         [](const report::VerificationSummary& v) { return static_cast<double>(v.missing()); }},
        {"duosync_verification_rows_extra", "Rows on B only at the last verification.",
         [](const report::VerificationSummary& v) { return static_cast<double>(v.extra()); }},
        {"duosync_verification_rows_different", "Rows on both sides but different at the last verification.",
         [](const report::VerificationSummary& v) { return static_cast<double>(v.different()); }},
        {"duosync_verification_timestamp_seconds", "When the last verification finished (Unix seconds).",
         [](const report::VerificationSummary& v) { return static_cast<double>(v.finished_at()); }},
    };
    for (const Gauge& g : gauges) {
      absl::StrAppend(&out_, "# HELP ", g.name, " ", g.help, "\n# TYPE ", g.name, " gauge\n");
      for (const auto& p : projects) {
        if (!p.has_last_verification()) continue;
        absl::StrAppend(&out_, g.name, "{project=\"", LabelValue(p.name()), "\"} ",
                        Number(g.value(p.last_verification())), "\n");
      }
    }
  }

  // Conflicts by the policy that decided them and the outcome, one series each.
  void Outcomes() {
    const std::string name = "duosync_link_conflict_outcomes_total";
    absl::StrAppend(&out_, "# HELP ", name, " Conflicts by the policy that decided them and how they were "
                    "resolved.\n# TYPE ", name, " counter\n");
    for (const auto& s : links_) {
      for (const auto& c : s.link->conflicts_by_outcome()) {
        absl::StrAppend(&out_, name, Labels(s, absl::StrCat(",policy=\"", LabelValue(c.policy()), "\",outcome=\"",
                                                        LabelValue(c.outcome()), "\"")),
                        " ", c.count(), "\n");
      }
    }
  }

  void Projects(const std::vector<report::ProjectStatus>& projects) {
    const std::string name = "duosync_project_state";
    absl::StrAppend(&out_, "# HELP ", name, " The state of a project (1 for its current state).\n# TYPE ",
                    name, " gauge\n");
    for (const auto& p : projects) {
      absl::StrAppend(&out_, name, "{project=\"", LabelValue(p.name()), "\",scenario=\"",
                      LabelValue(p.scenario()), "\",state=\"", LabelValue(p.state()), "\"} 1\n");
    }
  }

  std::string Take() { return std::move(out_); }

 private:
  static std::string Labels(const LinkSample& s, const std::string& extra = "") {
    return absl::StrCat("{project=\"", LabelValue(s.project->name()), "\",link=\"",
                        LabelValue(s.link->name()), "\"", extra, "}");
  }

  std::vector<LinkSample> links_;
  std::string out_;
};

}  // namespace

std::string PrometheusMetrics(const std::vector<report::ProjectStatus>& projects) {
  std::vector<LinkSample> links;
  for (const auto& p : projects) {
    for (const auto& l : p.links()) links.push_back({&p, &l});
  }
  Writer w(std::move(links));
  using L = report::LinkStatus;
  w.Projects(projects);
  w.Verification(projects);
  w.Stage();
  w.Family("duosync_link_lag_seconds", "gauge",
           "Seconds between the source's commit of the last applied transaction and now (0 when caught up).",
           [](const L& l) { return l.lag_seconds(); });
  w.Family("duosync_link_transactions_applied_total", "counter",
           "Source transactions applied to the destination since the project started.",
           [](const L& l) { return static_cast<double>(l.transactions_applied()); });
  w.Family("duosync_link_rows_applied_total", "counter", "Row changes applied to the destination since the project started.",
           [](const L& l) { return static_cast<double>(l.rows_applied()); });
  w.Family("duosync_link_apply_rows_per_second", "gauge", "Recent apply rate in rows per second.",
           [](const L& l) { return l.rows_per_second(); });
  w.Family("duosync_link_echoes_dropped_total", "counter",
           "Transactions the opposite link applied, recognized and not sent back (active-active).",
           [](const L& l) { return static_cast<double>(l.echoes_dropped()); });
  w.Family("duosync_link_conflicts_total", "counter",
           "Conflicts met and resolved by the project's policy (active-active); `duosync conflicts` lists them.",
           [](const L& l) { return static_cast<double>(l.conflicts()); });
  w.Outcomes();
  w.Family("duosync_link_reconnects_total", "counter",
           "Times the link lost a server (or met another retryable error) and reconnected.",
           [](const L& l) { return static_cast<double>(l.reconnects()); });
  w.Family("duosync_link_failed", "gauge", "1 when the link stopped on an error (its last_error in /status says why).",
           [](const L& l) { return l.stage() == "failed" ? 1.0 : 0.0; });
  w.Family("duosync_link_full_rows_copied_total", "counter", "Rows copied by the full migration.",
           [](const L& l) { return static_cast<double>(l.full_rows_copied()); });
  w.Family("duosync_link_full_rows_estimated", "gauge", "Rows the full migration expects to copy (table statistics).",
           [](const L& l) { return static_cast<double>(l.full_rows_estimated()); });
  w.Family("duosync_link_full_tables_done", "gauge", "Tables the full migration has finished.",
           [](const L& l) { return static_cast<double>(l.full_tables_done()); });
  w.Family("duosync_link_full_tables", "gauge", "Tables the full migration copies.",
           [](const L& l) { return static_cast<double>(l.full_tables_total()); });
  w.Family("duosync_link_store_bytes", "gauge", "Bytes the link's record store holds on disk.",
           [](const L& l) { return static_cast<double>(l.store().bytes()); },
           [](const L& l) { return l.has_store(); });
  w.Family("duosync_link_store_transactions", "gauge", "Source transactions the link's record store holds.",
           [](const L& l) { return static_cast<double>(l.store().transactions()); },
           [](const L& l) { return l.has_store(); });
  w.Family("duosync_link_ownership_epoch", "gauge",
           "The link's ownership epoch on its destination; it rises at each takeover by another process.",
           [](const L& l) { return static_cast<double>(l.epoch()); });
  // Coordinated mode only (a link with an owning member).
  w.Family("duosync_link_owned_here", "gauge",
           "1 when this process runs the link, 0 when another member does (coordinated mode).",
           [](const L& l) { return l.stage() == "standby" ? 0.0 : 1.0; },
           [](const L& l) { return !l.owner_member().empty(); });
  w.Family("duosync_link_last_takeover_unowned_seconds", "gauge",
           "How long the link had no writer before this process's latest takeover of it (coordinated mode).",
           [](const L& l) { return l.takeovers().rbegin()->unowned_seconds(); },
           [](const L& l) { return l.takeovers_size() > 0; });
  w.Family("duosync_link_last_takeover_timestamp_seconds", "gauge",
           "When this process last took the link over, Unix seconds (coordinated mode).",
           [](const L& l) { return static_cast<double>(l.takeovers().rbegin()->at_unix_ms()) / 1000.0; },
           [](const L& l) { return l.takeovers_size() > 0; });
  return w.Take();
}

}  // namespace duosync
