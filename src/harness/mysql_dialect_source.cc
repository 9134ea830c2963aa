#include "harness/mysql_dialect_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/gtid_position.h"
#include "source/binlog_events.h"
#include "source/binlog_directory_feed.h"
#include "source/binlog_file.h"

namespace duosync::harness {
namespace {

namespace fs = std::filesystem;

constexpr uint8_t kComQuery = 0x03, kComBinlogDump = 0x12, kComBinlogDumpGtid = 0x1e;
constexpr uint32_t kClientDeprecateEof = 1u << 24;
constexpr uint32_t kMariadbExtendedMetadata = 1u << 3;  // of MariaDB's extended capabilities
constexpr uint16_t kStatusAutocommit = 2;

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLe(absl::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

void PutLenEnc(std::string* out, uint64_t v) {
  if (v < 251) {
    out->push_back(static_cast<char>(v));
  } else if (v < (1u << 16)) {
    out->push_back(static_cast<char>(0xfc));
    PutLe(out, v, 2);
  } else if (v < (1u << 24)) {
    out->push_back(static_cast<char>(0xfd));
    PutLe(out, v, 3);
  } else {
    out->push_back(static_cast<char>(0xfe));
    PutLe(out, v, 8);
  }
}

void PutLenEncString(std::string* out, absl::string_view s) {
  PutLenEnc(out, s.size());
  out->append(s.data(), s.size());
}

bool ReadExact(int fd, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, out->data() + got, n - got, 0);
    if (r <= 0) return false;
    got += r;
  }
  return true;
}

bool WriteAll(int fd, absl::string_view data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += n;
  }
  return true;
}

// A binlog event: header, body and CRC32.
std::string Event(uint8_t type, uint32_t log_pos, uint16_t flags, absl::string_view body) {
  std::string e;
  const uint64_t size = kEventHeaderSize + body.size() + 4;
  PutLe(&e, 0, 4);  // timestamp 0: an artificial event
  e.push_back(static_cast<char>(type));
  PutLe(&e, 1, 4);
  PutLe(&e, size, 4);
  PutLe(&e, log_pos, 4);
  PutLe(&e, flags, 2);
  e.append(body.data(), body.size());
  PutLe(&e, crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(e.data()), static_cast<uInt>(e.size())), 4);
  return e;
}

// MariaDB's "0-1-100,5-5-7" as the MySQL GTID set the rewritten files describe.
std::string AsMysqlSet(const std::string& mariadb_position) {
  auto p = GtidPosition::Parse(mariadb_position);
  if (!p.ok()) return "";
  std::string out;
  for (const auto& [domain, g] : p->domains()) {
    if (g.sequence > 0) absl::StrAppend(&out, out.empty() ? "" : ",", RewrittenUuid(domain), ":1-", g.sequence);
  }
  return out;
}

}  // namespace

// One client connection: commands pass through to the server, except the dialect's own.
class SourceSession {
 public:
  SourceSession(MysqlDialectSource* owner, int client, int server) : owner_(owner), client_(client), server_(server) {}

  void Run() {
    std::thread pump([this] {  // the server's answers, as they come
      char buf[64 * 1024];
      while (true) {
        ssize_t n = recv(server_, buf, sizeof buf, 0);
        if (n <= 0) break;
        std::lock_guard<std::mutex> lock(write_mu_);
        if (!WriteAll(client_, absl::string_view(buf, n))) break;
      }
      shutdown(client_, SHUT_RDWR);
    });
    bool handshake_response = true;
    std::string header, payload;
    while (ReadExact(client_, 4, &header)) {
      const size_t length = GetLe(header, 0, 3);
      const uint8_t seq = static_cast<uint8_t>(header[3]);
      if (!ReadExact(client_, length, &payload)) break;
      if (handshake_response && seq == 1 && payload.size() >= 4) {
        client_caps_ = static_cast<uint32_t>(GetLe(payload, 0, 4));
        // MariaDB's extended capabilities: the last 4 of the 23 filler bytes after the charset.
        if (payload.size() >= 32) client_ext_caps_ = static_cast<uint32_t>(GetLe(payload, 28, 4));
        handshake_response = false;
      }
      // A command starts a new exchange (sequence 0); the handshake's packets never do.
      if (seq == 0 && !payload.empty() && Local(payload)) continue;
      if (!WriteAll(server_, header) || !WriteAll(server_, payload)) break;
    }
    shutdown(server_, SHUT_RDWR);
    shutdown(client_, SHUT_RDWR);
    pump.join();
  }

