#include "full/full_migration.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "base/names.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "full/chunk_writer.h"
#include "full/key_range_split.h"
#include "full/table_columns.h"
#include "full/table_work_queue.h"
#include "source/schema_loader.h"
#include "sql/array_statement.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// A chunk of wide rows is cut to about this many bytes (a chunk is held in memory as read and as
// SQL while the next one is read).
constexpr size_t kChunkBytes = 64 << 20;

// One table's copy, shared by its pieces.
struct TableCopy {
  const SelectedTable* table = nullptr;
  std::string name;  // its progress row: schema.table
  std::vector<CopyColumn> cols;
  std::vector<int> key;             // positions of the key columns among `cols`
  std::vector<size_t> key_at;       // where each key column's paging value is in a row read
  std::string select;               // SELECT ... FROM ... WHERE (row filter)
  std::string order;                // " ORDER BY" the key
  std::vector<std::string> bounds;  // the cut (key_range_split.h); empty: copied whole
  std::atomic<int> pieces_left{0};
  std::atomic<uint64_t> copied{0};
};

// A range of a table's first key column copied by one thread (or the whole table: index 0).
struct Piece {
  std::shared_ptr<TableCopy> table;
  int index = 0;  // 1-based piece of the cut; 0: the table whole
  std::string progress_name;
  std::vector<std::string> last;  // literals of the last key copied (empty: from the start)
  uint64_t copied = 0;
};

// A copying thread's own connections.
struct Connections {
  std::unique_ptr<SqlConnection> source;
  std::unique_ptr<SqlConnection> destination;
  bool local_data = false;     // chunks may go as LOAD DATA LOCAL (chunk_writer.h)
  bool array_binding = false;  // chunks may go as array-bound statements (array_statement.h)
};

class Migrator {
 public:
  Migrator(const FullMigrationOptions& o,
           const std::function<void(const FullMigrationProgress&)>& progress)
      : o_(o), progress_cb_(progress), quoted_link_(Quoted(o.link_id)) {}

