#include "apply/conflict_log.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// The record's text fields in table and JSON order ("link" is the table's link_id column).
constexpr std::pair<const char*, std::string ConflictRecord::*> kTextFields[] = {
    {"link", &ConflictRecord::link},
    {"table", &ConflictRecord::table},
    {"key", &ConflictRecord::key},
    {"operation", &ConflictRecord::operation},
    {"reason", &ConflictRecord::reason},
    {"incoming_before", &ConflictRecord::incoming_before},
    {"incoming_after", &ConflictRecord::incoming_after},
    {"destination", &ConflictRecord::destination},
    {"colliding", &ConflictRecord::colliding},
    {"policy", &ConflictRecord::policy},
    {"outcome", &ConflictRecord::outcome}};

}  // namespace

std::string ConflictRecordJson(const ConflictRecord& r) {
  std::string out = "{";
  for (const auto& [name, field] : kTextFields) {
    absl::StrAppend(&out, "\"", name, "\":");
    AppendJsonString(r.*field, &out);
    out.push_back(',');
  }
  absl::StrAppend(&out, "\"time\":", r.time, "}");
  return out;
}

absl::Status EnsureConflictTable(SqlConnection* conn) {
  std::string sql = absl::StrCat("CREATE TABLE IF NOT EXISTS ", kMetaSchema,
                                 ".conflicts (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                                 "link_id VARCHAR(191) NOT NULL, time BIGINT NOT NULL");
  for (const auto& [name, field] : kTextFields) {
    if (field != &ConflictRecord::link) absl::StrAppend(&sql, ", `", name, "` MEDIUMTEXT NOT NULL");
  }
  absl::StrAppend(&sql, ", KEY by_link (link_id, id)) ENGINE=InnoDB");
  return conn->Execute(sql);
}

absl::StatusOr<uint64_t> PruneConflicts(SqlConnection* conn, const std::string& link_id, int64_t before,
                                        const std::function<bool()>& stop, int batch) {
  const std::string link = conn->Quote(link_id);
  // Records are written in about time order: the old ones are among the first by id. The greatest
  // id among the first `batch` that is old enough bounds the next delete (an index range).
  const std::string bound_sql = absl::StrCat(
      "SELECT MAX(id), COUNT(*) FROM (SELECT id, time FROM ", kMetaSchema, ".conflicts WHERE link_id=", link,
      " ORDER BY id LIMIT ", batch, ") oldest WHERE time < ", before);
  uint64_t total = 0;
  while (!stop()) {
    auto bound = conn->Query(bound_sql);
    if (!bound.ok() && absl::IsNotFound(bound.status()) && conn->last_errno() == 1146) return total;  // never logged
    if (!bound.ok()) return bound.status();
    if (bound->empty() || !(*bound)[0][0].has_value()) return total;
    uint64_t n = 0;
    (void)absl::SimpleAtoi((*bound)[0][1].value_or("0"), &n);
    DUO_RETURN_IF_ERROR(conn->Execute(absl::StrCat("DELETE FROM ", kMetaSchema, ".conflicts WHERE link_id=", link,
                                                   " AND id <= ", *(*bound)[0][0], " AND time < ", before)));
    total += n;
    if (n < static_cast<uint64_t>(batch)) return total;
  }
  return total;
}

absl::Status WriteConflict(SqlConnection* conn, const std::string& link_id, const ConflictRecord& record) {
  std::string columns = "link_id,time", values;
  AppendQuoted(link_id, &values);
  absl::StrAppend(&values, ",", record.time);
  for (const auto& [name, field] : kTextFields) {
    if (field == &ConflictRecord::link) continue;
    absl::StrAppend(&columns, ",`", name, "`");
    values.push_back(',');
    AppendQuoted(record.*field, &values);
  }
  return conn->Execute(absl::StrCat("INSERT INTO ", kMetaSchema, ".conflicts (", columns, ") VALUES (",
                                    values, ")"));
}

absl::StatusOr<std::string> ReadConflicts(SqlConnection* conn, const std::string& link_id, int limit) {
  std::string link;
  AppendQuoted(link_id, &link);
  auto total = conn->QueryValue(
      absl::StrCat("SELECT COUNT(*) FROM ", kMetaSchema, ".conflicts WHERE link_id=", link));
  if (absl::IsNotFound(total.status())) return std::string("{\"total\":0,\"conflicts\":[]}");
  if (!total.ok()) return total.status();
  std::string sql = "SELECT time";
  for (const auto& [name, field] : kTextFields) {
    if (field != &ConflictRecord::link) absl::StrAppend(&sql, ",`", name, "`");
  }
  absl::StrAppend(&sql, " FROM ", kMetaSchema, ".conflicts WHERE link_id=", link, " ORDER BY id DESC LIMIT ", limit);
  auto rows = conn->Query(sql);
  if (!rows.ok()) return rows.status();
  std::string out = absl::StrCat("{\"total\":", total->value_or("0"), ",\"conflicts\":[");
  const size_t slash = link_id.rfind('/');
  for (size_t n = 0; n < rows->size(); ++n) {
    const SqlRow& row = (*rows)[n];
    ConflictRecord r;
    r.link = slash == std::string::npos ? link_id : link_id.substr(slash + 1);  // forward / reverse
    (void)absl::SimpleAtoi(row[0].value_or("0"), &r.time);
    size_t i = 1;
    for (const auto& [name, field] : kTextFields) {
      if (field != &ConflictRecord::link) r.*field = row[i++].value_or("");
    }
    absl::StrAppend(&out, n ? "," : "", ConflictRecordJson(r));
  }
  return out + "]}";
}

void ConflictLog::Add(ConflictRecord record) {
  const std::string json = ConflictRecordJson(record);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++total_;
    ++by_outcome_[{record.policy, record.outcome}];
    records_.push_back(std::move(record));
    if (records_.size() > capacity_) records_.pop_front();
  }
  if (listener_) listener_(json);
}

void ConflictLog::Count(const std::string& policy, const std::string& outcome, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  total_ += n;
  by_outcome_[{policy, outcome}] += n;
}

std::vector<ConflictRecord> ConflictLog::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<ConflictRecord>(records_.begin(), records_.end());
}

std::map<std::pair<std::string, std::string>, uint64_t> ConflictLog::ByOutcome() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_outcome_;
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
    out += ConflictRecordJson(r);
  }
  out += "]}";
  return out;
}

}  // namespace duosync