 private:
  // Answers the command itself when the dialects differ; false to pass it through.
  bool Local(const std::string& payload) {
    const uint8_t command = static_cast<uint8_t>(payload[0]);
    if (command == kComBinlogDump) {
      Dump(payload);
      shutdown(client_, SHUT_RDWR);  // a dump ends the connection
      return true;
    }
    if (command == kComBinlogDumpGtid && owner_->dialect_.dump_by_gtids) {
      DumpByGtids(payload);
      shutdown(client_, SHUT_RDWR);
      return true;
    }
    if (command != kComQuery) return false;
    std::string q = absl::AsciiStrToLower(absl::StripAsciiWhitespace(payload.substr(1)));
    q = std::string(absl::StripSuffix(q, ";"));
    const MysqlDialect& d = owner_->dialect_;
    if (q == "select @@version") {
      Send({"@@version"}, {{d.server_version}});
      return true;
    }
    if (q == "select @@global.gtid_mode, @@global.gtid_executed") {
      auto pos = ServerValue("SELECT @@gtid_binlog_pos");
      if (!pos.ok()) return SendError(pos.status());
      Send({"@@global.gtid_mode", "@@global.gtid_executed"},
           {{d.gtids ? "ON" : "OFF", d.gtids ? AsMysqlSet(*pos) : ""}});
      return true;
    }
    if (q == "select @@global.binlog_row_metadata" || q == "select @@binlog_row_metadata") {
      // MySQL 8 has the setting (FULL when the dialect logs names); 5.7 and OceanBase do not.
      if (d.column_names) Send({"@@binlog_row_metadata"}, {{"FULL"}});
      else if (absl::StartsWith(d.server_version, "8.")) Send({"@@binlog_row_metadata"}, {{"MINIMAL"}});
      else SendError(absl::NotFoundError("Unknown system variable 'binlog_row_metadata'"), 1193);
      return true;
    }
    if (q == "show master status") {
      auto conn = SqlConnection::Connect(owner_->server_);
      if (!conn.ok()) return SendError(conn.status());
      auto rows = (*conn)->Query("SHOW MASTER STATUS");
      if (!rows.ok() || rows->empty()) return SendError(rows.ok() ? absl::InternalError("no binlog") : rows.status());
      const std::string name = (*rows)[0][0].value_or("");
      if (absl::Status s = Rewrite(name); !s.ok()) return SendError(s);
      std::error_code ec;
      const auto size = fs::file_size(fs::path(owner_->rewrite_dir_) / name, ec);
      auto pos = (*conn)->QueryValue("SELECT @@gtid_binlog_pos");
      Send({"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"},
           {{name, std::to_string(size), "", "", d.gtids && pos.ok() ? AsMysqlSet(pos->value_or("")) : ""}});
      return true;
    }
    return false;
  }

  absl::StatusOr<std::string> ServerValue(const std::string& sql) {
    auto conn = SqlConnection::Connect(owner_->server_);
    if (!conn.ok()) return conn.status();
    auto v = (*conn)->QueryValue(sql);
    if (!v.ok()) return v.status();
    return v->value_or("");
  }

  absl::Status Rewrite(const std::string& name) {
    std::lock_guard<std::mutex> lock(owner_->rewrite_mu_);
    return RewriteAsMysql((fs::path(owner_->binlog_dir_) / name).string(), (fs::path(owner_->rewrite_dir_) / name).string(),
                          owner_->dialect_);
  }

  bool Packet(absl::string_view payload) {
    std::string header;
    PutLe(&header, payload.size(), 3);
    header.push_back(static_cast<char>(seq_++));
    std::lock_guard<std::mutex> lock(write_mu_);
    return WriteAll(client_, header) && WriteAll(client_, payload);
  }

  void SendEnd() {
    std::string end;
    end.push_back(static_cast<char>(0xfe));
    if (client_caps_ & kClientDeprecateEof) {  // an OK packet in EOF's clothes
      PutLenEnc(&end, 0);
      PutLenEnc(&end, 0);
      PutLe(&end, kStatusAutocommit, 2);
      PutLe(&end, 0, 2);
    } else {
      PutLe(&end, 0, 2);
      PutLe(&end, kStatusAutocommit, 2);
    }
    Packet(end);
  }

