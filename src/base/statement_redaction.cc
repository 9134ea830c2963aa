#include "base/statement_redaction.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace duosync {

std::string RedactStatementSecrets(absl::string_view sql) {
  const std::string lower = absl::AsciiStrToLower(sql);
  if (!absl::StrContains(lower, "identified") && !absl::StrContains(lower, "password")) {
    return std::string(sql);
  }
  // Every '...' and "..." literal goes (a password hash is as secret as the password): simpler
  // and safer than knowing each statement's grammar. Backquoted names stay.
  std::string out;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '`') {
      const size_t end = sql.find('`', i + 1);
      const size_t stop = end == absl::string_view::npos ? sql.size() : end + 1;
      out.append(sql.data() + i, stop - i);
      i = stop;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == c && j + 1 < sql.size() && sql[j + 1] == c) {
          j += 2;  // a doubled quote inside the literal
        } else if (sql[j] == c) {
          break;
        } else {
          ++j;
        }
      }
      out.push_back(c);
      out.append("<redacted>");
      out.push_back(c);
      i = j + 1;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace duosync
