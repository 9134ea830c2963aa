#include "apply/conflict_resolver.h"

#include <algorithm>
#include <ctime>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "apply/conflict_policy.h"
#include "apply/row_sql.h"
#include "base/names.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// Text of a decoded value as the server would print it.
std::string PlainText(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInt: return absl::StrCat(v.i);
    case Value::Kind::kUInt: return absl::StrCat(v.u);
    case Value::Kind::kDouble: return absl::StrFormat("%.17g", v.d);
    default: return v.s;
  }
}

// -1, 0, 1 for two values of one version column: NULL lowest, integers exactly, other numbers
// as doubles, anything else as text (temporal values print sortably).
int CompareVersions(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : a.is_null() ? -1 : 1;
  const std::string x = PlainText(a), y = PlainText(b);
  int64_t i, j;
  if (absl::SimpleAtoi(x, &i) && absl::SimpleAtoi(y, &j)) return i < j ? -1 : i > j ? 1 : 0;
  uint64_t u, w;
  if (absl::SimpleAtoi(x, &u) && absl::SimpleAtoi(y, &w)) return u < w ? -1 : u > w ? 1 : 0;
  double d, e;
  if (absl::SimpleAtod(x, &d) && absl::SimpleAtod(y, &e)) return d < e ? -1 : d > e ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

// A destination row the change competes with, read under a lock.
struct DestinationRow {
  SqlRow values;           // the written columns, as the server prints them
  bool is_before = false;  // equal to the change's before image
  bool is_after = false;   // equal to the change's after image
  int version_order = 0;   // the change's version against this row's (LAST_WRITER_WINS)
};

std::string DescribeDestinationRow(const Route& r, const DestinationRow& row) {
  std::string out;
  for (size_t i = 0; i < r.columns.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", r.schema->columns[r.columns[i]].name, "=",
                    row.values[i].has_value() ? "'" + *row.values[i] + "'" : "NULL");
  }
  return out;
}

}  // namespace

ConflictResolver::ConflictResolver(const config::ConflictSettings& settings, std::string link_name,
                                   std::string link_id, bool incoming_has_priority, ConflictLog* log)
    : settings_(settings), link_name_(std::move(link_name)), link_id_(std::move(link_id)),
      incoming_has_priority_(incoming_has_priority), log_(log) {}

ConflictResolver::TablePolicy ConflictResolver::PolicyFor(const Route& route) const {
  auto resolved = [](config::ConflictPolicy p) {
    return p == config::CONFLICT_POLICY_UNSPECIFIED ? config::REGION_PRIORITY : p;
  };
  // Per-table settings name the forward link's source table; on the reverse link that is the
  // route's destination. Either name matches.
  for (const auto& t : settings_.tables()) {
    for (const TableRef& name : {TableRef{route.schema->schema, route.schema->table}, route.destination}) {
      if (absl::EqualsIgnoreCase(t.schema(), name.schema) && absl::EqualsIgnoreCase(t.table(), name.table)) {
        return {resolved(t.policy() == config::CONFLICT_POLICY_UNSPECIFIED ? settings_.policy() : t.policy()),
                t.column().empty() ? settings_.column() : t.column()};
      }
    }
  }
  return {resolved(settings_.policy()), settings_.column()};
}

bool ConflictResolver::MissesReferencedRow(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && absl::StrContains(s.message(), "foreign key constraint fails") &&
         absl::StrContains(s.message(), "add or update a child row");
}