  // A text result set of string columns.
  void Send(const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& rows) {
    seq_ = 1;
    std::string count;
    PutLenEnc(&count, names.size());
    Packet(count);
    for (const std::string& name : names) {
      std::string def;
      for (absl::string_view s : {"def", "", "", ""}) PutLenEncString(&def, s);
      PutLenEncString(&def, name);
      PutLenEncString(&def, name);
      if (client_ext_caps_ & kMariadbExtendedMetadata) PutLenEnc(&def, 0);  // no extended type info
      def.push_back(0x0c);
      PutLe(&def, 33, 2);  // utf8
      PutLe(&def, 4096, 4);
      def.push_back(static_cast<char>(0xfd));  // VAR_STRING
      PutLe(&def, 0, 2);
      def.push_back(0);
      PutLe(&def, 0, 2);
      Packet(def);
    }
    if (!(client_caps_ & kClientDeprecateEof)) {
      std::string eof("\xfe");
      PutLe(&eof, 0, 2);
      PutLe(&eof, kStatusAutocommit, 2);
      Packet(eof);
    }
    for (const auto& row : rows) {
      std::string r;
      for (const std::string& v : row) PutLenEncString(&r, v);
      Packet(r);
    }
    SendEnd();
  }

  bool SendError(const absl::Status& s, unsigned code = 1105 /* ER_UNKNOWN_ERROR */) {
    seq_ = 1;
    std::string err("\xff");
    PutLe(&err, code, 2);
    err += "#HY000";
    err += std::string(s.message());
    Packet(err);
    return true;
  }

  // COM_BINLOG_DUMP: position (4), flags (2), replica server id (4), file name. Streams the
  // rewritten files from there on, as a MySQL server does: an artificial ROTATE naming the file,
  // the file's FORMAT_DESCRIPTION when starting inside it, then every event, following the file
  // as it grows and on into the next; a heartbeat after a second of nothing new.
  void Dump(const std::string& payload) {
    seq_ = 1;
    if (payload.size() < 11) return;
    Stream(payload.substr(11), GetLe(payload, 1, 4), GtidPosition());
  }

  // COM_BINLOG_DUMP_GTID: flags (2), replica server id (4), file name length (4) and name,
  // position (8), then the GTID set's length (4) and the set in PREVIOUS_GTIDS' binary form. As a
  // MySQL server does: streams from the newest file whose PREVIOUS_GTIDS the set covers, passing
  // over the transactions the set has.
  void DumpByGtids(const std::string& payload) {
    seq_ = 1;
    const size_t name_length = payload.size() >= 11 ? GetLe(payload, 7, 4) : 0;
    const size_t set_at = 11 + name_length + 8 + 4;
    if (payload.size() < set_at) {
      SendError(absl::InvalidArgumentError("malformed COM_BINLOG_DUMP_GTID"), 1064);
      return;
    }
    auto text = ParsePreviousGtids(payload.substr(set_at));
    auto have = text.ok() ? GtidPosition::Parse(*text) : text.status();
    if (!have.ok()) {
      SendError(have.status(), 1064);
      return;
    }
    auto conn = SqlConnection::Connect(owner_->server_);
    auto logs = conn.ok() ? (*conn)->Query("SHOW BINARY LOGS") : conn.status();
    if (!logs.ok()) {
      SendError(logs.status());
      return;
    }
    for (size_t i = logs->size(); i-- > 0;) {
      const std::string name = (*logs)[i][0].value_or("");
      if (absl::Status s = Rewrite(name); !s.ok()) {
        SendError(s);
        return;
      }
      auto previous = StartingGtidList((fs::path(owner_->rewrite_dir_) / name).string());
      if (!previous.ok()) {
        SendError(previous.status());
        return;
      }
      if (!previous->has_value() || have->CoversAll(**previous)) {  // none: the server's first file
        ++owner_->dumps_by_gtids_;
        Stream(name, 4, *have);
        return;
      }
    }
    SendError(absl::FailedPreconditionError(
                  "The slave is connecting using CHANGE MASTER TO MASTER_AUTO_POSITION = 1, but the master has "
                  "purged binary logs containing GTIDs that the slave requires."),
              1236);
  }

