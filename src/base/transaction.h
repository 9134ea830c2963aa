// The unit that flows from the decoder to the applier: one source transaction with its row changes.
#ifndef DUOSYNC_SRC_BASE_TRANSACTION_H_
#define DUOSYNC_SRC_BASE_TRANSACTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace duosync {

// One column value from a row image. Numbers keep their exact type; DECIMAL, temporal values and
// text are kept as the text MySQL accepts back; binary data as bytes.
struct Value {
  enum class Kind : uint8_t { kNull, kInt, kUInt, kDouble, kString, kBytes };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;  // kString (text form) and kBytes

  static Value Null() { return Value(); }
  static Value Int(int64_t v) { Value x; x.kind = Kind::kInt; x.i = v; return x; }
  static Value UInt(uint64_t v) { Value x; x.kind = Kind::kUInt; x.u = v; return x; }
  static Value Double(double v) { Value x; x.kind = Kind::kDouble; x.d = v; return x; }
  static Value String(std::string v) { Value x; x.kind = Kind::kString; x.s = std::move(v); return x; }
  static Value Bytes(std::string v) { Value x; x.kind = Kind::kBytes; x.s = std::move(v); return x; }
  bool is_null() const { return kind == Kind::kNull; }
  bool operator==(const Value& o) const {
    return kind == o.kind && i == o.i && u == o.u && d == o.d && s == o.s;
  }
};

enum class RowOp : uint8_t { kInsert, kUpdate, kDelete };

// sql_mode bits as the binlog logs them (MySQL's MODE_* flags).
inline constexpr uint64_t kSqlModeAnsiQuotes = uint64_t{1} << 2;
inline constexpr uint64_t kSqlModeNoBackslashEscapes = uint64_t{1} << 20;

inline const char* RowOpName(RowOp op) {
  return op == RowOp::kInsert ? "INSERT" : op == RowOp::kUpdate ? "UPDATE" : "DELETE";
}

// A row image: values by column position of the table's schema at the time of the change.
using Row = std::vector<Value>;

struct TableSchema;  // table_schema.h

struct RowChange {
  RowOp op = RowOp::kInsert;
  std::shared_ptr<const TableSchema> table;  // source table, columns named
  Row before;  // UPDATE, DELETE
  Row after;   // INSERT, UPDATE
  // Column bitmaps (bit i of byte i/8) of partial images, kept only when a binlog is decoded for
  // showing; empty means the image has every column (the only kind a link applies).
  std::string present_before, present_after;
  // The writing session had foreign_key_checks=0 (the rows event's NO_FOREIGN_KEY_CHECKS flag):
  // the source neither checked nor cascaded, so neither does the destination (as a replica).
  bool foreign_key_checks_off = false;
};

// The rows event flag a session with foreign_key_checks=0 writes (MySQL's NO_FOREIGN_KEY_CHECKS_F).
inline constexpr uint16_t kRowsFlagNoForeignKeyChecks = 1 << 1;

// What a change's row images take in memory, roughly (values and their text).
inline size_t EstimatedBytes(const RowChange& c) {
  size_t bytes = sizeof(RowChange) + (c.before.size() + c.after.size()) * sizeof(Value);
  for (const Value& v : c.before) bytes += v.s.capacity();
  for (const Value& v : c.after) bytes += v.s.capacity();
  return bytes;
}

