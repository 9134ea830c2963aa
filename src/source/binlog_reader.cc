#include "source/binlog_reader.h"

#include <mysql.h>
#include <mariadb_rpl.h>
#include <mysqld_error.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "glog/logging.h"
#include "source/failover_start.h"
#include "source/row_decoder.h"
#include "source/schema_loader.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

struct EventDeleter {
  void operator()(MARIADB_RPL_EVENT* e) const { mariadb_free_rpl_event(e); }
};
using EventPtr = std::unique_ptr<MARIADB_RPL_EVENT, EventDeleter>;

// Reads a length-encoded integer of the optional metadata.
uint64_t ReadPackedLength(const unsigned char*& p, const unsigned char* end) {
  if (p >= end) return 0;
  const unsigned char b = *p++;
  if (b < 251) return b;
  int n = b == 0xfc ? 2 : b == 0xfd ? 3 : 8;
  uint64_t v = 0;
  for (int i = 0; i < n && p < end; ++i) v |= static_cast<uint64_t>(*p++) << (8 * i);
  return v;
}

}  // namespace

absl::Status ReplicationError(MYSQL* mysql, absl::string_view what) {
  return ReplicationError(mysql_errno(mysql), mysql_error(mysql), what);
}

absl::Status ReplicationError(unsigned err, absl::string_view message, absl::string_view what) {
  const std::string text = absl::StrCat(what, ": ", message, " (error ", err, ")");
  if (err == 0) return absl::UnavailableError(absl::StrCat(what, ": the source ended the stream"));
  if (err == ER_MASTER_FATAL_ERROR_READING_BINLOG && (absl::StrContains(message, "same server_uuid") ||
                                                     absl::StrContains(message, "same server_id") ||
                                                     absl::StrContains(message, "same server id"))) {
    // MySQL's form of ER_SLAVE_SAME_ID (below): another process reads this link's binlog.
    return absl::UnavailableError(absl::StrCat(
        text, "; another process reads this link's binlog with the same replica id (it is fenced once "
        "one of the two takes the link over); retrying"));
  }
  if (err == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
    return absl::FailedPreconditionError(absl::StrCat(
        text, "; the source cannot serve this position (binlog purged, or the GTID is not in its "
        "binlog): re-initialize the link (full migration) or give a valid start_gtid"));
  }
  if (err == 4052) {
    // ER_SLAVE_SAME_ID: another reader uses this replica id, which is this link's. It is another
    // process running the same link (a second `run`, an owner that has not noticed a takeover):
    // one of the two is fenced soon, so retry rather than fail.
    return absl::UnavailableError(absl::StrCat(
        text, "; another process reads this link's binlog with the same replica id (it is fenced once "
        "one of the two takes the link over); retrying"));
  }
  if (err >= 5000) return absl::DataLossError(text);  // connector: malformed or corrupt event
  return StatusFromMysqlError(err, text);
}

namespace {

// The type family a binlog type code belongs to: the same column is written with the old or new
// temporal codes, and JSON as JSON (MySQL) or as a BLOB (MariaDB).
uint8_t TypeFamily(uint8_t type) {
  switch (type) {
    case coltype::kDateTime: return coltype::kDateTime2;
    case coltype::kTimestamp: return coltype::kTimestamp2;
    case coltype::kTime: return coltype::kTime2;
    case coltype::kNewDate: return coltype::kDate;
    case coltype::kDecimalOld: return coltype::kNewDecimal;
    case coltype::kVarString: return coltype::kVarchar;
    case coltype::kJson: case coltype::kTinyBlob: case coltype::kMediumBlob: case coltype::kLongBlob:
      return coltype::kBlob;
    default: return type;
  }
}

// Rows decoded by a history definition must have its shape: as many columns, each of its type.
absl::Status CheckShape(const std::vector<ColumnType>& types, const TableSchema& known, const std::string& doubt) {
  std::string why;
  if (types.size() != known.columns.size()) {
    why = absl::StrCat("the rows have ", types.size(), " columns, the definition ", known.columns.size());
  } else {
    for (size_t i = 0; i < types.size() && why.empty(); ++i) {
      const ColumnSchema& c = known.columns[i];
      if (c.type != 0 && TypeFamily(c.type) != TypeFamily(types[i].type)) {
        why = absl::StrCat("column ", i + 1, " (`", c.name, "`) is binlog type ", int{c.type},
                           " there, type ", int{types[i].type}, " in the rows");
      }
    }
  }
  if (why.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the binlog rows of ", known.QualifiedName(), " do not match its definition in the schema history (",
      why, "); ", doubt.empty() ? "a DDL the history did not see changed it" : doubt,
      ". Set binlog_row_metadata=FULL on the source and re-initialize the link"));
}

}  // namespace

