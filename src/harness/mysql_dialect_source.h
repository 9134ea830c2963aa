// MysqlDialectSource: a harness MariaDB server seen as a MySQL-dialect replication source (MySQL
// 5.7/8, or OceanBase's binlog service), on a loopback port of its own, so the reader path a live
// MySQL or OceanBase link takes is tested end to end with a real server under it.
//
// It is a protocol proxy. Every command passes through to the MariaDB server (the handshake and
// authentication too, so users and passwords are the server's), except the ones where the
// dialects differ, which it answers itself:
//   SELECT @@version                                   the dialect's version string
//   SELECT @@global.gtid_mode, @@global.gtid_executed  "ON" and the server's position as a MySQL
//                                                      GTID set (or "OFF" and "" without GTIDs)
//   SELECT @@global.binlog_row_metadata                FULL with column names; without, MINIMAL
//                                                      (MySQL 8) or unknown (5.7, OceanBase)
//   SHOW MASTER STATUS                                 the current file and its rewritten size
//   COM_BINLOG_DUMP (file + position)                  the server's binlog files rewritten into
//                                                      the dialect (mysql_dialect_rewriter.h),
//                                                      followed as they grow, heartbeats when idle
//   COM_BINLOG_DUMP_GTID (a GTID set)                  the same from the newest file whose
//                                                      PREVIOUS_GTIDS the set covers, passing over
//                                                      what the set has (unless the dialect says
//                                                      the source has no such dump)
// Binlog file names are the server's own, so SHOW BINARY LOGS passes through.
#ifndef DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_SOURCE_H_
#define DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_SOURCE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/mysql_dialect_rewriter.h"
#include "sql/sql_connection.h"

namespace duosync::harness {

class MysqlDialectSource {
 public:
  // `server`: an account on the MariaDB server for the proxy's own queries (its binlog position
  // and files, which it reads from the server's data directory).
  static absl::StatusOr<std::unique_ptr<MysqlDialectSource>> Start(const ConnectOptions& server,
                                                                   MysqlDialect dialect);
  ~MysqlDialectSource();  // closes every connection
  MysqlDialectSource(const MysqlDialectSource&) = delete;
  MysqlDialectSource& operator=(const MysqlDialectSource&) = delete;

  unsigned port() const { return port_; }
  // Closes every client connection now (a source restart or a network cut, as the reader sees it).
  void DropConnections();
  // COM_BINLOG_DUMP_GTID dumps served so far.
  int dumps_by_gtids() const { return dumps_by_gtids_; }

 private:
  MysqlDialectSource() = default;
  void AcceptLoop();
  void Serve(int client);

  ConnectOptions server_;
  MysqlDialect dialect_;
  std::string binlog_dir_;   // the server's
  std::string rewrite_dir_;  // rewritten files, same names
  int listen_fd_ = -1;
  unsigned port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> dumps_by_gtids_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> workers_;
  std::mutex rewrite_mu_;  // one rewrite of a file at a time
  friend class SourceSession;
};

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_MYSQL_DIALECT_SOURCE_H_
