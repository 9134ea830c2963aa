#include "sql/ddl.h"

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/names.h"

namespace duosync {
namespace {

struct Token {
  enum Kind { kWord, kQuoted, kString, kNumber, kPunct } kind;
  std::string text;   // words upper-cased; quoted identifiers unquoted
  size_t begin, end;  // span in the statement
};

// Executable comments: "/*!", "/*M!" and "/*!M" (MariaDB), each with an optional version. The
// server runs their text as part of the statement, so it is read as such (whatever the version:
// reading too much can only refuse a statement, never let one hide).
size_t ExecutableCommentOpener(absl::string_view s, size_t i) {
  if (s.substr(i, 2) != "/*") return 0;
  size_t j = i + 2;
  if (j < s.size() && (s[j] == 'M' || s[j] == 'm') && j + 1 < s.size() && s[j + 1] == '!') {
    j += 2;
  } else if (j < s.size() && s[j] == '!') {
    ++j;
    if (j < s.size() && (s[j] == 'M' || s[j] == 'm')) ++j;
  } else {
    return 0;
  }
  while (j < s.size() && absl::ascii_isdigit(s[j])) ++j;
  return j - i;
}

std::vector<Token> Tokenize(absl::string_view s, DdlSqlMode mode) {
  std::vector<Token> out;
  size_t i = 0;
  int executable = 0;  // executable comments open around i
  while (i < s.size()) {
    const char c = s[i];
    if (absl::ascii_isspace(c)) { ++i; continue; }
    if (const size_t opener = ExecutableCommentOpener(s, i)) {
      i += opener;
      ++executable;
      continue;
    }
    if (executable > 0 && c == '*' && i + 1 < s.size() && s[i + 1] == '/') {
      i += 2;
      --executable;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {  // comment
      size_t e = s.find("*/", i + 2);
      i = e == absl::string_view::npos ? s.size() : e + 2;
      continue;
    }
    // "-- " starts a comment only with a space or control character after it, as the server
    // reads it: "1--1" is arithmetic, and what follows it is part of the statement.
    const bool dash_comment = c == '-' && i + 1 < s.size() && s[i + 1] == '-' &&
                              (i + 2 >= s.size() || static_cast<unsigned char>(s[i + 2]) <= ' ');
    if (dash_comment || c == '#') {
      size_t e = s.find('\n', i);
      i = e == absl::string_view::npos ? s.size() : e + 1;
      continue;
    }
    const size_t begin = i;
    if (c == '`' || (c == '"' && mode.ansi_quotes)) {
      std::string id;
      for (++i; i < s.size(); ++i) {
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) { id += c; ++i; continue; }
          ++i;
          break;
        }
        id += s[i];
      }
      out.push_back({Token::kQuoted, id, begin, i});
    } else if (c == '\'' || c == '"') {
      for (++i; i < s.size() && s[i] != c; ++i) {
        if (s[i] == '\\' && !mode.no_backslash_escapes) ++i;
      }
      i = std::min(i + 1, s.size());  // an unterminated string ends with the statement
      out.push_back({Token::kString, std::string(s.substr(begin, i - begin)), begin, i});
    } else if (absl::ascii_isalnum(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80) {
      while (i < s.size() && (absl::ascii_isalnum(s[i]) || s[i] == '_' || s[i] == '$' ||
                              static_cast<unsigned char>(s[i]) >= 0x80)) {
        ++i;
      }
      std::string w(s.substr(begin, i - begin));
      out.push_back({absl::ascii_isdigit(c) ? Token::kNumber : Token::kWord, w, begin, i});
    } else {
      out.push_back({Token::kPunct, std::string(1, c), begin, ++i});
    }
  }
  return out;
}

// Parses with edits recorded for the rewrite.
class DdlParser {
 public:
  DdlParser(absl::string_view sql, absl::string_view schema, DdlSqlMode mode)
      : sql_(sql), schema_(schema), t_(Tokenize(sql, mode)) {}

  ParsedDdl Parse() {
    if (Is("ALTER")) ParseAlter();
    else if (Is("CREATE")) ParseCreate();
    else if (Is("DROP")) ParseDrop();
    else if (Is("TRUNCATE")) ParseTruncate();
    else if (Is("RENAME") && Is("TABLE", 1)) ParseRename();
    if (out_.is_table_ddl && out_.reason.empty()) out_.supported = true;
    if (out_.supported) out_.rewrite = Rewriter(edits_);
    if (out_.is_table_ddl) {
      std::vector<Edit> names;
      for (const Edit& e : edits_) {
        if (e.table) names.push_back(e);
      }
      out_.rename_tables = Rewriter(std::move(names));
    }
    return out_;
  }

