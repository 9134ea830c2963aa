#include "source/live_source.h"

#include "absl/strings/str_cat.h"
#include "source/mysql_binlog_reader.h"
#include "sql/catalog.h"

namespace duosync {

absl::StatusOr<std::unique_ptr<TransactionFeed>> OpenLiveSource(const ReaderOptions& options) {
  bool mariadb = options.start.mysql_sets().empty() && !options.start.file_place().by_file();
  if (mariadb) {  // a MariaDB position (or none yet): ask the server which dialect it speaks
    auto conn = SqlConnection::Connect(options.source);
    if (!conn.ok()) return conn.status();
    auto speaks = SpeaksMariadbReplication(conn->get());
    if (!speaks.ok()) return speaks.status();
    mariadb = *speaks;
    if (!mariadb && !options.start.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the link is at ", options.start.ToString(), ", a MariaDB position, but ", options.source.Describe(),
          " speaks the MySQL dialect: another server than the link followed? re-initialize the link"));
    }
  }
  if (mariadb) {
    auto reader = BinlogReader::Open(options);
    if (!reader.ok()) return reader.status();
    return std::unique_ptr<TransactionFeed>(std::move(*reader));
  }
  if (options.skip_rows_of_origin != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.source.Describe(), " speaks the MySQL dialect, whose binlog keeps no session origin that "
        "duosync can set (OceanBase writes one fixed server_id): use loop_prevention MARKER_TABLE"));
  }
  auto reader = MysqlBinlogReader::Open(options);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<TransactionFeed>(std::move(*reader));
}

}  // namespace duosync