absl::Status ConflictResolver::SkipChildOfMissingRow(SqlConnection* conn, const RoutedChange& c,
                                                     const absl::Status& s, std::vector<ConflictRecord>* resolved) {
  const Route& r = *c.route;
  const TablePolicy policy = PolicyFor(r);
  ConflictRecord record;
  record.link = link_name_;
  record.table = r.destination.ToString();
  record.key = DescribeKey(r, c.op == RowOp::kInsert ? *c.after : *c.before);
  record.operation = RowOpName(c.op);
  record.reason = "the row it references is not on the destination (it lost a conflict here, and the other "
                  "region's cascade removes this row there)";
  if (c.before != nullptr) record.incoming_before = DescribeRow(r, *c.before);
  if (c.after != nullptr) record.incoming_after = DescribeRow(r, *c.after);
  record.policy = config::ConflictPolicy_Name(policy.policy);
  record.time = time(nullptr);
  if (policy.policy == config::STOP) {
    record.outcome = "stopped the link";
    log_->Add(record);
    return absl::FailedPreconditionError(absl::StrCat("conflict on ", record.table, " (", record.key,
                                                      "): ", s.message(), "; conflict policy STOP halts the link"));
  }
  record.outcome = "skipped the change";
  absl::Status written = WriteConflict(conn, link_id_, record);
  if (!written.ok()) return written;
  resolved->push_back(std::move(record));
  return absl::OkStatus();
}

void ConflictResolver::Publish(const std::vector<ConflictRecord>& resolved) {
  for (const ConflictRecord& record : resolved) log_->Add(record);
}

void ConflictResolver::PublishCounts(const std::map<std::pair<std::string, std::string>, uint64_t>& counts) {
  for (const auto& [key, n] : counts) log_->Count(key.first, key.second, n);
}

