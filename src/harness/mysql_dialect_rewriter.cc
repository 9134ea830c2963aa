#include "harness/mysql_dialect_rewriter.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/gtid_position.h"
#include "source/binlog_events.h"
#include "source/binlog_file.h"

namespace duosync::harness {
namespace {

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLe(absl::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

// The post-header lengths a MySQL 8.0 server's FORMAT_DESCRIPTION gives per event type (from
// type 1); a 5.7 server gives the first 38 (up to XA_PREPARE).
constexpr uint8_t kMysqlPostHeader[] = {0, 13, 0, 8, 0,  0,  0,  0,  4,  0,  4,  0, 0, 0,
                                        0, 0,  4, 26, 8, 0,  0,  0,  8,  8,  8,  2, 0, 0,
                                        0, 10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0};
constexpr size_t kFormatDescriptionEntry = 14;  // type 15's entry: the event's own post-header

std::string UuidBytes(uint32_t domain) {
  const std::string text = RewrittenUuid(domain);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    int hi = 0, lo = 0;
    absl::SimpleHexAtoi(text.substr(i, 1), &hi);
    absl::SimpleHexAtoi(text.substr(i + 1, 1), &lo);
    out.push_back(static_cast<char>(hi * 16 + lo));
    ++i;
  }
  return out;
}

class MysqlFileWriter {
 public:
  MysqlFileWriter() : out_("\xfe" "bin") {}

  void Add(uint8_t type, uint32_t timestamp, uint32_t server_id, uint16_t flags, absl::string_view body) {
    std::string e;
    const uint64_t size = kEventHeaderSize + body.size() + 4;
    PutLe(&e, timestamp, 4);
    e.push_back(static_cast<char>(type));
    PutLe(&e, server_id, 4);
    PutLe(&e, size, 4);
    PutLe(&e, out_.size() + size, 4);
    PutLe(&e, flags, 2);
    e.append(body.data(), body.size());
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(e.data()), static_cast<uInt>(e.size()));
    PutLe(&e, crc, 4);
    out_ += e;
  }

  void AddFormatDescription(const std::string& version, uint32_t timestamp, uint32_t server_id) {
    const bool five_seven = absl::StartsWith(version, "5.");
    const size_t entries = five_seven ? 38 : sizeof(kMysqlPostHeader);
    std::string body;
    PutLe(&body, 4, 2);
    std::string v = version.substr(0, 49);
    v.resize(50, '\0');
    body += v;
    PutLe(&body, timestamp, 4);
    body.push_back(static_cast<char>(kEventHeaderSize));
    for (size_t i = 0; i < entries; ++i) {
      body.push_back(static_cast<char>(i == kFormatDescriptionEntry ? 57 + entries : kMysqlPostHeader[i]));
    }
    body.push_back(1);  // checksum algorithm: CRC32
    Add(event_type::kFormatDescription, timestamp, server_id, 0, body);
  }