// A transaction's global id, in one of three forms:
//   MariaDB   domain-server-sequence;
//   MySQL     source_uuid:sequence (`source_uuid` set, lower case, with ":tag" when tagged);
//   by file   a transaction written without a GTID (MySQL/OceanBase without gtid_mode), known by
//             where it ends in its binlog file series: `file_series` set, `sequence` =
//             FilePlace(file number, end offset), shown as "series.NNNNNN:offset".
// MySQL and file ids have domain and server_id 0 (the server is in the uuid, or not known).
struct Gtid {
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t sequence = 0;
  std::string source_uuid;  // MySQL GTIDs only
  std::string file_series;  // transactions known by file place only
  static Gtid Maria(uint32_t domain, uint32_t server_id, uint64_t sequence) {
    Gtid g;
    g.domain = domain;
    g.server_id = server_id;
    g.sequence = sequence;
    return g;
  }
  static Gtid Mysql(std::string uuid, uint64_t sequence) {
    Gtid g;
    g.sequence = sequence;
    g.source_uuid = std::move(uuid);
    return g;
  }
  bool mysql() const { return !source_uuid.empty(); }
  bool by_file() const { return !file_series.empty(); }
  // Carries no id at all (a MySQL anonymous transaction before its reader placed it).
  bool none() const { return sequence == 0 && source_uuid.empty() && file_series.empty(); }
  std::string ToString() const;
  // Which series of ids it belongs to beside domain and server, as one text for a table column:
  // the MySQL source uuid, "file:" and the binlog file series, or "" for MariaDB GTIDs.
  std::string series() const {
    if (mysql()) return source_uuid;
    if (by_file()) return "file:" + file_series;
    return "";
  }
  // The reverse of series().
  void set_series(const std::string& series) {
    if (series.rfind("file:", 0) == 0) file_series = series.substr(5);
    else source_uuid = series;
  }
};

// A place in a binlog file series as one ordered number: the file's number, then the offset.
inline constexpr int kFileOffsetBits = 40;  // binlog files stay far below 1 TiB
inline uint64_t FilePlace(uint64_t file_number, uint64_t offset) {
  return (file_number << kFileOffsetBits) | offset;
}
inline uint64_t FileNumberOf(uint64_t place) { return place >> kFileOffsetBits; }
inline uint64_t FileOffsetOf(uint64_t place) { return place & ((uint64_t{1} << kFileOffsetBits) - 1); }

struct Transaction {
  Gtid gtid;
  uint32_t origin_server_id = 0;  // server_id of the event header (the session that wrote it)
  uint32_t commit_time = 0;       // source commit time, seconds since epoch
  // Where it lies in the source's binlog file: the offset of its first event and the offset just
  // past its last one (0 when the source did not say).
  uint64_t start_position = 0, end_position = 0;
  std::vector<RowChange> changes;
  std::string ddl;                // a DDL statement instead of row changes (later issue)
  std::string ddl_schema;         // its default database (also of `statement`)
  std::string statement;          // DML logged as statements (binlog_format != ROW), if any
                                  // (AddStatement: several joined; ddl_schema empty when unsure)
  uint64_t sql_mode = 0;          // the writing session's sql_mode (bits) of `ddl` / `statement`
  // Every row event of it is in duosync's own schema: a link's checkpoint and applied-GTID
  // bookkeeping, nothing a user wrote. Passing over it needs no checkpoint write of its own
  // (answering the opposite link's bookkeeping with ours would never let an idle pair rest).
  bool only_bookkeeping = false;
  // A transaction too big to hold whole arrives in parts (a reader's part_bytes): every part but
  // the last has more_parts; all carry the same gtid; `part` counts them from 0.
  uint32_t part = 0;
  bool more_parts = false;
  bool streamed() const { return part > 0 || more_parts; }
  size_t row_count() const { return changes.size(); }

  // Hands on what it holds as one part (more_parts set) and goes on, empty, as the next part of
  // the same transaction (same GTID, origin and commit time).
  Transaction TakePart() {
    Transaction next;
    next.gtid = gtid;
    next.origin_server_id = origin_server_id;
    next.commit_time = commit_time;
    next.part = part + 1;
    Transaction taken = std::move(*this);
    *this = std::move(next);
    taken.more_parts = true;
    return taken;
  }

  // Adds a DML statement the source logged as text, run with default database `schema`. All are
  // kept (up to a bound) for the link to judge; when they disagree on the default database or
  // overflow the bound, ddl_schema is left empty, which the link reads as "may touch anything".
  void AddStatement(absl::string_view text, absl::string_view schema) {
    constexpr size_t kMaxStatementBytes = 4 << 20;
    const bool first = statement.empty();
    if (statement.size() + text.size() > kMaxStatementBytes) {
      ddl_schema.clear();
      if (first) statement = std::string(text.substr(0, 200));
      return;
    }
    if (!first) statement.append(";\n");
    statement.append(text.data(), text.size());
    if (first) ddl_schema.assign(schema.data(), schema.size());
    else if (ddl_schema != schema) ddl_schema.clear();
  }
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_TRANSACTION_H_
