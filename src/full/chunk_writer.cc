#include "full/chunk_writer.h"

#include <mysqld_error.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/str_join.h"
#include "base/names.h"
#include "glog/logging.h"

namespace duosync {

bool TakesLocalData(SqlConnection* dst) {
  if (!dst->options().local_data) return false;
  auto rows = dst->Query("SELECT @@GLOBAL.local_infile, @@GLOBAL.log_bin, @@SESSION.binlog_format");
  if (!rows.ok() || rows->empty() || (*rows)[0].size() < 3) return false;
  const SqlRow& r = (*rows)[0];
  if (r[0].value_or("0") != "1" || (r[1].value_or("0") != "0" && r[2].value_or("") != "ROW")) return false;
  // Galera commits a long LOAD DATA in parts (wsrep_load_data_splitting): a part would commit
  // without the chunk's progress row. (A server without Galera has no such variable.)
  auto galera = dst->Query("SELECT @@GLOBAL.wsrep_on");
  return !galera.ok() || galera->empty() || (*galera)[0][0].value_or("0") != "1";
}

void AppendLoadField(const char* v, size_t n, std::string* out) {
  if (v == nullptr) {
    out->append("\\N");
    return;
  }
  const char* end = v + n;
  const char* plain = v;  // start of the bytes not yet appended
  for (const char* p = v; p < end; ++p) {
    const char c = *p;
    if (c != '\\' && c != '\t' && c != '\n' && c != '\0') continue;
    out->append(plain, p - plain);
    out->push_back('\\');
    out->push_back(c == '\t' ? 't' : c == '\n' ? 'n' : c == '\0' ? '0' : '\\');
    plain = p + 1;
  }
  out->append(plain, end - plain);
}

void AppendHex(const char* v, size_t n, std::string* out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const size_t at = out->size();
  out->resize(at + 2 * n);
  char* p = &(*out)[at];
  for (size_t i = 0; i < n; ++i) {
    const unsigned char b = static_cast<unsigned char>(v[i]);
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 15];
  }
}

void RowBlock::Add(const char* const* values, const unsigned long* lengths) {
  for (size_t c = 0; c < columns_; ++c) {
    if (values[c] == nullptr) {
      at_.push_back(kNull);
      lengths_.push_back(0);
    } else {
      at_.push_back(bytes_.size());
      lengths_.push_back(lengths[c]);
      bytes_.append(values[c], lengths[c]);
    }
  }
  ++rows_;
}

std::optional<std::string> RowBlock::value(size_t r, size_t c) const {
  const char* v = data(r, c);
  if (v == nullptr) return std::nullopt;
  return std::string(v, length(r, c));
}

std::vector<SqlRow> RowBlock::Rows() const {
  std::vector<SqlRow> out(rows_, SqlRow(columns_));
  for (size_t r = 0; r < rows_; ++r) {
    for (size_t c = 0; c < columns_; ++c) out[r][c] = value(r, c);
  }
  return out;
}

void AppendLoadRow(const char* const* values, const unsigned long* lengths, size_t n,
                   const std::vector<CopyColumn>& cols, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i) out->push_back('\t');
    if (cols[i].form == CopyColumn::Form::kBinary && values[i] != nullptr) {
      AppendHex(values[i], lengths[i], out);
    } else {
      AppendLoadField(values[i], lengths[i], out);
    }
  }
  out->push_back('\n');
}

absl::StatusOr<RowBlock> ParseLoadText(absl::string_view text, const std::vector<CopyColumn>& cols) {
  const size_t columns = cols.size();
  RowBlock rows(columns);
  SqlRow row;
  std::vector<const char*> values(columns);
  std::vector<unsigned long> lengths(columns);
  std::string value;
  bool null = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      const char e = text[++i];
      if (e == 'N') null = true;
      else value.push_back(e == 't' ? '\t' : e == 'n' ? '\n' : e == '0' ? '\0' : e);
    } else if (c == '\t' || c == '\n') {
      row.push_back(null ? std::nullopt : std::optional<std::string>(std::move(value)));
      value.clear();
      null = false;
      if (c == '\n') {
        if (row.size() != columns) return absl::DataLossError("a chunk's text does not read back as rows");
        for (size_t i = 0; i < columns; ++i) {
          if (cols[i].form != CopyColumn::Form::kBinary || !row[i].has_value()) continue;
          const std::string& hex = *row[i];
          if (hex.size() % 2 != 0 || !std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
            return absl::DataLossError("a chunk's hex does not read back");
          }
          row[i] = absl::HexStringToBytes(hex);
        }
        for (size_t i = 0; i < columns; ++i) {
          values[i] = row[i].has_value() ? row[i]->data() : nullptr;
          lengths[i] = row[i].has_value() ? row[i]->size() : 0;
        }
        rows.Add(values.data(), lengths.data());
        row.clear();
      }
    } else {
      value.push_back(c);
    }
  }
  if (!row.empty() || !value.empty() || null) return absl::DataLossError("a chunk's text ends inside a row");
  return rows;
}

