#include "source/mysql_binlog_reader.h"

#include <mysql.h>
#include <mariadb_rpl.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "source/schema_history.h"
#include "sql/ddl.h"

namespace duosync {
namespace {

absl::Status Purged(const GtidPosition& start, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the source cannot serve the link's position ", start.ToString(), ": ", why,
      " (binlog purged): re-initialize the link (full migration) or give a valid start_gtid"));
}

}  // namespace

struct MysqlBinlogReader::Dump {
  MYSQL* mysql = nullptr;
  MARIADB_RPL* rpl = nullptr;
  ~Dump() {
    if (rpl != nullptr) mariadb_rpl_close(rpl);
    if (mysql != nullptr) mysql_close(mysql);
  }
};

MysqlBinlogReader::MysqlBinlogReader(const ReaderOptions& options) : options_(options), position_(options.start) {}
MysqlBinlogReader::~MysqlBinlogReader() = default;

absl::StatusOr<std::unique_ptr<MysqlBinlogReader>> MysqlBinlogReader::Open(const ReaderOptions& options) {
  std::unique_ptr<MysqlBinlogReader> r(new MysqlBinlogReader(options));
  auto conn = SqlConnection::Connect(options.source);
  if (!conn.ok()) return conn.status();
  auto checksum = (*conn)->QueryValue("SELECT @@global.binlog_checksum");
  if (!checksum.ok()) return checksum.status();
  r->checksums_ = !absl::EqualsIgnoreCase(checksum->value_or("NONE"), "NONE");
  auto rows = (*conn)->Query("SHOW BINARY LOGS");
  if (!rows.ok()) return rows.status();
  std::vector<std::string> files;
  for (const auto& row : *rows) files.push_back(row[0].value_or(""));
  if (files.empty()) return absl::FailedPreconditionError("the source has no binlog files: turn log_bin on");
  // Rows without column names (OceanBase, MySQL 5.7, MINIMAL metadata) decode by the schema history.
  const bool names = SourceLogsColumnNames(conn->get());
  r->resolver_ = std::make_shared<SchemaResolver>(*std::move(conn));
  if (options.history.has_value() && !names) {
    SchemaHistoryOptions history = *options.history;
    history.mysql_dialect = true;
    r->resolver_->EnableHistory(std::move(history), options.start, options.wants);
  }
  const Gtid& place = options.start.file_place();
  if (place.by_file()) {
    const std::string file = BinlogFileName(place.file_series, FileNumberOf(place.sequence));
    if (std::find(files.begin(), files.end(), file) == files.end()) {
      return Purged(options.start, absl::StrCat(file, " is not among its binlog files"));
    }
    if (absl::Status s = r->StartDump(file, std::max<uint64_t>(4, FileOffsetOf(place.sequence))); !s.ok()) return s;
    return r;
  }
  // A GTID set: the source itself finds where the transactions the set lacks begin, and passes
  // over the ones it has. Sources without COM_BINLOG_DUMP_GTID are read from the file that holds them.
  auto by_gtids = r->StartDumpByGtids();
  if (!by_gtids.ok()) return by_gtids.status();
  if (*by_gtids) return r;
  if (absl::Status s = r->StartAtGtidSet(files); !s.ok()) return s;
  return r;
}

