#include "cli/demo.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_text.h"
#include "cli/from_json.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "google/protobuf/util/json_util.h"
#include "harness/mariadb_server.h"
#include "serve/status_server.h"

namespace duosync {
namespace {

absl::Status Exec(SqlConnection* c, const std::string& sql) { return c->Execute(sql); }

constexpr const char* kSchema = R"(
  CREATE DATABASE shop;
  CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL,
                               country CHAR(2) NOT NULL, balance DECIMAL(12,2) NOT NULL,
                               version BIGINT NOT NULL DEFAULT 0);
  CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL,
                            total DECIMAL(12,2) NOT NULL, status ENUM('new','paid','shipped'),
                            created_at DATETIME(6) NOT NULL, note TEXT,
                            version BIGINT NOT NULL DEFAULT 0);
  CREATE TABLE shop.audit_scratch (id INT PRIMARY KEY, v INT);
)";

std::string Checksum(SqlConnection* c, const std::string& table) {
  auto rows = c->Query(absl::StrCat("CHECKSUM TABLE ", table, " EXTENDED"));
  if (!rows.ok() || rows->empty()) return "?";
  return (*rows)[0][1].value_or("NULL");
}

std::string Count(SqlConnection* c, const std::string& table) {
  auto v = c->QueryValue(absl::StrCat("SELECT COUNT(*) FROM ", table));
  return v.ok() ? v->value_or("0") : "?";
}

void PrintStatus(const Project& project) {
  const auto s = FromJson<report::ProjectStatus>(project.StatusJson());
  for (const auto& l : s.links()) {
    std::cout << absl::StrFormat(
        "  %-7s %-11s txns=%-6d rows=%-7d %6.0f rows/s  lag=%.1fs  echoes dropped=%d  conflicts=%d  "
        "store=%.1f MB%s\n",
        l.name(), l.stage(), l.transactions_applied(), l.rows_applied(), l.rows_per_second(),
        l.lag_seconds(), l.echoes_dropped(), l.conflicts(), l.store().bytes() / 1e6,
        l.last_error().empty() ? "" : "  error: " + l.last_error());
  }
}

}  // namespace