  // Streams the rewritten files from `name`:`position` on, passing over the transactions `skip`
  // covers.
  void Stream(std::string name, uint64_t position, const GtidPosition& skip) {
    std::string series;
    uint64_t number = 0;
    if (!SplitBinlogName(name, &series, &number)) {
      SendError(absl::InvalidArgumentError(absl::StrCat("Could not find first log file name in binary log index file ('", name, "')")));
      return;
    }
    std::string rotate;
    PutLe(&rotate, position, 8);
    rotate += name;
    if (!Packet(std::string(1, '\0') + Event(event_type::kRotate, 0, 0x20, rotate))) return;
    bool first = true;
    bool skipping = false;  // inside a transaction `skip` covers
    while (!owner_->stopping_) {
      if (!Rewrite(name).ok()) return;
      auto file = BinlogFile::Open((fs::path(owner_->rewrite_dir_) / name).string());
      if (!file.ok()) return;
      if (first && position > 4) {
        auto fde = (*file)->Next();
        if (!fde.ok() || !fde->has_value() || !Packet(std::string(1, '\0') + (*fde)->bytes)) return;
        if (!(*file)->Seek(position).ok()) return;
      }
      first = false;
      auto idle_since = std::chrono::steady_clock::now();
      bool rewritten_after_next = false;
      while (!owner_->stopping_) {
        auto e = (*file)->Next();
        if (!e.ok()) return;
        if (e->has_value()) {
          auto h = ParseEventHeader((*e)->bytes);
          if (!h.ok()) return;
          if (auto g = GtidOfEvent(*h, (*e)->bytes); g.has_value()) {
            skipping = g.has_value() && !g->none() && skip.Covers(*g);
          }
          const bool framing = h->type == event_type::kRotate || h->type == event_type::kFormatDescription ||
                               h->type == event_type::kPreviousGtids;
          if (skipping && !framing) continue;
          if (!Packet(std::string(1, '\0') + (*e)->bytes)) return;
          idle_since = std::chrono::steady_clock::now();
          continue;
        }
        const std::string next = BinlogFileName(series, number + 1);
        std::error_code ec;
        if (fs::exists(fs::path(owner_->binlog_dir_) / next, ec)) {
          // The server finished this file before it began the next: one more rewrite has its end.
          if (!rewritten_after_next) {
            rewritten_after_next = true;
            if (!Rewrite(name).ok()) return;
            continue;
          }
          name = next;
          ++number;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!Rewrite(name).ok()) return;
        if (std::chrono::steady_clock::now() - idle_since > std::chrono::seconds(1)) {
          if (!Packet(std::string(1, '\0') + Event(event_type::kHeartbeat, static_cast<uint32_t>((*file)->position()), 0, name))) {
            return;
          }
          idle_since = std::chrono::steady_clock::now();
        }
      }
    }
  }

  MysqlDialectSource* owner_;
  int client_, server_;
  uint32_t client_caps_ = 0, client_ext_caps_ = 0;
  uint8_t seq_ = 1;
  std::mutex write_mu_;
};

absl::StatusOr<std::unique_ptr<MysqlDialectSource>> MysqlDialectSource::Start(const ConnectOptions& server,
                                                                              MysqlDialect dialect) {
  std::unique_ptr<MysqlDialectSource> p(new MysqlDialectSource());
  p->server_ = server;
  p->dialect_ = std::move(dialect);
  auto conn = SqlConnection::Connect(server);
  if (!conn.ok()) return conn.status();
  auto basename = (*conn)->QueryValue("SELECT @@log_bin_basename");
  if (!basename.ok()) return basename.status();
  p->binlog_dir_ = fs::path(basename->value_or("")).parent_path().string();
  char dir[] = "/tmp/duosync-mysql-source-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("cannot make a directory for rewritten binlogs");
  p->rewrite_dir_ = dir;
  p->listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(p->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(p->listen_fd_, 128) != 0) {
    return absl::UnavailableError("MySQL-dialect source: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  getsockname(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  p->port_ = ntohs(addr.sin_port);
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

MysqlDialectSource::~MysqlDialectSource() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  DropConnections();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  std::error_code ec;
  fs::remove_all(rewrite_dir_, ec);
}

void MysqlDialectSource::DropConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : fds_) shutdown(fd, SHUT_RDWR);
}

void MysqlDialectSource::AcceptLoop() {
  while (!stopping_) {
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(client);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void MysqlDialectSource::Serve(int client) {
  int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_.port);
  inet_pton(AF_INET, server_.host == "localhost" ? "127.0.0.1" : server_.host.c_str(), &addr.sin_addr);
  if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    int one = 1;
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(server);
    }
    SourceSession(this, client, server).Run();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : {client, server}) {
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
    close(fd);
  }
}

}  // namespace duosync::harness
