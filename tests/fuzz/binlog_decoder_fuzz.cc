// Fuzz target of the binlog decoder (src/source/binlog_events.h, transaction_assembler.h,
// row_decoder.h, mysql_json.h, transaction_payload.h): whatever bytes a binlog file, a live stream
// or a compressed payload brings, decoding must not crash, hang, hit undefined behaviour or
// allocate absurd memory, and what it returns must keep the promises below.
//
// The first input byte selects how the rest is read (flags):
//   flags & 3 = 0  the rest is a binlog file (magic optional), cut into events by their length
//                  fields as BinlogFile reads them and fed to a TransactionAssembler until the
//                  first error (as a link stops);
//               1  the same, with each event's CRC32 made right first (when the format has
//                  checksums), so the parsers behind the checksum meet the damage;
//               2  the rest is ([u16 length] [event])*: the harness sets each event's length
//                  field and CRC32, so any sequence of events reaches the assembler;
//               3  byte 1 selects one decoder the rest goes to directly (DirectDecoders).
//   flags & 4      the assembler keeps partial row images (allow_partial_images, as for showing
//                  a binlog), else it refuses them (as a link does);
//   flags & 8      the assembler's table filter skips tables whose name has an odd length.
//
// Promises checked for each input (Fail() aborts with what broke):
//   - the assembler fails only with DataLoss, Unimplemented or FailedPrecondition, with a message;
//   - each transaction's changes have their table, a known operation, before and after images as
//     wide as the table, column bitmaps of the table's width (and none unless partial images are
//     allowed), keys within the table, JSON as text; no change of a table the filter skips;
//   - binary JSON that parses prints the same text either way; diffs and DECIMALs fail only with
//     DataLoss (diffs that do not fit, FailedPrecondition); a DECIMAL is a decimal number's text;
//   - DecodeRow returns rows as wide as the columns, consuming bytes within the data;
//   - a TRANSACTION_PAYLOAD yields whole events, each with a valid header of its own length;
//   - a TABLE_MAP that parses has its per-column lists as long as its columns (or empty), keys in
//     range, and a schema as wide; a rows event that parses has bitmaps of its column count and
//     rows inside its body; a MySQL GTID's source id is a UUID.
//
// Built as `binlog_decoder_fuzz` (Clang, -DDUOSYNC_FUZZ=ON: libFuzzer, tests/fuzz/run_fuzz.sh) and
// as `binlog_decoder_corpus` (the normal build: replays tests/fuzz/corpus_binlog_decoder plus
// deterministic mutations). `binlog_decoder_corpus --write-seeds DIR [FIXTURE_DIR]` writes the
// seeds: the real MySQL 8 binlogs of tests/data/binlog, a MariaDB binlog written here, and pieces
// of both for the direct decoders.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "fuzz_support.h"
#include "glog/logging.h"
#include "source/binlog_events.h"
#include "source/mysql_json.h"
#include "source/row_decoder.h"
#include "source/transaction_assembler.h"
#include "source/transaction_payload.h"

namespace {

using duosync::BinlogFormat;
using duosync::ColumnSchema;
using duosync::kEventHeaderSize;
using duosync::RowChange;
using duosync::RowOp;
using duosync::TableRef;
using duosync::TableSchema;
using duosync::Transaction;
using duosync::TransactionAssembler;
using duosync::Value;
using duosync_fuzz::Fail;
namespace coltype = duosync::coltype;
namespace event_type = duosync::event_type;

const bool kNamed = duosync_fuzz::NameTarget("binlog_decoder_fuzz");

// What the inputs came to (the replay build prints it).
struct Outcomes {
  uint64_t events = 0, transactions = 0, changes = 0, refused = 0;
};
Outcomes g_outcomes;

void QuietLogs() {
  static const bool quiet = [] {
    if (getenv("DUOSYNC_FUZZ_VERBOSE") == nullptr) FLAGS_minloglevel = google::GLOG_FATAL;
    return true;
  }();
  (void)quiet;
}

void PutLe32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// The event's CRC32 as the server computes it (a FORMAT_DESCRIPTION's with the in-use flag clear),
// written into its last 4 bytes.
void FixChecksum(std::string* e) {
  if (e->size() < kEventHeaderSize + 4) return;
  std::string covered = e->substr(0, e->size() - 4);
  if (static_cast<uint8_t>(covered[4]) == event_type::kFormatDescription) covered[17] &= ~1;
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(covered.data()),
                          static_cast<uInt>(covered.size()));
  PutLe32(static_cast<uint32_t>(crc), e->data() + e->size() - 4);
  if (!duosync::EventChecksumMatches(*e)) Fail("harness: a checksum made right does not match");
}

void CheckStatus(const absl::Status& s, std::initializer_list<absl::StatusCode> allowed, const std::string& what) {
  bool ok = false;
  for (absl::StatusCode c : allowed) ok = ok || s.code() == c;
  if (!ok || s.message().empty()) Fail(absl::StrCat(what, " failed unexpectedly: ", s.ToString()));
}

constexpr std::initializer_list<absl::StatusCode> kDecodeErrors = {
    absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented, absl::StatusCode::kFailedPrecondition};

bool Wanted(const TableRef& t) { return t.table.size() % 2 == 0; }

void CheckKey(const std::vector<int>& key, size_t n, const std::string& what) {
  for (int k : key) {
    if (k < 0 || static_cast<size_t>(k) >= n) Fail(absl::StrCat(what, ": key column ", k, " of ", n));
  }
}

// One image of a change: as wide as the table; JSON columns as text.
void CheckImage(const duosync::Row& image, const std::string& present, const TableSchema& table,
                const std::string& what) {
  const size_t n = table.columns.size();
  if (image.size() != n) Fail(absl::StrCat(what, ": ", image.size(), " values for ", n, " columns"));
  if (!present.empty() && present.size() != (n + 7) / 8) {
    Fail(absl::StrCat(what, ": a column bitmap of ", present.size(), " bytes for ", n, " columns"));
  }
  for (size_t i = 0; i < n; ++i) {
    if (table.columns[i].type == coltype::kJson && image[i].kind != Value::Kind::kNull &&
        image[i].kind != Value::Kind::kString) {
      Fail(absl::StrCat(what, ": JSON column ", i, " is not text"));
    }
  }
}