absl::StatusOr<Chunk> ReadChunk(SqlConnection* src, const std::string& query, const std::vector<CopyColumn>& cols,
                                bool as_text) {
  const size_t columns = cols.size();
  Chunk chunk;
  chunk.as_text = as_text;
  if (!as_text) chunk.values = RowBlock(columns);
  size_t width = 0;
  absl::Status s = src->QueryEach(query, [&](const char* const* values, const unsigned long* lengths, size_t n) {
    width = n;
    ++chunk.rows;
    for (size_t i = 0; i < n; ++i) chunk.bytes += lengths[i];
    if (as_text) {
      AppendLoadRow(values, lengths, std::min(columns, n), cols, &chunk.text);
    } else if (n >= columns) {
      chunk.values.Add(values, lengths);
    }
    // The last row's values, kept for paging (overwritten row by row, in place).
    chunk.last.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (values[i] == nullptr) chunk.last[i].reset();
      else chunk.last[i].emplace(values[i], lengths[i]);
    }
  });
  if (!s.ok()) return s;
  if (chunk.rows > 0 && width < columns) {
    return absl::InternalError(absl::StrCat("the copy read ", width, " columns where it writes ", columns));
  }
  return chunk;
}

ChunkWriter::ChunkWriter(const SelectedTable& table, const std::vector<CopyColumn>& cols, std::vector<int> key,
                         size_t max_packet, bool array_binding, bool local_data)
    : table_(table), cols_(cols), key_(std::move(key)), max_packet_(max_packet), budget_(max_packet - 1024),
      array_binding_(array_binding), local_data_(local_data) {
  std::string names, fields, set, params;
  for (size_t i = 0; i < cols_.size(); ++i) {
    absl::StrAppend(&names, i ? "," : "", QuoteIdent(cols_[i].name));
    absl::StrAppend(&params, i ? "," : "", "?");
    if (cols_[i].bit) {
      // LOAD DATA stores a BIT field's text as its bytes: the number read goes through a variable.
      absl::StrAppend(&fields, i ? "," : "", "@v", i);
      absl::StrAppend(&set, set.empty() ? " SET " : ",", QuoteIdent(cols_[i].name), "=CAST(@v", i, " AS UNSIGNED)");
    } else if (cols_[i].form == CopyColumn::Form::kBinary) {
      // Bytes go as hex: MySQL checks a LOAD DATA file's text against its CHARACTER SET, even
      // for a binary column.
      absl::StrAppend(&fields, i ? "," : "", "@v", i);
      absl::StrAppend(&set, set.empty() ? " SET " : ",", QuoteIdent(cols_[i].name), "=UNHEX(@v", i, ")");
    } else {
      absl::StrAppend(&fields, i ? "," : "", QuoteIdent(cols_[i].name));
    }
  }
  const std::string target = QuoteTable(table_.destination.schema, table_.destination.table);
  // REPLACE in both forms: a row copied earlier whose unique value has since moved to a row
  // copied now is stale; it goes, and the incremental stage's replay from the copy's start
  // (idempotent up to its end) puts it back as it is now. (An INSERT would collide forever.)
  // Values arrive in the connection's charset (the source converts every column's text to
  // utf8mb4); the destination converts them to the column's, as it does a literal's.
  load_ = absl::StrCat("LOAD DATA LOCAL INFILE 'duosync-chunk' REPLACE INTO TABLE ", target,
                       " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\'"
                       " LINES TERMINATED BY '\\n' STARTING BY '' (", fields, ")", set);
  replace_ = absl::StrCat("REPLACE INTO ", target, " (", names, ") VALUES ");
  array_replace_ = absl::StrCat(replace_, "(", params, ")");
}

ChunkWriter::~ChunkWriter() = default;

size_t ChunkWriter::Room(const std::string& pending) const {
  return pending.size() + 1 >= budget_ ? 0 : budget_ - pending.size() - 1;
}

absl::StatusOr<std::string> ChunkWriter::Write(SqlConnection* dst, const Chunk& chunk) {
  if (!chunk.as_text) {
    if (array_binding_) {
      absl::Status s = WriteArrays(dst, chunk.values);
      if (s.ok()) return std::string();
      if (absl::IsOutOfRange(s)) {
        // A row too big for a request: where LOAD DATA (which streams) is taken, the chunk goes
        // that way; REPLACE writes again whatever rows went in already.
        if (!local_data_) return RowTooBig(chunk.values, too_big_.first, too_big_.second);
        std::string text;
        std::vector<const char*> values(cols_.size());
        std::vector<unsigned long> lengths(cols_.size());
        for (size_t r = 0; r < chunk.values.rows(); ++r) {
          for (size_t c = 0; c < cols_.size(); ++c) {
            values[c] = chunk.values.data(r, c);
            lengths[c] = chunk.values.length(r, c);
          }
          AppendLoadRow(values.data(), lengths.data(), cols_.size(), cols_, &text);
        }
        return WriteText(dst, text);
      }
      if (!absl::IsUnimplemented(s)) return s;
      // Refused (a proxy before the server, say): this chunk as statements, the next ones as
      // LOAD DATA or statements. REPLACE writes again whatever rows went in already.
      LOG(WARNING) << "the destination refuses array-bound statements, the copy goes on without them: " << s;
      array_binding_ = false;
      array_.reset();
    }
    return WriteStatements(dst, chunk.values);
  }
  return WriteText(dst, chunk.text);
}

