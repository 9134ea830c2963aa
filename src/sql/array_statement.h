// A prepared statement run for many rows of parameters in one round trip: MariaDB's array binding
// (COM_STMT_BULK_EXECUTE, MariaDB 10.2 and later). The server receives each value as it is, with
// its length: nothing to escape on our side, no SQL text to scan and parse on the server's (a
// third less of the destination's time than LOAD DATA's field reading in the full copy, measured).
// MySQL and OceanBase servers do not have it: ask Supported() first.
#ifndef DUOSYNC_SRC_SQL_ARRAY_STATEMENT_H_
#define DUOSYNC_SRC_SQL_ARRAY_STATEMENT_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sql/sql_connection.h"

typedef struct st_mysql_stmt MYSQL_STMT;

namespace duosync {

class ArrayStatement {
 public:
  // How a parameter's value (bytes as the text protocol reads them) is sent.
  enum class Param {
    kText,      // text in the connection's charset (utf8mb4), converted to the column's
    kBytes,     // bytes as they are (binary strings, BLOBs, geometry)
    kUnsigned,  // decimal digits, sent as a 64-bit unsigned number (a BIT column's value)
  };

  // Whether `c`'s server runs array-bound statements.
  static bool Supported(SqlConnection* c);

  // Prepares `sql` on `c` (which must outlive the statement), with one `params` entry per '?'.
  // Here and in Execute, Unimplemented when the server (or a proxy before it) refuses the
  // statement or the array-bound request.
  static absl::StatusOr<std::unique_ptr<ArrayStatement>> Prepare(SqlConnection* c, absl::string_view sql,
                                                                 std::vector<Param> params);
  ~ArrayStatement();
  ArrayStatement(const ArrayStatement&) = delete;
  ArrayStatement& operator=(const ArrayStatement&) = delete;

  // Runs the statement once for each of `rows` rows, in one request. The values go parameter
  // after parameter: values[p * rows + r] is parameter p of row r (nullptr: NULL), of
  // lengths[p * rows + r] bytes. The request must fit the server's max_allowed_packet:
  // HeaderBytes + RowBytes of each row bound its size.
  absl::Status Execute(size_t rows, const char* const* values, const unsigned long* lengths);

  // An upper bound of the bytes a row of values of `value_bytes` bytes in all adds to a request.
  size_t RowBytes(size_t value_bytes) const { return value_bytes + 10 * params_.size(); }
  // The bytes of a request before its rows.
  size_t HeaderBytes() const { return 16 + 2 * params_.size(); }

  // The last error's server error number (0 after a success).
  unsigned last_errno() const { return last_errno_; }

 private:
  ArrayStatement(SqlConnection* c, MYSQL_STMT* stmt, std::vector<Param> params);
  absl::Status Error(absl::string_view what);

  SqlConnection* connection_;
  MYSQL_STMT* stmt_;
  std::vector<Param> params_;
  unsigned last_errno_ = 0;
  // Per call, kept to spare the allocations: NULL indicators and the numbers of kUnsigned values.
  std::vector<char> indicators_;
  std::vector<unsigned long long> numbers_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_ARRAY_STATEMENT_H_
