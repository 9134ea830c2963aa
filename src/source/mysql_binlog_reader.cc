#include "source/mysql_binlog_reader.h"

#include <mysql.h>
#include <mariadb_rpl.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "source/schema_history.h"

namespace duosync {
namespace {

struct EventDeleter {
  void operator()(MARIADB_RPL_EVENT* e) const { mariadb_free_rpl_event(e); }
};
using EventPtr = std::unique_ptr<MARIADB_RPL_EVENT, EventDeleter>;

absl::Status Purged(const GtidPosition& start, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the source cannot serve the link's position ", start.ToString(), ": ", why,
      " (binlog purged): re-initialize the link (full migration) or give a valid start_gtid"));
}

}  // namespace

struct MysqlBinlogReader::Dump {
  MYSQL* mysql = nullptr;
  MARIADB_RPL* rpl = nullptr;
  // The connection's socket when it is plain TCP: events are read off it as packets, unparsed.
  // (Connector/C's parser refuses some MySQL events, such as MySQL 5.7's FORMAT_DESCRIPTION; our
  // assembler reads every one.) -1 over TLS, where Connector/C must read.
  int fd = -1;
  std::string buffer;  // bytes read off `fd` not yet used
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
  r->resolver_ = std::make_shared<SchemaResolver>(*std::move(conn));
  const Gtid& place = options.start.file_place();
  if (place.by_file()) {
    const std::string file = BinlogFileName(place.file_series, FileNumberOf(place.sequence));
    if (std::find(files.begin(), files.end(), file) == files.end()) {
      return Purged(options.start, absl::StrCat(file, " is not among its binlog files"));
    }
    if (absl::Status s = r->StartDump(file, std::max<uint64_t>(4, FileOffsetOf(place.sequence))); !s.ok()) return s;
    return r;
  }
  if (absl::Status s = r->StartAtGtidSet(files); !s.ok()) return s;
  return r;
}

