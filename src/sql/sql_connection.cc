#include "sql/sql_connection.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <string.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace duosync {

std::string ConnectOptions::Describe() const { return absl::StrCat(user, "@", host, ":", port); }

absl::Status StatusFromMysqlError(unsigned err, absl::string_view message) {
  std::string text = absl::StrCat(message, " (error ", err, ")");
  switch (err) {
    case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST: case CR_UNKNOWN_HOST: case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN: case ER_CONNECTION_KILLED: case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED: case ER_NET_ERROR_ON_WRITE: case ER_NET_WRITE_INTERRUPTED:
    case ER_QUERY_INTERRUPTED:
      return absl::UnavailableError(text);
    case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT:
      return absl::AbortedError(text);  // the transaction was rolled back: retry it
    case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR: case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR: case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_PROCACCESS_DENIED_ERROR: case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
      return absl::PermissionDeniedError(text);
    case ER_NO_SUCH_TABLE: case ER_BAD_DB_ERROR: case ER_BAD_FIELD_ERROR: case ER_UNKNOWN_TABLE:
      return absl::NotFoundError(text);
    case ER_DUP_ENTRY: case ER_DUP_KEY: case ER_TABLE_EXISTS_ERROR:
      return absl::AlreadyExistsError(text);
    case ER_NO_REFERENCED_ROW_2: case ER_ROW_IS_REFERENCED_2:
      // A row its foreign key needs is missing (or still there): the destination is not in the
      // state the change expects, like a missing row.
      return absl::FailedPreconditionError(text);
    default:
      return err >= 2000 && err < 3000 ? absl::UnavailableError(text) : absl::InternalError(text);
  }
}

struct SqlConnection::LocalData {
  absl::string_view data;
  size_t offset = 0;
  bool armed = false;  // inside LoadLocalData: a request at any other time is refused
};

namespace {

// Connector/C's LOAD DATA LOCAL callbacks, reading SqlConnection::LocalData instead of a file.
int LocalDataInit(void** state, const char* /*file_name*/, void* user) {
  *state = user;
  auto* local = static_cast<SqlConnection::LocalData*>(user);
  if (!local->armed) return 1;  // a request we did not ask for
  local->offset = 0;
  return 0;
}

int LocalDataRead(void* state, char* buffer, unsigned int size) {
  auto* local = static_cast<SqlConnection::LocalData*>(state);
  const size_t n = std::min<size_t>(size, local->data.size() - local->offset);
  memcpy(buffer, local->data.data() + local->offset, n);
  local->offset += n;
  return static_cast<int>(n);
}

void LocalDataEnd(void* /*state*/) {}

int LocalDataError(void* /*state*/, char* message, unsigned int size) {
  snprintf(message, size, "the server asked for local data it was not offered");
  return CR_UNKNOWN_ERROR;
}

}  // namespace

SqlConnection::SqlConnection(MYSQL* mysql, ConnectOptions options)
    : mysql_(mysql), options_(std::move(options)), local_data_(std::make_unique<LocalData>()) {
  if (options_.local_data) {
    mysql_set_local_infile_handler(mysql_, LocalDataInit, LocalDataRead, LocalDataEnd, LocalDataError,
                                   local_data_.get());
  }
}

SqlConnection::~SqlConnection() {
  if (mysql_ != nullptr) mysql_close(mysql_);
}