 private:
  struct Edit {
    size_t begin, end;
    std::optional<TableRef> table;  // replace by the destination's name
    std::string text;               // else insert/replace by this text
  };

  // Applies `edits` (in text order) to the statement, naming tables by `rename`.
  std::function<std::string(const std::function<TableRef(const TableRef&)>&)> Rewriter(
      std::vector<Edit> edits) const {
    auto sql = std::make_shared<std::string>(sql_);
    auto shared = std::make_shared<std::vector<Edit>>(std::move(edits));
    return [sql, shared](const std::function<TableRef(const TableRef&)>& rename) {
      std::string result;
      size_t at = 0;
      for (const Edit& e : *shared) {
        result.append(*sql, at, e.begin - at);
        result += e.table ? QuoteTable(rename(*e.table).schema, rename(*e.table).table) : e.text;
        at = e.end;
      }
      result.append(*sql, at, std::string::npos);
      return result;
    };
  }

  bool Is(absl::string_view word, size_t ahead = 0) const {
    const size_t j = p_ + ahead;
    return j < t_.size() && t_[j].kind == Token::kWord && absl::EqualsIgnoreCase(t_[j].text, word);
  }
  bool Accept(absl::string_view word) {
    if (!Is(word)) return false;
    ++p_;
    return true;
  }
  bool IsPunct(char c) const { return p_ < t_.size() && t_[p_].kind == Token::kPunct && t_[p_].text[0] == c; }
  void Unsupported(std::string why) {
    if (out_.reason.empty()) out_.reason = std::move(why);
  }
  void InsertAt(size_t pos, std::string text) { edits_.push_back({pos, pos, std::nullopt, std::move(text)}); }

  // schema.table or table; records the rewrite of its span.
  std::optional<TableRef> Table() {
    if (p_ >= t_.size() || (t_[p_].kind != Token::kWord && t_[p_].kind != Token::kQuoted)) return std::nullopt;
    const size_t begin = t_[p_].begin;
    TableRef ref{std::string(schema_), t_[p_].text};
    ++p_;
    if (IsPunct('.') && p_ + 1 < t_.size()) {
      ++p_;
      ref.schema = ref.table;
      ref.table = t_[p_].text;
      ++p_;
    }
    edits_.push_back({begin, t_[p_ - 1].end, ref, ""});
    out_.tables.push_back(ref);
    out_.is_table_ddl = true;
    return ref;
  }

  // Skips to the next comma at parenthesis depth 0 (or the end); returns the text skipped.
  std::string SkipClause() {
    int depth = 0;
    const size_t begin = p_ < t_.size() ? t_[p_].begin : sql_.size();
    size_t end = begin;
    while (p_ < t_.size()) {
      if (IsPunct('(')) ++depth;
      if (IsPunct(')')) --depth;
      if (depth == 0 && IsPunct(',')) break;
      end = t_[p_].end;
      ++p_;
    }
    return std::string(sql_.substr(begin, end - begin));
  }

  void IfNotExists(bool exists) {
    // Already written by the user?
    if (Is("IF")) {
      p_ += exists ? 2 : 3;
      return;
    }
    InsertAt(p_ < t_.size() ? t_[p_].begin : sql_.size(), exists ? "IF EXISTS " : "IF NOT EXISTS ");
  }

  void ParseAlter() {
    ++p_;
    Accept("ONLINE");
    Accept("IGNORE");
    if (!Accept("TABLE")) return;  // ALTER DATABASE / USER / VIEW ...: not table DDL
    auto table = Table();
    if (!table) return;
    do {
      if (IsPunct(',')) ++p_;
      ParseAlterSpec(*table);
    } while (IsPunct(','));
  }