absl::Status ConflictResolver::Apply(SqlConnection* conn, const RoutedChange& c,
                                     std::vector<ConflictRecord>* resolved) {
  const Route& r = *c.route;
  const std::string table = DestinationTable(r);
  // First the change as it is: it fits unless the destination's row differs from its before
  // image or one of its unique values is taken.
  std::string sql;
  switch (c.op) {
    case RowOp::kInsert:
      absl::StrAppend(&sql, "INSERT INTO ", table, " ");
      AppendColumnList(r, &sql);
      sql += " VALUES ";
      AppendValueTuple(r, *c.after, &sql);
      break;
    case RowOp::kUpdate:
      absl::StrAppend(&sql, "UPDATE ", table, " SET ");
      AppendSetList(r, *c.after, &sql);
      sql += " WHERE ";
      AppendImageCondition(r, *c.before, &sql);
      break;
    case RowOp::kDelete:
      absl::StrAppend(&sql, "DELETE FROM ", table, " WHERE ");
      AppendImageCondition(r, *c.before, &sql);
      break;
  }
  absl::Status s = conn->Execute(sql);
  if (MissesReferencedRow(s)) return SkipChildOfMissingRow(conn, c, s, resolved);
  if (c.op == RowOp::kInsert || !s.ok()) {
    if (s.ok()) return s;
    // Only a duplicate key is a conflict (an UPDATE's on a unique value another row holds).
    if (!absl::IsAlreadyExists(s) || c.op == RowOp::kDelete) return s;
  } else {
    auto matched = conn->QueryValue("SELECT ROW_COUNT()");
    if (!matched.ok()) return matched.status();
    if (matched->value_or("0") == "1") return absl::OkStatus();
  }

  const TablePolicy policy = PolicyFor(r);
  const std::string described_table = r.destination.ToString();
  int version = -1;  // source position of the LAST_WRITER_WINS column
  if (policy.policy == config::LAST_WRITER_WINS) {
    version = r.schema->ColumnIndex(policy.column);
    if (version < 0 || std::find(r.columns.begin(), r.columns.end(), version) == r.columns.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "LAST_WRITER_WINS on ", described_table, " needs column '", policy.column,
          "', which the table does not sync"));
    }
  }
  // What the change's version is: a DELETE competes with the version it deleted.
  const Row& incoming = c.op == RowOp::kDelete ? *c.before : *c.after;

  // Reads the rows matching `where` under a lock, with how each compares with the change.
  auto read = [&](const std::string& where) -> absl::StatusOr<std::vector<DestinationRow>> {
    std::string select = "SELECT ";
    for (int col : r.columns) absl::StrAppend(&select, QuoteIdent(r.schema->columns[col].name), ",");
    if (c.before != nullptr) {
      select += "(";
      AppendImageCondition(r, *c.before, &select);
      select += "),";
    } else {
      select += "0,";
    }
    if (c.after != nullptr) {
      select += "(";
      AppendImageCondition(r, *c.after, &select);
      select += "),";
    } else {
      select += "0,";
    }
    if (version >= 0) {
      const std::string column = QuoteIdent(r.schema->columns[version].name);
      std::string theirs;
      AppendLiteral(incoming[version], r.schema->columns[version], &theirs);
      absl::StrAppend(&select, "IF(", theirs, " IS NULL, IF(", column, " IS NULL, 0, -1), IF(", column,
                      " IS NULL, 1, (", theirs, " > ", column, ") - (", theirs, " < ", column, ")))");
    } else {
      select += "0";
    }
    absl::StrAppend(&select, " FROM ", table, " WHERE ", where, " FOR UPDATE");
    auto rows = conn->Query(select);
    if (!rows.ok()) return rows.status();
    std::vector<DestinationRow> out;
    const size_t n = r.columns.size();
    for (SqlRow& row : *rows) {
      DestinationRow d;
      d.is_before = row[n].value_or("0") == "1";
      d.is_after = row[n + 1].value_or("0") == "1";
      (void)absl::SimpleAtoi(row[n + 2].value_or("0"), &d.version_order);
      row.resize(n);
      d.values = std::move(row);
      out.push_back(std::move(d));
    }
    return out;
  };

  // The row at the change's key (its before image's for UPDATE/DELETE).
  const Row& keyed = c.op == RowOp::kInsert ? *c.after : *c.before;
  std::string target_where;
  AppendKeyCondition(r, keyed, &target_where);
  auto target = read(target_where);
  if (!target.ok()) return target.status();
  const DestinationRow* t = target->empty() ? nullptr : &(*target)[0];
  // Other rows holding one of the values the change writes on a primary or NOT NULL unique key.
  std::string colliding_where;
  std::vector<DestinationRow> colliding;
  if (c.op != RowOp::kDelete) {
    for (const std::vector<int>& key : r.schema->unique_keys) {
      const bool written = std::all_of(key.begin(), key.end(), [&](int col) {
        return std::find(r.columns.begin(), r.columns.end(), col) != r.columns.end();
      });
      if (!written) continue;
      colliding_where += colliding_where.empty() ? "((" : " OR (";
      AppendColumnsCondition(r, *c.after, key, &colliding_where);
      colliding_where += ")";
    }
    if (!colliding_where.empty()) {
      absl::StrAppend(&colliding_where, ") AND NOT (", target_where, ")");
      auto rows = read(colliding_where);
      if (!rows.ok()) return rows.status();
      colliding = std::move(*rows);
    }
  }
  // The destination already holds what the change makes (both regions made the same change; a
  // key-changing UPDATE made alike leaves no row at the old key and its row at the new one).
  if (colliding.empty() && (c.op == RowOp::kDelete ? t == nullptr : t != nullptr && t->is_after)) {
    return absl::OkStatus();
  }
  if (c.op == RowOp::kUpdate && t == nullptr && colliding.size() == 1 && colliding[0].is_after) {
    return absl::OkStatus();
  }

  ConflictRecord record;
  record.link = link_name_;
  record.table = described_table;
  record.key = DescribeKey(r, keyed);
  record.operation = RowOpName(c.op);
  if (c.before != nullptr) record.incoming_before = DescribeRow(r, *c.before);
  if (c.after != nullptr) record.incoming_after = DescribeRow(r, *c.after);
  if (t != nullptr) record.destination = DescribeDestinationRow(r, *t);
  for (const DestinationRow& row : colliding) {
    absl::StrAppend(&record.colliding, record.colliding.empty() ? "" : "; ", DescribeDestinationRow(r, row));
  }
  record.policy = config::ConflictPolicy_Name(policy.policy);
  record.time = time(nullptr);

  // What the change competes with: the row at its key (or the deletion that removed it), and the
  // rows holding its unique values. Each is decided on its own: the change may be the latest
  // version of its row and still lose a unique value, and then that row goes in both regions.
  std::vector<int> key_order, unique_order;
  if (t != nullptr && (c.op == RowOp::kInsert || !t->is_before)) {
    key_order.push_back(t->version_order);
    record.reason = c.op == RowOp::kInsert ? "the key is taken" : "the destination's row is not the before image";
  } else if (t == nullptr && c.op == RowOp::kUpdate) {
    // The row was deleted here: the deletion ranks as the version both regions started from.
    key_order.push_back(version < 0 ? 0 : CompareVersions((*c.after)[version], (*c.before)[version]));
    record.reason = "the row was deleted on the destination";
  }
  for (const DestinationRow& row : colliding) unique_order.push_back(row.version_order);
  if (!colliding.empty()) {
    absl::StrAppend(&record.reason, record.reason.empty() ? "" : "; ", "another row holds one of its unique values");
  }

  const ConflictVerdict at_key = DecideConflict(policy.policy, incoming_has_priority_, key_order);
  const ConflictVerdict at_unique = DecideConflict(policy.policy, incoming_has_priority_, unique_order);
  if (at_key == ConflictVerdict::kStop || at_unique == ConflictVerdict::kStop) {
    record.outcome = "stopped the link";
    log_->Add(record);
    return absl::FailedPreconditionError(absl::StrCat(
        "conflict on ", record.table, " (", record.key, "): ", record.reason, " (", record.operation,
        "); conflict policy STOP halts the link before it"));
  }
  const bool wins_key = key_order.empty() || at_key == ConflictVerdict::kIncomingWins;
  const bool wins_unique = unique_order.empty() || at_unique == ConflictVerdict::kIncomingWins;
  std::string apply;
  if (wins_key && wins_unique) {
    // The row ends as the change made it; the rows it beat go (a REPLACE would remove them unseen).
    // The row at the key is changed in place (a delete and insert would cascade to its children).
    if (!colliding.empty()) absl::StrAppend(&apply, "DELETE FROM ", table, " WHERE ", colliding_where, ";");
    if (c.op == RowOp::kDelete) {
      absl::StrAppend(&apply, "DELETE FROM ", table, " WHERE ", target_where, ";");
    } else if (t != nullptr) {
      absl::StrAppend(&apply, "UPDATE ", table, " SET ");
      AppendSetList(r, *c.after, &apply);
      absl::StrAppend(&apply, " WHERE ", target_where, ";");
    } else {
      absl::StrAppend(&apply, "INSERT INTO ", table, " ");
      AppendColumnList(r, &apply);
      apply += " VALUES ";
      AppendValueTuple(r, *c.after, &apply);
      apply += ";";
    }
    record.outcome = c.op == RowOp::kDelete ? "deleted the destination's row" : "applied the incoming change";
    if (!colliding.empty()) {
      absl::StrAppend(&record.outcome, "; removed ", colliding.size(), " row(s) holding its unique values");
    }
  } else if (wins_key && policy.policy != config::IGNORE && t != nullptr) {
    // The change is the latest version of its row but lost a unique value to another row. In the
    // region it came from that version exists and is removed when the winner arrives there:
    // remove the row here too.
    absl::StrAppend(&apply, "DELETE FROM ", table, " WHERE ", target_where, ";");
    record.outcome = "kept the row holding its unique value; removed the changed row, which lost to it";
  } else {
    record.outcome = "kept the destination's row";
  }
  if (!apply.empty()) {
    apply.pop_back();
    s = conn->Execute(apply);
    if (MissesReferencedRow(s)) return SkipChildOfMissingRow(conn, c, s, resolved);
    if (absl::IsAlreadyExists(s)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "conflict on ", record.table, " (", record.key, "): resolving it hit a unique key that is "
          "neither primary nor NOT NULL (", s.message(), "); make the key's columns NOT NULL or resolve "
          "the row by hand"));
    }
    if (!s.ok()) return s;
  }
  s = WriteConflict(conn, link_id_, record);
  if (!s.ok()) return s;
  resolved->push_back(std::move(record));
  return absl::OkStatus();
}

}  // namespace duosync