struct BinlogReader::Rpl {
  MYSQL* mysql = nullptr;
  MARIADB_RPL* rpl = nullptr;
  // The transaction being assembled.
  bool in_transaction = false;
  bool standalone = false;
  bool skip_rows = false;  // an echo: its rows are not needed
  Transaction current;
  size_t current_bytes = 0;  // estimated memory of current's rows
  struct MappedTable {
    TableMapInfo info;
    std::shared_ptr<const TableSchema> schema;  // resolved lazily, only for wanted tables
    bool wanted = false;
  };
  std::map<uint64_t, MappedTable> tables;

  ~Rpl() {
    if (rpl != nullptr) mariadb_rpl_close(rpl);
    if (mysql != nullptr) mysql_close(mysql);
  }
};

absl::StatusOr<SchemaHistory*> SchemaResolver::History() {
  if (!history_options_.has_value()) return nullptr;
  if (!history_opened_) {
    auto opened = SchemaHistory::Open(*history_options_, history_start_);
    if (!opened.ok()) return opened.status();
    history_ = *std::move(opened);
    history_opened_ = true;
  }
  return history_.get();
}

absl::Status SchemaResolver::FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql,
                                       DdlSqlMode mode) {
  Invalidate();
  auto history = History();
  if (!history.ok()) return history.status();
  if (*history == nullptr) return absl::OkStatus();
  return (*history)->FollowDdl(gtid, schema, sql, mode, history_wants_);
}

