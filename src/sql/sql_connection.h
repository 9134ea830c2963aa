// A client connection to a MySQL-compatible server through MariaDB Connector/C, in utf8mb4 and with
// a fixed sql_mode whatever the server's default (quoting and values mean one thing). Errors come back
// as absl::Status: Unavailable when the server cannot be reached or went away, PermissionDenied for
// access errors, others by the server's error code. Never logs the password.
// Not thread-safe: one connection per thread.
#ifndef DUOSYNC_SRC_SQL_SQL_CONNECTION_H_
#define DUOSYNC_SRC_SQL_SQL_CONNECTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct st_mysql MYSQL;

namespace duosync {

struct ConnectOptions {
  std::string host;
  unsigned port = 3306;
  std::string user;
  std::string password;
  std::string database;
  // TLS (config Tls): when `tls`, the connection is encrypted, the server certificate and host
  // name are checked unless !tls_verify_server_cert, and a server that does not negotiate TLS is
  // refused unless !tls_required.
  std::string tls_ca, tls_cert, tls_key;
  bool tls = false;
  bool tls_verify_server_cert = true;
  bool tls_required = true;
  unsigned connect_timeout_s = 10;
  unsigned read_timeout_s = 0;  // 0 = the client library's default
  // The server may ask this connection for LOAD DATA LOCAL data (the full copy's destination); it
  // is answered only from memory by SqlConnection::LoadLocalData. Off, a server's request for a
  // local file is refused: no server can read the files of the process that embeds us.
  bool local_data = false;
  // "user@host:port" for messages; never includes the password.
  std::string Describe() const;
};

// Sets a connection's transport before mysql_real_connect: TCP always, no LOAD DATA LOCAL file
// offered to the server, and TLS when options.tls.
void ConfigureTls(MYSQL* mysql, const ConnectOptions& options);
// Whether a TLS connection error is a refusal (certificate, verification, no TLS on the server)
// rather than a handshake the network cut.
bool TlsRefusal(absl::string_view error);
// After connecting: FailedPrecondition when TLS was required and not negotiated.
absl::Status CheckTlsNegotiated(MYSQL* mysql, const ConnectOptions& options);

// One result row: nullopt for SQL NULL.
using SqlRow = std::vector<std::optional<std::string>>;

class SqlConnection {
 public:
  static absl::StatusOr<std::unique_ptr<SqlConnection>> Connect(const ConnectOptions& options);
  ~SqlConnection();
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  // Runs a statement (or several separated by ';' when multi-statements are on) and discards rows.
  absl::Status Execute(absl::string_view sql);
  // Runs a query and returns all rows.
  absl::StatusOr<std::vector<SqlRow>> Query(absl::string_view sql);
  // Runs a query and hands each row to `row` as it arrives, holding nothing of the result but the
  // row at hand: values[i] is nullptr for SQL NULL, else lengths[i] bytes valid during the call.
  absl::Status QueryEach(
      absl::string_view sql,
      const std::function<void(const char* const* values, const unsigned long* lengths, size_t n)>& row);
  // First column of the first row; NotFound when there is no row.
  absl::StatusOr<std::optional<std::string>> QueryValue(absl::string_view sql);

  // Runs `statement`, a LOAD DATA LOCAL INFILE, and answers the server's request for the file with
  // `data`, whatever name it asks for. Needs ConnectOptions::local_data.
  absl::Status LoadLocalData(absl::string_view statement, absl::string_view data);
  struct LocalData;  // what the server may read through LOAD DATA LOCAL now (sql_connection.cc)

  // 'text' quoted and escaped as a SQL string literal for this connection's charset.
  std::string Quote(absl::string_view text);

  // The server's max_allowed_packet (a session's is the global value at connect); 1 MiB when
  // the server reports something unusable.
  absl::StatusOr<size_t> MaxAllowedPacket();

  // The negotiated TLS version and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"); empty in plaintext.
  std::string TlsDescription();

  // Last server error number (0 when the last call succeeded).
  unsigned last_errno() const { return last_errno_; }
  const ConnectOptions& options() const { return options_; }
  MYSQL* raw() { return mysql_; }

  // Converts the connection's current error into a Status prefixed by `what`.
  absl::Status ErrorStatus(absl::string_view what);

 private:
  SqlConnection(MYSQL* mysql, ConnectOptions options);
  MYSQL* mysql_;
  ConnectOptions options_;
  std::unique_ptr<LocalData> local_data_;
  unsigned last_errno_ = 0;
};

// Status for a server error number: Unavailable for connection loss, PermissionDenied for access
// errors, NotFound for unknown tables/databases, AlreadyExists for duplicate keys, etc.
absl::Status StatusFromMysqlError(unsigned err, absl::string_view message);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_SQL_CONNECTION_H_
