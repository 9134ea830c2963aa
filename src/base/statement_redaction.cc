#include "base/statement_redaction.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace duosync {
namespace {

// Replaces every '...' and "..." literal; backquoted names stay. With `backslash`, \ escapes the
// next character (the default sql_mode); without, only a doubled quote does (NO_BACKSLASH_ESCAPES).
std::string ReplaceLiterals(absl::string_view sql, bool backslash) {
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
        if (backslash && sql[j] == '\\') {
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

}  // namespace

std::string RedactStatementSecrets(absl::string_view sql) {
  const std::string lower = absl::AsciiStrToLower(sql);
  bool sensitive = false;
  for (const char* word : {"identified", "password", "connection", "encrypt", "secret"}) {
    sensitive = sensitive || absl::StrContains(lower, word);
  }
  if (!sensitive) return std::string(sql);
  // A password hash is as secret as the password, so every literal goes: simpler and safer than
  // knowing each statement's grammar. Where the literals' ends depend on the writing session's
  // sql_mode (a backslash before a quote), everything from the first quote on goes.
  std::string with = ReplaceLiterals(sql, true), without = ReplaceLiterals(sql, false);
  if (with == without) return with;
  const size_t quote = sql.find_first_of("'\"");
  return std::string(sql.substr(0, quote)) + "<redacted>";
}

}  // namespace duosync
