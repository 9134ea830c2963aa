#include "apply/conflict.h"

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "apply/row_sql.h"
#include "base/json_text.h"
#include "base/names.h"
#include "google/protobuf/util/json_util.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// Text of a decoded value as the server would print it (for comparisons with a fetched row).
std::string PlainText(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: return "";
    case Value::Kind::kInt: return absl::StrCat(v.i);
    case Value::Kind::kUInt: return absl::StrCat(v.u);
    case Value::Kind::kDouble: return absl::StrFormat("%.17g", v.d);
    default: return v.s;
  }
}

// -1, 0, 1: integers compare exactly as integers, other numbers as doubles, anything else as
// text (timestamps print sortably).
int CompareText(const std::string& a, const std::string& b) {
  int64_t i, j;
  if (absl::SimpleAtoi(a, &i) && absl::SimpleAtoi(b, &j)) return i < j ? -1 : i > j ? 1 : 0;
  uint64_t u, w;
  if (absl::SimpleAtoi(a, &u) && absl::SimpleAtoi(b, &w)) return u < w ? -1 : u > w ? 1 : 0;
  double x, y;
  if (absl::SimpleAtod(a, &x) && absl::SimpleAtod(b, &y)) return x < y ? -1 : x > y ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

}  // namespace

namespace {

std::string RecordJson(const ConflictRecord& r) {
  std::string out = "{";
  const std::pair<const char*, const std::string*> fields[] = {
      {"link", &r.link}, {"table", &r.table}, {"key", &r.key}, {"operation", &r.operation},
      {"incoming_before", &r.incoming_before}, {"incoming_after", &r.incoming_after},
      {"destination", &r.destination}, {"policy", &r.policy}, {"outcome", &r.outcome}};
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&out, "\"", name, "\":");
    AppendJsonString(*value, &out);
    out.push_back(',');
  }
  absl::StrAppend(&out, "\"time\":", r.time, "}");
  return out;
}

}  // namespace

void ConflictLog::Add(ConflictRecord record) {
  const std::string json = RecordJson(record);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++total_;
    records_.push_back(std::move(record));
    if (records_.size() > capacity_) records_.pop_front();
  }
  if (listener_) listener_(json);
}

std::vector<ConflictRecord> ConflictLog::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<ConflictRecord>(records_.begin(), records_.end());
}

uint64_t ConflictLog::total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

std::string ConflictLog::ToJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = absl::StrCat("{\"total\":", total_, ",\"conflicts\":[");
  bool first = true;
  for (const auto& r : records_) {
    if (!first) out.push_back(',');
    first = false;
    out += RecordJson(r);
  }
  out += "]}";
  return out;
}

ConflictResolver::ConflictResolver(const config::ConflictSettings& settings, std::string link_name,
                                   bool incoming_wins_ties, ConflictLog* log)
    : settings_(settings), link_name_(std::move(link_name)),
      incoming_wins_ties_(incoming_wins_ties), log_(log) {}

ConflictResolver::TablePolicy ConflictResolver::PolicyFor(const Route& route) const {
  // Per-table settings name the forward link's source table; on the reverse link that is the
  // route's destination. Either name matches.
  for (const auto& t : settings_.tables()) {
    for (const TableRef& name : {TableRef{route.schema->schema, route.schema->table}, route.destination}) {
      if (absl::EqualsIgnoreCase(t.schema(), name.schema) && absl::EqualsIgnoreCase(t.table(), name.table)) {
        return {t.policy() == config::CONFLICT_POLICY_UNSPECIFIED ? config::OVERWRITE : t.policy(),
                t.column().empty() ? settings_.column() : t.column()};
      }
    }
  }
  return {settings_.policy() == config::CONFLICT_POLICY_UNSPECIFIED ? config::OVERWRITE
                                                                   : settings_.policy(),
          settings_.column()};
}

