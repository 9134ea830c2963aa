#include "apply/fence.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/system_schemas.h"
#include "glog/logging.h"

namespace duosync {
namespace {

constexpr const char* kFenced = "fenced: ";

// A previous owner that stalls inside a transaction (frozen, cut off from us but not from the
// database) keeps its shared lock on the owner row, and the takeover would wait for as long as it
// stalls. While `waiter` (a connection id) waits longer than a second, this ends the connections
// that block it: their open transactions roll back, so nothing of them commits, and the old owner
// meets the new epoch on its next transaction.
class StalledOwnerBreaker {
 public:
  StalledOwnerBreaker(const ConnectOptions& options, std::string waiter) {
    thread_ = std::thread([this, options, waiter] { Run(options, waiter); });
  }
  ~StalledOwnerBreaker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  bool SleepFor(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return done_; });
  }

  void Run(const ConnectOptions& options, const std::string& waiter) {
    if (!SleepFor(std::chrono::milliseconds(1000))) return;
    auto conn = SqlConnection::Connect(options);
    if (!conn.ok()) return;
    // MariaDB (and MySQL 5.7) list lock waits in information_schema; MySQL 8 in sys.
    // Only holders of a lock on the owner table: nothing else of the destination is touched.
    const std::string owner_table = absl::StrCat("'`", kMetaSchema, "`.`owner`'");
    const std::string mariadb = absl::StrCat(
        "SELECT DISTINCT b.trx_mysql_thread_id FROM information_schema.INNODB_LOCK_WAITS w "
        "JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.blocking_lock_id "
        "JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id "
        "JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id "
        "WHERE r.trx_mysql_thread_id = ", waiter, " AND l.lock_table = ", owner_table);
    const std::string mysql8 = absl::StrCat("SELECT DISTINCT blocking_pid FROM sys.innodb_lock_waits WHERE waiting_pid = ",
                                            waiter, " AND locked_table = ", owner_table);
    do {
      auto blockers = (*conn)->Query(mariadb);
      if (!blockers.ok()) blockers = (*conn)->Query(mysql8);
      if (!blockers.ok()) {
        LOG(WARNING) << "taking a link over: cannot list the transactions that hold its owner row ("
                     << blockers.status().message() << "); waiting for them (grant PROCESS to end a "
                     << "stalled previous owner's transaction instead)";
        return;
      }
      for (const SqlRow& row : *blockers) {
        if (row.empty() || !row[0].has_value()) continue;
        LOG(WARNING) << "taking a link over: ending connection " << *row[0]
                     << ", a previous owner's transaction that holds the link's owner row";
        (void)(*conn)->Execute(absl::StrCat("KILL ", *row[0]));
      }
    } while (SleepFor(std::chrono::milliseconds(500)));
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

absl::Status EnsureOwnerTable(SqlConnection* conn) {
  return conn->Execute(absl::StrCat(
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".owner ("
      "link_id VARCHAR(191) NOT NULL PRIMARY KEY, epoch BIGINT UNSIGNED NOT NULL,"
      "owner VARCHAR(255) NOT NULL,"
      "since TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB"));
}

absl::StatusOr<uint64_t> TakeOwnership(SqlConnection* conn, const std::string& link_id,
                                       const std::string& owner) {
  const std::string id = conn->Quote(link_id);
  auto self = conn->QueryValue("SELECT CONNECTION_ID()");
  if (!self.ok()) return self.status();
  StalledOwnerBreaker breaker(conn->options(), self->value_or("0"));
  absl::Status s = conn->Execute(absl::StrCat(
      "START TRANSACTION; INSERT INTO ", kMetaSchema, ".owner (link_id, epoch, owner) VALUES (", id,
      ", 1, ", conn->Quote(owner), ") ON DUPLICATE KEY UPDATE epoch = epoch + 1, owner = VALUES(owner),"
      " since = CURRENT_TIMESTAMP(6)"));
  if (!s.ok()) return s;
  auto epoch = conn->QueryValue(absl::StrCat("SELECT epoch FROM ", kMetaSchema, ".owner WHERE link_id=", id));
  uint64_t out = 0;
  if (!epoch.ok() || !absl::SimpleAtoi(epoch->value_or(""), &out)) {
    (void)conn->Execute("ROLLBACK");
    return epoch.ok() ? absl::DataLossError("unreadable epoch in duosync.owner") : epoch.status();
  }
  s = conn->Execute("COMMIT");
  if (!s.ok()) return s;
  return out;
}

std::string NewOwnerName() {
  static std::atomic<uint64_t> counter{0};
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] ? host : "unknown-host", ":", getpid(), "#", ++counter);
}

std::string FenceQuery(SqlConnection* conn, const Fence& fence) {
  return absl::StrCat("SELECT epoch, owner FROM ", kMetaSchema, ".owner WHERE link_id=",
                      conn->Quote(fence.link_id), " LOCK IN SHARE MODE");
}