absl::StatusOr<std::shared_ptr<const TableSchema>> SchemaResolver::Resolve(const TableMapInfo& map) {
  std::string key = absl::StrCat(map.schema, "\x01", map.table, "\x01", map.types, "\x01",
                                 map.metadata, "\x01");
  for (const auto& n : map.names) absl::StrAppend(&key, n, "\x02");
  for (bool u : map.is_unsigned) key.push_back(u ? '1' : '0');
  auto hit = by_map_.find(key);
  if (hit != by_map_.end()) return hit->second;

  const std::string qualified = absl::StrCat(map.schema, ".", map.table);
  auto types = ParseColumnTypes(map.types, map.metadata);
  if (!types.ok()) return types.status();
  // Without names, the definition the table had when the row was written (the schema history),
  // never today's matched by position.
  std::shared_ptr<const TableSchema> known;
  std::string doubt;  // why the history's definition may be out of date
  if (map.names.empty()) {
    auto history = History();
    if (!history.ok()) return history.status();
    auto found = *history != nullptr ? (*history)->Find(TableRef{map.schema, map.table})
                                     : absl::StatusOr<SchemaHistory::Found>(absl::NotFoundError(""));
    if (found.ok()) {
      known = found->schema;
      doubt = found->doubt;
    } else if (!absl::IsNotFound(found.status())) {
      return absl::Status(found.status().code(), absl::StrCat("cannot decode the rows of ", qualified, ": ",
                                                              found.status().message()));
    }
  }
  auto cur = current_.find(qualified);
  if (cur == current_.end()) {
    const TableRef source_name{map.schema, map.table};
    auto loaded = LoadTableSchema(source_.get(), catalog_name_ ? catalog_name_(source_name) : source_name);
    if (absl::IsNotFound(loaded.status()) && !map.names.empty()) {
      auto alone = FromMapAlone(map);
      if (alone.ok()) {
        by_map_[key] = *alone;
        return std::shared_ptr<const TableSchema>(*alone);
      }
    }
    if (loaded.ok()) {
      cur = current_.emplace(qualified, *std::move(loaded)).first;
    } else if (known == nullptr || !absl::IsNotFound(loaded.status())) {
      return absl::Status(loaded.status().code(), absl::StrCat("cannot resolve the schema of ",
                                                               qualified, ": ", loaded.status().message()));
    }
  }
  const TableSchema* live = cur != current_.end() ? &cur->second : nullptr;  // today's definition
  const TableSchema& now = known != nullptr ? *known : *live;

  auto schema = std::make_shared<TableSchema>();
  schema->schema = map.schema;
  schema->table = map.table;
  schema->has_untrusted_unique_key = now.has_untrusted_unique_key;
  std::vector<int> to_now(types->size(), -1);  // binlog column -> column of `now`
  if (!map.names.empty()) {
    for (size_t i = 0; i < types->size(); ++i) to_now[i] = now.ColumnIndex(map.names[i]);
  } else if (known != nullptr) {
    if (absl::Status shape = CheckShape(*types, *known, doubt); !shape.ok()) return shape;
    for (size_t i = 0; i < types->size(); ++i) to_now[i] = static_cast<int>(i);
  } else if (types->size() == now.columns.size()) {
    for (size_t i = 0; i < types->size(); ++i) to_now[i] = static_cast<int>(i);
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot resolve the schema of ", qualified, ": its binlog rows have ", types->size(),
        " columns but the table now has ", now.columns.size(),
        " (a DDL happened since); set binlog_row_metadata=FULL on the source so that such rows "
        "decode by column name"));
  }
  for (size_t i = 0; i < types->size(); ++i) {
    ColumnSchema c;
    c.type = (*types)[i].type;
    c.meta = (*types)[i].meta;
    if (to_now[i] >= 0) {
      const ColumnSchema& n = now.columns[to_now[i]];
      c.name = n.name;
      c.is_unsigned = n.is_unsigned;
      c.charset = n.charset;
      c.collation = n.collation;
      c.generated = n.generated;
      c.on_update = n.on_update;
      // Setting an ON UPDATE column to the source's value is right whatever the definition the
      // row was logged under, and a history recorded by an older version does not mark them.
      if (live != nullptr && !c.on_update) {
        const int l = live->ColumnIndex(n.name);
        c.on_update = l >= 0 && live->columns[l].on_update;
      }
      if (c.type == coltype::kEnum || c.type == coltype::kSet) c.elements = n.elements;
    }
    if (!map.names.empty()) c.name = map.names[i];
    if (i < map.is_unsigned.size() && IsNumericColumnType(c.type)) c.is_unsigned = map.is_unsigned[i];
    if (c.name.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("cannot resolve the name of column ", i + 1,
                                                        " of ", qualified));
    }
    if (c.charset.empty() && to_now[i] < 0 &&
        (c.type == coltype::kVarchar || c.type == coltype::kString || c.type == coltype::kBlob)) {
      c.charset = "utf8mb4";  // a column dropped since: its charset is no longer known
    }
    schema->columns.push_back(std::move(c));
  }
  // Keys of the current table, by name; a key whose column the binlog row lacks is unusable.
  for (const auto& key_cols : now.unique_keys) {
    std::vector<int> mapped;
    for (int k : key_cols) {
      const int at = schema->ColumnIndex(now.columns[k].name);
      if (at < 0) { mapped.clear(); break; }
      mapped.push_back(at);
    }
    if (!mapped.empty()) schema->unique_keys.push_back(mapped);
  }
  if (!schema->unique_keys.empty()) schema->key_columns = schema->unique_keys.front();
  // Foreign keys come from today's catalog (the history keeps none), mapped by column name.
  const TableSchema* with_fks = live != nullptr ? live : &now;
  for (const ForeignKey& fk : with_fks->foreign_keys) {
    ForeignKey mapped = fk;
    mapped.columns.clear();
    for (int k : fk.columns) {
      const int at = k < 0 ? -1 : schema->ColumnIndex(with_fks->columns[k].name);
      if (at < 0) break;
      mapped.columns.push_back(at);
    }
    if (mapped.columns.size() == fk.columns.size()) schema->foreign_keys.push_back(std::move(mapped));
  }
  by_map_[key] = schema;
  return std::shared_ptr<const TableSchema>(schema);
}