absl::Status ConflictResolver::Apply(SqlConnection* conn, const RoutedChange& c) {
  const Route& r = *c.route;
  const std::string table = DestinationTable(r);
  // First the change as it is: it fits unless the destination's row differs from its before image.
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
  if (c.op == RowOp::kInsert) {
    if (s.ok()) return s;
    if (!absl::IsAlreadyExists(s)) return s;  // only a duplicate key is a conflict
  } else {
    if (!s.ok()) return s;
    auto matched = conn->QueryValue("SELECT ROW_COUNT()");
    if (!matched.ok()) return matched.status();
    if (matched->value_or("0") == "1") return absl::OkStatus();
  }

  // A conflict. Read the destination's row (by the key the change addresses) under a lock.
  const Row& addressed = c.op == RowOp::kInsert ? *c.after : *c.before;
  std::string select = "SELECT ";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    absl::StrAppend(&select, i ? "," : "", QuoteIdent(r.schema->columns[r.columns[i]].name));
  }
  absl::StrAppend(&select, " FROM ", table, " WHERE ");
  AppendKeyCondition(r, addressed, &select);
  select += " FOR UPDATE";
  auto current = conn->Query(select);
  if (!current.ok()) return current.status();
  const bool exists = !current->empty();
  std::string destination;
  if (exists) {
    for (size_t i = 0; i < r.columns.size(); ++i) {
      absl::StrAppend(&destination, i ? ", " : "", r.schema->columns[r.columns[i]].name, "=",
                      (*current)[0][i].has_value() ? "'" + *(*current)[0][i] + "'" : "NULL");
    }
  }

  const TablePolicy policy = PolicyFor(r);
  ConflictRecord record;
  record.link = link_name_;
  record.table = r.destination.ToString();
  record.key = DescribeKey(r, addressed);
  record.operation = RowOpName(c.op);
  if (c.before != nullptr) record.incoming_before = DescribeRow(r, *c.before);
  if (c.after != nullptr) record.incoming_after = DescribeRow(r, *c.after);
  record.destination = destination;
  record.policy = config::ConflictPolicy_Name(policy.policy);
  record.time = time(nullptr);

  bool incoming_wins = true;
  switch (policy.policy) {
    case config::STOP:
      record.outcome = "stopped the link";
      log_->Add(record);
      return absl::FailedPreconditionError(absl::StrCat(
          "conflict on ", record.table, " (", record.key, "): the destination's row is not the ",
          record.operation, "'s before image; conflict policy STOP halts the link before it"));
    case config::IGNORE:
      incoming_wins = false;
      break;
    case config::LAST_WRITER_WINS: {
      const int col = r.schema->ColumnIndex(policy.column);
      int current_index = -1;
      for (size_t i = 0; i < r.columns.size(); ++i) {
        if (r.columns[i] == col) current_index = static_cast<int>(i);
      }
      if (col < 0 || current_index < 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "LAST_WRITER_WINS on ", record.table, " needs column '", policy.column,
            "', which the table does not sync"));
      }
      if (exists) {
        // A DELETE competes with the version it deleted.
        const Row& incoming = c.op == RowOp::kDelete ? *c.before : *c.after;
        const std::string theirs = (*current)[0][current_index].value_or("");
        const int cmp = CompareText(PlainText(incoming[col]), theirs);
        incoming_wins = cmp > 0 || (cmp == 0 && incoming_wins_ties_);
      }
      break;
    }
    default:  // OVERWRITE
      break;
  }

  if (!incoming_wins) {
    record.outcome = "kept the destination's row";
    log_->Add(record);
    return absl::OkStatus();
  }
  // The incoming change wins: the row ends as its after image (or absent for a DELETE).
  std::string apply;
  if (c.op != RowOp::kInsert) {
    absl::StrAppend(&apply, "DELETE FROM ", table, " WHERE ");
    AppendKeyCondition(r, *c.before, &apply);
    apply += ";";
  }
  if (c.op != RowOp::kDelete) {
    absl::StrAppend(&apply, "REPLACE INTO ", table, " ");
    AppendColumnList(r, &apply);
    apply += " VALUES ";
    AppendValueTuple(r, *c.after, &apply);
  } else {
    apply.pop_back();
  }
  s = conn->Execute(apply);
  if (!s.ok()) return s;
  record.outcome = c.op == RowOp::kDelete ? (exists ? "deleted the destination's row" : "row already absent")
                                          : "applied the incoming row";
  log_->Add(record);
  return absl::OkStatus();
}

}  // namespace duosync