absl::Status MysqlBinlogReader::StartDump(const std::string& file, uint64_t offset) {
  dump_.reset();
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
  d->rpl = mariadb_rpl_init(d->mysql);
  if (d->rpl == nullptr) return absl::InternalError("mariadb_rpl_init failed");
  mariadb_rpl_optionsv(d->rpl, MARIADB_RPL_FILENAME, file.c_str(), file.size());
  mariadb_rpl_optionsv(d->rpl, MARIADB_RPL_START, static_cast<unsigned long>(offset));
  mariadb_rpl_optionsv(d->rpl, MARIADB_RPL_SERVER_ID, options_.replica_server_id);
  mariadb_rpl_optionsv(d->rpl, MARIADB_RPL_FLAGS, 0);
  mariadb_rpl_optionsv(d->rpl, MARIADB_RPL_VERIFY_CHECKSUM, 0);  // the assembler checks every event
  if (mariadb_rpl_open(d->rpl) != 0) return ReplicationError(d->mysql, "opening the binlog dump");
  if (!s.tls) d->fd = static_cast<int>(mysql_get_socket(d->mysql));
  dump_ = std::move(d);
  TransactionAssembler::Options a;
  a.wants = options_.wants;
  a.schema_for = [resolver = resolver_](const TableMapInfo& map) { return resolver->Resolve(map); };
  assembler_ = std::make_unique<TransactionAssembler>(std::move(a));
  if (!SplitBinlogName(file, &series_, &file_number_)) {
    return absl::InvalidArgumentError(absl::StrCat("'", file, "' is not a binlog file name (series.NNNNNN)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MysqlBinlogReader::ReadPacket() {
  Dump& d = *dump_;
  std::string payload;
  while (true) {
    // Header: 3 bytes of length, 1 of sequence. A payload of 0xffffff bytes continues in the next.
    while (d.buffer.size() < 4 || d.buffer.size() < 4 + (static_cast<uint8_t>(d.buffer[0]) |
                                                         static_cast<uint8_t>(d.buffer[1]) << 8 |
                                                         static_cast<size_t>(static_cast<uint8_t>(d.buffer[2])) << 16)) {
      pollfd p{d.fd, POLLIN, 0};
      const int ready = poll(&p, 1, 10000);  // heartbeats come every second
      if (ready == 0) return absl::UnavailableError("reading the binlog: nothing from the source for 10 s");
      char chunk[64 * 1024];
      const ssize_t n = ready < 0 ? -1 : recv(d.fd, chunk, sizeof chunk, 0);
      if (n <= 0) return absl::UnavailableError("reading the binlog: the source closed the connection");
      d.buffer.append(chunk, n);
    }
    const size_t length = static_cast<uint8_t>(d.buffer[0]) | static_cast<uint8_t>(d.buffer[1]) << 8 |
                          static_cast<size_t>(static_cast<uint8_t>(d.buffer[2])) << 16;
    payload.append(d.buffer, 4, length);
    d.buffer.erase(0, 4 + length);
    if (length < 0xffffff) return payload;
  }
}

absl::StatusOr<std::string> MysqlBinlogReader::NextEvent() {
  const std::string where = absl::StrCat("reading the binlog of ", BinlogFileName(series_, file_number_),
                                         " after the event that ends at ", last_event_end_);
  if (dump_->fd >= 0) {
    auto packet = ReadPacket();
    if (!packet.ok()) return packet.status();
    const uint8_t first = packet->empty() ? 0xff : static_cast<uint8_t>((*packet)[0]);
    if (first == 0xff && packet->size() >= 3) {  // error: code, '#' and SQLSTATE, message
      const unsigned err = static_cast<uint8_t>((*packet)[1]) | static_cast<uint8_t>((*packet)[2]) << 8;
      const size_t text = packet->size() > 9 && (*packet)[3] == '#' ? 9 : 3;
      return ReplicationError(err, packet->substr(text), where);
    }
    if (first == 0xfe && packet->size() < 9) return ReplicationError(0, "", where);  // the end of the dump
    if (first != 0 || packet->size() < 1 + kEventHeaderSize) {
      return absl::DataLossError(absl::StrCat(where, ": a packet that is no binlog event"));
    }
    auto h = ParseEventHeader(absl::string_view(*packet).substr(1));
    if (h.ok()) last_event_end_ = h->next_position;
    return packet->substr(1);
  }
  EventPtr ev(mariadb_rpl_fetch(dump_->rpl, nullptr));
  if (ev == nullptr) return ReplicationError(dump_->mysql, where);
  if (ev->raw_data == nullptr || ev->raw_data_ofs >= ev->raw_data_size) {
    return absl::DataLossError("an empty binlog event from the source");
  }
  last_event_end_ = ev->next_event_pos;
  return std::string(reinterpret_cast<const char*>(ev->raw_data) + ev->raw_data_ofs,
                     ev->raw_data_size - ev->raw_data_ofs);
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
  if (dump_ == nullptr) return;
  if (dump_->fd >= 0) shutdown(dump_->fd, SHUT_RDWR);  // a read blocked in poll() returns
  else mariadb_cancel(dump_->mysql);
}

absl::StatusOr<std::optional<Transaction>> MysqlBinlogReader::Next() {
  while (true) {
    auto e = NextEvent();
    if (!e.ok()) return e.status();
    auto h = ParseEventHeader(*e);
    if (!h.ok()) return h.status();
    if (h->type == event_type::kRotate) {  // the dump's first event, and every file's last
      const size_t name_at = kEventHeaderSize + 8, tail = checksums_ ? 4 : 0;
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
    auto t = assembler_->Add(*e, h->next_position >= h->length ? h->next_position - h->length : 0);
    if (!t.ok()) {
      return absl::Status(t.status().code(), absl::StrCat(BinlogFileName(series_, file_number_), ": ", t.status().message()));
    }
    if (!t->has_value()) continue;
    Transaction& txn = **t;
    if (!txn.ddl.empty()) resolver_->Invalidate();  // table definitions may have changed
    if (txn.gtid.none()) {  // no GTID (gtid_mode OFF): known by where it ends
      txn.gtid.file_series = series_;
      txn.gtid.sequence = FilePlace(file_number_, txn.end_position);
    }
    if (options_.start.Covers(txn.gtid)) continue;  // applied before this reader started
    position_.Advance(txn.gtid);
    return std::move(*t);
  }
}

}  // namespace duosync