absl::StatusOr<std::shared_ptr<TableSchema>> SchemaResolver::FromMapAlone(const TableMapInfo& map) {
  if (map.primary_key.empty()) {
    return absl::NotFoundError(absl::StrCat(map.schema, ".", map.table, " no longer exists and its binlog "
                                            "rows carry no primary key"));
  }
  auto types = ParseColumnTypes(map.types, map.metadata);
  if (!types.ok()) return types.status();
  std::string charset = "utf8mb4", collation = "utf8mb4_general_ci";
  if (map.default_collation != 0) {
    auto row = source_->Query(absl::StrCat(
        "SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS WHERE ID=",
        map.default_collation));
    if (row.ok() && !row->empty()) {
      charset = (*row)[0][0].value_or(charset);
      collation = (*row)[0][1].value_or(collation);
    }
  }
  auto schema = std::make_shared<TableSchema>();
  schema->schema = map.schema;
  schema->table = map.table;
  for (size_t i = 0; i < types->size(); ++i) {
    ColumnSchema c;
    c.name = map.names[i];
    c.type = (*types)[i].type;
    c.meta = (*types)[i].meta;
    c.is_unsigned = i < map.is_unsigned.size() && map.is_unsigned[i];
    const bool text = c.type == coltype::kVarchar || c.type == coltype::kVarString ||
                      c.type == coltype::kString || c.type == coltype::kBlob;
    if (text) {  // BLOB and TEXT share a type code: without the column charset, text is the guess
      c.charset = charset;
      c.collation = collation;
    }
    schema->columns.push_back(std::move(c));
  }
  for (int k : map.primary_key) {
    if (k < 0 || k >= static_cast<int>(schema->columns.size())) return absl::DataLossError("bad primary key in table map");
  }
  schema->unique_keys.push_back(map.primary_key);
  schema->key_columns = map.primary_key;
  return schema;
}

namespace {

// Where to ask a MariaDB source for `start` (failover_start.h). A source that cannot say (not a
// MariaDB server) is asked for `start` as it is.
absl::StatusOr<FailoverStart> PlanStart(SqlConnection* source, const GtidPosition& start, bool follow) {
  FailoverStart plan;
  plan.request = start;
  if (start.domains().empty()) return plan;
  auto rows = source->Query("SELECT @@server_id, @@gtid_binlog_state");
  uint32_t server_id = 0;
  if (!rows.ok() || rows->empty() || (*rows)[0].size() != 2 ||
      !absl::SimpleAtoi((*rows)[0][0].value_or(""), &server_id)) {
    return plan;
  }
  auto planned = PlanFailoverStart(start, server_id, (*rows)[0][1].value_or(""));
  if (!planned.ok()) return planned.status();
  if (planned->rewound() && !follow) {
    return absl::FailedPreconditionError(absl::StrCat(
        planned->notes[0], ". A link that keeps a record store cannot follow such a failover yet: "
        "set the link's retention_hours to 0 for the restart after it"));
  }
  for (const std::string& note : planned->notes) {
    LOG(WARNING) << note << ": following it from there (" << planned->request.ToString()
                 << "); the old primary's transactions up to the link's position are passed over if they come";
  }
  return planned;
}

}  // namespace

BinlogReader::BinlogReader(const ReaderOptions& options, std::unique_ptr<Rpl> rpl,
                           std::unique_ptr<SchemaResolver> resolver)
    : options_(options), rpl_(std::move(rpl)), resolver_(std::move(resolver)),
      position_(options.start) {}

BinlogReader::~BinlogReader() = default;

