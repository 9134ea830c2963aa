#include "sql/array_statement.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace duosync {

bool ArrayStatement::Supported(SqlConnection* c) {
  unsigned long capabilities = 0, extended = 0;
  if (mariadb_get_infov(c->raw(), MARIADB_CONNECTION_SERVER_CAPABILITIES, &capabilities) != 0 ||
      mariadb_get_infov(c->raw(), MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &extended) != 0) {
    return false;
  }
  // A MySQL server sets CLIENT_MYSQL; a MariaDB server clears it and lists its extensions.
  return (capabilities & CLIENT_MYSQL) == 0 && (extended & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

ArrayStatement::ArrayStatement(SqlConnection* c, MYSQL_STMT* stmt, std::vector<Param> params)
    : connection_(c), stmt_(stmt), params_(std::move(params)) {}

ArrayStatement::~ArrayStatement() { mysql_stmt_close(stmt_); }

absl::StatusOr<std::unique_ptr<ArrayStatement>> ArrayStatement::Prepare(SqlConnection* c, absl::string_view sql,
                                                                         std::vector<Param> params) {
  MYSQL_STMT* stmt = mysql_stmt_init(c->raw());
  if (stmt == nullptr) return absl::ResourceExhaustedError("mysql_stmt_init failed (out of memory)");
  std::unique_ptr<ArrayStatement> out(new ArrayStatement(c, stmt, std::move(params)));
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
    return out->Error(absl::StrCat("preparing on ", c->options().Describe()));
  }
  if (mysql_stmt_param_count(stmt) != out->params_.size()) {
    return absl::InternalError(absl::StrCat("a statement of ", mysql_stmt_param_count(stmt), " parameters was given ",
                                            out->params_.size()));
  }
  return out;
}

absl::Status ArrayStatement::Error(absl::string_view what) {
  last_errno_ = mysql_stmt_errno(stmt_);
  const std::string message = absl::StrCat(what, ": ", mysql_stmt_error(stmt_));
  switch (last_errno_) {
    // Refusals of the statement or of the request (a proxy in between may not know it): the
    // caller sends the rows another way.
    // A server out of prepared statements (other clients hold max_prepared_stmt_count) too.
    case ER_UNSUPPORTED_PS: case ER_UNKNOWN_COM_ERROR: case CR_NOT_IMPLEMENTED: case CR_FUNCTION_NOT_SUPPORTED:
    case ER_MAX_PREPARED_STMT_COUNT_REACHED:
      return absl::UnimplementedError(absl::StrCat(message, " (error ", last_errno_, ")"));
    default:
      return StatusFromMysqlError(last_errno_, message);
  }
}

absl::Status ArrayStatement::Execute(size_t rows, const char* const* values, const unsigned long* lengths) {
  last_errno_ = 0;
  if (rows == 0) return absl::OkStatus();
  const size_t n = params_.size();
  indicators_.assign(n * rows, STMT_INDICATOR_NONE);
  numbers_.clear();
  for (size_t p = 0; p < n; ++p) {
    if (params_[p] == Param::kUnsigned) numbers_.resize(n * rows);
  }
  std::vector<MYSQL_BIND> bind(n);
  for (size_t p = 0; p < n; ++p) {
    std::memset(&bind[p], 0, sizeof(MYSQL_BIND));
    const size_t at = p * rows;
    for (size_t r = 0; r < rows; ++r) {
      if (values[at + r] == nullptr) indicators_[at + r] = STMT_INDICATOR_NULL;
    }
    bind[p].u.indicator = &indicators_[at];
    if (params_[p] == Param::kUnsigned) {
      for (size_t r = 0; r < rows; ++r) {
        if (values[at + r] == nullptr) continue;
        if (!absl::SimpleAtoi(absl::string_view(values[at + r], lengths[at + r]), &numbers_[at + r])) {
          return absl::InvalidArgumentError(absl::StrCat("parameter ", p + 1, " of row ", r + 1,
                                                         " is not an unsigned number"));
        }
      }
      // Column-wise: fixed-size values lie side by side.
      bind[p].buffer_type = MYSQL_TYPE_LONGLONG;
      bind[p].is_unsigned = 1;
      bind[p].buffer = &numbers_[at];
    } else {
      // Column-wise: variable-length values are given by an array of pointers and one of lengths.
      bind[p].buffer_type = params_[p] == Param::kBytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      bind[p].buffer = const_cast<char**>(values + at);
      bind[p].length = const_cast<unsigned long*>(lengths + at);
    }
  }
  unsigned int array_size = static_cast<unsigned int>(rows);
  if (mysql_stmt_attr_set(stmt_, STMT_ATTR_ARRAY_SIZE, &array_size) != 0 ||
      mysql_stmt_bind_param(stmt_, bind.data()) != 0 || mysql_stmt_execute(stmt_) != 0) {
    return Error(absl::StrCat("on ", connection_->options().Describe()));
  }
  return absl::OkStatus();
}

}  // namespace duosync