absl::Status MysqlBinlogReader::ConnectDump() {
  dump_.reset();
  pending_.reset();
  auto d = std::make_unique<Dump>();
  d->mysql = mysql_init(nullptr);
  unsigned connect_timeout = options_.source.connect_timeout_s;
  unsigned read_timeout = 10;  // heartbeats arrive every second while the source is idle
  mysql_optionsv(d->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(d->mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_optionsv(d->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const ConnectOptions& s = options_.source;
  ConfigureTls(d->mysql, s);
  if (mysql_real_connect(d->mysql, s.host.c_str(), s.user.c_str(), s.password.c_str(), nullptr, s.port, nullptr, 0) ==
      nullptr) {
    return ReplicationError(d->mysql, absl::StrCat("cannot connect to ", s.Describe()));
  }
  if (absl::Status tls = CheckTlsNegotiated(d->mysql, s); !tls.ok()) return tls;
  // A source sends checksummed events only to a replica that says it reads them, and heartbeats
  // only when asked (every second here).
  for (const char* setup : {"SET @master_binlog_checksum=@@global.binlog_checksum",
                            "SET @master_heartbeat_period=1000000000"}) {
    if (mysql_real_query(d->mysql, setup, strlen(setup)) != 0) {
      return ReplicationError(d->mysql, "preparing the binlog dump");
    }
  }
  // The source waits for us while the applier catches up, rather than drop the dump after 60 s
  // (a source without the variable, as some services, is fine without it).
  const char* wait = "SET SESSION net_write_timeout=3600";
  (void)mysql_real_query(d->mysql, wait, strlen(wait));
  dump_ = std::move(d);
  TransactionAssembler::Options a;
  // What the start covers is passed over undecoded: its tables may have changed since.
  a.wants = [this](const TableRef& t) { return !skipping_ && (!options_.wants || options_.wants(t)); };
  a.schema_for = [resolver = resolver_](const TableMapInfo& map) { return resolver->Resolve(map); };
  a.part_bytes = options_.part_bytes;
  assembler_ = std::make_unique<TransactionAssembler>(std::move(a));
  return absl::OkStatus();
}

absl::Status MysqlBinlogReader::StartDump(const std::string& file, uint64_t offset) {
  if (offset > UINT32_MAX) {  // COM_BINLOG_DUMP's offset has 4 bytes
    return absl::UnimplementedError(absl::StrCat("cannot start a binlog dump at ", file, ":", offset,
                                                 ", past 4 GiB into the file"));
  }
  if (!SplitBinlogName(file, &series_, &file_number_)) {
    return absl::InvalidArgumentError(absl::StrCat("'", file, "' is not a binlog file name (series.NNNNNN)"));
  }
  DUO_RETURN_IF_ERROR(ConnectDump());
  dump_->rpl = mariadb_rpl_init(dump_->mysql);
  if (dump_->rpl == nullptr) return absl::InternalError("mariadb_rpl_init failed");
  mariadb_rpl_optionsv(dump_->rpl, MARIADB_RPL_FILENAME, file.c_str(), file.size());
  mariadb_rpl_optionsv(dump_->rpl, MARIADB_RPL_START, static_cast<unsigned long>(offset));
  mariadb_rpl_optionsv(dump_->rpl, MARIADB_RPL_SERVER_ID, options_.replica_server_id);
  mariadb_rpl_optionsv(dump_->rpl, MARIADB_RPL_FLAGS, 0);
  mariadb_rpl_optionsv(dump_->rpl, MARIADB_RPL_VERIFY_CHECKSUM, 0);  // the assembler checks every event
  if (mariadb_rpl_open(dump_->rpl) != 0) return ReplicationError(dump_->mysql, "opening the binlog dump");
  return absl::OkStatus();
}

absl::StatusOr<bool> MysqlBinlogReader::StartDumpByGtids() {
  auto set = EncodeMysqlGtidSet(options_.start);
  if (!set.ok()) return false;  // tagged GTIDs: found by files instead
  DUO_RETURN_IF_ERROR(ConnectDump());
  // COM_BINLOG_DUMP_GTID: flags (BINLOG_THROUGH_GTID), replica server id, no file name, offset 4,
  // then the set. Connector/C has no call for it; its command layer sends the bytes as given.
  constexpr uint8_t kComBinlogDumpGtid = 0x1e;
  constexpr uint16_t kThroughGtid = 4;
  std::string args;
  auto put = [&args](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) args.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(kThroughGtid, 2);
  put(options_.replica_server_id, 4);
  put(0, 4);
  put(4, 8);
  put(set->size(), 4);
  args += *set;
  if (dump_->mysql->methods->db_command(dump_->mysql, static_cast<enum enum_server_command>(kComBinlogDumpGtid),
                                        args.data(), args.size(), 1, nullptr) != 0) {
    return ReplicationError(dump_->mysql, "opening the binlog dump by GTID set");
  }
  // The answer is the first event (a ROTATE naming the file), or an error.
  series_.clear();
  auto first = NextEvent();
  if (first.ok()) {
    pending_ = *std::move(first);
    return true;
  }
  // A source without the command, or one that cannot serve the set that way (gtid_mode off, a
  // set it calls purged: the file-based start then names what is missing), or that drops the
  // connection at it: read from the file that holds the set's next transaction instead.
  const unsigned err = mysql_errno(dump_->mysql);
  if (err == ER_UNKNOWN_COM_ERROR || err == ER_NOT_SUPPORTED_YET || err == ER_MASTER_FATAL_ERROR_READING_BINLOG ||
      err == CR_SERVER_LOST || err == CR_SERVER_GONE_ERROR) {
    LOG(INFO) << "the source did not serve a binlog dump by GTID set (" << mysql_error(dump_->mysql)
              << "); finding the start by files";
    return false;
  }
  return first.status();
}

absl::StatusOr<std::string> MysqlBinlogReader::NextEvent() {
  auto where = [&] {
    return absl::StrCat("reading the binlog of ", BinlogFileName(series_, file_number_), " after the event that ends at ",
                        last_event_end_);
  };
  // Each event is one packet (joined when it spans several), read through the connection's own
  // layers (TLS) but not parsed: our assembler reads every event of both dialects, where
  // Connector/C's parser refuses some of MySQL's (5.7's FORMAT_DESCRIPTION, 8.0's payloads).
  if (pending_.has_value()) {
    std::string event = *std::move(pending_);
    pending_.reset();
    return event;
  }
  const unsigned long length = mysql_net_read_packet(dump_->mysql);
  if (length == packet_error) return ReplicationError(dump_->mysql, where());  // (unsigned int)-1, not ~0UL
  const auto* p = reinterpret_cast<const char*>(dump_->mysql->net.read_pos);
  if (length < 9 && static_cast<uint8_t>(p[0]) == 0xfe) return ReplicationError(0, "", where());  // the dump ended
  if (length < 1 + kEventHeaderSize || p[0] != 0) {
    return absl::DataLossError(absl::StrCat(where(), ": a packet that is no binlog event"));
  }
  std::string event(p + 1, length - 1);
  auto h = ParseEventHeader(event);
  if (h.ok()) last_event_end_ = h->next_position;
  return event;
}

absl::Status MysqlBinlogReader::StartAtGtidSet(const std::vector<std::string>& files) {
  for (size_t i = files.size(); i-- > 0;) {
    if (absl::Status s = StartDump(files[i], 4); !s.ok()) return s;
    // ROTATE, FORMAT_DESCRIPTION, PREVIOUS_GTIDS open every file.
    for (int events = 0; events < 8; ++events) {
      auto e = NextEvent();
      if (!e.ok()) return e.status();
      auto h = ParseEventHeader(*e);
      if (!h.ok()) return h.status();
      if (h->type == event_type::kRotate) continue;
      if (h->type != event_type::kFormatDescription && h->type != event_type::kPreviousGtids) {
        return absl::DataLossError(absl::StrCat(files[i], " does not start with PREVIOUS_GTIDS (",
                                                EventTypeName(h->type), " came first)"));
      }
      auto t = assembler_->Add(*e, h->next_position >= h->length ? h->next_position - h->length : 0);
      if (!t.ok()) return t.status();
      if (h->type != event_type::kPreviousGtids) continue;
      auto previous = GtidPosition::Parse(assembler_->previous_gtids());
      if (!previous.ok()) return previous.status();
      if (options_.start.CoversAll(*previous)) return absl::OkStatus();  // read on from here
      break;  // this file starts after the position: an older one has the transactions between
    }
  }
  return Purged(options_.start, absl::StrCat("its oldest binlog file ", files.empty() ? "" : files[0],
                                             " starts after it"));
}

void MysqlBinlogReader::Cancel() {
  if (dump_ != nullptr) mariadb_cancel(dump_->mysql);
}

absl::StatusOr<std::optional<Transaction>> MysqlBinlogReader::Next() {
  while (true) {
    auto e = NextEvent();
    if (!e.ok()) return e.status();
    auto h = ParseEventHeader(*e);
    if (!h.ok()) return h.status();
    if (h->type == event_type::kRotate) {  // the dump's first event, and every file's last
      // The checksum of the file's own format (a ROTATE before the file's FORMAT_DESCRIPTION has
      // the one the dump asked for: the server's).
      const bool checksummed = assembler_->has_format() ? assembler_->format().checksums : checksums_;
      const size_t name_at = kEventHeaderSize + 8, tail = checksummed ? 4 : 0;
      if (e->size() < name_at + tail) return absl::DataLossError("a short ROTATE event");
      const std::string name = e->substr(name_at, e->size() - name_at - tail);
      if (!SplitBinlogName(name, &series_, &file_number_)) {
        return absl::DataLossError(absl::StrCat("ROTATE to '", name, "', which is not a binlog file name"));
      }
      rotated_ = true;
      continue;
    }
    if (h->type == event_type::kHeartbeat || h->type == event_type::kHeartbeatV2) {
      if (!assembler_->in_transaction()) return std::optional<Transaction>();
      continue;
    }
    if (auto g = GtidOfEvent(*h, *e); g.has_value()) skipping_ = !g->none() && options_.start.Covers(*g);
    auto t = assembler_->Add(*e, h->next_position >= h->length ? h->next_position - h->length : 0);
    if (!t.ok()) {
      return absl::Status(t.status().code(), absl::StrCat(BinlogFileName(series_, file_number_), ": ", t.status().message()));
    }
    if (!t->has_value()) continue;
    Transaction& txn = **t;
    if (txn.gtid.none()) {  // no GTID (gtid_mode OFF): known by where it ends
      if (!options_.start.empty() && options_.start.file_place().file_series != series_) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the source wrote a transaction without a GTID in ", BinlogFileName(series_, file_number_),
            ", and the link's position ", options_.start.ToString(), " names no place in its binlog: the "
            "source's gtid_mode changed? re-initialize the link, or start it at a file place"));
      }
      txn.gtid.file_series = series_;
      txn.gtid.sequence = FilePlace(file_number_, txn.end_position);
    }
    const bool covered = options_.start.Covers(txn.gtid);  // applied before this reader started
    if (!txn.ddl.empty()) {
      // Table definitions may have changed; the history has the DDLs the start covers.
      if (covered) resolver_->Invalidate();
      else DUO_RETURN_IF_ERROR(resolver_->FollowDdl(txn.gtid, txn.ddl_schema, txn.ddl, DdlSqlModeOf(txn.sql_mode)));
    }
    if (covered) continue;
    if (!txn.more_parts) position_.Advance(txn.gtid);  // past a transaction in parts at its last
    return std::move(*t);
  }
}

}  // namespace duosync
