#include "sql/sql_literal.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace duosync {

void AppendQuoted(absl::string_view text, std::string* out) {
  out->reserve(out->size() + text.size() + 2);
  out->push_back('\'');
  for (char c : text) {
    switch (c) {
      case '\0': out->append("\\0"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\\': out->append("\\\\"); break;
      case '\'': out->append("\\'"); break;
      case '\x1a': out->append("\\Z"); break;
      default: out->push_back(c);
    }
  }
  out->push_back('\'');
}

void AppendLiteral(const Value& v, const ColumnSchema& column, std::string* out, BinaryLiteral binary) {
  switch (v.kind) {
    case Value::Kind::kNull: out->append("NULL"); return;
    case Value::Kind::kInt: absl::StrAppend(out, v.i); return;
    case Value::Kind::kUInt: absl::StrAppend(out, v.u); return;
    case Value::Kind::kDouble:
      // 17 digits: exact for DOUBLE, and for FLOAT (widened exactly) so that comparisons with the
      // stored value hold too.
      absl::StrAppend(out, absl::StrFormat("%.17g", v.d));
      return;
    case Value::Kind::kString: AppendQuoted(v.s, out); return;
    case Value::Kind::kBytes:
      if (!column.charset.empty() && column.charset != "binary") {
        absl::StrAppend(out, "_", column.charset);
        AppendQuoted(v.s, out);
        return;
      }
      if (binary == BinaryLiteral::kCompact) {
        // The query is sent with its length, so other bytes (NUL included) need no escape; the
        // utf8mb4 connection cannot hide a quote or backslash inside a multibyte character.
        out->reserve(out->size() + v.s.size() + v.s.size() / 64 + 10);
        out->append("_binary'");
        for (char c : v.s) {
          if (c == '\'' || c == '\\') out->push_back('\\');
          out->push_back(c);
        }
        out->push_back('\'');
        return;
      }
      static constexpr char kHex[] = "0123456789ABCDEF";
      out->append("X'");
      for (unsigned char c : v.s) {
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      }
      out->push_back('\'');
      return;
  }
}

}  // namespace duosync
