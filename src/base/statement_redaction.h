// Statements from a binlog may carry credentials (CREATE/ALTER USER ... IDENTIFIED BY, SET
// PASSWORD, CHANGE MASTER TO ... MASTER_PASSWORD, CREATE SERVER ... PASSWORD). Anything that shows
// a statement to a person goes through this first.
#ifndef DUOSYNC_SRC_BASE_STATEMENT_REDACTION_H_
#define DUOSYNC_SRC_BASE_STATEMENT_REDACTION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace duosync {

// `sql` with every quoted string literal replaced by '<redacted>' when the statement may hold a
// credential (it mentions IDENTIFIED or PASSWORD, in any case); unchanged otherwise.
std::string RedactStatementSecrets(absl::string_view sql);

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_STATEMENT_REDACTION_H_
