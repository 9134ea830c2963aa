#include "sql/destination_session.h"

#include "absl/strings/str_cat.h"

namespace duosync {

absl::StatusOr<std::unique_ptr<SqlConnection>> ConnectDestination(const ConnectOptions& destination,
                                                                  uint32_t origin) {
  ConnectOptions options = destination;
  // A destination that stops answering must not hold a worker (and Stop) forever; long enough for
  // a big batch or an ALTER on a large table.
  if (options.read_timeout_s == 0) options.read_timeout_s = 600;
  auto conn = SqlConnection::Connect(options);
  if (!conn.ok()) return conn.status();
  absl::Status s = (*conn)->Execute(
      "SET SESSION time_zone='+00:00', "
      "sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
      "foreign_key_checks=0, autocommit=1");
  if (!s.ok()) return s;
  if (origin != 0) {
    s = (*conn)->Execute(absl::StrCat("SET SESSION server_id=", origin, ", gtid_domain_id=", origin));
    if (!s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot tag the destination session with origin ", origin, " (", s.message(),
          "): grant the user SUPER (MariaDB) or use loop_prevention MARKER_TABLE"));
    }
  }
  return std::move(*conn);
}

}  // namespace duosync
