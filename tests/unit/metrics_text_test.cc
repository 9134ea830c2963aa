// The Prometheus exposition of a project's status: names, types, labels, escaping; and valid by
// Prometheus' own checker (promtool, from Debian's prometheus package).
#include "serve/metrics_text.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace duosync {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

report::ProjectStatus Sample() {
  report::ProjectStatus p;
  p.set_name("orders \"eu\"\\1");
  p.set_scenario("ACTIVE_ACTIVE");
  p.set_state("running");
  p.set_endpoint_a("u:***@10.0.0.1:3306");
  auto* f = p.add_links();
  f->set_name("forward");
  f->set_stage("incremental");
  f->set_lag_seconds(0.25);
  f->set_transactions_applied(1234);
  f->set_rows_applied(5678);
  f->set_conflicts(3);
  f->set_reconnects(2);
  f->mutable_store()->set_bytes(4096);
  auto* outcome = f->add_conflicts_by_outcome();
  outcome->set_policy("LAST_WRITER_WINS");
  outcome->set_outcome("kept the destination's row");
  outcome->set_count(3);
  auto* v = p.mutable_last_verification();
  v->set_equal(false);
  v->set_rows_checked(1000);
  v->set_different(2);
  v->set_finished_at(1764547200);
  // Coordinated mode: forward runs here (taken over once), reverse in another member.
  f->set_owner_member("host1:41/1");
  auto* takeover = f->add_takeovers();
  takeover->set_at_unix_ms(1764547200500);
  takeover->set_unowned_seconds(3.5);
  auto* r = p.add_links();
  r->set_name("reverse");
  r->set_stage("standby");
  r->set_owner_member("host2:42/1");
  auto* plain = p.add_links();
  plain->set_name("switched");
  plain->set_stage("failed");
  return p;
}

TEST(MetricsTextTest, EveryLinkHasItsSamplesWithEscapedLabels) {
  const std::string text = PrometheusMetrics({Sample()});
  const std::string labels = R"({project="orders \"eu\"\\1",link="forward")";
  EXPECT_THAT(text, HasSubstr("# TYPE duosync_link_transactions_applied_total counter\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_transactions_applied_total" + labels + "} 1234\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_rows_applied_total" + labels + "} 5678\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_lag_seconds" + labels + "} 0.25\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_conflicts_total" + labels + "} 3\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_reconnects_total" + labels + "} 2\n"));
  EXPECT_THAT(text, HasSubstr(R"(duosync_verification_equal{project="orders \"eu\"\\1"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(duosync_verification_rows_different{project="orders \"eu\"\\1"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(duosync_verification_timestamp_seconds{project="orders \"eu\"\\1"} 1764547200)"));
  EXPECT_THAT(text, HasSubstr("duosync_link_conflict_outcomes_total" + labels +
                              ",policy=\"LAST_WRITER_WINS\",outcome=\"kept the destination's row\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_store_bytes" + labels + "} 4096\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_stage" + labels.substr(0, labels.size()) + ",stage=\"incremental\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(R"(duosync_link_failed{project="orders \"eu\"\\1",link="switched"} 1)"));
  EXPECT_THAT(text, HasSubstr("duosync_link_owned_here" + labels + "} 1\n"));
  EXPECT_THAT(text, HasSubstr(R"(duosync_link_owned_here{project="orders \"eu\"\\1",link="reverse"} 0)"));
  EXPECT_THAT(text, HasSubstr("duosync_link_last_takeover_unowned_seconds" + labels + "} 3.5\n"));
  EXPECT_THAT(text, HasSubstr("duosync_link_last_takeover_timestamp_seconds" + labels + "} 1764547200.5\n"));
  // Links outside coordinated mode have no ownership samples.
  EXPECT_THAT(text, Not(HasSubstr(R"(duosync_link_owned_here{project="orders \"eu\"\\1",link="switched"})")));
  // Only links with a store have store samples; no endpoint (nor anything from one) is shown.
  EXPECT_THAT(text, Not(HasSubstr(R"(duosync_link_store_bytes{project="orders \"eu\"\\1",link="reverse"})")));
  EXPECT_THAT(text, Not(HasSubstr("10.0.0.1")));
}

TEST(MetricsTextTest, PromtoolAcceptsTheExposition) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    FAIL() << "promtool (Debian's prometheus package) is needed: run scripts/bootstrap";
  }
  const std::string path = absl::StrCat(::testing::TempDir(), "/metrics.txt");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  const std::string text = PrometheusMetrics({Sample()});
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  EXPECT_EQ(std::system(absl::StrCat("promtool check metrics < ", path, " >&2").c_str()), 0) << text;
}

}  // namespace
}  // namespace duosync