  absl::Status Run() {
    auto dst = ConnectDestination(o_.destination);
    if (!dst.ok()) return dst.status();
    DUO_RETURN_IF_ERROR(EnsureFullProgressTable(dst->get()));
    progress_.tables_total = static_cast<int>(o_.tables.size());
    const std::function<absl::StatusOr<Connections>()> connect = [this]() -> absl::StatusOr<Connections> {
      Connections c;
      DUO_ASSIGN_OR_RETURN(c.source, SqlConnection::Connect(o_.source));
      ConnectOptions destination = o_.destination;
      destination.local_data = true;
      DUO_ASSIGN_OR_RETURN(c.destination, ConnectDestination(destination, o_.origin));
      c.local_data = o_.full_load != config::STATEMENTS && TakesLocalData(c.destination.get());
      c.array_binding = o_.full_load == config::FULL_LOAD_AUTO && ArrayStatement::Supported(c.destination.get());
      // TIMESTAMP values as UTC text, like the sink writes them.
      DUO_RETURN_IF_ERROR(c.source->Execute("SET SESSION time_zone='+00:00'"));
      return c;
    };
    auto table_done = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++progress_.tables_done;
      if (progress_cb_) progress_cb_(progress_);
    };
    // First each table's schema and what is left of its copy, then the pieces of all tables.
    std::vector<std::vector<Piece>> pieces(o_.tables.size());
    absl::Status copied = ForEachTableInParallel<Connections>(
        o_.tables.size(), o_.threads, connect, [&](Connections& c, size_t i) {
          auto left = PrepareTable(c.source.get(), c.destination.get(), o_.tables[i]);
          if (!left.ok()) return left.status();
          if (left->empty()) table_done();
          pieces[i] = std::move(*left);
          return absl::OkStatus();
        });
    // Table after table, each by every thread: the tables end one after another, so that a
    // table's post-indexing runs while the next one is copied.
    std::vector<Piece*> queue;
    for (auto& table : pieces) {
      for (Piece& p : table) queue.push_back(&p);
    }
    if (copied.ok() && !queue.empty()) {
      copied = ForEachTableInParallel<Connections>(queue.size(), o_.threads, connect, [&](Connections& c, size_t i) {
        Piece& p = *queue[i];
        DUO_RETURN_IF_ERROR(CopyPiece(c, p));
        if (--p.table->pieces_left > 0) return absl::OkStatus();
        DUO_RETURN_IF_ERROR(FinishTable(c.source.get(), c.destination.get(), *p.table));
        table_done();
        return absl::OkStatus();
      });
    }
    if (!copied.ok() || !o_.schema) return copied;
    // Views last: they read from the tables. A view that reads from another view may need the
    // latter first: retry the failed ones while each round makes progress.
    auto src = SqlConnection::Connect(o_.source);
    if (!src.ok()) return src.status();
    std::vector<const SelectedTable*> pending;
    for (const auto& v : o_.views) pending.push_back(&v);
    while (!pending.empty()) {
      std::vector<const SelectedTable*> failed;
      absl::Status last;
      for (const SelectedTable* v : pending) {
        absl::Status s = CreateView(src->get(), dst->get(), *v);
        if (!s.ok()) {
          failed.push_back(v);
          last = s;
        }
      }
      if (failed.size() == pending.size()) return last;
      pending.swap(failed);
    }
    return absl::OkStatus();
  }

 private:
  bool Stopping() const { return o_.stop != nullptr && o_.stop->load(); }

  absl::Status MigrateSchema(SqlConnection* src, SqlConnection* dst, const SelectedTable& t,
                             const std::vector<CopyColumn>& cols) {
    const std::string dst_table = QuoteTable(t.destination.schema, t.destination.table);
    auto existing = dst->Query(absl::StrCat(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS WHERE "
        "TABLE_SCHEMA=", dst->Quote(t.destination.schema), " AND TABLE_NAME=",
        dst->Quote(t.destination.table)));
    if (!existing.ok()) return existing.status();
    auto src_cols = src->Query(absl::StrCat(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS WHERE "
        "TABLE_SCHEMA=", src->Quote(t.source.schema), " AND TABLE_NAME=", src->Quote(t.source.table),
        " ORDER BY ORDINAL_POSITION"));
    if (!src_cols.ok()) return src_cols.status();
    if (!existing->empty()) {
      // An existing table passes when it has every synced column with the same type.
      for (const CopyColumn& c : cols) {
        std::optional<std::string> src_type, dst_type;
        for (const auto& r : *src_cols) if (absl::EqualsIgnoreCase(r[0].value_or(""), c.name)) src_type = r[1];
        for (const auto& r : *existing) if (absl::EqualsIgnoreCase(r[0].value_or(""), c.name)) dst_type = r[1];
        if (!dst_type.has_value()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "destination table ", t.destination.ToString(), " exists but lacks column '", c.name,
              "'; add it or drop the table so that schema migration creates it"));
        }
        if (!absl::EqualsIgnoreCase(src_type.value_or(""), *dst_type)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "destination table ", t.destination.ToString(), " exists with column '", c.name,
              "' of type ", *dst_type, " but the source has ", src_type.value_or("?"),
              "; make the types equal or drop the destination table"));
        }
      }
      // Nothing writes a generated column: one the destination stores as a plain column would
      // stay empty there, and a plain column the destination generates refuses the values.
      for (const auto& s : *src_cols) {
        for (const auto& d : *existing) {
          if (!absl::EqualsIgnoreCase(s[0].value_or(""), d[0].value_or(""))) continue;
          const bool src_generated = IsGeneratedExtra(s[3].value_or(""));
          if (src_generated != IsGeneratedExtra(d[3].value_or(""))) {
            return absl::FailedPreconditionError(absl::StrCat(
                "destination table ", t.destination.ToString(), " exists with column '", d[0].value_or(""), "' ",
                src_generated ? "plain, but the source generates it" : "generated, but the source stores it plain",
                "; define it alike on both sides or drop the destination table"));
          }
        }
      }
      return AddMissingIndexes(src, dst, t);
    }
    auto create = src->Query(absl::StrCat("SHOW CREATE TABLE ", QuoteTable(t.source.schema, t.source.table)));
    if (!create.ok()) return create.status();
    std::string ddl = (*create)[0][1].value_or("");
    const size_t paren = ddl.find('(');
    if (!absl::StartsWith(ddl, "CREATE TABLE") || paren == std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat("cannot read the definition of ", t.source.ToString()));
    }
    ddl = absl::StrCat("CREATE TABLE IF NOT EXISTS ", dst_table, " ", ddl.substr(paren));
    auto db = src->QueryValue(absl::StrCat(
        "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' COLLATE ', DEFAULT_COLLATION_NAME) FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME=", src->Quote(t.source.schema)));
    DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat(
        "CREATE DATABASE IF NOT EXISTS ", QuoteIdent(t.destination.schema),
        db.ok() && db->has_value() ? absl::StrCat(" CHARACTER SET ", **db) : "")));
    DUO_RETURN_IF_ERROR(dst->Execute(ddl));
    // Columns left out of the sync are not created. Generated columns are never copied (the
    // destination computes them) and stay unless a column choice leaves them out. They go first
    // (one may be computed from a plain column that goes), the last one first (one may be
    // computed from an earlier one, which must still be there when it goes).
    for (const bool generated : {true, false}) {
      for (size_t i = 0; i < src_cols->size(); ++i) {
        const SqlRow& r = (*src_cols)[generated ? src_cols->size() - 1 - i : i];
        const std::string name = r[0].value_or("");
        if (IsGeneratedExtra(r[3].value_or("")) != generated) continue;
        bool chosen = generated && t.columns.empty();
        for (const CopyColumn& c : cols) chosen = chosen || absl::EqualsIgnoreCase(c.name, name);
        for (const std::string& c : t.columns) chosen = chosen || (generated && absl::EqualsIgnoreCase(c, name));
        if (!chosen) {
          DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat("ALTER TABLE ", dst_table, " DROP COLUMN ", QuoteIdent(name))));
        }
      }
    }
    if (o_.post_indexing && o_.copy) {
      auto idx = dst->Query(absl::StrCat(
          "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=",
          dst->Quote(t.destination.schema), " AND TABLE_NAME=", dst->Quote(t.destination.table),
          " AND INDEX_NAME <> 'PRIMARY' AND NON_UNIQUE = 1"));  // unique keys must hold during the load
      if (!idx.ok()) return idx.status();
      for (const auto& r : *idx) {
        DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat("ALTER TABLE ", dst_table, " DROP INDEX ",
                                                      QuoteIdent(r[0].value_or("")))));
      }
    }
    return absl::OkStatus();
  }

  // Creates (or replaces) a view on the destination from the source's definition: the definer is
  // left out (the destination user owns it) and schemas renamed by the link are renamed in its body.
  absl::Status CreateView(SqlConnection* src, SqlConnection* dst, const SelectedTable& v) {
    auto def = src->Query(absl::StrCat("SHOW CREATE VIEW ", QuoteTable(v.source.schema, v.source.table)));
    if (!def.ok()) return def.status();
    std::string ddl = (*def)[0][1].value_or("");
    const size_t as = ddl.find(" AS ");
    if (as == std::string::npos) return absl::FailedPreconditionError("cannot read the view " + v.source.ToString());
    std::string body = ddl.substr(as + 4);
    if (v.source.schema != v.destination.schema) {
      body = absl::StrReplaceAll(body, {{QuoteIdent(v.source.schema) + ".", QuoteIdent(v.destination.schema) + "."}});
    }
    return dst->Execute(absl::StrCat("CREATE OR REPLACE SQL SECURITY INVOKER VIEW ",
                                     QuoteTable(v.destination.schema, v.destination.table), " AS ", body));
  }

  // Adds the source's secondary indexes that the destination lacks (after a post-indexed load).
  absl::Status AddMissingIndexes(SqlConnection* src, SqlConnection* dst, const SelectedTable& t) {
    const std::string stats =
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE FROM "
        "information_schema.STATISTICS WHERE INDEX_NAME <> 'PRIMARY' AND TABLE_SCHEMA=";
    auto want = src->Query(absl::StrCat(stats, src->Quote(t.source.schema), " AND TABLE_NAME=",
                                        src->Quote(t.source.table), " ORDER BY INDEX_NAME, SEQ_IN_INDEX"));
    auto have = dst->Query(absl::StrCat(stats, dst->Quote(t.destination.schema), " AND TABLE_NAME=",
                                        dst->Quote(t.destination.table)));
    if (!want.ok()) return want.status();
    if (!have.ok()) return have.status();
    std::vector<std::string> adds;
    std::string current, parts;
    bool unique = false;
    auto flush = [&] {
      if (current.empty()) return;
      bool exists = false;
      for (const auto& r : *have) exists = exists || r[0].value_or("") == current;
      if (!exists) {
        adds.push_back(absl::StrCat("ADD ", unique ? "UNIQUE " : "", "INDEX ", QuoteIdent(current),
                                    " (", parts, ")"));
      }
    };
    for (const auto& r : *want) {
      if (r[0].value_or("") != current) {
        flush();
        current = r[0].value_or("");
        parts.clear();
        unique = r[1].value_or("1") == "0";
      }
      absl::StrAppend(&parts, parts.empty() ? "" : ",", QuoteIdent(r[2].value_or("")),
                      r[3].has_value() ? absl::StrCat("(", *r[3], ")") : "");
    }
    flush();
    if (adds.empty()) return absl::OkStatus();
    return dst->Execute(absl::StrCat("ALTER TABLE ", QuoteTable(t.destination.schema, t.destination.table),
                                     " ", absl::StrJoin(adds, ", ")));
  }

  // Schema migration of `t`, then what is left of its copy as pieces (none: nothing to copy, or
  // copied already). A table seen for the first time is cut here, and the cut saved.
  absl::StatusOr<std::vector<Piece>> PrepareTable(SqlConnection* src, SqlConnection* dst, const SelectedTable& t) {
    auto cols = ReadCopyColumns(src, t);
    if (!cols.ok()) return cols.status();
    // A generated column whose base the choice leaves out would be computed from nothing there.
    const std::vector<std::string> orphans = GeneratedFromLeftOutColumns(src, t);
    if (!orphans.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          t.source.ToString(), ": the column choice keeps generated column(s) ", absl::StrJoin(orphans, ", "),
          " but leaves out what they are computed from; choose those columns too, or leave the generated ones "
          "out; nothing was copied"));
    }
    if (o_.schema) DUO_RETURN_IF_ERROR(MigrateSchema(src, dst, t, *cols));
    if (!o_.copy) return std::vector<Piece>();
    auto schema = LoadTableSchema(src, t.source);
    if (!schema.ok()) return schema.status();
    if (schema->key_columns.empty()) return std::vector<Piece>();  // filtered out (reported by precheck)
    auto table = std::make_shared<TableCopy>();
    table->table = &t;
    table->name = t.source.ToString();
    table->cols = std::move(*cols);
    const std::vector<CopyColumn>& c = table->cols;
    for (int k : schema->key_columns) {
      for (size_t i = 0; i < c.size(); ++i) {
        if (absl::EqualsIgnoreCase(c[i].name, schema->columns[k].name)) table->key.push_back(i);
      }
    }
    if (table->key.size() != schema->key_columns.size()) {
      return absl::FailedPreconditionError(absl::StrCat("the chosen columns of ", table->name,
                                                        " leave out a key column"));
    }
    // The table's own row, and its pieces' rows when it was cut.
    std::string piece_pattern;
    for (char ch : table->name + "$$") {
      if (ch == '\\' || ch == '%' || ch == '_') piece_pattern.push_back('\\');
      piece_pattern.push_back(ch);
    }
    piece_pattern += '%';
    auto saved = dst->Query(absl::StrCat("SELECT table_name, last_key, rows_copied, done FROM ", kMetaSchema,
                                         ".full_progress WHERE link_id=", quoted_link_, " AND (table_name=",
                                         Quoted(table->name), " OR table_name LIKE ", dst->Quote(piece_pattern), ")"));
    if (!saved.ok()) return saved.status();
    const SqlRow* whole = nullptr;
    std::map<std::string, const SqlRow*> saved_pieces;
    for (const SqlRow& r : *saved) {
      if (r[0].value_or("") == table->name) whole = &r;
      else saved_pieces[r[0].value_or("")] = &r;
    }
    if (whole != nullptr && (*whole)[3].value_or("0") == "1") {
      if (o_.post_indexing) DUO_RETURN_IF_ERROR(AddMissingIndexes(src, dst, t));
      return std::vector<Piece>();
    }
    if (whole == nullptr && !o_.allow_nonempty_destination) {
      auto any = dst->Query(absl::StrCat("SELECT 1 FROM ", QuoteTable(t.destination.schema, t.destination.table),
                                         " LIMIT 1"));
      if (!any.ok()) return any.status();
      if (!any->empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "destination table ", t.destination.ToString(), " is not empty; empty it or set "
            "options.allow_nonempty_destination"));
      }
    }
    auto estimate = src->QueryValue(absl::StrCat(
        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=",
        src->Quote(t.source.schema), " AND TABLE_NAME=", src->Quote(t.source.table)));
    uint64_t est = 0;
    if (estimate.ok()) (void)absl::SimpleAtoi(estimate->value_or("0"), &est);

    table->select = "SELECT ";
    for (size_t i = 0; i < c.size(); ++i) absl::StrAppend(&table->select, i ? "," : "", c[i].select_expr);
    // An ENUM / SET key column is also read as its member number, which pages in key order.
    size_t extra = 0;
    for (int k : table->key) {
      if (c[k].ordinal) {
        table->key_at.push_back(c.size() + extra++);
        absl::StrAppend(&table->select, ",", c[k].key_expr);
      } else {
        table->key_at.push_back(k);
      }
    }
    absl::StrAppend(&table->select, " FROM ", QuoteTable(t.source.schema, t.source.table), " WHERE (",
                    t.where.empty() ? "1" : t.where, ")");
    table->order = " ORDER BY ";
    for (size_t i = 0; i < table->key.size(); ++i) {
      absl::StrAppend(&table->order, i ? "," : "", QuoteIdent(c[table->key[i]].name));
    }

    std::vector<Piece> pieces;
    uint64_t copied = 0;
    auto resume = [&](Piece p, const SqlRow* row) {
      if (row != nullptr) {
        const std::string& last_key = (*row)[1].value_or("");
        if (!last_key.empty()) p.last = absl::StrSplit(last_key, '\x1f');
        (void)absl::SimpleAtoi((*row)[2].value_or("0"), &p.copied);
        copied += p.copied;
        if ((*row)[3].value_or("0") == "1") return;  // a piece done
      }
      pieces.push_back(std::move(p));
    };
    std::optional<std::vector<std::string>> cut;
    if (whole != nullptr) {
      auto saved_cut = ParseSplit((*whole)[1].value_or(""));
      if (!saved_cut.ok()) return saved_cut.status();
      cut = std::move(*saved_cut);
    } else {
      auto new_cut = CutTable(src, dst, *table, est);
      if (!new_cut.ok()) return new_cut.status();
      if (!new_cut->empty()) cut = std::move(*new_cut);
    }
    if (cut.has_value()) {
      table->bounds = *cut;
      for (int i = 1; i <= static_cast<int>(cut->size()) + 1; ++i) {
        const std::string name = PieceName(table->name, i);
        auto row = saved_pieces.find(name);
        resume(Piece{table, i, name, {}, 0}, row == saved_pieces.end() ? nullptr : row->second);
      }
    } else {
      resume(Piece{table, 0, table->name, {}, 0}, whole);
    }
    table->copied = copied;
    table->pieces_left = static_cast<int>(pieces.size());
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.rows_estimated += est;
      progress_.rows_copied += copied;
    }
    if (pieces.empty()) DUO_RETURN_IF_ERROR(FinishTable(src, dst, *table));  // its last piece was done
    return pieces;
  }

  // Cuts a table seen for the first time into pieces by its first key column, when that is an
  // integer and the table is big enough for more than one thread; the cut is saved with a progress
  // row for each piece, in one transaction. The bounds, or none when the table is copied whole.
  absl::StatusOr<std::vector<std::string>> CutTable(SqlConnection* src, SqlConnection* dst, const TableCopy& table,
                                                    uint64_t estimated_rows) {
    const CopyColumn& first = table.cols[table.key[0]];
    const int n = PieceCount(estimated_rows, o_.threads);
    if (!first.integer || n <= 1) return std::vector<std::string>();
    // Pieces of a table with a unique index besides its key would meet in its gaps (a REPLACE
    // checks it under next-key locks) and deadlock chunk after chunk: copied whole. (Without a
    // primary key, the key is one of the unique indexes.)
    auto unique = dst->Query(absl::StrCat(
        "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS"
        " WHERE NON_UNIQUE=0 AND TABLE_SCHEMA=", dst->Quote(table.table->destination.schema), " AND TABLE_NAME=",
        dst->Quote(table.table->destination.table)));
    if (!unique.ok()) return unique.status();
    if (unique->empty() || (*unique)[0][0].value_or("0") != "1") return std::vector<std::string>();
    auto range = src->Query(absl::StrCat("SELECT MIN(", QuoteIdent(first.name), "), MAX(", QuoteIdent(first.name),
                                         ") FROM ", QuoteTable(table.table->source.schema, table.table->source.table)));
    if (!range.ok()) return range.status();
    if (range->empty() || !(*range)[0][0].has_value() || !(*range)[0][1].has_value()) {
      return std::vector<std::string>();
    }
    auto bounds = SplitIntegerRange(*(*range)[0][0], *(*range)[0][1], n);
    if (!bounds.ok() || bounds->empty()) return bounds;
    std::string plan = absl::StrCat("REPLACE INTO ", kMetaSchema, ".full_progress VALUES (", quoted_link_,
                                    ",", Quoted(table.name), ",", Quoted(SplitText(*bounds)), ",0,0)");
    for (size_t i = 1; i <= bounds->size() + 1; ++i) {
      absl::StrAppend(&plan, ",(", quoted_link_, ",", Quoted(PieceName(table.name, i)), ",'',0,0)");
    }
    DUO_RETURN_IF_ERROR(BeginFenced(dst, Fence{o_.link_id, o_.epoch}));
    DUO_RETURN_IF_ERROR(dst->Execute(plan + ";COMMIT"));
    return bounds;
  }

  // Copies a piece (or a whole table) chunk by chunk in key order, each chunk in one destination
  // transaction with the piece's progress row.
  absl::Status CopyPiece(Connections& connections, Piece& p) {
    SqlConnection* src = connections.source.get();
    SqlConnection* dst = connections.destination.get();
    TableCopy& t = *p.table;
    const std::vector<CopyColumn>& c = t.cols;
    const Fence fence{o_.link_id, o_.epoch};
    auto packet = dst->MaxAllowedPacket();
    if (!packet.ok()) return packet.status();
    ChunkWriter writer(*t.table, c, t.key, *packet, connections.array_binding, connections.local_data);
    const std::string range =
        p.index == 0 ? "" : PieceCondition(QuoteIdent(c[t.key[0]].name), t.bounds, p.index);
    // The rows after `after` (empty: from the piece's start), at most `n`: a chunk, read in the
    // form the writer sends.
    auto read_chunk = [&](const std::vector<std::string>& after, size_t n, bool as_text) -> absl::StatusOr<Chunk> {
      std::string query = t.select + range;
      if (!after.empty()) {
        // Keyset pagination: rows after the last copied key, (k1 > v1) OR (k1 = v1 AND k2 > v2)...
        query += " AND (";
        for (size_t i = 0; i < t.key.size(); ++i) {
          absl::StrAppend(&query, i ? " OR (" : "(");
          for (size_t j = 0; j < i; ++j) absl::StrAppend(&query, QuoteIdent(c[t.key[j]].name), "=", after[j], " AND ");
          absl::StrAppend(&query, QuoteIdent(c[t.key[i]].name), ">", after[i], ")");
        }
        query += ")";
      }
      absl::StrAppend(&query, t.order, " LIMIT ", n);
      return ReadChunk(src, query, c, as_text);
    };
    // Rows per chunk shrink for wide rows, so that a chunk's rows stay near kChunkBytes in memory.
    // The source reads the next chunk while the destination writes this one.
    size_t asked_rows = static_cast<size_t>(o_.chunk_rows);
    std::future<absl::StatusOr<Chunk>> next_chunk =
        std::async(std::launch::async, read_chunk, p.last, asked_rows, writer.reads_text());
    absl::Status result;
    while (!Stopping()) {
      auto chunk = next_chunk.get();
      if (!chunk.ok()) {
        result = chunk.status();
        break;
      }
      if (chunk->rows == 0) break;
      const bool more = chunk->rows >= asked_rows;
      std::vector<std::string> after;  // literals of this chunk's last key
      for (size_t i = 0; i < t.key.size(); ++i) {
        std::string lit;
        AppendKeyValue(chunk->last[t.key_at[i]], c[t.key[i]], &lit);  // hex: saved joined by \x1f
        after.push_back(lit);
      }
      if (more) {
        // Sized by this chunk's bytes as read, before the next is asked for.
        asked_rows = chunk->bytes > kChunkBytes
                         ? std::max<size_t>(1, std::min<size_t>(o_.chunk_rows, chunk->rows * kChunkBytes / chunk->bytes))
                         : static_cast<size_t>(o_.chunk_rows);
        next_chunk = std::async(std::launch::async, read_chunk, after, asked_rows, writer.reads_text());
      }
      const std::string progress = absl::StrCat(
          "REPLACE INTO ", kMetaSchema, ".full_progress VALUES (", quoted_link_, ",", Quoted(p.progress_name),
          ",", Quoted(absl::StrJoin(after, "\x1f")), ",", p.copied + chunk->rows, ",0);COMMIT");
      // A deadlock between two pieces of a table (their REPLACEs meet in a unique secondary
      // index) rolls the chunk back: it is written again.
      result = RetryAborted(dst, [&]() -> absl::Status {
        DUO_RETURN_IF_ERROR(BeginFenced(dst, fence));
        auto pending = writer.Write(dst, *chunk);
        if (!pending.ok()) return pending.status();
        if (!pending->empty() && writer.Room(*pending) < progress.size()) {
          DUO_RETURN_IF_ERROR(dst->Execute(*pending));
          pending->clear();
        }
        return dst->Execute(pending->empty() ? progress : absl::StrCat(*pending, ";", progress));
      });
      if (!result.ok()) break;
      p.last = std::move(after);
      p.copied += chunk->rows;
      t.copied += chunk->rows;
      {
        std::lock_guard<std::mutex> lock(mu_);
        progress_.rows_copied += chunk->rows;
        if (progress_cb_) progress_cb_(progress_);
      }
      if (!more) break;
    }
    if (next_chunk.valid()) next_chunk.wait();  // a read still under way ends before the source is used again
    connections.array_binding = writer.array_binding();  // refused once: not asked again on this connection
    if (!result.ok()) return result;
    if (Stopping()) return absl::CancelledError("stopped during the full copy");
    if (p.index == 0) return absl::OkStatus();
    return MarkDone(dst, p.progress_name, p.copied);
  }

  // Runs `write` (a transaction) again while it is rolled back by a deadlock or lock wait timeout.
  static absl::Status RetryAborted(SqlConnection* dst, const std::function<absl::Status()>& write) {
    absl::Status s;
    for (int attempt = 1;; ++attempt) {
      s = write();
      if (s.ok()) return s;
      (void)dst->Execute("ROLLBACK");
      if (!absl::IsAborted(s) || attempt == 5) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
    }
  }

  // After a table's last piece: its secondary indexes (post-indexing), then the table marked done.
  absl::Status FinishTable(SqlConnection* src, SqlConnection* dst, const TableCopy& t) {
    if (o_.post_indexing) DUO_RETURN_IF_ERROR(AddMissingIndexes(src, dst, *t.table));
    return MarkDone(dst, t.name, t.copied.load());
  }

  // Marks a table's or a piece's progress row done, with the rows it copied, in a fenced
  // transaction. An upsert: a table whose copy found no row has no progress row yet.
  absl::Status MarkDone(SqlConnection* dst, const std::string& progress_name, uint64_t copied) {
    DUO_RETURN_IF_ERROR(BeginFenced(dst, Fence{o_.link_id, o_.epoch}));
    return dst->Execute(absl::StrCat("INSERT INTO ", kMetaSchema, ".full_progress VALUES (", quoted_link_, ",",
                                     Quoted(progress_name), ",'',", copied, ",1) ON DUPLICATE KEY UPDATE done=1,"
                                     " rows_copied=VALUES(rows_copied);COMMIT"));
  }

  static std::string Quoted(const std::string& text) {
    std::string out;
    AppendQuoted(text, &out);
    return out;
  }

  const FullMigrationOptions& o_;
  const std::function<void(const FullMigrationProgress&)>& progress_cb_;
  const std::string quoted_link_;  // the link id as a SQL literal, in every progress row
  std::mutex mu_;
  FullMigrationProgress progress_;
};

}  // namespace

absl::Status RunFullMigration(const FullMigrationOptions& options,
                              const std::function<void(const FullMigrationProgress&)>& progress) {
  return Migrator(options, progress).Run();
}

}  // namespace duosync