absl::StatusOr<std::string> ChunkWriter::WriteText(SqlConnection* dst, const std::string& text) {
  if (local_data_) {
    absl::Status s = dst->LoadLocalData(load_, text);
    if (s.ok()) return std::string();
    // A server that turned LOAD DATA LOCAL off since we asked: statements from now on.
    const unsigned err = dst->last_errno();
    if (err != ER_NOT_ALLOWED_COMMAND && err != 4166 /* MariaDB: ER_LOAD_INFILE_CAPABILITY_DISABLED */ &&
        err != 3948 /* MySQL: ER_CLIENT_LOCAL_FILES_DISABLED */) {
      return s;
    }
    local_data_ = false;
  }
  auto rows = ParseLoadText(text, cols_);
  if (!rows.ok()) return rows.status();
  return WriteStatements(dst, *rows);
}

absl::Status ChunkWriter::RowTooBig(const RowBlock& rows, size_t r, size_t needed) const {
  std::vector<std::string> key_text;
  for (int k : key_) {
    std::string lit;
    AppendValue(rows.value(r, k), cols_[k], &lit, BinaryLiteral::kHex);
    key_text.push_back(absl::StrCat(cols_[k].name, "=", lit.size() > 200 ? lit.substr(0, 200) + "..." : lit));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "copying ", table_.source.ToString(), " row (", absl::StrJoin(key_text, ", "), ") needs a statement of ",
      needed, " bytes, more than the destination's max_allowed_packet (", max_packet_,
      "); raise it on the destination (SET GLOBAL max_allowed_packet=", ((needed >> 20) + 1) << 20,
      ", and in its config file) and resume: the copy goes on from this chunk"));
}

absl::Status ChunkWriter::WriteArrays(SqlConnection* dst, const RowBlock& rows) {
  const size_t columns = cols_.size();
  if (array_ == nullptr) {
    std::vector<ArrayStatement::Param> params;
    for (const CopyColumn& c : cols_) {
      params.push_back(c.bit                                 ? ArrayStatement::Param::kUnsigned  // read as its number
                       : c.form == CopyColumn::Form::kBinary ? ArrayStatement::Param::kBytes
                                                             : ArrayStatement::Param::kText);
    }
    auto prepared = ArrayStatement::Prepare(dst, array_replace_, std::move(params));
    if (!prepared.ok()) return prepared.status();
    array_ = std::move(*prepared);
  }
  // As many rows per request as max_allowed_packet takes, up to kRequestBytes (the client
  // builds a request whole in memory); a bigger row goes alone.
  for (size_t first = 0; first < rows.rows();) {
    size_t bytes = array_->HeaderBytes(), end = first;
    for (; end < rows.rows(); ++end) {
      size_t value_bytes = 0;
      for (size_t c = 0; c < columns; ++c) value_bytes += rows.length(end, c);
      const size_t row_bytes = array_->RowBytes(value_bytes);
      if (bytes + row_bytes <= std::min(budget_, end == first ? budget_ : kRequestBytes)) {
        bytes += row_bytes;
      } else if (end == first) {
        too_big_ = {end, array_->HeaderBytes() + row_bytes + 1024};
        return absl::OutOfRangeError("a row is too big for a request");
      } else {
        break;
      }
    }
    const size_t n = end - first;
    array_values_.resize(columns * n);
    array_lengths_.resize(columns * n);
    for (size_t c = 0; c < columns; ++c) {
      for (size_t i = 0; i < n; ++i) {
        array_values_[c * n + i] = rows.data(first + i, c);
        array_lengths_[c * n + i] = rows.length(first + i, c);
      }
    }
    absl::Status s = array_->Execute(n, array_values_.data(), array_lengths_.data());
    if (!s.ok()) return s;
    first = end;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ChunkWriter::WriteStatements(SqlConnection* dst, const RowBlock& rows) {
  std::string sql = replace_, tuple;
  size_t in_statement = 0;
  for (size_t r = 0; r < rows.rows(); ++r) {
    tuple = "(";
    for (size_t i = 0; i < cols_.size(); ++i) {
      if (i) tuple.push_back(',');
      AppendValue(rows.value(r, i), cols_[i], &tuple);
    }
    tuple.push_back(')');
    if (replace_.size() + tuple.size() > budget_) return RowTooBig(rows, r, replace_.size() + tuple.size() + 1024);
    if (in_statement > 0 && sql.size() + 1 + tuple.size() > budget_) {
      absl::Status s = dst->Execute(sql);
      if (!s.ok()) return s;
      sql = replace_;
      in_statement = 0;
    }
    if (in_statement++ > 0) sql.push_back(',');
    sql += tuple;
  }
  return in_statement > 0 ? sql : std::string();
}

}  // namespace duosync
