#include "source/transaction_assembler.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "glog/logging.h"
#include "source/mysql_json.h"
#include "source/row_decoder.h"
#include "source/transaction_payload.h"

namespace duosync {
namespace {

// Character set of a collation id, for the ones sources use; "unknown" for the rest (the value
// is kept as the bytes the binlog holds either way).
std::string CharsetOfCollation(uint32_t id) {
  switch (id) {
    case 63: return "binary";
    case 8: case 5: case 15: case 31: case 47: case 48: case 49: case 94: return "latin1";
    case 11: case 65: return "ascii";
    case 33: case 83: case 192: case 213: case 223: return "utf8mb3";
    case 28: case 87: return "gbk";
    case 45: case 46: case 224: case 225: case 246: case 255: case 256: case 257: case 258:
    case 305: case 306: case 309: case 310:
      return "utf8mb4";
    default:
      return id >= 255 && id <= 323 ? "utf8mb4" : "unknown";  // MySQL 8's utf8mb4_*_0900_*
  }
}

bool Complete(absl::string_view bitmap, size_t columns) {
  for (size_t c = 0; c < columns; ++c) {
    if (!((static_cast<uint8_t>(bitmap[c / 8]) >> (c % 8)) & 1)) return false;
  }
  return true;
}

bool Bit(absl::string_view bitmap, size_t i) {
  return i / 8 < bitmap.size() && ((static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1);
}

bool IsRowsEvent(uint8_t type) {
  switch (type) {
    case event_type::kWriteRowsV1: case event_type::kUpdateRowsV1: case event_type::kDeleteRowsV1:
    case event_type::kWriteRows: case event_type::kUpdateRows: case event_type::kDeleteRows:
    case event_type::kPartialUpdateRows:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::shared_ptr<const TableSchema> SchemaFromTableMap(const TableMapInfo& map) {
  auto schema = std::make_shared<TableSchema>();
  schema->schema = map.schema;
  schema->table = map.table;
  auto types = ParseColumnTypes(map.types, map.metadata);
  const size_t n = map.types.size();
  size_t enum_at = 0, set_at = 0;
  for (size_t i = 0; i < n; ++i) {
    ColumnSchema c;
    c.name = map.names.empty() ? absl::StrCat("@", i + 1) : map.names[i];
    if (types.ok()) {
      c.type = (*types)[i].type;
      c.meta = (*types)[i].meta;
    }
    c.is_unsigned = i < map.is_unsigned.size() && map.is_unsigned[i];
    const uint32_t collation = i < map.column_collations.size() ? map.column_collations[i] : 0;
    const bool text = c.type == coltype::kVarchar || c.type == coltype::kVarString ||
                      c.type == coltype::kString || c.type == coltype::kBlob;
    // Unknown: a CHAR's trailing spaces and a BINARY's zero bytes cannot be told apart, so the
    // value stays as logged.
    if (text) c.charset = collation != 0 ? CharsetOfCollation(collation) : "unknown";
    if (c.type == coltype::kEnum && enum_at < map.enum_values.size()) c.elements = map.enum_values[enum_at];
    if (c.type == coltype::kSet && set_at < map.set_values.size()) c.elements = map.set_values[set_at];
    enum_at += c.type == coltype::kEnum;
    set_at += c.type == coltype::kSet;
    schema->columns.push_back(std::move(c));
  }
  if (!map.primary_key.empty()) {
    schema->unique_keys.push_back(map.primary_key);
    schema->key_columns = map.primary_key;
  }
  return schema;
}

TransactionAssembler::TransactionAssembler(Options options) : options_(std::move(options)) {
  if (!options_.schema_for) {
    options_.schema_for = [](const TableMapInfo& map) -> absl::StatusOr<std::shared_ptr<const TableSchema>> {
      return SchemaFromTableMap(map);
    };
  }
}

absl::Status TransactionAssembler::Begin(const EventHeader& h, uint64_t position) {
  if (in_transaction_ && current_.part > 0) {
    // Its parts are in the destination's open transaction, which must not commit.
    return absl::DataLossError(absl::StrCat(
        "binlog transaction ", current_.gtid.ToString(), " at ", current_.start_position, " was handed on in ",
        current_.part, " parts but has no end (a new one starts at ", position, "): the server stopped inside "
        "it; nothing of it was committed. Remove the incomplete tail from the binlog file (or re-initialize "
        "the link) to go on"));
  }
  if (in_transaction_) {
    // The previous one never ended: the server stopped inside it (it rolled it back on restart).
    LOG(WARNING) << "binlog transaction " << current_.gtid.ToString() << " at " << current_.start_position
                 << " has no end; a new one starts at " << position << " (passing the incomplete one over)";
  }
  current_ = Transaction();
  current_bytes_ = 0;
  current_.origin_server_id = h.server_id;
  current_.commit_time = h.timestamp;
  current_.start_position = position;
  current_.only_bookkeeping = true;  // until an event says otherwise
  in_transaction_ = true;
  saw_begin_ = false;
  standalone_ = false;
  tables_.clear();
  return absl::OkStatus();
}

std::optional<Transaction> TransactionAssembler::Finish(const EventHeader& h, uint64_t position) {
  in_transaction_ = false;
  tables_.clear();
  current_.end_position = in_payload_ ? payload_end_
                          : h.next_position != 0 ? h.next_position : position + h.length;
  return std::move(current_);
}

absl::StatusOr<std::optional<Transaction>> TransactionAssembler::Add(absl::string_view event,
                                                                     uint64_t position) {
  auto header = ParseEventHeader(event);
  if (!header.ok()) return header.status();
  const EventHeader& h = *header;
  if (h.length != event.size()) {
    return absl::DataLossError(absl::StrCat(EventTypeName(h.type), " at ", position, " is ", event.size(),
                                            " bytes but its header says ", h.length));
  }
  ++event_counts_[EventTypeName(h.type)];
  if (h.type == event_type::kFormatDescription) {
    auto format = ParseFormatDescription(event);
    if (!format.ok()) return format.status();
    if (format->checksums && !EventChecksumMatches(event)) {
      return absl::DataLossError(absl::StrCat("checksum mismatch in FORMAT_DESCRIPTION at ", position));
    }
    format_ = *std::move(format);
    has_format_ = true;
    return std::optional<Transaction>();
  }
  if (!has_format_) {
    if (h.type == event_type::kRotate) return std::optional<Transaction>();  // a live stream's first
    return absl::DataLossError(absl::StrCat(EventTypeName(h.type), " at ", position,
                                            " comes before any FORMAT_DESCRIPTION event"));
  }
  absl::string_view body = event.substr(kEventHeaderSize);
  if (format_.checksums && !in_payload_) {
    if (body.size() < 4 || !EventChecksumMatches(event)) {
      return absl::DataLossError(absl::StrCat("checksum mismatch in ", EventTypeName(h.type), " at ",
                                              position, ": the binlog is corrupt"));
    }
    body.remove_suffix(4);
  }
  auto result = AddBody(h, body, position);
  if (!result.ok() && !absl::StrContains(result.status().message(), " at ")) {
    return absl::Status(result.status().code(),
                        absl::StrCat(EventTypeName(h.type), " at ", position, ": ", result.status().message()));
  }
  return result;
}

absl::StatusOr<std::optional<Transaction>> TransactionAssembler::AddBody(const EventHeader& h,
                                                                         absl::string_view body,
                                                                         uint64_t position) {
  using std::nullopt;
  switch (h.type) {
    case event_type::kMariaGtid: {
      auto g = ParseMariaGtid(body);
      if (!g.ok()) return g.status();
      DUO_RETURN_IF_ERROR(Begin(h, position));
      current_.gtid = Gtid::Maria(g->domain, h.server_id, g->sequence);
      standalone_ = g->standalone();
      return std::optional<Transaction>();
    }
    case event_type::kMysqlGtid: case event_type::kMysqlAnonymousGtid:
    case event_type::kMysqlGtidTagged: {
      auto g = ParseMysqlGtid(h.type, body);
      if (!g.ok()) return g.status();
      DUO_RETURN_IF_ERROR(Begin(h, position));
      // The uuid names the server (server_id stays 0); an anonymous transaction has no id until
      // its reader places it (Gtid::by_file).
      current_.gtid = g->uuid.empty() ? Gtid{} : Gtid::Mysql(g->uuid, g->sequence);
      return std::optional<Transaction>();
    }
    case event_type::kQuery: {
      auto q = ParseQuery(body, format_);
      if (!q.ok()) return q.status();
      absl::string_view stmt = absl::StripAsciiWhitespace(q->statement);
      if (absl::EqualsIgnoreCase(stmt, "BEGIN")) {
        if (!in_transaction_) DUO_RETURN_IF_ERROR(Begin(h, position));  // a source without GTIDs
        saw_begin_ = true;
        return std::optional<Transaction>();
      }
      if (absl::EqualsIgnoreCase(stmt, "COMMIT")) {
        if (in_transaction_) return Finish(h, position);
        return std::optional<Transaction>();
      }
      if (absl::EqualsIgnoreCase(stmt, "ROLLBACK")) {
        in_transaction_ = false;  // a non-transactional group that was rolled back: nothing to do
        if (current_.part > 0) {
          return absl::FailedPreconditionError(absl::StrCat(
              "transaction ", current_.gtid.ToString(), " ended with ROLLBACK after some of its parts were "
              "handed on (a non-transactional group too big to hold whole); nothing of it was committed"));
        }
        return std::optional<Transaction>();
      }
      if (absl::StartsWithIgnoreCase(stmt, "SAVEPOINT") || absl::StartsWithIgnoreCase(stmt, "ROLLBACK TO")) {
        return std::optional<Transaction>();
      }
      const bool inside = in_transaction_ && (saw_begin_ || (format_.mariadb() && !standalone_));
      if (inside) {
        // DML logged as a statement: its rows are not in the binlog. The link decides whether it
        // concerns synced tables (then it stops before it) or can be passed over.
        current_.AddStatement(stmt, q->database);
        current_.sql_mode = q->sql_mode;
        current_.only_bookkeeping = false;
        return std::optional<Transaction>();
      }
      // A DDL (or another statement logged as text): a transaction of its own.
      if (!in_transaction_) DUO_RETURN_IF_ERROR(Begin(h, position));
      current_.ddl = std::string(stmt);
      current_.sql_mode = q->sql_mode;
      current_.ddl_schema = q->database;
      current_.only_bookkeeping = false;
      return Finish(h, position);
    }
    case event_type::kTableMap: {
      auto info = ParseTableMap(body, format_);
      if (!info.ok()) return info.status();
      if (!in_transaction_) {
        return absl::DataLossError(absl::StrCat("TABLE_MAP at ", position, " outside a transaction"));
      }
      if (!absl::EqualsIgnoreCase(info->schema, kMetaSchema)) current_.only_bookkeeping = false;
      MappedTable mapped;
      mapped.wanted = !options_.wants || options_.wants(TableRef{info->schema, info->table});
      const uint64_t id = info->table_id;
      mapped.info = *std::move(info);
      tables_[id] = std::move(mapped);
      return std::optional<Transaction>();
    }
    case event_type::kXid:
      if (in_transaction_) return Finish(h, position);
      return std::optional<Transaction>();
    case event_type::kTransactionPayload: {
      if (in_payload_) return absl::DataLossError("a TRANSACTION_PAYLOAD inside another");
      auto payload = TransactionPayload::Open(body);
      if (!payload.ok()) return payload.status();
      in_payload_ = true;
      payload_end_ = h.next_position != 0 ? h.next_position : position + h.length;
      std::optional<Transaction> done;
      absl::Status status;
      while (status.ok()) {
        auto inner = (*payload)->Next();
        if (!inner.ok()) {
          status = inner.status();
          break;
        }
        if (!inner->has_value()) break;
        auto t = Add(**inner, position);
        if (!t.ok()) {
          status = t.status();
        } else if (t->has_value()) {
          if (done.has_value()) status = absl::DataLossError("a TRANSACTION_PAYLOAD holds two transactions");
          done = std::move(*t);
        }
      }
      in_payload_ = false;
      if (!status.ok()) return status;
      return done;
    }
    case event_type::kPreviousGtids: {
      auto set = ParsePreviousGtids(body);
      if (!set.ok()) return set.status();
      previous_gtids_ = *std::move(set);
      return std::optional<Transaction>();
    }
    case event_type::kGtidList: {  // count (low 28 bits), then (domain, server, sequence) each
      if (body.size() < 4) return absl::DataLossError("GTID_LIST too short");
      const uint32_t count = (static_cast<uint8_t>(body[0]) | static_cast<uint8_t>(body[1]) << 8 |
                              static_cast<uint8_t>(body[2]) << 16 |
                              static_cast<uint32_t>(static_cast<uint8_t>(body[3]) & 0x0f) << 24);
      if (body.size() < 4 + size_t{count} * 16) return absl::DataLossError("GTID_LIST too short");
      gtid_list_.clear();
      for (uint32_t i = 0; i < count; ++i) {
        const char* p = body.data() + 4 + i * 16;
        auto le = [](const char* q, int n) {
          uint64_t v = 0;
          for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(q[k]);
          return v;
        };
        absl::StrAppend(&gtid_list_, i ? "," : "", le(p, 4), "-", le(p + 4, 4), "-", le(p + 8, 8));
      }
      return std::optional<Transaction>();
    }
    case event_type::kRotate: case event_type::kHeartbeat: case event_type::kHeartbeatV2:
    case event_type::kStop: case event_type::kAnnotateRows: case event_type::kBinlogCheckpoint:
    case event_type::kRowsQuery: case event_type::kIgnorable: case event_type::kTransactionContext:
    case event_type::kViewChange: case event_type::kIntvar: case event_type::kRand:
    case event_type::kUserVar:
      // Positions, liveness, the original statement of rows, group-replication bookkeeping, and
      // the context of statement-logged DML (which is itself refused where it matters).
      return std::optional<Transaction>();
    case event_type::kBeginLoadQuery: case event_type::kExecuteLoadQuery:
      if (in_transaction_) {
        current_.AddStatement("LOAD DATA (logged as a statement)", "");  // its table is unknown here
        current_.only_bookkeeping = false;
      }
      return std::optional<Transaction>();
    case event_type::kIncident:
      return absl::DataLossError(absl::StrCat(
          "INCIDENT at ", position, ": the source server recorded that changes are missing from its "
          "binlog here (for example a non-transactional change interrupted); the destination cannot "
          "be kept identical past it: re-initialize the link (full migration)"));
    case event_type::kXaPrepare:
      return absl::UnimplementedError(absl::StrCat("XA_PREPARE at ", position, " (transaction ",
                                                   current_.gtid.ToString(), "): XA is not supported"));
    case event_type::kStartEncryption:
      return absl::UnimplementedError(absl::StrCat(
          "START_ENCRYPTION at ", position, ": the binlog file is encrypted; read it through the "
          "server (which decrypts) instead of as a file"));
    default:
      if (IsRowsEvent(h.type)) {
        auto s = AddRows(h, body, position);
        if (!s.ok()) return s;
        if (options_.part_bytes != 0 && current_bytes_ >= options_.part_bytes && !current_.gtid.none() &&
            !in_payload_) {
          // Big enough to hand on: the rest follows in further parts of the same transaction.
          Transaction part = current_.TakePart();
          current_bytes_ = 0;
          current_.start_position = part.start_position;
          current_.only_bookkeeping = part.only_bookkeeping;
          part.end_position = h.next_position != 0 ? h.next_position : position + h.length;
          return std::optional<Transaction>(std::move(part));
        }
        return std::optional<Transaction>();
      }
      if (h.flags & kEventFlagIgnorable) return std::optional<Transaction>();  // safe to pass over
      return absl::UnimplementedError(absl::StrCat(
          EventTypeName(h.type), " at ", position, " cannot be read by this build; nothing after it "
          "was applied"));
  }
}

absl::Status TransactionAssembler::AddRows(const EventHeader& h, absl::string_view body,
                                           uint64_t position) {
  auto info = ParseRowsEvent(h.type, body, format_);
  if (!info.ok()) return info.status();
  if (!in_transaction_) {
    return absl::DataLossError(absl::StrCat(EventTypeName(h.type), " at ", position, " outside a transaction"));
  }
  auto it = tables_.find(info->table_id);
  if (it == tables_.end()) {
    return absl::DataLossError(absl::StrCat(EventTypeName(h.type), " at ", position,
                                            " for table id ", info->table_id, " that no TABLE_MAP named"));
  }
  MappedTable& mapped = it->second;
  if (!mapped.wanted) return absl::OkStatus();
  if (mapped.schema == nullptr) {
    auto schema = options_.schema_for(mapped.info);
    if (!schema.ok()) return schema.status();
    mapped.schema = *schema;
  }
  const auto& cols = mapped.schema->columns;
  const std::string where = absl::StrCat(EventTypeName(h.type), " at ", position, " (",
                                         mapped.schema->QualifiedName(), ")");
  if (info->column_count != cols.size()) {
    return absl::DataLossError(absl::StrCat(where, " has ", info->column_count, " columns; its table has ",
                                            cols.size()));
  }
  const bool update = !info->present_after.empty();
  const bool partial = !Complete(info->present_before, cols.size()) ||
                       (update && !Complete(info->present_after, cols.size()));
  if (partial && !options_.allow_partial_images) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transaction ", current_.gtid.ToString(), " logged a partial row image in ", where,
        ": the writing session had binlog_row_image other than FULL; duosync needs FULL images. "
        "Set it FULL for every session, then restart the link after this transaction"));
  }
  const bool partial_json = h.type == event_type::kPartialUpdateRows;
  const uint8_t* before_bits = reinterpret_cast<const uint8_t*>(info->present_before.data());
  const uint8_t* after_bits = reinterpret_cast<const uint8_t*>(info->present_after.data());
  absl::string_view data = info->rows;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t row_start = pos;
    RowChange change;
    change.table = mapped.schema;
    change.foreign_key_checks_off = (info->flags & kRowsFlagNoForeignKeyChecks) != 0;
    const bool is_write = h.type == event_type::kWriteRows || h.type == event_type::kWriteRowsV1;
    if (is_write) {
      change.op = RowOp::kInsert;
      auto after = DecodeRow(cols, before_bits, data, &pos);
      if (!after.ok()) return absl::Status(after.status().code(), absl::StrCat(where, ": ", after.status().message()));
      change.after = *std::move(after);
      if (partial) change.present_after = info->present_before;
    } else {
      change.op = update ? RowOp::kUpdate : RowOp::kDelete;
      auto before = DecodeRow(cols, before_bits, data, &pos, partial_json);
      if (!before.ok()) return absl::Status(before.status().code(), absl::StrCat(where, ": ", before.status().message()));
      change.before = *std::move(before);
      if (partial) change.present_before = info->present_before;
      if (update) {
        std::string diff_bits;  // PARTIAL_UPDATE_ROWS: which JSON columns hold diffs
        if (partial_json) {
          if (pos >= data.size()) return absl::DataLossError(absl::StrCat(where, ": truncated row"));
          uint64_t options = static_cast<uint8_t>(data[pos++]);
          if (options >= 251) return absl::DataLossError(absl::StrCat(where, ": bad value options"));
          if (options & 1) {  // PARTIAL_JSON_UPDATES: one bit per JSON column of the table
            size_t json_columns = 0;
            for (const auto& c : cols) json_columns += c.type == coltype::kJson;
            const size_t bytes = (json_columns + 7) / 8;
            if (pos + bytes > data.size()) return absl::DataLossError(absl::StrCat(where, ": truncated row"));
            diff_bits.assign(data.data() + pos, bytes);
            pos += bytes;
          }
        }
        auto after = DecodeRow(cols, after_bits, data, &pos, partial_json);
        if (!after.ok()) return absl::Status(after.status().code(), absl::StrCat(where, ": ", after.status().message()));
        change.after = *std::move(after);
        if (partial) change.present_after = info->present_after;
        if (partial_json) {
          // Both images kept JSON as binary; turn them into text, applying diffs to the before
          // image where the after image holds them.
          size_t json_index = 0;
          for (size_t c = 0; c < cols.size(); ++c) {
            if (cols[c].type != coltype::kJson) continue;
            const bool is_diff = Bit(diff_bits, json_index++);
            Value& b = change.before[c];
            Value& a = change.after[c];
            auto to_text = [&](Value* v) -> absl::Status {
              if (v->is_null()) return absl::OkStatus();
              auto text = BinaryJsonToText(v->s);
              if (!text.ok()) return text.status();
              *v = Value::String(*std::move(text));
              return absl::OkStatus();
            };
            if (is_diff && !a.is_null() && !Bit(info->present_before, c)) {
              // A minimal before image without the document (only when showing a binlog): show
              // the change as the MySQL functions that make it, as mysqlbinlog does.
              auto shown = JsonDiffsAsSql(a.s, absl::StrCat("@", c + 1));
              if (!shown.ok()) return shown.status();
              a = Value::String(*std::move(shown));
            } else if (is_diff && !a.is_null()) {
              if (b.is_null()) return absl::DataLossError(absl::StrCat(where, ": a JSON diff on a NULL value"));
              auto doc = ParseBinaryJson(b.s);
              if (!doc.ok()) return doc.status();
              auto diffs = ParseJsonDiffs(a.s);
              if (!diffs.ok()) return diffs.status();
              for (const JsonDiff& d : *diffs) {
                auto s = ApplyJsonDiff(d, &*doc);
                if (!s.ok()) return absl::Status(s.code(), absl::StrCat(where, ": column '", cols[c].name, "': ", s.message()));
              }
              a = Value::String(JsonText(*doc));
            } else if (auto s = to_text(&a); !s.ok()) {
              return s;
            }
            if (auto s = to_text(&b); !s.ok()) return s;
          }
        }
      }
    }
    if (pos == row_start) return absl::DataLossError(absl::StrCat(where, ": a row of no bytes"));
    current_bytes_ += EstimatedBytes(change);
    current_.changes.push_back(std::move(change));
  }
  return absl::OkStatus();
}

}  // namespace duosync
