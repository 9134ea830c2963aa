#include "config/filter_oracle.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

constexpr size_t kCacheEntries = 4096;
constexpr size_t kCachedValueBytes = 256;

// Charset and collation names go into SQL: only identifier characters pass.
bool PlainName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) if (!absl::ascii_isalnum(c) && c != '_') return false;
  return true;
}

// `text` (in `charset`) as the column's collation sees it. The literal side is converted to the
// column's charset as the server does with a literal compared to a column.
std::string ColumnExpr(absl::string_view text, absl::string_view charset, absl::string_view target,
                       absl::string_view collation) {
  return absl::StrCat("CONVERT(CONVERT(_binary X'", absl::BytesToHexString(text), "' USING ", charset,
                      ") USING ", target, ") COLLATE ", collation);
}

std::string LiteralExpr(absl::string_view literal, absl::string_view target) {
  return absl::StrCat("CONVERT(_utf8mb4 X'", absl::BytesToHexString(literal), "' USING ", target, ")");
}

}  // namespace

absl::StatusOr<std::string> ServerFilterOracle::Ask(const std::string& key, const std::string& sql) {
  auto hit = cache_.find(key);
  if (hit != cache_.end()) return hit->second;
  if (conn_ == nullptr) {
    auto conn = SqlConnection::Connect(server_);
    if (!conn.ok()) return conn.status();
    conn_ = std::move(*conn);
  }
  auto value = conn_->QueryValue(sql);
  if (!value.ok()) {
    conn_.reset();
    return absl::Status(value.status().code(),
                        absl::StrCat("row filter: asking the server to compare text: ", value.status().message()));
  }
  std::string answer = value->value_or("");
  if (key.size() <= kCachedValueBytes) {
    if (cache_.size() >= kCacheEntries) cache_.clear();
    cache_[key] = answer;
  }
  return answer;
}

absl::StatusOr<int> ServerFilterOracle::Compare(absl::string_view text, absl::string_view charset,
                                                absl::string_view collation, absl::string_view literal) {
  const size_t underscore = collation.find('_');
  const absl::string_view target = collation.substr(0, underscore);
  if (!PlainName(charset) || !PlainName(collation) || !PlainName(target)) {
    return absl::InvalidArgumentError(absl::StrCat("row filter: unexpected collation name ", collation));
  }
  const std::string column = ColumnExpr(text, charset, target, collation);
  const std::string lit = LiteralExpr(literal, target);
  const std::string key = absl::StrCat("c\x1f", charset, "\x1f", collation, "\x1f", text, "\x1f", literal);
  auto answer = Ask(key, absl::StrCat("SELECT CASE WHEN ", column, " = ", lit, " THEN 0 WHEN ", column,
                                      " < ", lit, " THEN -1 ELSE 1 END"));
  if (!answer.ok()) return answer.status();
  return *answer == "0" ? 0 : *answer == "-1" ? -1 : 1;
}

absl::StatusOr<bool> ServerFilterOracle::Like(absl::string_view text, absl::string_view charset,
                                              absl::string_view collation, absl::string_view pattern) {
  const absl::string_view target = collation.substr(0, collation.find('_'));
  if (!PlainName(charset) || !PlainName(collation) || !PlainName(target)) {
    return absl::InvalidArgumentError(absl::StrCat("row filter: unexpected collation name ", collation));
  }
  const std::string key = absl::StrCat("l\x1f", charset, "\x1f", collation, "\x1f", text, "\x1f", pattern);
  auto answer = Ask(key, absl::StrCat("SELECT ", ColumnExpr(text, charset, target, collation), " LIKE ",
                                      LiteralExpr(pattern, target)));
  if (!answer.ok()) return answer.status();
  return *answer == "1";
}

}  // namespace duosync