  void ParseAlterSpec(const TableRef& table) {
    if (Accept("ADD")) {
      if (Is("PRIMARY") || Is("FOREIGN") || Is("CONSTRAINT") || Is("PARTITION") || Is("CHECK") ||
          Is("PERIOD") || Is("SYSTEM") || Is("FULLTEXT") || Is("SPATIAL") || IsPunct('(')) {
        Unsupported(absl::StrCat("ALTER TABLE ... ADD ", p_ < t_.size() ? t_[p_].text : "", " is not supported"));
      } else if (Accept("UNIQUE") || Is("INDEX") || Is("KEY")) {
        if (!Accept("INDEX")) Accept("KEY");
        IfNotExists(false);
      } else {
        Accept("COLUMN");
        IfNotExists(false);
      }
      SkipClause();
    } else if (Accept("MODIFY")) {
      Accept("COLUMN");
      if (p_ < t_.size()) {
        const std::string column = t_[p_].text;
        ++p_;
        out_.modifies.push_back({table, column, SkipClause()});
      }
    } else if (Accept("ALTER")) {
      Accept("COLUMN");
      ++p_;  // column name
      if (!(Is("SET") && Is("DEFAULT", 1)) && !(Is("DROP") && Is("DEFAULT", 1))) {
        Unsupported("ALTER TABLE ... ALTER COLUMN supports SET DEFAULT and DROP DEFAULT only");
      }
      SkipClause();
    } else if (Accept("DROP")) {
      if (Is("PRIMARY") || Is("FOREIGN") || Is("CONSTRAINT") || Is("PARTITION") || Is("CHECK")) {
        Unsupported(absl::StrCat("ALTER TABLE ... DROP ", t_[p_].text, " is not supported"));
      } else if (Accept("INDEX") || Accept("KEY")) {
        IfNotExists(true);
      } else {
        Accept("COLUMN");
        IfNotExists(true);
      }
      SkipClause();
    } else if (Accept("RENAME")) {
      if (Is("COLUMN") || Is("INDEX") || Is("KEY")) {
        Unsupported(absl::StrCat("ALTER TABLE ... RENAME ", t_[p_].text, " is not supported"));
        SkipClause();
        return;
      }
      if (!Accept("TO")) Accept("AS");
      out_.is_rename = true;
      Table();
      SkipClause();
    } else if (Is("ALGORITHM") || Is("LOCK")) {
      SkipClause();  // execution options, harmless
    } else {
      Unsupported(absl::StrCat("ALTER TABLE ... ", p_ < t_.size() ? t_[p_].text : "", " is not supported"));
      SkipClause();
    }
  }

  void ParseCreate() {
    ++p_;
    if (Is("OR") && Is("REPLACE", 1)) {
      p_ += 2;
      if (Is("TABLE")) {
        Unsupported("CREATE OR REPLACE TABLE is not supported");
        ++p_;
        Table();
      }
      return;
    }
    if (Is("TEMPORARY")) return;  // session-local, never synced
    if (Accept("TABLE")) {
      IfNotExists(false);
      if (!Table()) return;
      if (Is("LIKE") || !IsPunct('(')) {
        Unsupported("CREATE TABLE ... LIKE / ... SELECT is not supported");
        if (Accept("LIKE")) {
          const size_t tables = out_.tables.size();
          if (Table()) {  // renamed with the others, but only read
            out_.source_tables.push_back(out_.tables.back());
            out_.tables.resize(tables);
          }
        }
        return;
      }
      int depth = 0;
      for (; p_ < t_.size(); ++p_) {
        if (IsPunct('(')) ++depth;
        if (IsPunct(')')) --depth;
        if (depth == 0 && (Is("SELECT") || Is("AS"))) Unsupported("CREATE TABLE ... SELECT is not supported");
      }
      return;
    }
    Accept("UNIQUE");
    if (Is("FULLTEXT") || Is("SPATIAL")) {
      Unsupported("FULLTEXT and SPATIAL indexes are not supported");
      ++p_;
    }
    if (Accept("INDEX")) {
      IfNotExists(false);
      ++p_;  // index name
      if (Accept("ON")) Table();
    }
  }

  void ParseDrop() {
    ++p_;
    Accept("TEMPORARY");
    if (Accept("TABLE")) {
      IfNotExists(true);
      do {
        if (IsPunct(',')) ++p_;
        Table();
      } while (IsPunct(','));
    } else if (Accept("INDEX")) {
      IfNotExists(true);
      ++p_;  // index name
      if (Accept("ON")) Table();
    }
  }

  void ParseTruncate() {
    ++p_;
    Accept("TABLE");
    Table();
  }

  void ParseRename() {
    p_ += 2;
    out_.is_rename = true;
    do {
      if (IsPunct(',')) ++p_;
      Table();
      if (!Accept("TO")) break;
      Table();
    } while (IsPunct(','));
  }

