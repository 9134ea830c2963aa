#include "cli/binlog_command.h"

#include <charconv>
#include <cmath>
#include <ctime>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "base/statement_redaction.h"
#include "base/table_schema.h"
#include "source/binlog_file.h"
#include "source/transaction_assembler.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

bool ValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0 ? 1 : 0)) {
      if (n != 0) return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (static_cast<uint8_t>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string Latin1ToUtf8(absl::string_view s) {
  std::string out;
  for (char ch : s) {
    const uint8_t c = static_cast<uint8_t>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// An ENUM's or SET's member names for its stored number, when the binlog gave them.
bool MemberText(const ColumnSchema& c, const Value& v, std::string* out) {
  if (c.elements.empty() || v.kind != Value::Kind::kUInt) return false;
  if (c.type == coltype::kEnum) {
    if (v.u == 0) {
      out->clear();  // the "invalid value" of an ENUM
      return true;
    }
    if (v.u > c.elements.size()) return false;
    *out = c.elements[v.u - 1];
    return true;
  }
  std::vector<std::string> members;
  for (size_t b = 0; b < c.elements.size() && b < 64; ++b) {
    if ((v.u >> b) & 1) members.push_back(c.elements[b]);
  }
  *out = absl::StrJoin(members, ",");
  return true;
}

// Text of a byte value for people: UTF-8 as is, latin1 converted, anything else nullopt (hex).
std::optional<std::string> ReadableText(const ColumnSchema& c, const std::string& bytes) {
  if (c.charset == "binary" || c.charset.empty()) return std::nullopt;
  if (c.charset == "latin1") return Latin1ToUtf8(bytes);
  if (ValidUtf8(bytes)) return bytes;
  return std::nullopt;
}

void AppendJsonValue(const ColumnSchema& c, const Value& v, std::string* out) {
  std::string member;
  switch (v.kind) {
    case Value::Kind::kNull: out->append("null"); return;
    case Value::Kind::kInt: absl::StrAppend(out, v.i); return;
    case Value::Kind::kUInt:
      if (MemberText(c, v, &member)) {
        AppendJsonString(member, out);
      } else {
        absl::StrAppend(out, v.u);
      }
      return;
    case Value::Kind::kDouble: {
      if (!std::isfinite(v.d)) {
        AppendJsonString(absl::StrCat(v.d), out);
        return;
      }
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof buf, v.d);
      out->append(buf, res.ptr);
      return;
    }
    case Value::Kind::kString: AppendJsonString(v.s, out); return;
    case Value::Kind::kBytes: {
      auto text = ReadableText(c, v.s);
      if (text.has_value()) {
        AppendJsonString(*text, out);
      } else {
        absl::StrAppend(out, "{\"hex\":\"", absl::BytesToHexString(v.s), "\"}");
      }
      return;
    }
  }
}

void AppendTextValue(const ColumnSchema& c, const Value& v, std::string* out) {
  std::string member;
  if (v.kind == Value::Kind::kUInt && MemberText(c, v, &member)) {
    AppendQuoted(member, out);
  } else if (v.kind == Value::Kind::kBytes) {
    auto text = ReadableText(c, v.s);
    if (text.has_value()) {
      AppendQuoted(*text, out);
    } else {
      absl::StrAppend(out, "X'", absl::BytesToHexString(v.s), "'");
    }
  } else if (v.kind == Value::Kind::kString) {
    AppendQuoted(v.s, out);
  } else if (v.kind == Value::Kind::kDouble) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v.d);
    out->append(buf, res.ptr);
  } else if (v.kind == Value::Kind::kNull) {
    out->append("NULL");
  } else {
    absl::StrAppend(out, v.kind == Value::Kind::kInt ? absl::StrCat(v.i) : absl::StrCat(v.u));
  }
}

// The server's account tables hold password hashes: their row values are never shown.
bool CredentialTable(const TableSchema& t) {
  if (!absl::EqualsIgnoreCase(t.schema, "mysql")) return false;
  for (const char* name : {"user", "global_priv", "password_history"}) {
    if (absl::EqualsIgnoreCase(t.table, name)) return true;
  }
  return false;
}

bool Present(const std::string& bitmap, size_t i) {
  return bitmap.empty() || ((static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1);
}

std::string Utc(uint32_t t) {
  const time_t secs = t;
  struct tm tm;
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void AppendJsonImage(const RowChange& ch, const Row& row, const std::string& present, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < row.size(); ++i) {
    if (!Present(present, i)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(ch.table->columns[i].name, out);
    out->push_back(':');
    if (CredentialTable(*ch.table)) {
      out->append("\"<redacted>\"");
    } else {
      AppendJsonValue(ch.table->columns[i], row[i], out);
    }
  }
  out->push_back('}');
}

std::string TransactionJson(const std::string& file, const Transaction& t) {
  std::string out = "{\"file\":";
  AppendJsonString(file, &out);
  absl::StrAppend(&out, ",\"position\":", t.start_position, ",\"end_position\":", t.end_position,
                  ",\"gtid\":");
  AppendJsonString(t.gtid.sequence == 0 && t.gtid.source_uuid.empty() ? "" : t.gtid.ToString(), &out);
  absl::StrAppend(&out, ",\"server_id\":", t.origin_server_id, ",\"time\":\"", Utc(t.commit_time), "\"");
  if (!t.ddl.empty()) {
    out.append(",\"ddl\":");
    AppendJsonString(RedactStatementSecrets(t.ddl), &out);
    out.append(",\"database\":");
    AppendJsonString(t.ddl_schema, &out);
  }
  if (!t.statement.empty()) {
    out.append(",\"statement\":");
    AppendJsonString(RedactStatementSecrets(t.statement), &out);
  }
  out.append(",\"changes\":[");
  for (size_t k = 0; k < t.changes.size(); ++k) {
    const RowChange& ch = t.changes[k];
    if (k > 0) out.push_back(',');
    out.append("{\"table\":");
    AppendJsonString(ch.table->QualifiedName(), &out);
    absl::StrAppend(&out, ",\"op\":\"", RowOpName(ch.op), "\"");
    if (ch.op != RowOp::kInsert) {
      out.append(",\"before\":");
      AppendJsonImage(ch, ch.before, ch.present_before, &out);
    }
    if (ch.op != RowOp::kDelete) {
      out.append(",\"after\":");
      AppendJsonImage(ch, ch.after, ch.present_after, &out);
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

void AppendTextImage(const RowChange& ch, const Row& row, const std::string& present, std::string* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (!Present(present, i)) continue;
    absl::StrAppend(out, "###   ", ch.table->columns[i].name, "=");
    if (CredentialTable(*ch.table)) {
      out->append("<redacted>");
    } else {
      AppendTextValue(ch.table->columns[i], row[i], out);
    }
    out->push_back('\n');
  }
}

std::string TransactionText(const Transaction& t) {
  std::string out = absl::StrCat("# at ", t.start_position, "..", t.end_position, "  ",
                                 t.gtid.sequence == 0 && t.gtid.source_uuid.empty() ? "(no GTID)"
                                                                                    : t.gtid.ToString(),
                                 "  server_id ", t.origin_server_id, "  ", Utc(t.commit_time), "\n");
  if (!t.ddl.empty()) absl::StrAppend(&out, "USE `", t.ddl_schema, "`; ", RedactStatementSecrets(t.ddl), "\n");
  if (!t.statement.empty()) absl::StrAppend(&out, "# statement: ", RedactStatementSecrets(t.statement), "\n");
  for (const RowChange& ch : t.changes) {
    const std::string table = absl::StrCat("`", ch.table->schema, "`.`", ch.table->table, "`");
    switch (ch.op) {
      case RowOp::kInsert:
        absl::StrAppend(&out, "### INSERT INTO ", table, "\n### SET\n");
        AppendTextImage(ch, ch.after, ch.present_after, &out);
        break;
      case RowOp::kUpdate:
        absl::StrAppend(&out, "### UPDATE ", table, "\n### WHERE\n");
        AppendTextImage(ch, ch.before, ch.present_before, &out);
        out.append("### SET\n");
        AppendTextImage(ch, ch.after, ch.present_after, &out);
        break;
      case RowOp::kDelete:
        absl::StrAppend(&out, "### DELETE FROM ", table, "\n### WHERE\n");
        AppendTextImage(ch, ch.before, ch.present_before, &out);
        break;
    }
  }
  return out;
}

}  // namespace

int PrintBinlogFiles(const std::vector<std::string>& files, bool json, std::ostream& out,
                     std::ostream& err) {
  for (const std::string& path : files) {
    auto file = BinlogFile::Open(path);
    if (!file.ok()) {
      err << "duosync binlog: " << file.status().message() << "\n";
      return 1;
    }
    TransactionAssembler::Options options;
    options.allow_partial_images = true;
    TransactionAssembler assembler(options);
    uint64_t transactions = 0;
    while (true) {
      auto event = (*file)->Next();
      if (!event.ok()) {
        err << "duosync binlog: " << event.status().message() << "\n";
        return 1;
      }
      if (!event->has_value()) break;
      auto t = assembler.Add((*event)->bytes, (*event)->position);
      if (!t.ok()) {
        err << "duosync binlog: " << path << ": " << t.status().message() << "\n";
        return 1;
      }
      if (!t->has_value()) continue;
      ++transactions;
      out << (json ? TransactionJson(path, **t) + "\n" : TransactionText(**t));
    }
    // A summary of the file, last: what it held and whether it ends cleanly.
    const uint64_t tail = (*file)->incomplete_tail();
    if (json) {
      std::string s = "{\"summary\":{\"file\":";
      AppendJsonString(path, &s);
      s.append(",\"server_version\":");
      AppendJsonString(assembler.format().server_version, &s);
      s.append(",\"previous_gtids\":");
      AppendJsonString(assembler.previous_gtids(), &s);
      s.append(",\"gtid_list\":");
      AppendJsonString(assembler.gtid_list(), &s);
      absl::StrAppend(&s, ",\"transactions\":", transactions, ",\"end_position\":", (*file)->position(),
                      ",\"incomplete_tail_bytes\":", tail,
                      ",\"open_transaction\":", assembler.in_transaction() ? "true" : "false",
                      ",\"events\":{");
      bool first = true;
      for (const auto& [name, count] : assembler.event_counts()) {
        if (!first) s.push_back(',');
        first = false;
        AppendJsonString(name, &s);
        absl::StrAppend(&s, ":", count);
      }
      s.append("}}}\n");
      out << s;
    } else {
      out << "# " << path << ": server " << assembler.format().server_version << ", " << transactions
          << " transactions, ends at " << (*file)->position();
      if (tail > 0) out << " (then " << tail << " bytes of an incomplete event)";
      if (assembler.in_transaction()) out << " inside a transaction that does not end in this file";
      out << "\n";
    }
  }
  return 0;
}

}  // namespace duosync