absl::Status CheckFence(const Fence& fence, const SqlRow* row) {
  uint64_t epoch = 0;
  if (row != nullptr && row->size() >= 2 && absl::SimpleAtoi((*row)[0].value_or(""), &epoch) &&
      epoch == fence.epoch) {
    return absl::OkStatus();
  }
  const std::string owner = row != nullptr && row->size() >= 2 ? (*row)[1].value_or("?") : "nobody";
  return absl::FailedPreconditionError(absl::StrCat(
      kFenced, "link ", fence.link_id, " was taken over by ", owner, " (ownership epoch ", epoch,
      "; this process held ", fence.epoch, "): this process writes nothing more for it. Run one "
      "process per project, or restart this one to take the link back"));
}

absl::Status BeginFenced(SqlConnection* conn, const Fence& fence) {
  absl::Status s = conn->Execute("START TRANSACTION");
  if (!s.ok() || fence.epoch == 0) return s;
  auto rows = conn->Query(FenceQuery(conn, fence));
  if (!rows.ok()) return rows.status();
  s = CheckFence(fence, rows->empty() ? nullptr : &(*rows)[0]);
  if (!s.ok()) (void)conn->Execute("ROLLBACK");
  return s;
}

bool IsFenced(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && absl::StartsWith(s.message(), kFenced);
}

namespace {

constexpr const char* kBorrowerPrefix = "on loan to ";

// The lend lock's name: named locks are at most 64 characters, link ids may be longer.
std::string LendLockName(SqlConnection* conn, const std::string& link_id) {
  return absl::StrCat("CONCAT('duosync-lend-', MD5(", conn->Quote(link_id), "))");
}

}  // namespace

std::string BorrowerName(const std::string& what) {
  return absl::StrCat(kBorrowerPrefix, what, " (", NewOwnerName(), ")");
}

absl::Status HoldLendLock(SqlConnection* conn, const std::string& link_id, absl::Duration timeout) {
  auto got = conn->QueryValue(absl::StrCat("SELECT GET_LOCK(", LendLockName(conn, link_id), ", ",
                                           absl::ToInt64Seconds(timeout), ")"));
  if (!got.ok()) return got.status();
  if (got->value_or("0") != "1") {
    return absl::UnavailableError(absl::StrCat("link ", link_id, " is on loan to another tool (", absl::FormatDuration(timeout),
                                               " waited): try again when it is done"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> TakeBackAfterLoan(SqlConnection* conn, const std::string& link_id,
                                                          const std::string& owner,
                                                          const std::function<void(const std::string& borrower)>& waiting,
                                                          const std::function<bool()>& give_up) {
  const std::string id = conn->Quote(link_id);
  auto row = conn->Query(absl::StrCat("SELECT owner, epoch FROM ", kMetaSchema, ".owner WHERE link_id=", id));
  if (!row.ok()) return row.status();
  if (row->empty()) return std::optional<uint64_t>();
  const std::string borrower = (*row)[0][0].value_or("");
  uint64_t epoch = 0;
  if (borrower == owner && absl::SimpleAtoi((*row)[0][1].value_or(""), &epoch)) return std::optional<uint64_t>(epoch);
  if (!absl::StartsWith(borrower, kBorrowerPrefix)) return std::optional<uint64_t>();
  waiting(borrower);
  const std::string lock = LendLockName(conn, link_id);
  while (true) {
    if (give_up()) return std::optional<uint64_t>();
    auto got = conn->QueryValue(absl::StrCat("SELECT GET_LOCK(", lock, ", 1)"));
    if (!got.ok()) return got.status();
    if (got->value_or("0") == "1") break;
  }
  // Holding the lock, no loan is under way: an owner named as a borrower is one that is done (this
  // one, or another that borrowed the link after it). Any other owner took the link over: it stays.
  absl::Status s = conn->Execute(absl::StrCat(
      "START TRANSACTION; UPDATE ", kMetaSchema, ".owner SET epoch = epoch + 1, owner = ", conn->Quote(owner),
      ", since = CURRENT_TIMESTAMP(6) WHERE link_id=", id, " AND owner LIKE ", conn->Quote(absl::StrCat(kBorrowerPrefix, "%"))));
  std::optional<uint64_t> taken;
  if (s.ok()) {
    auto back = conn->Query(absl::StrCat("SELECT epoch, owner FROM ", kMetaSchema, ".owner WHERE link_id=", id));
    if (!back.ok()) {
      s = back.status();
    } else if (!back->empty() && (*back)[0][1].value_or("") == owner &&
               absl::SimpleAtoi((*back)[0][0].value_or(""), &epoch)) {
      taken = epoch;
    }
  }
  if (s.ok()) s = conn->Execute(taken.has_value() ? "COMMIT" : "ROLLBACK");
  (void)conn->QueryValue(absl::StrCat("SELECT RELEASE_LOCK(", lock, ")"));
  if (!s.ok()) return s;
  return taken;
}

}  // namespace duosync