absl::StatusOr<std::unique_ptr<BinlogReader>> BinlogReader::Open(const ReaderOptions& options) {
  if (!options.start.mysql_sets().empty() || options.start.file_place().by_file()) {
    return absl::UnimplementedError(absl::StrCat(
        "the link is at ", options.start.ToString(), ", a MySQL-dialect position: following a live MySQL "
        "or OceanBase server is not supported yet (a directory of its binlog files is: binlog_dir)"));
  }
  auto schema_conn = SqlConnection::Connect(options.source);
  if (!schema_conn.ok()) return schema_conn.status();
  auto rpl = std::make_unique<Rpl>();
  rpl->mysql = mysql_init(nullptr);
  unsigned connect_timeout = options.source.connect_timeout_s;
  unsigned read_timeout = 10;  // heartbeats arrive every second while the source is idle
  mysql_optionsv(rpl->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(rpl->mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_optionsv(rpl->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const auto& s = options.source;
  ConfigureTls(rpl->mysql, s);
  if (mysql_real_connect(rpl->mysql, s.host.c_str(),
                         s.user.c_str(), s.password.c_str(), nullptr, s.port, nullptr, 0) == nullptr) {
    return ReplicationError(rpl->mysql, absl::StrCat("cannot connect to ", s.Describe()));
  }
  if (absl::Status tls = CheckTlsNegotiated(rpl->mysql, s); !tls.ok()) return tls;
  // A source that failed over may lack the position's GTID: ask where it can answer.
  auto failover = PlanStart(schema_conn->get(), options.start, options.follow_failover);
  if (!failover.ok()) return failover.status();
  std::string state;
  AppendQuoted(failover->request.ToString(), &state);
  const std::string setup = absl::StrCat(
      "SET @master_binlog_checksum=@@global.binlog_checksum, @mariadb_slave_capability=4, "
      "@slave_connect_state=", state, ", @slave_gtid_strict_mode=0, "
      "@slave_gtid_ignore_duplicates=0, @master_heartbeat_period=1000000000, "
      // Reading pauses while a transaction in parts is applied (minutes over a slow link):
      // the source must wait for us rather than drop the dump.
      "SESSION net_write_timeout=3600");
  if (mysql_real_query(rpl->mysql, setup.data(), setup.size()) != 0) {
    return ReplicationError(rpl->mysql, "preparing the binlog dump");
  }
  rpl->rpl = mariadb_rpl_init(rpl->mysql);
  if (rpl->rpl == nullptr) return absl::InternalError("mariadb_rpl_init failed");
  uint32_t server_id = options.replica_server_id;
  mariadb_rpl_optionsv(rpl->rpl, MARIADB_RPL_FILENAME, "", static_cast<size_t>(0));
  mariadb_rpl_optionsv(rpl->rpl, MARIADB_RPL_START, static_cast<unsigned long>(4));
  mariadb_rpl_optionsv(rpl->rpl, MARIADB_RPL_SERVER_ID, server_id);
  mariadb_rpl_optionsv(rpl->rpl, MARIADB_RPL_FLAGS, 0);
  mariadb_rpl_optionsv(rpl->rpl, MARIADB_RPL_VERIFY_CHECKSUM, 1);
  if (mariadb_rpl_open(rpl->rpl) != 0) return ReplicationError(rpl->mysql, "opening the binlog dump");
  const bool names = SourceLogsColumnNames(schema_conn->get());
  auto resolver = std::make_unique<SchemaResolver>(std::move(*schema_conn));
  if (options.history.has_value() && !names) resolver->EnableHistory(*options.history, options.start, options.wants);
  std::unique_ptr<BinlogReader> reader(new BinlogReader(options, std::move(rpl), std::move(resolver)));
  reader->applied_through_ = std::move(failover->applied_through);
  return reader;
}

bool BinlogReader::AppliedBeforeFailover(const Gtid& gtid) const {
  auto it = applied_through_.find({gtid.domain, gtid.server_id});
  return it != applied_through_.end() && gtid.sequence <= it->second;
}

absl::StatusOr<std::optional<Transaction>> BinlogReader::Next() {
  if (applied_through_.empty()) return ReadTransaction();  // no failover to pass over: the usual case
  while (true) {
    const GtidPosition before = position_;
    auto next = ReadTransaction();
    if (!next.ok() || !next->has_value() || !AppliedBeforeFailover((*next)->gtid)) return next;
    // Applied from the old primary before the failover: neither again nor a step back.
    position_ = before;
  }
}

void BinlogReader::Cancel() { mariadb_cancel(rpl_->mysql); }

namespace {

// The writing session's sql_mode from a QUERY event's status variables: Q_FLAGS2 (code 0, 4 bytes)
// comes first when present, then Q_SQL_MODE (code 1, 8 bytes, little-endian). 0 when absent.
uint64_t QuerySqlMode(const MARIADB_STRING& status) {
  const auto* p = reinterpret_cast<const unsigned char*>(status.str);
  size_t pos = 0;
  while (pos < status.length) {
    const unsigned char code = p[pos++];
    if (code == 0) {
      pos += 4;
    } else if (code == 1 && pos + 8 <= status.length) {
      uint64_t mode = 0;
      for (int b = 7; b >= 0; --b) mode = (mode << 8) | p[pos + b];
      return mode;
    } else {
      break;
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::optional<Transaction>> BinlogReader::ReadTransaction() {
  Rpl& r = *rpl_;
  while (true) {
    rpl_clear_error(r.rpl);
    EventPtr ev(mariadb_rpl_fetch(r.rpl, nullptr));
    if (ev == nullptr) return ReplicationError(r.mysql, "reading the binlog");
    if (ev->timestamp != 0) last_event_time_ = ev->timestamp;
    auto finish = [&]() -> std::optional<Transaction> {
      r.in_transaction = false;
      r.tables.clear();
      position_.Advance(r.current.gtid);
      return std::move(r.current);
    };
    switch (ev->event_type) {
      case ROTATE_EVENT:
        rotated_ = true;
        break;
      case HEARTBEAT_LOG_EVENT:
        if (!r.in_transaction) return std::optional<Transaction>();
        break;
      case GTID_EVENT: {
        r.in_transaction = true;
        r.current = Transaction();
        r.current_bytes = 0;
        r.current.gtid = Gtid::Maria(ev->event.gtid.domain_id, ev->server_id, ev->event.gtid.sequence_nr);
        r.current.origin_server_id = ev->server_id;
        r.current.commit_time = ev->timestamp;
        r.current.only_bookkeeping = true;  // until an event says otherwise
        r.standalone = (ev->event.gtid.flags & FL_STANDALONE) != 0;
        r.skip_rows = (options_.skip_rows_of_origin != 0 && ev->server_id == options_.skip_rows_of_origin) ||
                      AppliedBeforeFailover(r.current.gtid);
        r.tables.clear();
        break;
      }
      case TABLE_MAP_EVENT: {
        const auto& tm = ev->event.table_map;
        Rpl::MappedTable mapped;
        TableMapInfo& info = mapped.info;
        info.schema.assign(tm.database.str, tm.database.length);
        info.table.assign(tm.table.str, tm.table.length);
        if (!absl::EqualsIgnoreCase(info.schema, kMetaSchema)) r.current.only_bookkeeping = false;
        info.types.assign(tm.column_types.str, tm.column_types.length);
        info.metadata.assign(tm.metadata.str, tm.metadata.length);
        if (tm.column_names.length > 0) {
          const unsigned char* p = tm.column_names.data;
          const unsigned char* end = p + tm.column_names.length;
          while (p < end) {
            uint64_t len = ReadPackedLength(p, end);
            if (len > static_cast<uint64_t>(end - p)) return absl::DataLossError("bad column names in table map");
            info.names.emplace_back(reinterpret_cast<const char*>(p), len);
            p += len;
          }
          if (info.names.size() != info.types.size()) info.names.clear();
        }
        if (tm.simple_primary_keys.length > 0) {
          const unsigned char* p = tm.simple_primary_keys.data;
          const unsigned char* end = p + tm.simple_primary_keys.length;
          while (p < end) info.primary_key.push_back(static_cast<int>(ReadPackedLength(p, end)));
        }
        info.default_collation = tm.default_charset;
        if (tm.signed_indicator != nullptr) {
          // One bit per numeric column, most significant first; set = unsigned.
          int numeric = 0;
          for (size_t i = 0; i < info.types.size(); ++i) {
            const bool num = IsNumericColumnType(static_cast<uint8_t>(info.types[i]));
            info.is_unsigned.push_back(
                num && ((tm.signed_indicator[numeric / 8] >> (7 - numeric % 8)) & 1));
            numeric += num;
          }
        }
        mapped.wanted = !r.skip_rows &&
                        (!options_.wants || options_.wants(TableRef{info.schema, info.table}));
        r.tables[tm.table_id] = std::move(mapped);
        break;
      }
      case WRITE_ROWS_EVENT_V1: case UPDATE_ROWS_EVENT_V1: case DELETE_ROWS_EVENT_V1:
      case WRITE_ROWS_EVENT: case UPDATE_ROWS_EVENT: case DELETE_ROWS_EVENT:
      case WRITE_ROWS_COMPRESSED_EVENT_V1: case UPDATE_ROWS_COMPRESSED_EVENT_V1:
      case DELETE_ROWS_COMPRESSED_EVENT_V1: case WRITE_ROWS_COMPRESSED_EVENT:
      case UPDATE_ROWS_COMPRESSED_EVENT: case DELETE_ROWS_COMPRESSED_EVENT: {
        const auto& rows = ev->event.rows;
        auto it = r.tables.find(rows.table_id);
        if (it == r.tables.end()) {
          return absl::DataLossError(absl::StrCat("rows event for unknown table id ", rows.table_id,
                                                  " in ", r.current.gtid.ToString()));
        }
        Rpl::MappedTable& mapped = it->second;
        if (!mapped.wanted) break;
        if (mapped.schema == nullptr) {
          auto schema = resolver_->Resolve(mapped.info);
          if (!schema.ok()) {
            return absl::Status(schema.status().code(), absl::StrCat(schema.status().message(), " (transaction ",
                                                                     r.current.gtid.ToString(), ")"));
          }
          mapped.schema = *schema;
        }
        const auto& cols = mapped.schema->columns;
        if (rows.column_count != cols.size()) {
          return absl::DataLossError(absl::StrCat("rows event of ", mapped.schema->QualifiedName(),
                                                  " has ", rows.column_count, " columns, its table map ",
                                                  cols.size()));
        }
        // A session with binlog_row_image=MINIMAL/NOBLOB logs partial images: applying them
        // would turn the missing columns into NULLs. Refuse rather than guess.
        for (size_t c = 0; c < cols.size(); ++c) {
          const bool before_has = (rows.column_bitmap[c / 8] >> (c % 8)) & 1;
          const bool after_has = rows.column_update_bitmap == nullptr ||
                                 ((rows.column_update_bitmap[c / 8] >> (c % 8)) & 1);
          if (!before_has || !after_has) {
            return absl::FailedPreconditionError(absl::StrCat(
                "transaction ", r.current.gtid.ToString(), " logged a partial row image of ",
                mapped.schema->QualifiedName(), " (column '", cols[c].name, "' missing): the "
                "writing session had binlog_row_image other than FULL; duosync needs FULL images. "
                "Set it FULL for every session, then restart the link after this transaction"));
          }
        }
        absl::string_view data(static_cast<const char*>(rows.row_data), rows.row_data_size);
        size_t pos = 0;
        while (pos < data.size()) {
          const size_t row_start = pos;
          RowChange change;
          change.table = mapped.schema;
          change.foreign_key_checks_off = (rows.flags & kRowsFlagNoForeignKeyChecks) != 0;
          if (rows.type == WRITE_ROWS) {
            change.op = RowOp::kInsert;
            auto after = DecodeRow(cols, rows.column_bitmap, data, &pos);
            if (!after.ok()) return after.status();
            change.after = *std::move(after);
          } else {
            change.op = rows.type == UPDATE_ROWS ? RowOp::kUpdate : RowOp::kDelete;
            auto before = DecodeRow(cols, rows.column_bitmap, data, &pos);
            if (!before.ok()) return before.status();
            change.before = *std::move(before);
            if (rows.type == UPDATE_ROWS) {
              auto after = DecodeRow(cols, rows.column_update_bitmap, data, &pos);
              if (!after.ok()) return after.status();
              change.after = *std::move(after);
            }
          }
          if (pos == row_start) return absl::DataLossError("a rows event with a row of no bytes");
          r.current_bytes += EstimatedBytes(change);
          r.current.changes.push_back(std::move(change));
        }
        if (options_.part_bytes != 0 && r.current_bytes >= options_.part_bytes) {
          // Big enough to hand on: the rest follows in further parts of the same transaction.
          r.current_bytes = 0;
          return std::optional<Transaction>(r.current.TakePart());
        }
        break;
      }
      case XID_EVENT:
        if (r.in_transaction) return finish();
        break;
      case QUERY_EVENT: {
        absl::string_view stmt(ev->event.query.statement.str, ev->event.query.statement.length);
        absl::string_view trimmed = absl::StripAsciiWhitespace(stmt);
        if (absl::EqualsIgnoreCase(trimmed, "BEGIN")) break;
        if (absl::EqualsIgnoreCase(trimmed, "COMMIT")) {
          if (r.in_transaction) return finish();
          break;
        }
        if (absl::EqualsIgnoreCase(trimmed, "ROLLBACK")) {
          if (r.current.part > 0) {
            return absl::FailedPreconditionError(absl::StrCat(
                "transaction ", r.current.gtid.ToString(), " ended with ROLLBACK after some of its parts were "
                "handed on (a non-transactional group too big to hold whole); nothing of it was committed"));
          }
          r.in_transaction = false;  // a non-transactional group that was rolled back: nothing to do
          break;
        }
        if (absl::StartsWithIgnoreCase(trimmed, "SAVEPOINT") ||
            absl::StartsWithIgnoreCase(trimmed, "ROLLBACK TO")) {
          break;
        }
        if (r.in_transaction && !r.standalone) {
          // DML logged as a statement: its rows are not in the binlog. The link decides whether
          // it concerns synced tables (then it stops before it) or can be passed over.
          r.current.AddStatement(trimmed, absl::string_view(ev->event.query.database.str,
                                                            ev->event.query.database.length));
          r.current.sql_mode = QuerySqlMode(ev->event.query.status);
          r.current.only_bookkeeping = false;
          break;
        }
        // A DDL (or other statement logged as text). Table definitions may have changed.
        r.current.sql_mode = QuerySqlMode(ev->event.query.status);
        DUO_RETURN_IF_ERROR(resolver_->FollowDdl(
            r.current.gtid, absl::string_view(ev->event.query.database.str, ev->event.query.database.length),
            stmt, DdlSqlModeOf(r.current.sql_mode)));
        r.current.ddl.assign(stmt.data(), stmt.size());
        r.current.only_bookkeeping = false;
        r.current.ddl_schema.assign(ev->event.query.database.str, ev->event.query.database.length);
        if (r.in_transaction && r.standalone) return finish();
        break;
      }
      case XA_PREPARE_LOG_EVENT:
        return absl::UnimplementedError(absl::StrCat(
            "XA transaction ", r.current.gtid.ToString(), " in the source binlog: XA is not supported"));
      case GTID_LOG_EVENT: case ANONYMOUS_GTID_LOG_EVENT:
        return absl::UnimplementedError(
            "the source writes MySQL-style GTID events; this build follows MariaDB GTIDs only");
      default:
        break;  // rotate, format description, GTID lists, checkpoints, annotations: not needed
    }
  }
}

}  // namespace duosync