void CheckTransaction(const Transaction& t, bool partial_allowed, bool filtered) {
  ++g_outcomes.transactions;
  for (const RowChange& c : t.changes) {
    ++g_outcomes.changes;
    if (c.table == nullptr) Fail("a change without its table");
    if (c.op != RowOp::kInsert && c.op != RowOp::kUpdate && c.op != RowOp::kDelete) {
      Fail(absl::StrCat("a change of row operation ", static_cast<int>(c.op)));
    }
    const std::string what = absl::StrCat(duosync::RowOpName(c.op), " of ", c.table->QualifiedName());
    if (c.op != RowOp::kInsert) CheckImage(c.before, c.present_before, *c.table, what + " (before)");
    if (c.op != RowOp::kDelete) CheckImage(c.after, c.present_after, *c.table, what + " (after)");
    if (c.op == RowOp::kInsert && !c.before.empty()) Fail(what + ": an insert with a before image");
    if (c.op == RowOp::kDelete && !c.after.empty()) Fail(what + ": a delete with an after image");
    if (!partial_allowed && (!c.present_before.empty() || !c.present_after.empty())) {
      Fail(what + ": a partial row image though partial images are refused");
    }
    if (filtered && !Wanted(TableRef{c.table->schema, c.table->table})) Fail(what + ": a change of a skipped table");
    CheckKey(c.table->key_columns, c.table->columns.size(), what);
    for (const auto& key : c.table->unique_keys) CheckKey(key, c.table->columns.size(), what);
  }
}

// ---- modes 0-2: a TransactionAssembler fed events ---------------------------------------------

class Feeder {
 public:
  explicit Feeder(uint8_t flags)
      : partial_(flags & 4), filtered_(flags & 8), assembler_(Options(partial_, filtered_)) {}

  // Adds one event (its length field and checksum made right first when asked); false after the
  // first error.
  bool Add(std::string event, uint64_t position, bool fix_length, bool fix_checksum) {
    if (failed_) return false;
    if (fix_length && event.size() >= kEventHeaderSize) PutLe32(static_cast<uint32_t>(event.size()), event.data() + 9);
    if (fix_checksum && event.size() >= kEventHeaderSize + 4) {
      bool checksums = assembler_.has_format() && assembler_.format().checksums;
      if (static_cast<uint8_t>(event[4]) == event_type::kFormatDescription) {
        auto format = duosync::ParseFormatDescription(event);
        checksums = format.ok() && format->checksums;
      }
      if (checksums) FixChecksum(&event);
    }
    ++g_outcomes.events;
    auto t = assembler_.Add(event, position);
    if (!t.ok()) {
      CheckStatus(t.status(), kDecodeErrors, absl::StrCat("TransactionAssembler::Add at ", position));
      ++g_outcomes.refused;
      failed_ = true;
      return false;
    }
    if (t->has_value()) CheckTransaction(**t, partial_, filtered_);
    return true;
  }

  void Finish() {
    // What the assembler reports must be readable whatever it met.
    for (const auto& [name, count] : assembler_.event_counts()) {
      if (name.empty() || count == 0) Fail("an empty entry in event_counts");
    }
    (void)assembler_.previous_gtids().size();
    (void)assembler_.gtid_list().size();
    if (assembler_.has_format()) (void)assembler_.format().mariadb();
  }

 private:
  static TransactionAssembler::Options Options(bool partial, bool filtered) {
    TransactionAssembler::Options o;
    o.allow_partial_images = partial;
    if (filtered) o.wants = Wanted;
    return o;
  }

  bool partial_, filtered_;
  TransactionAssembler assembler_;
  bool failed_ = false;
};

// Modes 0 and 1: events cut from the bytes by their length fields, as BinlogFile reads a file.
void FeedFile(uint8_t flags, absl::string_view file, bool fix_checksums) {
  Feeder feeder(flags);
  size_t pos = absl::StartsWith(file, "\xfe" "bin") ? 4 : 0;
  while (file.size() - pos >= kEventHeaderSize) {
    auto h = duosync::ParseEventHeader(file.substr(pos));
    if (!h.ok() || h->length > file.size() - pos) break;  // BinlogFile: DataLoss or an incomplete tail
    if (!feeder.Add(std::string(file.substr(pos, h->length)), pos, false, fix_checksums)) break;
    pos += h->length;
  }
  feeder.Finish();
}

// Mode 2: ([u16 length] [event])*, each event made self-consistent.
void FeedFramed(uint8_t flags, absl::string_view data) {
  Feeder feeder(flags);
  uint64_t position = 4;
  while (data.size() >= 2) {
    const size_t n = std::min<size_t>(static_cast<uint8_t>(data[0]) | static_cast<uint8_t>(data[1]) << 8, data.size() - 2);
    std::string event(data.substr(2, n));
    data.remove_prefix(2 + n);
    if (!feeder.Add(event, position, true, true)) break;
    position += event.size();
  }
  feeder.Finish();
}

// ---- mode 3: the decoders one by one ------------------------------------------------------------

// Selector 0: [u16 n] [binary JSON document, n bytes] [JSON diffs].
void DirectJson(absl::string_view data) {
  const size_t n = data.size() < 2 ? 0 : std::min<size_t>(static_cast<uint8_t>(data[0]) | static_cast<uint8_t>(data[1]) << 8, data.size() - 2);
  const absl::string_view doc = data.size() < 2 ? absl::string_view() : data.substr(2, n);
  const absl::string_view diffs = data.size() < 2 ? data : data.substr(2 + n);
  auto node = duosync::ParseBinaryJson(doc);
  auto text = duosync::BinaryJsonToText(doc);
  if (node.ok() != text.ok()) Fail("ParseBinaryJson and BinaryJsonToText disagree");
  if (!node.ok()) {
    CheckStatus(node.status(), {absl::StatusCode::kDataLoss}, "ParseBinaryJson");
  } else if (duosync::JsonText(*node) != *text || text->empty()) {
    Fail("a binary JSON document prints differently each way, or as nothing");
  }
  auto parsed = duosync::ParseJsonDiffs(diffs);
  auto sql = duosync::JsonDiffsAsSql(diffs, "@1");
  if (!parsed.ok()) {
    CheckStatus(parsed.status(), {absl::StatusCode::kDataLoss}, "ParseJsonDiffs");
    if (sql.ok()) Fail("JsonDiffsAsSql accepts diffs ParseJsonDiffs refuses");
    return;
  }
  if (!sql.ok()) CheckStatus(sql.status(), {absl::StatusCode::kDataLoss}, "JsonDiffsAsSql");
  if (sql.ok() && !parsed->empty() && !absl::EndsWith(*sql, ")")) Fail("JsonDiffsAsSql wrote no call");
  if (!node.ok()) return;
  duosync::JsonNode document = *std::move(node);
  for (const duosync::JsonDiff& d : *parsed) {
    const absl::Status s = duosync::ApplyJsonDiff(d, &document);
    if (!s.ok()) CheckStatus(s, {absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition}, "ApplyJsonDiff");
  }
  if (duosync::JsonText(document).empty()) Fail("a document with diffs applied prints as nothing");
}