  absl::string_view sql_, schema_;
  std::vector<Token> t_;
  size_t p_ = 0;
  std::vector<Edit> edits_;
  ParsedDdl out_;
};

// "varchar(20) unsigned" -> ("varchar", {"20"}, "unsigned").
void SplitType(absl::string_view type, std::string* base, std::vector<std::string>* args, std::string* rest) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
  const size_t open = t.find('(');
  const size_t close = t.find(')');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    *base = std::string(absl::StripAsciiWhitespace(t.substr(0, open)));
    for (absl::string_view a : absl::StrSplit(t.substr(open + 1, close - open - 1), ',')) {
      args->push_back(std::string(absl::StripAsciiWhitespace(a)));
    }
    *rest = std::string(absl::StripAsciiWhitespace(t.substr(close + 1)));
  } else {
    const size_t space = t.find(' ');
    *base = t.substr(0, space);
    *rest = space == std::string::npos ? "" : std::string(absl::StripAsciiWhitespace(t.substr(space)));
  }
}

}  // namespace

DdlSqlMode DdlSqlModeOf(uint64_t sql_mode) {
  DdlSqlMode mode;
  mode.ansi_quotes = (sql_mode & kSqlModeAnsiQuotes) != 0;
  mode.no_backslash_escapes = (sql_mode & kSqlModeNoBackslashEscapes) != 0;
  return mode;
}

ParsedDdl ParseDdl(absl::string_view sql, absl::string_view schema, DdlSqlMode mode) {
  ParsedDdl ddl = DdlParser(sql, schema, mode).Parse();
  if (ddl.is_table_ddl && (mode.ansi_quotes || mode.no_backslash_escapes)) {
    ddl.supported = false;
    ddl.reason = absl::StrCat("it was written under sql_mode ",
                              mode.ansi_quotes ? "ANSI_QUOTES" : "NO_BACKSLASH_ESCAPES",
                              ", which the destination's sessions do not use, so its text would mean "
                              "something else there");
  }
  return ddl;
}

std::string CheckLengthOnlyChange(absl::string_view from, absl::string_view to) {
  std::string fb, tb, fr, tr;
  std::vector<std::string> fa, ta;
  SplitType(from, &fb, &fa, &fr);
  SplitType(to, &tb, &ta, &tr);
  static const std::vector<std::vector<std::string>> kFamilies = {
      {"tinytext", "text", "mediumtext", "longtext"}, {"tinyblob", "blob", "mediumblob", "longblob"}};
  for (const auto& family : kFamilies) {
    auto fi = std::find(family.begin(), family.end(), fb);
    auto ti = std::find(family.begin(), family.end(), tb);
    if (fi != family.end() && ti != family.end()) {
      return ti >= fi ? "" : absl::StrCat("changing ", from, " to ", to, " shortens the column");
    }
  }
  // Column attributes that MODIFY restates (NULL / NOT NULL / DEFAULT / COMMENT) are not type changes.
  auto type_words = [](const std::string& rest) {
    std::string out;
    for (absl::string_view w : absl::StrSplit(rest, ' ', absl::SkipEmpty())) {
      if (w == "unsigned" || w == "zerofill" || w == "signed") absl::StrAppend(&out, w, " ");
    }
    return out;
  };
  if (fb != tb || fa.size() != ta.size() || type_words(fr) != type_words(tr)) {
    return absl::StrCat("changing ", from, " to ", to, " changes the type; only a longer length is supported");
  }
  for (size_t i = 0; i < fa.size(); ++i) {
    int f = 0, t = 0;
    if (!absl::SimpleAtoi(fa[i], &f) || !absl::SimpleAtoi(ta[i], &t)) {
      if (fa[i] != ta[i]) return absl::StrCat("changing ", from, " to ", to, " changes the type");
      continue;
    }
    // DECIMAL(p, s): the scale must stay, the precision may grow.
    if (i == 1 && (fb == "decimal" || fb == "numeric") ? t != f : t < f) {
      return absl::StrCat("changing ", from, " to ", to, " is not only a longer length");
    }
  }
  return "";
}

std::vector<std::string> QualifiersIn(absl::string_view sql, DdlSqlMode mode) {
  const std::vector<Token> t = Tokenize(sql, mode);
  std::vector<std::string> out;
  // A name may start with a digit (2024shop): the tokenizer calls it a number.
  auto is_name = [&](size_t i) {
    return t[i].kind == Token::kWord || t[i].kind == Token::kQuoted ||
           (t[i].kind == Token::kNumber && t[i].text.find_first_not_of("0123456789") != std::string::npos);
  };
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    // The server takes "shop . t" too.
    if (is_name(i) && t[i + 1].kind == Token::kPunct && t[i + 1].text == "." && is_name(i + 2)) {
      out.push_back(t[i].text);
    }
  }
  return out;
}

}  // namespace duosync