absl::StatusOr<std::unique_ptr<SqlConnection>> SqlConnection::Connect(const ConnectOptions& o) {
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return absl::ResourceExhaustedError("mysql_init failed (out of memory)");
  unsigned timeout = o.connect_timeout_s;
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  if (o.read_timeout_s > 0) {
    unsigned rt = o.read_timeout_s;
    mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  }
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // Every statement we build quotes text with backslash escapes and reads values as they are
  // stored: a server-wide NO_BACKSLASH_ESCAPES, ANSI_QUOTES or PAD_CHAR_TO_FULL_LENGTH must not
  // change what they mean. (Writing sessions pin a strict mode on top, destination_session.h.)
  mysql_optionsv(mysql, MYSQL_INIT_COMMAND, "SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION'");
  ConfigureTls(mysql, o);
  unsigned local_infile = o.local_data ? 1 : 0;  // after ConfigureTls, which turns it off
  mysql_optionsv(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  // Always TCP (Connector/C takes "localhost" for the Unix socket), under the host name given:
  // the server certificate is checked against it.
  const char* host = o.host.c_str();
  if (mysql_real_connect(mysql, host, o.user.c_str(), o.password.c_str(),
                         o.database.empty() ? nullptr : o.database.c_str(), o.port, nullptr,
                         CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS) == nullptr) {
    const unsigned err = mysql_errno(mysql);
    std::string message = absl::StrCat("cannot connect to ", o.Describe(), ": ", mysql_error(mysql));
    if (o.tls && err == CR_SSL_CONNECTION_ERROR) {
      // Connector/C checks the chain against a given CA even without host verification.
      absl::StrAppend(&message, o.tls_verify_server_cert || !o.tls_ca.empty()
          ? "; the server must have TLS on, with a certificate signed by tls.ca (or a CA the "
            "system trusts when tls.ca is empty) that names the host connected to (subjectAltName)"
          : "; the server must have TLS on");
    }
    absl::Status s = StatusFromMysqlError(err, message);
    // A certificate refused is not a server gone away: retrying would fail the same way. (A
    // handshake cut by the network stays retryable.)
    if (o.tls && err == CR_SSL_CONNECTION_ERROR && TlsRefusal(mysql_error(mysql))) {
      s = absl::FailedPreconditionError(s.message());
    }
    mysql_close(mysql);
    return s;
  }
  if (absl::Status tls = CheckTlsNegotiated(mysql, o); !tls.ok()) {
    mysql_close(mysql);
    return tls;
  }
  return std::unique_ptr<SqlConnection>(new SqlConnection(mysql, o));
}

bool TlsRefusal(absl::string_view error) {
  const std::string e = absl::AsciiStrToLower(error);
  for (absl::string_view word : {"certificate", "verif", "self-signed", "self signed", "unknown ca",
                                 "does not support", "required", "hostname", "host name", "validation"}) {
    if (absl::StrContains(e, word)) return true;
  }
  return false;
}

void ConfigureTls(MYSQL* mysql, const ConnectOptions& o) {
  unsigned tcp = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(mysql, MYSQL_OPT_PROTOCOL, &tcp);
  // No server may ask for a local file (Connector/C may offer them by default).
  unsigned no_local_files = 0;
  mysql_optionsv(mysql, MYSQL_OPT_LOCAL_INFILE, &no_local_files);
  if (!o.tls) return;
  mysql_ssl_set(mysql, o.tls_key.empty() ? nullptr : o.tls_key.c_str(),
                o.tls_cert.empty() ? nullptr : o.tls_cert.c_str(),
                o.tls_ca.empty() ? nullptr : o.tls_ca.c_str(), nullptr, nullptr);
  // Connector/C falls back to plaintext when the server offers no TLS unless the certificate is
  // verified; CheckTlsNegotiated closes that gap for !tls_verify_server_cert.
  my_bool verify = o.tls_verify_server_cert;
  mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  my_bool enforce = o.tls_required;
  mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &enforce);
}

absl::Status CheckTlsNegotiated(MYSQL* mysql, const ConnectOptions& o) {
  if (!o.tls || !o.tls_required || mysql_get_ssl_cipher(mysql) != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot connect to ", o.Describe(), ": the server did not negotiate TLS and tls.required is "
      "on; turn TLS on in the server (ssl_cert, ssl_key) or remove the tls section"));
}

absl::StatusOr<size_t> SqlConnection::MaxAllowedPacket() {
  auto packet = QueryValue("SELECT @@max_allowed_packet");
  if (!packet.ok()) return packet.status();
  size_t max_packet = 0;
  if (!absl::SimpleAtoi(packet->value_or(""), &max_packet) || max_packet < 4096) max_packet = 1 << 20;
  return max_packet;
}