// Selector 1: [n] [n types] [u16 metadata length] [metadata] [options] ([present bitmap]) [rows].
// Options: 1 JSON as binary, 2 a present bitmap follows, 4 every column unsigned, 8 text columns
// binary (else utf8mb4).
void DirectRows(absl::string_view data) {
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < data.size() ? static_cast<uint8_t>(data[pos++]) : 0; };
  auto bytes = [&](size_t n) {
    absl::string_view v = data.substr(std::min(pos, data.size()), n);
    pos += v.size();
    return v;
  };
  const size_t n = byte() % 65;
  const absl::string_view types = bytes(n);
  const size_t meta_len = byte() | static_cast<size_t>(byte()) << 8;
  const absl::string_view metadata = bytes(meta_len);
  const uint8_t options = byte();
  auto parsed = duosync::ParseColumnTypes(types, metadata);
  if (!parsed.ok()) {
    CheckStatus(parsed.status(), {absl::StatusCode::kDataLoss}, "ParseColumnTypes");
    return;
  }
  if (parsed->size() != types.size()) Fail("ParseColumnTypes returned other than a type per column");
  std::vector<ColumnSchema> columns;
  for (size_t i = 0; i < parsed->size(); ++i) {
    ColumnSchema c;
    c.name = absl::StrCat("c", i);
    c.type = (*parsed)[i].type;
    c.meta = (*parsed)[i].meta;
    c.is_unsigned = options & 4;
    c.charset = options & 8 ? "binary" : "utf8mb4";
    columns.push_back(std::move(c));
  }
  std::string present((n + 7) / 8, '\xff');
  if (options & 2) {
    const absl::string_view given = bytes(present.size());
    present.replace(0, given.size(), given.data(), given.size());
  }
  present.push_back('\0');  // DecodeRow reads bytes of the bitmap for the columns only
  const absl::string_view rows = data.substr(std::min(pos, data.size()));
  size_t at = 0;
  for (int row = 0; row < 1024 && at < rows.size(); ++row) {
    const size_t before = at;
    auto r = duosync::DecodeRow(columns, reinterpret_cast<const uint8_t*>(present.data()), rows, &at, options & 1);
    if (!r.ok()) {
      CheckStatus(r.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented}, "DecodeRow");
      if (at != before) Fail("DecodeRow moved on after failing");
      return;
    }
    if (r->size() != columns.size()) Fail(absl::StrCat("DecodeRow: ", r->size(), " values for ", columns.size(), " columns"));
    if (at < before || at > rows.size()) Fail(absl::StrCat("DecodeRow ended at ", at, " of ", rows.size(), " bytes"));
    if (at == before) return;  // no column present and no bitmap: nothing more to read
  }
}

// Selector 2: [precision] [scale] [bytes].
void DirectDecimal(absl::string_view data) {
  if (data.size() < 2) return;
  const int precision = static_cast<uint8_t>(data[0]), scale = static_cast<uint8_t>(data[1]);
  const absl::string_view bytes = data.substr(2);
  size_t consumed = 12345;
  auto text = duosync::DecodeDecimal(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), precision, scale, &consumed);
  if (!text.ok()) {
    CheckStatus(text.status(), {absl::StatusCode::kDataLoss}, "DecodeDecimal");
    return;
  }
  if (consumed > bytes.size() || consumed == 0) Fail(absl::StrCat("DecodeDecimal consumed ", consumed, " of ", bytes.size()));
  absl::string_view t = *text;
  absl::ConsumePrefix(&t, "-");
  const size_t dot = t.find('.');
  const absl::string_view integer = t.substr(0, dot);
  const absl::string_view fraction = dot == absl::string_view::npos ? absl::string_view() : t.substr(dot + 1);
  bool digits = !integer.empty() && (dot == absl::string_view::npos) == (scale == 0) &&
                (dot == absl::string_view::npos || !fraction.empty());
  for (char c : integer) digits = digits && absl::ascii_isdigit(c);
  for (char c : fraction) digits = digits && absl::ascii_isdigit(c);
  if (!digits) Fail(absl::StrCat("DECIMAL(", precision, ",", scale, ") decoded as '", *text, "'"));
}

// Selector 3: a TRANSACTION_PAYLOAD event's body.
void DirectPayload(absl::string_view body) {
  auto payload = duosync::TransactionPayload::Open(body);
  if (!payload.ok()) {
    CheckStatus(payload.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented}, "TransactionPayload::Open");
    return;
  }
  for (int i = 0; i < 100000; ++i) {
    auto event = (*payload)->Next();
    if (!event.ok()) {
      CheckStatus(event.status(), {absl::StatusCode::kDataLoss}, "TransactionPayload::Next");
      return;
    }
    if (!event->has_value()) return;
    auto h = duosync::ParseEventHeader(**event);
    if (!h.ok() || h->length != (*event)->size()) Fail("TransactionPayload::Next returned a cut or invalid event");
  }
  Fail("TransactionPayload::Next returned 100000 events");
}