int RunDemo(int seconds, const std::atomic<bool>* stop, const std::string& listen) {
  std::cout << "duosync demo: starting two MariaDB servers (region-1 = A, region-2 = B)...\n";
  auto servers = harness::StartServers(2);
  if (!servers.ok()) {
    std::cerr << "demo: " << servers.status().message() << "\n";
    return 1;
  }
  auto& a = *(*servers)[0];
  auto& b = *(*servers)[1];
  std::cout << "  A: 127.0.0.1:" << a.port() << "   B: 127.0.0.1:" << b.port() << "\n";
  auto ca = a.Connect();
  auto cb = b.Connect();
  if (!ca.ok() || !cb.ok()) {
    std::cerr << "demo: cannot connect\n";
    return 1;
  }
  for (SqlConnection* c : {ca->get(), cb->get()}) {
    absl::Status s = Exec(c, kSchema);
    if (!s.ok()) {
      std::cerr << "demo: " << s.message() << "\n";
      return 1;
    }
  }
  const std::string config = absl::StrCat(R"({
    "name": "demo-shop", "tags": ["demo"], "scenario": "ACTIVE_ACTIVE",
    "data_dir": ")", a.dir(), R"(/duosync-data",
    "endpoints": {"a": )", a.EndpointJson(), R"(, "b": )", b.EndpointJson(), R"(},
    "forward": {
      "migration_types": ["INCREMENTAL"], "dml": ["INSERT", "UPDATE", "DELETE"],
      "objects": {"rules": {"whitelist": ["shop.*"], "blacklist": ["shop.audit_*"]}},
      "options": {"retention_hours": 24}},
    "reverse": {"migration_types": ["INCREMENTAL"], "options": {"retention_hours": 24}},
    "active_active": {"loop_prevention": "SESSION_ORIGIN",
                      "conflicts": {"policy": "LAST_WRITER_WINS", "column": "version"}}})");
  std::cout << "\nproject config:\n" << config << "\n\n";
  auto project = Project::Create(config);
  if (!project.ok()) {
    std::cerr << "demo: " << project.status().message() << "\n";
    return 3;
  }
  bool ok = false;
  std::string precheck = (*project)->Precheck(&ok);
  const auto report = FromJson<report::PrecheckReport>(precheck);
  std::cout << "precheck:\n";
  for (const auto& c : report.checks()) {
    std::cout << absl::StrFormat("  %-7s %-18s %s\n", report::CheckStatus_Name(c.status()), c.name(),
                                 c.message());
  }
  if (!ok) return 4;
  absl::Status started = (*project)->Start();
  if (!started.ok()) {
    std::cerr << "demo: " << started.message() << "\n";
    return 1;
  }
  // The console and metrics, up while the demo runs.
  std::unique_ptr<StatusServer> console;
  if (!listen.empty()) {
    Project* p = project->get();
    auto served = StatusServer::Start(
        listen, [p] { return std::vector<report::ProjectStatus>{FromJson<report::ProjectStatus>(p->StatusJson())}; },
        [p] {
          std::string json = "{";
          AppendJsonString(p->name(), &json);
          return absl::StrCat(json, ":", p->ConflictsJson(), "}");
        });
    if (served.ok()) {
      console = *std::move(served);
      std::cout << "\nconsole: http://" << console->host() << ":" << console->port()
                << "/   (Prometheus metrics at /metrics)\n";
    } else {
      std::cerr << "demo: no console: " << served.status().message() << "\n";
    }
  }
  std::cout << "\nwriting orders into both regions for " << seconds
            << " s (each region owns its customers and orders; the links carry them across):\n";
  // Region `r` (0 = A, 1 = B) owns customers and orders with id % 2 == r.
  auto writer = [&](SqlConnection* c, int r) {
    std::mt19937 rng(r + 1);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int64_t n = 0;
    int customers = 0;
    while (std::chrono::steady_clock::now() < end && !*stop) {
      ++n;
      std::string sql = "BEGIN;";
      if (customers < 250) {
        ++customers;
        const int id = customers * 2 + r;
        absl::StrAppend(&sql, "INSERT INTO shop.customers VALUES (", id, ", 'customer ", id, "', '",
                        r == 0 ? "CN" : "DE", "', 0, 0);");
      }
      for (int i = 0; i < 3; ++i) {
        const int64_t order = (n * 3 + i) * 2 + r;
        const int customer = (1 + rng() % customers) * 2 + r;
        absl::StrAppend(&sql, "INSERT INTO shop.orders VALUES (", order, ", ", customer, ", ",
                        rng() % 100000 / 100.0, ", 'new', NOW(6), 'order of customer ", customer,
                        "', 0);UPDATE shop.customers SET balance = balance + 1, version = version + 1 "
                        "WHERE id = ", customer, ";");
      }
      absl::StrAppend(&sql, "UPDATE shop.orders SET status = 'paid', version = version + 1 WHERE id = ",
                      (1 + rng() % (n * 3)) * 2 + r, ";");
      if (n % 10 == 0) absl::StrAppend(&sql, "DELETE FROM shop.orders WHERE id = ", (n * 3 - 5) * 2 + r, ";");
      absl::StrAppend(&sql, "REPLACE INTO shop.audit_scratch VALUES (", r, ", ", n, ");COMMIT");
      absl::Status s = c->Execute(sql);
      if (!s.ok()) {
        std::cerr << "demo writer: " << s.message() << "\n";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  std::thread writer_a([&] { writer(ca->get(), 0); });
  std::thread writer_b([&] { writer(cb->get(), 1); });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end && !*stop) {
    PrintStatus(**project);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  writer_a.join();
  writer_b.join();
  std::cout << "\nwriters stopped; waiting for the regions to converge...\n";
  bool same = false;
  for (int i = 0; i < 600 && !same; ++i) {
    same = Checksum(ca->get(), "shop.orders") == Checksum(cb->get(), "shop.orders") &&
           Checksum(ca->get(), "shop.customers") == Checksum(cb->get(), "shop.customers");
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PrintStatus(**project);
  (void)(*project)->Stop();
  std::cout << "\n";
  for (const std::string t : {"shop.customers", "shop.orders", "shop.audit_scratch"}) {
    std::cout << absl::StrFormat("  %-20s A: %6s rows (checksum %-10s)  B: %6s rows (checksum %s)\n",
                                 t, Count(ca->get(), t), Checksum(ca->get(), t), Count(cb->get(), t),
                                 Checksum(cb->get(), t));
  }
  std::cout << "  (shop.audit_* is blacklisted: each region keeps its own)\n\n"
            << (same ? "A and B are identical for every synced table." : "A and B DIFFER.") << "\n";
  return same ? 0 : 1;
}

}  // namespace duosync
