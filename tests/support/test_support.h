// Shared test helpers: the MariaDB server pair of an integration test binary, status matchers,
// small SQL helpers.
#ifndef DUOSYNC_TESTS_SUPPORT_TEST_SUPPORT_H_
#define DUOSYNC_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/mariadb_server.h"
#include "sql/sql_connection.h"
#include "support/config_builder.h"

namespace duosync::testing {

// Two real servers ("region-1" = A, "region-2" = B), started once per test binary.
class ServerPair : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  static harness::MariaDbServer& A();
  static harness::MariaDbServer& B();
};

// A connection as the harness's all-privileged user; fails the test on error.
std::unique_ptr<SqlConnection> Connect(const harness::MariaDbServer& server,
                                       const std::string& database = "");

// Runs SQL, failing the test (with the statement) on error.
void Exec(SqlConnection* conn, const std::string& sql);

// All rows of a query, each row's columns joined by '|' (NULL shown as "NULL").
std::vector<std::string> Rows(SqlConnection* conn, const std::string& sql);

// Drops database `db` on `conn`'s server and creates it afresh (CREATE DATABASE db <options>),
// then runs `sql` in it.
void ResetDatabase(SqlConnection* conn, const std::string& db, const std::string& sql = "",
                   const std::string& options = "");

// The current test's name prefixed, for a database of its own.
std::string TestDatabase(const std::string& prefix);

// Polls `condition` every `poll` until it holds (true) or `timeout` passes (false).
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
             absl::Duration poll = absl::Milliseconds(25));

// Waits up to `seconds` until every query gives the same rows on `a` and on `b`, then expects it
// (failing the test with the differing rows otherwise).
void ExpectSameEventually(SqlConnection* a, SqlConnection* b, const std::vector<std::string>& queries,
                          int seconds = 30);

// An endpoint block for a config: {"region","host","port","user","password"}.
std::string EndpointJson(const harness::MariaDbServer& server);

// A project's status JSON, parsed (the one place tests parse it).
report::ProjectStatus StatusOf(const Project& project);
// One link's status ("forward" / "reverse"); empty when the project has no such link running.
report::LinkStatus LinkStatusOf(const Project& project, const std::string& link = "forward");

// A test against both servers, with a database of its own (`db_`: the test's name prefixed, or
// DatabaseName()) made fresh on A and B as SideA()/SideB() say, and the project it starts (stopped
// when the test ends). Parameterized fixtures add ::testing::WithParamInterface<T>.
class TwoServerTest : public ::testing::Test {
 protected:
  explicit TwoServerTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override;
  void TearDown() override;

  // What one side starts with, in SetUp.
  struct Side {
    std::string database;        // its name; empty = db_
    bool create = true;          // false: dropped and left absent (a schema migration creates it)
    std::string create_options;  // after CREATE DATABASE, e.g. "CHARACTER SET latin1"
    std::string sql;             // run in the database once created
    // db_ created and set up by `sql`.
    static Side WithSql(std::string sql) {
      Side side;
      side.sql = std::move(sql);
      return side;
    }
  };
  virtual Side SideA() const { return Side(); }
  virtual Side SideB() const { return Side(); }
  // db_; by default the test's name prefixed (a parameterized test must give one without '/').
  virtual std::string DatabaseName() const;

  // A config for a project named db_ between A and B (config_builder.h).
  ConfigBuilder Config() const { return ConfigBuilder(db_); }

  // Runs `sql` in db_ on both servers.
  void CreateBoth(const std::string& sql);
  // Creates the project from `config` and starts it; the test fails when either fails.
  void StartProject(const std::string& config);
  // Stops the project and starts a new one from the same config (a process restart).
  void RestartProject();
  // Waits up to `seconds` until `b_query` on B gives the rows `a_query` (default: the same query)
  // gives on A, then expects it, showing both sides and the project's status otherwise.
  void ExpectEventuallySame(const std::string& b_query, const std::string& a_query = "", int seconds = 30);

  std::unique_ptr<SqlConnection> a_, b_;
  std::string db_;
  std::string config_;  // of the last StartProject
  std::unique_ptr<Project> project_;

 private:
  std::string prefix_;
};

MATCHER(IsOk, "is OK") {
  if (arg.ok()) return true;
  *result_listener << arg;
  return false;
}

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  if (arg.code() == code) return true;
  *result_listener << arg;
  return false;
}

MATCHER_P2(StatusIs, code, substring,
           "has status code " + absl::StatusCodeToString(code) + " and a message containing " +
               std::string(substring)) {
  if (arg.code() == code && std::string(arg.message()).find(substring) != std::string::npos) {
    return true;
  }
  *result_listener << arg;
  return false;
}

}  // namespace duosync::testing

#endif  // DUOSYNC_TESTS_SUPPORT_TEST_SUPPORT_H_