// The formats events are read under: MySQL 8, MariaDB 10.11, an old server with 4-byte table ids
// and a QUERY post-header longer than the fields it reads.
const std::vector<BinlogFormat>& Formats() {
  static const auto* formats = [] {
    auto* out = new std::vector<BinlogFormat>(3);
    BinlogFormat& mysql = (*out)[0];
    mysql.server_version = "8.0.32";
    mysql.checksums = true;
    BinlogFormat& maria = (*out)[1];
    maria.server_version = "10.11.6-MariaDB-log";
    maria.checksums = true;
    for (BinlogFormat* f : {&mysql, &maria}) {
      f->post_header[event_type::kQuery] = 13;
      f->post_header[event_type::kTableMap] = 8;
      for (uint8_t t : {event_type::kWriteRowsV1, event_type::kUpdateRowsV1, event_type::kDeleteRowsV1}) f->post_header[t] = 8;
      for (uint8_t t : {event_type::kWriteRows, event_type::kUpdateRows, event_type::kDeleteRows,
                        event_type::kPartialUpdateRows}) {
        f->post_header[t] = 10;
      }
    }
    BinlogFormat& old = (*out)[2];
    old.server_version = "5.1.73-log";
    old.post_header[event_type::kQuery] = 20;
    old.post_header[event_type::kTableMap] = 6;
    for (uint8_t t : {event_type::kWriteRowsV1, event_type::kUpdateRowsV1, event_type::kDeleteRowsV1}) old.post_header[t] = 6;
    return out;
  }();
  return *formats;
}

bool Within(absl::string_view part, absl::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// Selector 4: the rest as the body of every event kind, under each format.
void DirectBodies(absl::string_view body) {
  for (const BinlogFormat& format : Formats()) {
    auto map = duosync::ParseTableMap(body, format);
    if (!map.ok()) {
      CheckStatus(map.status(), {absl::StatusCode::kDataLoss}, "ParseTableMap");
    } else {
      const size_t n = map->types.size();
      for (size_t size : {map->names.size(), map->is_unsigned.size(), map->visible.size()}) {
        if (size != 0 && size != n) Fail(absl::StrCat("a TABLE_MAP of ", n, " columns with a list of ", size));
      }
      if (map->column_collations.size() != n) Fail("a TABLE_MAP with collations not per column");
      if (map->enum_values.size() > n || map->set_values.size() > n) Fail("a TABLE_MAP with more ENUM/SET lists than columns");
      CheckKey(map->primary_key, n, "a TABLE_MAP's primary key");
      auto schema = duosync::SchemaFromTableMap(*map);
      if (schema->columns.size() != n) Fail("SchemaFromTableMap: a schema of another width");
      CheckKey(schema->key_columns, n, "SchemaFromTableMap");
    }
    for (uint8_t type : {event_type::kWriteRowsV1, event_type::kUpdateRowsV1, event_type::kDeleteRowsV1,
                         event_type::kWriteRows, event_type::kUpdateRows, event_type::kDeleteRows,
                         event_type::kPartialUpdateRows, event_type::kWriteRowsCompressed,
                         event_type::kUpdateRowsCompressedV1}) {
      auto rows = duosync::ParseRowsEvent(type, body, format);
      if (!rows.ok()) {
        CheckStatus(rows.status(), {absl::StatusCode::kDataLoss}, "ParseRowsEvent");
        continue;
      }
      const size_t bitmap = (rows->column_count + 7) / 8;
      if (rows->column_count > 4096 || rows->present_before.size() != bitmap ||
          (!rows->present_after.empty() && rows->present_after.size() != bitmap) || !Within(rows->rows, body)) {
        Fail(absl::StrCat("a ", duosync::EventTypeName(type), " with bitmaps or rows out of shape"));
      }
    }
    auto query = duosync::ParseQuery(body, format);
    if (!query.ok()) CheckStatus(query.status(), {absl::StatusCode::kDataLoss}, "ParseQuery");
    auto rotate = duosync::ParseRotate(body, format);
    if (!rotate.ok()) CheckStatus(rotate.status(), {absl::StatusCode::kDataLoss}, "ParseRotate");
  }
  auto maria = duosync::ParseMariaGtid(body);
  if (!maria.ok()) CheckStatus(maria.status(), {absl::StatusCode::kDataLoss}, "ParseMariaGtid");
  for (uint8_t type : {event_type::kMysqlGtid, event_type::kMysqlAnonymousGtid, event_type::kMysqlGtidTagged}) {
    auto gtid = duosync::ParseMysqlGtid(type, body);
    if (!gtid.ok()) {
      CheckStatus(gtid.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented}, "ParseMysqlGtid");
    } else if (gtid->uuid.size() != (type == event_type::kMysqlGtid ? 36u : 0u)) {
      Fail(absl::StrCat("a MySQL GTID with source id '", gtid->uuid, "'"));
    }
  }
  auto previous = duosync::ParsePreviousGtids(body);
  if (!previous.ok()) {
    CheckStatus(previous.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented}, "ParsePreviousGtids");
  }
  // As a FORMAT_DESCRIPTION, behind a header.
  std::string fde(kEventHeaderSize, '\0');
  fde[4] = static_cast<char>(event_type::kFormatDescription);
  PutLe32(static_cast<uint32_t>(kEventHeaderSize + body.size()), fde.data() + 9);
  fde.append(body.data(), body.size());
  auto format = duosync::ParseFormatDescription(fde);
  if (!format.ok()) CheckStatus(format.status(), {absl::StatusCode::kDataLoss, absl::StatusCode::kUnimplemented}, "ParseFormatDescription");
  (void)duosync::EventChecksumMatches(fde);
  // As packed integers.
  size_t pos = 0;
  uint64_t v;
  while (pos < body.size()) {
    const size_t before = pos;
    if (!duosync::ReadPackedInt(body, &pos, &v)) break;
    if (pos <= before || pos > body.size()) Fail("ReadPackedInt moved outside the data");
  }
  if (!body.empty() && duosync::EventTypeName(static_cast<uint8_t>(body[0])).empty()) Fail("an event type without a name");
}

void Direct(absl::string_view data) {
  if (data.empty()) return;
  const uint8_t selector = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  switch (selector % 5) {
    case 0: DirectJson(data); break;
    case 1: DirectRows(data); break;
    case 2: DirectDecimal(data); break;
    case 3: DirectPayload(data); break;
    default: DirectBodies(data); break;
  }
}

