// The server as the judge of what a row filter cannot decide alone (filter_compare.h: non-ASCII
// text under an insensitive collation, other charsets): it evaluates the same comparison the full
// copy's WHERE makes, on the same server kind, so both stages keep the same rows.
#ifndef DUOSYNC_SRC_CONFIG_FILTER_ORACLE_H_
#define DUOSYNC_SRC_CONFIG_FILTER_ORACLE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sql/sql_connection.h"

namespace duosync {

class FilterOracle {
 public:
  virtual ~FilterOracle() = default;
  // `text` (bytes in `charset`) against `literal` (UTF-8) under `collation`: -1, 0 or 1.
  virtual absl::StatusOr<int> Compare(absl::string_view text, absl::string_view charset,
                                      absl::string_view collation, absl::string_view literal) = 0;
  // `text LIKE pattern` under `collation`.
  virtual absl::StatusOr<bool> Like(absl::string_view text, absl::string_view charset,
                                    absl::string_view collation, absl::string_view pattern) = 0;
};

// Asks a server through its own connection, opened on first use (reconnects after an error).
// Answers are cached (short values only, bounded). Not thread-safe: one per router.
class ServerFilterOracle : public FilterOracle {
 public:
  explicit ServerFilterOracle(ConnectOptions server) : server_(std::move(server)) {}
  absl::StatusOr<int> Compare(absl::string_view text, absl::string_view charset,
                              absl::string_view collation, absl::string_view literal) override;
  absl::StatusOr<bool> Like(absl::string_view text, absl::string_view charset,
                            absl::string_view collation, absl::string_view pattern) override;

 private:
  absl::StatusOr<std::string> Ask(const std::string& cache_key, const std::string& sql);

  ConnectOptions server_;
  std::unique_ptr<SqlConnection> conn_;
  std::map<std::string, std::string> cache_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_FILTER_ORACLE_H_
