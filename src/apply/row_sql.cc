#include "apply/row_sql.h"

#include "absl/strings/str_cat.h"
#include "base/names.h"
#include "sql/sql_literal.h"

namespace duosync {

std::string DestinationTable(const Route& route) {
  return QuoteTable(route.destination.schema, route.destination.table);
}

void AppendColumnList(const Route& route, std::string* sql) {
  sql->push_back('(');
  for (size_t i = 0; i < route.columns.size(); ++i) {
    absl::StrAppend(sql, i ? "," : "", QuoteIdent(route.schema->columns[route.columns[i]].name));
  }
  sql->push_back(')');
}

void AppendValueTuple(const Route& route, const Row& row, std::string* sql) {
  sql->push_back('(');
  for (size_t i = 0; i < route.columns.size(); ++i) {
    if (i) sql->push_back(',');
    AppendLiteral(row[route.columns[i]], route.schema->columns[route.columns[i]], sql);
  }
  sql->push_back(')');
}

void AppendSetList(const Route& route, const Row& row, std::string* sql) {
  for (size_t i = 0; i < route.columns.size(); ++i) {
    const ColumnSchema& c = route.schema->columns[route.columns[i]];
    absl::StrAppend(sql, i ? "," : "", QuoteIdent(c.name), "=");
    AppendLiteral(row[route.columns[i]], c, sql);
  }
}

void AppendChangedSetList(const Route& route, const Row& before, const Row& after, std::string* sql) {
  bool any = false;
  for (int c : route.columns) {
    const ColumnSchema& col = route.schema->columns[c];
    if (before[c] == after[c] && !col.on_update) continue;
    absl::StrAppend(sql, any ? "," : "", QuoteIdent(col.name), "=");
    AppendLiteral(after[c], col, sql);
    any = true;
  }
  if (!any) {
    const int key = route.key_columns[0];
    const int c = route.schema->columns[key].generated ? route.columns[0] : key;  // (never write a generated one)
    const std::string name = QuoteIdent(route.schema->columns[c].name);
    absl::StrAppend(sql, name, "=", name);
  }
}

namespace {
void AppendCondition(const Route& route, const Row& row, const std::vector<int>& columns,
                     const char* op, std::string* sql) {
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnSchema& c = route.schema->columns[columns[i]];
    absl::StrAppend(sql, i ? " AND " : "", QuoteIdent(c.name), op);
    AppendLiteral(row[columns[i]], c, sql);
  }
}

std::string Describe(const Route& route, const Row& row, const std::vector<int>& columns) {
  std::string out;
  for (int k : columns) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", route.schema->columns[k].name, "=");
    AppendLiteral(row[k], route.schema->columns[k], &out, BinaryLiteral::kHex);  // printable
  }
  return out;
}
}  // namespace

void AppendColumnsCondition(const Route& route, const Row& row, const std::vector<int>& columns,
                            std::string* sql) {
  AppendCondition(route, row, columns, "=", sql);
}

void AppendKeyCondition(const Route& route, const Row& row, std::string* sql) {
  AppendCondition(route, row, route.key_columns, "=", sql);
}

void AppendImageCondition(const Route& route, const Row& row, std::string* sql) {
  AppendCondition(route, row, route.columns, "<=>", sql);
}

void AppendKeyTuple(const Route& route, const Row& row, std::string* sql) {
  sql->push_back('(');
  for (size_t i = 0; i < route.key_columns.size(); ++i) {
    if (i) sql->push_back(',');
    AppendLiteral(row[route.key_columns[i]], route.schema->columns[route.key_columns[i]], sql);
  }
  sql->push_back(')');
}

std::string DescribeKey(const Route& route, const Row& row) {
  return Describe(route, row, route.key_columns);
}

std::string DescribeRow(const Route& route, const Row& row) {
  return Describe(route, row, route.columns);
}

}  // namespace duosync