int RunOne(const uint8_t* data, size_t size) {
  QuietLogs();
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (flags & 3) {
    case 0: FeedFile(flags, rest, false); break;
    case 1: FeedFile(flags, rest, true); break;
    case 2: FeedFramed(flags, rest); break;
    default: Direct(rest); break;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return RunOne(data, size); }

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
// ---- the replay build: mutations that know the modes, and the seeds ----------------------------
namespace {

using duosync_fuzz::RunFn;

// The events of a binlog file's bytes (after the magic).
std::vector<std::pair<uint64_t, std::string>> SplitEvents(absl::string_view file) {
  std::vector<std::pair<uint64_t, std::string>> events;
  size_t pos = absl::StartsWith(file, "\xfe" "bin") ? 4 : 0;
  while (file.size() - pos >= kEventHeaderSize) {
    auto h = duosync::ParseEventHeader(file.substr(pos));
    if (!h.ok() || h->length > file.size() - pos) break;
    events.emplace_back(pos, std::string(file.substr(pos, h->length)));
    pos += h->length;
  }
  return events;
}

std::string Framed(const std::vector<std::pair<uint64_t, std::string>>& events) {
  std::string out(1, '\2');
  for (const auto& [pos, e] : events) {
    out.push_back(static_cast<char>(e.size() & 0xff));
    out.push_back(static_cast<char>((e.size() >> 8) & 0xff));
    out += e;
  }
  return out;
}

// Each seed under the other flags; for files and framed events also each event dropped,
// repeated, and its body's bytes changed (the checksums made right by modes 1 and 2).
void Mutate(const std::string& seed, const RunFn& run) {
  if (seed.empty()) return;
  const uint8_t flags = static_cast<uint8_t>(seed[0]);
  for (uint8_t f = 0; f < 16; ++f) {
    if (f == flags || ((f & 3) == 3) != ((flags & 3) == 3)) continue;  // direct inputs are no files
    std::string s = seed;
    s[0] = static_cast<char>(f);
    run(s, absl::StrCat("with flags ", static_cast<int>(f)));
  }
  if ((flags & 3) == 3) {
    if (seed.size() < 2) return;
    for (int sel = 0; sel < 5; ++sel) {
      std::string s = seed;
      s[1] = static_cast<char>(sel);
      run(s, absl::StrCat("to direct decoder ", sel));
    }
    return;
  }
  std::vector<std::pair<uint64_t, std::string>> events;
  if ((flags & 3) == 2) {
    absl::string_view data = absl::string_view(seed).substr(1);
    while (data.size() >= 2) {
      const size_t n = std::min<size_t>(static_cast<uint8_t>(data[0]) | static_cast<uint8_t>(data[1]) << 8, data.size() - 2);
      events.emplace_back(0, std::string(data.substr(2, n)));
      data.remove_prefix(2 + n);
    }
  } else {
    events = SplitEvents(absl::string_view(seed).substr(1));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    auto dropped = events;
    dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(i));
    run(Framed(dropped), absl::StrCat("event ", i, " dropped"));
    auto repeated = events;
    repeated.insert(repeated.begin() + static_cast<std::ptrdiff_t>(i), events[i]);
    run(Framed(repeated), absl::StrCat("event ", i, " repeated"));
    const std::string& e = events[i].second;
    for (size_t at = kEventHeaderSize; at + 4 < e.size() && at < kEventHeaderSize + 64; ++at) {
      auto changed = events;
      changed[i].second[at] = static_cast<char>(changed[i].second[at] ^ 0x21);
      run(Framed(changed), absl::StrCat("event ", i, " byte ", at, " ^ 0x21"));
    }
    for (size_t cut : {size_t{1}, size_t{5}, size_t{9}}) {
      if (e.size() <= kEventHeaderSize + 4 + cut) continue;
      auto shorter = events;
      shorter[i].second.erase(e.size() - 4 - cut, cut);
      run(Framed(shorter), absl::StrCat("event ", i, " body ", cut, " bytes shorter"));
    }
  }
}

// ---- a MariaDB binlog written here ---------------------------------------------------------------

class Bytes {
 public:
  Bytes& U8(uint64_t v) { return Le(v, 1); }
  Bytes& Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes& Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes& Packed(uint64_t v) {  // < 251 only, all this writer needs
    if (v >= 251) Fail("seeds: a packed integer too large");
    return U8(v);
  }
  Bytes& Str(absl::string_view v) {
    s_.append(v.data(), v.size());
    return *this;
  }
  Bytes& PackedStr(absl::string_view v) { return Packed(v.size()).Str(v); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

class MariaBinlog {
 public:
  explicit MariaBinlog(bool checksums) : checksums_(checksums) { file_ = "\xfe" "bin"; }

  void Event(uint8_t type, const std::string& body, uint16_t flags = 0) {
    const uint32_t length = static_cast<uint32_t>(kEventHeaderSize + body.size() + (checksums_ ? 4 : 0));
    Bytes e;
    e.Le(1700000000 + file_.size(), 4).U8(type).Le(1, 4).Le(length, 4).Le(file_.size() + length, 4).Le(flags, 2);
    std::string event = e.str() + body;
    if (checksums_) {
      event.append(4, '\0');
      FixChecksum(&event);
    }
    file_ += event;
  }

  void FormatDescription() {
    Bytes b;
    b.Le(4, 2);
    std::string version = "10.11.6-MariaDB-log";
    version.resize(50, '\0');
    b.Str(version).Le(1700000000, 4).U8(kEventHeaderSize);
    std::string post(171, '\0');
    post[event_type::kQuery - 1] = 13;
    post[event_type::kRotate - 1] = 8;
    post[event_type::kFormatDescription - 1] = 84;
    post[event_type::kTableMap - 1] = 8;
    for (uint8_t t : {event_type::kWriteRowsV1, event_type::kUpdateRowsV1, event_type::kDeleteRowsV1}) post[t - 1] = 8;
    for (uint8_t t : {event_type::kWriteRows, event_type::kUpdateRows, event_type::kDeleteRows}) post[t - 1] = 10;
    post[event_type::kBinlogCheckpoint - 1] = 4;
    post[event_type::kMariaGtid - 1] = 19;
    post[event_type::kGtidList - 1] = 4;
    b.Str(post).U8(checksums_ ? 1 : 0);
    if (!checksums_) b.Le(0, 4);  // the checksum field is there even when the algorithm is none
    Event(event_type::kFormatDescription, b.str());
  }

  void Gtid(uint64_t sequence, uint32_t domain, uint8_t flags) {
    Event(event_type::kMariaGtid, Bytes().Le(sequence, 8).Le(domain, 4).U8(flags).Le(0, 6).str());
  }

  void Query(const std::string& db, const std::string& statement, uint64_t sql_mode = 0) {
    Bytes status;
    status.U8(0).Le(0, 4).U8(1).Le(sql_mode, 8).U8(6).PackedStr("std");
    Bytes b;
    b.Le(42, 4).Le(0, 4).U8(db.size()).Le(0, 2).Le(status.str().size(), 2).Str(status.str()).Str(db).U8(0).Str(statement);
    Event(event_type::kQuery, b.str());
  }

  void Xid(uint64_t xid) { Event(event_type::kXid, Bytes().Le(xid, 8).str()); }

  const std::string& file() const { return file_; }

 private:
  bool checksums_;
  std::string file_;
};

// shop.items: a column of each type family MariaDB logs, with FULL row metadata.
constexpr uint64_t kItemsId = 70;
constexpr size_t kItemsColumns = 18;

std::string ItemsTableMap() {
  Bytes types;
  types.U8(coltype::kLong).U8(coltype::kVarchar).U8(coltype::kNewDecimal).U8(coltype::kDateTime2)
      .U8(coltype::kTime2).U8(coltype::kDate).U8(coltype::kTimestamp2).U8(coltype::kBlob).U8(coltype::kBit)
      .U8(coltype::kDouble).U8(coltype::kYear).U8(coltype::kLongLong).U8(coltype::kString).U8(coltype::kString)
      .U8(coltype::kFloat).U8(coltype::kTiny).U8(coltype::kShort).U8(coltype::kInt24);
  Bytes meta;
  meta.Le(160, 2)          // name VARCHAR(40) utf8mb4
      .U8(10).U8(2)        // price DECIMAL(10,2)
      .U8(0)               // created DATETIME
      .U8(3)               // dur TIME(3)
      .U8(6)               // ts TIMESTAMP(6)
      .U8(2)               // note BLOB
      .U8(3).U8(0)         // flags BIT(3)
      .U8(8)               // ratio DOUBLE
      .U8(coltype::kEnum).U8(1)    // kind ENUM('a','b')
      .U8(coltype::kString).U8(4)  // code CHAR(4) latin1
      .U8(4);              // f FLOAT
  const char* names[kItemsColumns] = {"id", "name", "price", "created", "dur", "day", "ts", "note", "flags",
                                      "ratio", "y", "big", "kind", "code", "f", "tiny", "small", "med"};
  Bytes name_list;
  for (const char* n : names) name_list.PackedStr(n);
  Bytes b;
  b.Le(kItemsId, 6).Le(1, 2).U8(4).Str("shop").U8(0).U8(5).Str("items").U8(0).Packed(kItemsColumns)
      .Str(types.str()).PackedStr(meta.str()).Le(0x3fffe, 3);
  b.U8(1).Packed(1).U8(0x10);                                   // SIGNEDNESS: big is unsigned
  const std::string charsets = Bytes().Packed(45).Packed(1).Packed(63).Packed(2).Packed(8).str();
  b.U8(2).PackedStr(charsets);                                  // DEFAULT_CHARSET: utf8mb4, note binary, code latin1
  b.U8(4).PackedStr(name_list.str());                           // COLUMN_NAME
  b.U8(6).PackedStr(Bytes().Packed(2).PackedStr("a").PackedStr("b").str());  // ENUM_STR_VALUE
  b.U8(8).PackedStr(Bytes().Packed(0).str());                   // SIMPLE_PRIMARY_KEY: id
  return b.str();
}

// A row image of shop.items: every column, or only id and name (the rest NULL).
std::string ItemsRow(int id, bool full) {
  Bytes b;
  b.Le(full ? 0 : 0x3fffc, 3);  // NULL bitmap
  b.Le(static_cast<uint32_t>(id), 4).PackedStr(full ? "Zo\xc3\xab" : "n");
  if (!full) return b.str();
  b.Be(0x8000000c, 4).U8(50);                                                            // 12.50
  const uint64_t ymd = ((2024 * 13 + 1) << 5) | 5, hms = (10 << 12) | (20 << 6) | 30;
  b.Be(((ymd << 17) | hms) + 0x8000000000ULL, 5);                                        // 2024-01-05 10:20:30
  b.Be(((1 << 12) | (2 << 6) | 3) + 0x800000, 3).Be(4560, 2);                            // 01:02:03.456
  b.Le((2024 << 9) | (1 << 5) | 5, 3);                                                   // 2024-01-05
  b.Be(1700000000, 4).Be(123456, 3);                                                     // ts.123456
  b.Le(9, 2).Str(std::string("blob\0data", 9));                                          // note
  b.U8(5);                                                                               // b'101'
  double ratio = 0.25;
  uint64_t raw;
  std::memcpy(&raw, &ratio, 8);
  b.Le(raw, 8).U8(124).Le(UINT64_MAX, 8).U8(2).PackedStr("\xe9t\xe9");
  float f = 1.5f;
  uint32_t fraw;
  std::memcpy(&fraw, &f, 4);
  b.Le(fraw, 4).U8(0xff).Le(static_cast<uint16_t>(-300), 2).Le(70000, 3);
  return b.str();
}

std::string MariaFile(bool checksums) {
  MariaBinlog log(checksums);
  log.FormatDescription();
  log.Event(event_type::kGtidList, Bytes().Le(1, 4).Le(0, 4).Le(1, 4).Le(9, 8).str());
  log.Event(event_type::kBinlogCheckpoint, Bytes().Le(18, 4).Str("mariadb-bin.000001").str());
  const std::string map = ItemsTableMap();
  const std::string all = Bytes().Le(0x3ffff, 3).str();
  // Two rows inserted.
  log.Gtid(10, 0, 0x08);
  log.Query("shop", "BEGIN");
  log.Event(event_type::kAnnotateRows, "INSERT INTO items VALUES (...), (...)");
  log.Event(event_type::kTableMap, map);
  log.Event(event_type::kWriteRowsV1,
            Bytes().Le(kItemsId, 6).Le(1, 2).Packed(kItemsColumns).Str(all).Str(ItemsRow(1, true)).Str(ItemsRow(2, false)).str());
  log.Xid(100);
  // One updated, the other deleted.
  log.Gtid(11, 0, 0x08);
  log.Query("shop", "BEGIN");
  log.Event(event_type::kTableMap, map);
  log.Event(event_type::kUpdateRowsV1, Bytes().Le(kItemsId, 6).Le(0, 2).Packed(kItemsColumns).Str(all).Str(all)
                                           .Str(ItemsRow(1, true)).Str(ItemsRow(3, true)).str());
  log.Event(event_type::kDeleteRowsV1,
            Bytes().Le(kItemsId, 6).Le(1, 2).Packed(kItemsColumns).Str(all).Str(ItemsRow(2, false)).str());
  log.Xid(101);
  // A DDL, and DML logged as a statement under a sql_mode with ANSI_QUOTES.
  log.Gtid(12, 0, 0x01);
  log.Query("shop", "ALTER TABLE items ADD COLUMN x INT");
  log.Gtid(5, 1, 0x08);
  log.Query("shop", "BEGIN");
  log.Query("shop", "UPDATE \"items\" SET y = 2020 WHERE id = 1", duosync::kSqlModeAnsiQuotes);
  log.Query("shop", "COMMIT");
  log.Event(event_type::kRotate, Bytes().Le(4, 8).Str("mariadb-bin.000002").str());
  return log.file();
}

// A binary JSON object of the values MySQL stores as opaque (a DATETIME, DATE, TIME and DECIMAL
// put into JSON), which no fixture holds: {"d": ..., "t": ..., "at": ..., "dec": ...}.
std::string OpaqueDocument() {
  auto packed = [](int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us) {
    return Bytes().Le(static_cast<uint64_t>((((((y * 13 + mo) << 5 | d) << 17) | (h << 12 | mi << 6 | s)) << 24) + us), 8).str();
  };
  const std::vector<std::pair<std::string, std::string>> members = {
      {"d", Bytes().U8(coltype::kDate).PackedStr(packed(2024, 1, 5, 0, 0, 0, 0)).str()},
      {"t", Bytes().U8(coltype::kTime2).PackedStr(Bytes().Le(static_cast<uint64_t>(-((int64_t{1} << 12 | 2 << 6 | 3) << 24)), 8).str()).str()},
      {"at", Bytes().U8(coltype::kDateTime2).PackedStr(packed(2024, 1, 5, 10, 20, 30, 500000)).str()},
      {"dec", Bytes().U8(coltype::kNewDecimal).PackedStr(std::string("\x0a\x02\x80\x00\x00\x0c\x32", 7)).str()},
  };
  const size_t n = members.size();
  size_t at = 4 + n * (4 + 3);  // header, key entries, value entries
  Bytes keys, values, entries;
  std::string key_data, value_data;
  for (const auto& [key, value] : members) {
    keys.Le(at + key_data.size(), 2).Le(key.size(), 2);
    key_data += key;
  }
  at += key_data.size();
  for (const auto& [key, value] : members) {
    values.U8(0x0f).Le(at + value_data.size(), 2);  // opaque, at its offset
    value_data += value;
  }
  const std::string body = keys.str() + values.str() + key_data + value_data;
  return Bytes().U8(0x00).Le(n, 2).Le(4 + body.size(), 2).Str(body).str();  // a small object
}

// ---- seeds from the fixtures ---------------------------------------------------------------------

struct Fixture {
  std::string name, bytes;
  std::vector<std::pair<uint64_t, std::string>> events;
};

// The body of an event (no header, no checksum).
std::string Body(const std::string& event, bool checksums) {
  return event.substr(kEventHeaderSize, event.size() - kEventHeaderSize - (checksums ? 4 : 0));
}

const std::string* FirstOfType(const Fixture& f, uint8_t type) {
  for (const auto& [pos, e] : f.events) {
    if (static_cast<uint8_t>(e[4]) == type) return &e;
  }
  return nullptr;
}

// Direct selector 1 input of a TABLE_MAP and the rows of a rows event that follows it.
std::string RowsSeed(const std::string& map_body, const std::string& rows_body, uint8_t rows_type,
                     const BinlogFormat& format) {
  auto map = duosync::ParseTableMap(map_body, format);
  auto rows = duosync::ParseRowsEvent(rows_type, rows_body, format);
  if (!map.ok() || !rows.ok()) Fail("seeds: a fixture's TABLE_MAP or rows event does not parse");
  std::string out = "\3\1";
  out.push_back(static_cast<char>(map->types.size()));
  out += map->types;
  out.push_back(static_cast<char>(map->metadata.size() & 0xff));
  out.push_back(static_cast<char>(map->metadata.size() >> 8));
  out += map->metadata;
  out.push_back('\0');
  out.append(rows->rows.data(), rows->rows.size());
  return out;
}

// The binary JSON documents of a fixture's rows (JSON columns decoded as binary).
std::vector<std::string> JsonDocuments(const Fixture& f, const BinlogFormat& format) {
  std::vector<std::string> docs;
  std::optional<duosync::TableMapInfo> map;
  for (const auto& [pos, e] : f.events) {
    const uint8_t type = static_cast<uint8_t>(e[4]);
    if (type == event_type::kTableMap) {
      auto m = duosync::ParseTableMap(Body(e, true), format);
      if (m.ok()) map = *m;
    } else if (type == event_type::kWriteRows && map.has_value()) {
      const std::string body = Body(e, true);  // the rows point into it
      auto rows = duosync::ParseRowsEvent(type, body, format);
      if (!rows.ok()) continue;
      auto schema = duosync::SchemaFromTableMap(*map);
      size_t at = 0;
      auto row = duosync::DecodeRow(schema->columns, reinterpret_cast<const uint8_t*>(rows->present_before.data()),
                                    rows->rows, &at, /*json_as_binary=*/true);
      if (!row.ok()) continue;
      for (size_t i = 0; i < row->size(); ++i) {
        if (schema->columns[i].type == coltype::kJson && (*row)[i].kind == Value::Kind::kBytes) docs.push_back((*row)[i].s);
      }
    }
  }
  return docs;
}

int WriteSeeds(const std::string& dir, const std::vector<std::string>& args) {
  const std::string fixtures = args.empty() ? std::string(DUOSYNC_TEST_DATA_DIR) + "/binlog" : args[0];
  std::vector<std::pair<std::string, std::string>> seeds;
  auto add = [&](const std::string& name, const std::string& bytes) { seeds.emplace_back(name, bytes); };

  std::vector<Fixture> fx;
  for (const char* name : {"binlog-invisible-columns.000001", "json.binlog.000001", "minimal_row_metadata.000001",
                           "mysql-enum-string-set.000001", "mysql_type_bit.000001", "time_issue.000001",
                           "transaction_compression.000001"}) {
    Fixture f;
    f.name = name;
    f.bytes = duosync_fuzz::ReadWholeFile(fixtures + "/" + name);
    f.events = SplitEvents(f.bytes);
    if (f.events.size() < 3) Fail("seeds: fixture " + f.name + " has no events");
    fx.push_back(std::move(f));
  }
  auto fixture = [&](const std::string& name) -> const Fixture& {
    for (const Fixture& f : fx) {
      if (f.name == name) return f;
    }
    Fail("seeds: no fixture " + name);
  };

  // Whole files: each fixture, and the MariaDB file with and without checksums.
  for (const Fixture& f : fx) add("file-" + f.name.substr(0, f.name.find('.')), std::string(1, '\0') + f.bytes);
  const std::string maria = MariaFile(true);
  add("file-mariadb", std::string(1, '\0') + maria);
  add("file-mariadb-nocrc", std::string(1, '\0') + MariaFile(false));
  add("file-mariadb-partial-filtered", std::string(1, '\x0c') + maria);
  // Checksums made right, and framed events.
  add("fixcrc-json", std::string(1, '\1') + fixture("json.binlog.000001").bytes);
  add("fixcrc-mariadb", std::string(1, '\5') + maria);
  add("framed-mariadb", Framed(SplitEvents(maria)));
  add("framed-compression", Framed(fixture("transaction_compression.000001").events));
  add("framed-enum", Framed(fixture("mysql-enum-string-set.000001").events));

  // The decoders directly.
  const BinlogFormat& mysql = Formats()[0];
  const BinlogFormat& mariadb = Formats()[1];
  const std::vector<std::string> docs = JsonDocuments(fixture("json.binlog.000001"), mysql);
  if (docs.size() < 2) Fail("seeds: the JSON fixture has no documents");
  const std::string diffs = Bytes()
      .U8(0).PackedStr("$.age").PackedStr(Bytes().U8(5).Le(26, 2).str())
      .U8(1).PackedStr("$.tags").PackedStr(Bytes().U8(4).U8(1).str())
      .U8(1).PackedStr("$.list[last]").PackedStr(Bytes().U8(0x0c).PackedStr("x").str())
      .U8(2).PackedStr("$.name").str();
  auto json_seed = [](const std::string& doc, const std::string& diffs) {
    return Bytes().U8(3).U8(0).Le(doc.size(), 2).Str(doc).Str(diffs).str();
  };
  for (size_t i = 0; i < 3 && i < docs.size(); ++i) add(absl::StrCat("direct-json-", i), json_seed(docs[i], diffs));
  add("direct-json-opaque", json_seed(OpaqueDocument(), ""));
  {
    const Fixture& e = fixture("mysql-enum-string-set.000001");
    add("direct-rows-enum", RowsSeed(Body(*FirstOfType(e, event_type::kTableMap), true),
                                     Body(*FirstOfType(e, event_type::kUpdateRows), true), event_type::kUpdateRows, mysql));
    const Fixture& b = fixture("mysql_type_bit.000001");
    add("direct-rows-bit", RowsSeed(Body(*FirstOfType(b, event_type::kTableMap), true),
                                    Body(*FirstOfType(b, event_type::kWriteRows), true), event_type::kWriteRows, mysql));
    const Fixture& t = fixture("time_issue.000001");
    add("direct-rows-time", RowsSeed(Body(*FirstOfType(t, event_type::kTableMap), true),
                                     Body(*FirstOfType(t, event_type::kWriteRows), true), event_type::kWriteRows, mysql));
    const auto maria_events = SplitEvents(maria);
    std::string map, rows;
    for (const auto& [pos, ev] : maria_events) {
      if (static_cast<uint8_t>(ev[4]) == event_type::kTableMap && map.empty()) map = Body(ev, true);
      if (static_cast<uint8_t>(ev[4]) == event_type::kWriteRowsV1 && rows.empty()) rows = Body(ev, true);
    }
    add("direct-rows-mariadb", RowsSeed(map, rows, event_type::kWriteRowsV1, mariadb));
    add("direct-event-mariadb-table-map", "\3\4" + map);
    add("direct-event-mariadb-rows", "\3\4" + rows);
  }
  add("direct-decimal-12.50", std::string("\3\2\x0a\x02\x80\x00\x00\x0c\x32", 9));
  add("direct-decimal-65-30", std::string("\3\2\x41\x1e", 4) + std::string(29, '\x7f') + std::string(1, '\x01'));
  add("direct-decimal-negative", std::string("\3\2\x05\x05\x7f\xff\xfe", 7));
  {
    const Fixture& c = fixture("transaction_compression.000001");
    add("direct-payload", "\3\3" + Body(*FirstOfType(c, event_type::kTransactionPayload), true));
    add("direct-event-previous-gtids", "\3\4" + Body(*FirstOfType(c, event_type::kPreviousGtids), true));
    const Fixture& e = fixture("mysql-enum-string-set.000001");
    add("direct-event-table-map", "\3\4" + Body(*FirstOfType(e, event_type::kTableMap), true));
    add("direct-event-rows", "\3\4" + Body(*FirstOfType(e, event_type::kDeleteRows), true));
    add("direct-event-query", "\3\4" + Body(*FirstOfType(e, event_type::kQuery), true));
    add("direct-event-gtid", "\3\4" + Body(*FirstOfType(e, event_type::kMysqlGtid), true));
    const Fixture& j = fixture("json.binlog.000001");
    add("direct-event-partial-update", "\3\4" + Body(*FirstOfType(j, event_type::kPartialUpdateRows), true));
  }

  size_t total = 0;
  for (const auto& [name, bytes] : seeds) {
    duosync_fuzz::WriteWholeFile(dir + "/" + name, bytes);
    total += bytes.size();
  }
  printf("%zu seeds (%zu bytes) written to %s\n", seeds.size(), total, dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  duosync_fuzz::Replay replay;
  replay.mutate = Mutate;
  replay.write_seeds = WriteSeeds;
  replay.summary = [] {
    return absl::StrCat("(", g_outcomes.events, " events, ", g_outcomes.transactions, " transactions with ",
                        g_outcomes.changes, " row changes; ", g_outcomes.refused, " refused)");
  };
  return duosync_fuzz::ReplayMain(argc, argv, DUOSYNC_FUZZ_CORPUS_DIR, replay);
}
#endif  // DUOSYNC_FUZZ_REPLAY_MAIN
