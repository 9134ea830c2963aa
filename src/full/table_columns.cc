#include "full/table_columns.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/names.h"
#include "base/table_schema.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

CopyColumn::Form FormOf(const std::string& data_type) {
  static const char* kNumbers[] = {"tinyint", "smallint", "mediumint", "int", "bigint", "decimal",
                                   "float", "double", "year", "bit"};
  static const char* kBinary[] = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                                  "geometry", "point", "linestring", "polygon", "multipoint",
                                  "multilinestring", "multipolygon", "geometrycollection", "geomcollection"};
  for (const char* t : kNumbers) if (data_type == t) return CopyColumn::Form::kNumber;
  for (const char* t : kBinary) if (data_type == t) return CopyColumn::Form::kBinary;
  return CopyColumn::Form::kText;
}

}  // namespace

void AppendValue(const std::optional<std::string>& v, const CopyColumn& c, std::string* out,
                 BinaryLiteral binary) {
  if (!v.has_value()) {
    out->append("NULL");
    return;
  }
  switch (c.form) {
    case CopyColumn::Form::kNumber: out->append(*v); return;
    case CopyColumn::Form::kBinary: AppendLiteral(Value::Bytes(*v), ColumnSchema{}, out, binary); return;
    case CopyColumn::Form::kText: {
      // Every value we read arrives in the connection's charset (the server converts a latin1 or
      // gbk column's text to utf8mb4), so that is its introducer; the server converts it back on
      // insert and in comparisons with the column.
      ColumnSchema col;
      col.charset = "utf8mb4";
      AppendLiteral(c.charset.empty() ? Value::String(*v) : Value::Bytes(*v), col, out);
      return;
    }
  }
}

absl::StatusOr<std::vector<CopyColumn>> ReadCopyColumns(SqlConnection* src, const SelectedTable& t) {
  auto rows = src->Query(absl::StrCat(
      "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA=", src->Quote(t.source.schema), " AND TABLE_NAME=",
      src->Quote(t.source.table), " ORDER BY ORDINAL_POSITION"));
  if (!rows.ok()) return rows.status();
  std::vector<CopyColumn> out;
  for (const auto& r : *rows) {
    CopyColumn c;
    c.name = r[0].value_or("");
    if (IsGeneratedExtra(r[4].value_or(""))) continue;  // the destination computes it
    if (!t.columns.empty()) {
      bool chosen = false;
      for (const auto& name : t.columns) chosen = chosen || absl::EqualsIgnoreCase(name, c.name);
      if (!chosen) continue;
    }
    const std::string type = absl::AsciiStrToLower(r[1].value_or(""));
    c.form = FormOf(type);
    c.charset = r[2].value_or("");
    c.nullable = r[3].value_or("YES") != "NO";
    c.integer = type == "tinyint" || type == "smallint" || type == "mediumint" || type == "int" || type == "bigint";
    c.select_expr = type == "float"  ? absl::StrCat("CAST(", QuoteIdent(c.name), " AS DOUBLE)")
                    : type == "bit" ? absl::StrCat(QuoteIdent(c.name), "+0")
                                    : QuoteIdent(c.name);
    c.ordinal = type == "enum" || type == "set";
    c.bit = type == "bit";
    c.key_expr = c.ordinal ? absl::StrCat(QuoteIdent(c.name), "+0") : c.select_expr;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> GeneratedFromLeftOutColumns(SqlConnection* src, const SelectedTable& t) {
  std::vector<std::string> out;
  if (t.columns.empty()) return out;
  auto rows = src->Query(absl::StrCat(
      "SELECT COLUMN_NAME, EXTRA, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=",
      src->Quote(t.source.schema), " AND TABLE_NAME=", src->Quote(t.source.table), " ORDER BY ORDINAL_POSITION"));
  if (!rows.ok()) return out;  // a server without GENERATION_EXPRESSION: its own error will tell
  auto chosen = [&](const std::string& name) {
    for (const auto& c : t.columns) {
      if (absl::EqualsIgnoreCase(c, name)) return true;
    }
    return false;
  };
  for (const auto& g : *rows) {
    const std::string name = g[0].value_or("");
    if (!IsGeneratedExtra(g[1].value_or("")) || !chosen(name)) continue;
    // Servers write the columns of the expression quoted (`b` * 2).
    const std::string expression = absl::AsciiStrToLower(g[2].value_or(""));
    for (const auto& base : *rows) {
      const std::string base_name = base[0].value_or("");
      if (chosen(base_name) || !absl::StrContains(expression, absl::AsciiStrToLower(QuoteIdent(base_name)))) continue;
      out.push_back(absl::StrCat(name, " (from ", base_name, ")"));
    }
  }
  return out;
}

void AppendKeyValue(const std::optional<std::string>& v, const CopyColumn& c, std::string* out,
                    BinaryLiteral binary) {
  if (c.ordinal && v.has_value()) {
    out->append(*v);  // digits: the server sent the member number
    return;
  }
  AppendValue(v, c, out, binary);
}

}  // namespace duosync