  // A QUERY event as MySQL writes it: thread, time, error code, status variables (flags2, sql_mode,
  // utf8mb4 charsets), database, statement.
  void AddQuery(uint32_t timestamp, uint32_t server_id, uint16_t flags, uint32_t thread, uint32_t exec_time,
                uint16_t error, uint64_t sql_mode, absl::string_view db, absl::string_view statement) {
    std::string status;
    status.push_back(0);  // Q_FLAGS2_CODE
    PutLe(&status, 0, 4);
    status.push_back(1);  // Q_SQL_MODE_CODE
    PutLe(&status, sql_mode, 8);
    status.push_back(4);  // Q_CHARSET_CODE: client, connection and server collation
    for (int i = 0; i < 3; ++i) PutLe(&status, 45, 2);  // utf8mb4_general_ci
    std::string body;
    PutLe(&body, thread, 4);
    PutLe(&body, exec_time, 4);
    body.push_back(static_cast<char>(db.size()));
    PutLe(&body, error, 2);
    PutLe(&body, status.size(), 2);
    body += status;
    body.append(db.data(), db.size());
    body.push_back('\0');
    body.append(statement.data(), statement.size());
    Add(event_type::kQuery, timestamp, server_id, flags, body);
  }

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// TABLE_MAP's body up to its null bitmap: what a server without binlog_row_metadata sends.
absl::StatusOr<std::string> WithoutOptionalMetadata(absl::string_view body) {
  size_t pos = 8;  // table id, flags
  for (int name = 0; name < 2; ++name) {
    if (pos >= body.size()) return absl::DataLossError("short TABLE_MAP");
    pos += 1 + static_cast<uint8_t>(body[pos]) + 1;
  }
  uint64_t columns = 0, meta = 0;
  if (!ReadPackedInt(body, &pos, &columns)) return absl::DataLossError("short TABLE_MAP");
  pos += columns;
  if (!ReadPackedInt(body, &pos, &meta)) return absl::DataLossError("short TABLE_MAP");
  pos += meta + (columns + 7) / 8;
  if (pos > body.size()) return absl::DataLossError("short TABLE_MAP");
  return std::string(body.substr(0, pos));
}

}  // namespace

std::string RewrittenUuid(uint32_t domain) { return absl::StrFormat("3e11fa47-71ca-11e1-9e33-%012x", domain); }

absl::Status RewriteAsMysql(const std::string& from, const std::string& to, const MysqlDialect& dialect) {
  std::string series;
  uint64_t number = 0;
  if (!SplitBinlogName(std::filesystem::path(to).filename().string(), &series, &number)) {
    return absl::InvalidArgumentError(absl::StrCat(to, " is not named like a binlog file (series.NNNNNN)"));
  }
  auto file = BinlogFile::Open(from);
  if (!file.ok()) return file.status();
  MysqlFileWriter out;
  BinlogFormat format;
  bool have_format = false;
  uint64_t logical_clock = 0;
  while (true) {
    auto next = (*file)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const std::string& bytes = (*next)->bytes;
    auto h = ParseEventHeader(bytes);
    if (!h.ok()) return h.status();
    if (h->type == event_type::kFormatDescription) {
      auto f = ParseFormatDescription(bytes);
      if (!f.ok()) return f.status();
      if (!f->mariadb()) return absl::InvalidArgumentError(absl::StrCat(from, " is not a MariaDB binlog file"));
      format = *f;
      have_format = true;
      out.AddFormatDescription(dialect.server_version, h->timestamp, h->server_id);
      continue;
    }
    if (!have_format) return absl::DataLossError(absl::StrCat(from, ": an event before FORMAT_DESCRIPTION"));
    const absl::string_view body =
        absl::string_view(bytes).substr(kEventHeaderSize, bytes.size() - kEventHeaderSize - (format.checksums ? 4 : 0));
    const uint16_t flags = h->flags & ~uint16_t{1};
    switch (h->type) {
      case event_type::kGtidList: {
        std::map<uint32_t, uint64_t> last;  // per domain
        const uint64_t count = GetLe(body, 0, 4) & 0x0fffffff;
        for (uint64_t i = 0; i < count && 4 + (i + 1) * 16 <= body.size(); ++i) {
          const uint32_t domain = static_cast<uint32_t>(GetLe(body, 4 + i * 16, 4));
          last[domain] = std::max(last[domain], GetLe(body, 4 + i * 16 + 8, 8));
        }
        std::string previous;
        PutLe(&previous, dialect.gtids ? last.size() : 0, 8);
        for (const auto& [domain, seq] : dialect.gtids ? last : std::map<uint32_t, uint64_t>{}) {
          previous += UuidBytes(domain);
          PutLe(&previous, 1, 8);
          PutLe(&previous, 1, 8);
          PutLe(&previous, seq + 1, 8);  // end exclusive
        }
        out.Add(event_type::kPreviousGtids, h->timestamp, h->server_id, flags, previous);
        break;
      }
      case event_type::kMariaGtid: {
        auto g = ParseMariaGtid(body);
        if (!g.ok()) return g.status();
        std::string gtid;
        gtid.push_back(1);  // flags: may commit alone
        gtid += dialect.gtids ? UuidBytes(g->domain) : std::string(16, '\0');
        PutLe(&gtid, dialect.gtids ? g->sequence : 0, 8);
        gtid.push_back(2);  // logical clock: each transaction after the one before
        PutLe(&gtid, logical_clock, 8);
        PutLe(&gtid, ++logical_clock, 8);
        out.Add(dialect.gtids ? event_type::kMysqlGtid : event_type::kMysqlAnonymousGtid, h->timestamp,
                h->server_id, 0, gtid);
        if (!g->standalone()) out.AddQuery(h->timestamp, h->server_id, 0, 0, 0, 0, 0, "", "BEGIN");
        break;
      }
      case event_type::kQuery: {
        auto q = ParseQuery(body, format);
        if (!q.ok()) return q.status();
        out.AddQuery(h->timestamp, h->server_id, flags, static_cast<uint32_t>(GetLe(body, 0, 4)),
                     static_cast<uint32_t>(GetLe(body, 4, 4)), static_cast<uint16_t>(GetLe(body, 9, 2)), q->sql_mode,
                     q->database, q->statement);
        break;
      }
      case event_type::kTableMap: {
        if (dialect.column_names) {
          out.Add(h->type, h->timestamp, h->server_id, flags, body);
          break;
        }
        auto bare = WithoutOptionalMetadata(body);
        if (!bare.ok()) return bare.status();
        out.Add(h->type, h->timestamp, h->server_id, flags, *bare);
        break;
      }
      case event_type::kWriteRowsV1: case event_type::kUpdateRowsV1: case event_type::kDeleteRowsV1: {
        std::string v2(body.substr(0, 8));  // table id, flags
        PutLe(&v2, 2, 2);                   // no extra row data: the length counts itself
        v2.append(body.substr(8).data(), body.size() - 8);
        out.Add(h->type - event_type::kWriteRowsV1 + event_type::kWriteRows, h->timestamp, h->server_id, flags, v2);
        break;
      }
      case event_type::kRotate: {
        std::string next_series;
        uint64_t next_number = 0;
        std::string rotate(body.substr(0, 8));
        const std::string name(body.substr(8));
        rotate += SplitBinlogName(name, &next_series, &next_number) ? BinlogFileName(series, next_number) : name;
        out.Add(h->type, h->timestamp, h->server_id, flags, rotate);
        break;
      }
      case event_type::kXid: case event_type::kStop: case event_type::kIntvar: case event_type::kRand:
      case event_type::kUserVar: case event_type::kWriteRows: case event_type::kUpdateRows:
      case event_type::kDeleteRows:
        out.Add(h->type, h->timestamp, h->server_id, flags, body);
        break;
      case event_type::kAnnotateRows: case event_type::kBinlogCheckpoint:
        break;  // MariaDB's own; MySQL has no such event
      default:
        return absl::UnimplementedError(absl::StrCat(from, ": ", EventTypeName(h->type), " at ", (*next)->position,
                                                     " has no MySQL form"));
    }
  }
  if (!have_format) return absl::DataLossError(absl::StrCat(from, " holds no FORMAT_DESCRIPTION"));
  // Rewriting a file that grew (the server's current one) writes the same prefix again in place,
  // never truncating: a reader of the file sees it only grow, as with a server's own file.
  std::error_code ec;
  if (!std::filesystem::exists(to, ec)) std::ofstream(to, std::ios::binary);
  std::fstream f(to, std::ios::binary | std::ios::in | std::ios::out);
  f.write(out.bytes().data(), static_cast<std::streamsize>(out.bytes().size()));
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", to));
  return absl::OkStatus();
}

}  // namespace duosync::harness