std::string SqlConnection::TlsDescription() {
  const char* cipher = mysql_get_ssl_cipher(mysql_);
  if (cipher == nullptr) return "";
  const char* version = nullptr;
  mariadb_get_infov(mysql_, MARIADB_CONNECTION_TLS_VERSION, &version);
  return absl::StrCat(version != nullptr ? version : "TLS", " ", cipher);
}

absl::Status SqlConnection::ErrorStatus(absl::string_view what) {
  last_errno_ = mysql_errno(mysql_);
  return StatusFromMysqlError(last_errno_, absl::StrCat(what, ": ", mysql_error(mysql_)));
}

absl::Status SqlConnection::Execute(absl::string_view sql) {
  last_errno_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return ErrorStatus(absl::StrCat("on ", options_.Describe()));
  }
  // Drain every result of a multi-statement batch; an error in a later statement surfaces here.
  while (true) {
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (res != nullptr) mysql_free_result(res);
    else if (mysql_field_count(mysql_) != 0) return ErrorStatus(absl::StrCat("on ", options_.Describe()));
    int next = mysql_next_result(mysql_);
    if (next == -1) break;
    if (next > 0) return ErrorStatus(absl::StrCat("on ", options_.Describe()));
  }
  return absl::OkStatus();
}

absl::Status SqlConnection::LoadLocalData(absl::string_view statement, absl::string_view data) {
  if (!options_.local_data) {
    return absl::FailedPreconditionError("this connection was not opened for LOAD DATA LOCAL");
  }
  local_data_->data = data;
  local_data_->armed = true;
  absl::Status s = Execute(statement);
  local_data_->armed = false;
  local_data_->data = {};
  return s;
}

absl::StatusOr<std::vector<SqlRow>> SqlConnection::Query(absl::string_view sql) {
  last_errno_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return ErrorStatus(absl::StrCat("on ", options_.Describe()));
  }
  MYSQL_RES* res = mysql_store_result(mysql_);
  std::vector<SqlRow> rows;
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) return ErrorStatus("reading result");
    return rows;
  }
  const unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    unsigned long* lengths = mysql_fetch_lengths(res);
    SqlRow out(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] != nullptr) out[i] = std::string(row[i], lengths[i]);
    }
    rows.push_back(std::move(out));
  }
  mysql_free_result(res);
  while (mysql_next_result(mysql_) == 0) {
    if (MYSQL_RES* extra = mysql_store_result(mysql_)) mysql_free_result(extra);
  }
  return rows;
}

absl::Status SqlConnection::QueryEach(
    absl::string_view sql,
    const std::function<void(const char* const* values, const unsigned long* lengths, size_t n)>& row) {
  last_errno_ = 0;
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return ErrorStatus(absl::StrCat("on ", options_.Describe()));
  }
  MYSQL_RES* res = mysql_use_result(mysql_);
  if (res == nullptr) {
    if (mysql_field_count(mysql_) != 0) return ErrorStatus("reading result");
    return absl::OkStatus();
  }
  const unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW values = mysql_fetch_row(res)) row(values, mysql_fetch_lengths(res), n);
  // A row that could not be read (the connection went away mid-result) ends the rows too.
  absl::Status s = mysql_errno(mysql_) != 0 ? ErrorStatus("reading result") : absl::OkStatus();
  mysql_free_result(res);
  while (mysql_next_result(mysql_) == 0) {
    if (MYSQL_RES* extra = mysql_store_result(mysql_)) mysql_free_result(extra);
  }
  return s;
}

absl::StatusOr<std::optional<std::string>> SqlConnection::QueryValue(absl::string_view sql) {
  auto rows = Query(sql);
  if (!rows.ok()) return rows.status();
  if (rows->empty() || (*rows)[0].empty()) {
    return absl::NotFoundError(absl::StrCat("no row for: ", sql));
  }
  return (*rows)[0][0];
}

std::string SqlConnection::Quote(absl::string_view text) {
  std::string out(text.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(mysql_, &out[1], text.data(), text.size());
  out.resize(n + 1);
  out += '\'';
  return out;
}

}  // namespace duosync
