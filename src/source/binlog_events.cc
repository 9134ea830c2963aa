#include "source/binlog_events.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/table_schema.h"
#include "source/row_decoder.h"

namespace duosync {
namespace {

uint64_t Le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A bounds-checked cursor over an event body.
class Cursor {
 public:
  Cursor(absl::string_view data, std::string what) : data_(data), what_(std::move(what)) {}
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t left() const { return ok_ ? data_.size() - pos_ : 0; }
  absl::string_view rest() const { return ok_ ? data_.substr(pos_) : absl::string_view(); }

  uint64_t Int(int bytes) {
    if (!Has(bytes)) return 0;
    const uint64_t v = Le(data_.data() + pos_, bytes);
    pos_ += bytes;
    return v;
  }
  absl::string_view Bytes(size_t n) {
    if (!Has(n)) return {};
    absl::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  // The protocol's length-encoded integer.
  uint64_t Packed() {
    uint64_t v = 0;
    if (!ok_ || !ReadPackedInt(data_, &pos_, &v)) ok_ = false;
    return ok_ ? v : 0;
  }
  void Skip(size_t n) { Bytes(n); }
  absl::Status Error() const {
    return absl::DataLossError(absl::StrCat("malformed ", what_, " event: truncated or out of bounds"));
  }

 private:
  bool Has(size_t n) {
    if (!ok_ || n > data_.size() - pos_) ok_ = false;
    return ok_;
  }
  absl::string_view data_;
  std::string what_;  // owned: callers pass temporaries (EventTypeName)
  size_t pos_ = 0;
  bool ok_ = true;
};

// "8.0.32-log" -> {8, 0, 32}.
std::array<int, 3> VersionNumbers(absl::string_view version) {
  std::array<int, 3> v{0, 0, 0};
  std::vector<absl::string_view> parts = absl::StrSplit(version, '.');
  for (size_t i = 0; i < 3 && i < parts.size(); ++i) {
    size_t digits = 0;
    while (digits < parts[i].size() && absl::ascii_isdigit(parts[i][digits])) ++digits;
    (void)absl::SimpleAtoi(parts[i].substr(0, digits), &v[i]);
  }
  return v;
}

// The table id is 6 bytes, or 4 when the format's post-header for this event is the old 6 bytes.
uint64_t TableId(Cursor* c, uint8_t type, const BinlogFormat& format) {
  return c->Int(format.post_header[type] == 6 ? 4 : 6);
}

// Column positions of the text columns that the charset metadata counts: CHAR, VARCHAR and the
// BLOB/TEXT family (binary ones included); ENUM and SET are counted separately.
bool IsCharacterColumn(uint8_t parsed_type) {
  switch (parsed_type) {
    case coltype::kVarchar: case coltype::kVarString: case coltype::kString: case coltype::kBlob:
    case coltype::kTinyBlob: case coltype::kMediumBlob: case coltype::kLongBlob:
      return true;
    default:
      return false;
  }
}

// Spreads DEFAULT_CHARSET-style metadata (a default, then (index, collation) exceptions) or
// COLUMN_CHARSET-style metadata (one collation each) over the columns `chosen` selects.
absl::Status ReadCollations(absl::string_view value, bool with_default,
                            const std::vector<int>& chosen, std::vector<uint32_t>* out,
                            uint32_t* default_collation) {
  Cursor c(value, "TABLE_MAP charset metadata");
  if (with_default) {
    const uint32_t def = static_cast<uint32_t>(c.Packed());
    if (default_collation != nullptr) *default_collation = def;
    for (int col : chosen) (*out)[col] = def;
    while (c.ok() && c.left() > 0) {
      const uint64_t index = c.Packed();
      const uint32_t collation = static_cast<uint32_t>(c.Packed());
      if (index >= chosen.size()) return c.Error();
      (*out)[chosen[index]] = collation;
    }
  } else {
    for (int col : chosen) (*out)[col] = static_cast<uint32_t>(c.Packed());
  }
  return c.ok() ? absl::OkStatus() : c.Error();
}

// At most `columns` lists (one per ENUM or SET column) of at most 65535 members (MySQL's limit):
// hostile metadata cannot turn each byte into an allocation.
absl::StatusOr<std::vector<std::vector<std::string>>> ReadValueLists(absl::string_view value, size_t columns) {
  Cursor c(value, "TABLE_MAP ENUM/SET metadata");
  std::vector<std::vector<std::string>> lists;
  while (c.ok() && c.left() > 0) {
    if (lists.size() >= columns) return absl::DataLossError("TABLE_MAP lists more ENUM/SET members than columns");
    std::vector<std::string>& list = lists.emplace_back();
    const uint64_t n = c.Packed();
    if (n > 65535) return absl::DataLossError("TABLE_MAP ENUM/SET with too many members");
    for (uint64_t i = 0; i < n && c.ok(); ++i) list.emplace_back(c.Bytes(c.Packed()));
  }
  if (!c.ok()) return c.Error();
  return lists;
}

}  // namespace

bool ReadPackedInt(absl::string_view data, size_t* pos, uint64_t* out) {
  if (*pos >= data.size()) return false;
  const uint8_t b = static_cast<uint8_t>(data[(*pos)++]);
  const int n = b < 251 ? 0 : b == 0xfc ? 2 : b == 0xfd ? 3 : b == 0xfe ? 8 : -1;
  if (n < 0 || n > static_cast<int>(data.size() - *pos)) return false;
  *out = n == 0 ? b : Le(data.data() + *pos, n);
  *pos += n;
  return true;
}

bool IsNumericColumnType(uint8_t type) {
  switch (type) {
    case coltype::kTiny: case coltype::kShort: case coltype::kInt24: case coltype::kLong:
    case coltype::kLongLong: case coltype::kNewDecimal: case coltype::kFloat:
    case coltype::kDouble: case coltype::kDecimalOld:
      return true;
    default:
      return false;
  }
}

std::string EventTypeName(uint8_t type) {
  const char* name = nullptr;
  switch (type) {
    case event_type::kQuery: name = "QUERY"; break;
    case event_type::kStop: name = "STOP"; break;
    case event_type::kRotate: name = "ROTATE"; break;
    case event_type::kIntvar: name = "INTVAR"; break;
    case event_type::kRand: name = "RAND"; break;
    case event_type::kUserVar: name = "USER_VAR"; break;
    case event_type::kFormatDescription: name = "FORMAT_DESCRIPTION"; break;
    case event_type::kXid: name = "XID"; break;
    case event_type::kBeginLoadQuery: name = "BEGIN_LOAD_QUERY"; break;
    case event_type::kExecuteLoadQuery: name = "EXECUTE_LOAD_QUERY"; break;
    case event_type::kTableMap: name = "TABLE_MAP"; break;
    case event_type::kWriteRowsV1: name = "WRITE_ROWS_V1"; break;
    case event_type::kUpdateRowsV1: name = "UPDATE_ROWS_V1"; break;
    case event_type::kDeleteRowsV1: name = "DELETE_ROWS_V1"; break;
    case event_type::kIncident: name = "INCIDENT"; break;
    case event_type::kHeartbeat: name = "HEARTBEAT"; break;
    case event_type::kIgnorable: name = "IGNORABLE"; break;
    case event_type::kRowsQuery: name = "ROWS_QUERY"; break;
    case event_type::kWriteRows: name = "WRITE_ROWS"; break;
    case event_type::kUpdateRows: name = "UPDATE_ROWS"; break;
    case event_type::kDeleteRows: name = "DELETE_ROWS"; break;
    case event_type::kMysqlGtid: name = "GTID"; break;
    case event_type::kMysqlAnonymousGtid: name = "ANONYMOUS_GTID"; break;
    case event_type::kPreviousGtids: name = "PREVIOUS_GTIDS"; break;
    case event_type::kTransactionContext: name = "TRANSACTION_CONTEXT"; break;
    case event_type::kViewChange: name = "VIEW_CHANGE"; break;
    case event_type::kXaPrepare: name = "XA_PREPARE"; break;
    case event_type::kPartialUpdateRows: name = "PARTIAL_UPDATE_ROWS"; break;
    case event_type::kTransactionPayload: name = "TRANSACTION_PAYLOAD"; break;
    case event_type::kHeartbeatV2: name = "HEARTBEAT_V2"; break;
    case event_type::kMysqlGtidTagged: name = "GTID_TAGGED"; break;
    case event_type::kAnnotateRows: name = "ANNOTATE_ROWS"; break;
    case event_type::kBinlogCheckpoint: name = "BINLOG_CHECKPOINT"; break;
    case event_type::kMariaGtid: name = "GTID (MariaDB)"; break;
    case event_type::kGtidList: name = "GTID_LIST"; break;
    case event_type::kStartEncryption: name = "START_ENCRYPTION"; break;
    case event_type::kQueryCompressed: name = "QUERY_COMPRESSED"; break;
    case event_type::kWriteRowsCompressedV1: name = "WRITE_ROWS_COMPRESSED_V1"; break;
    case event_type::kUpdateRowsCompressedV1: name = "UPDATE_ROWS_COMPRESSED_V1"; break;
    case event_type::kDeleteRowsCompressedV1: name = "DELETE_ROWS_COMPRESSED_V1"; break;
    case event_type::kWriteRowsCompressed: name = "WRITE_ROWS_COMPRESSED"; break;
    case event_type::kUpdateRowsCompressed: name = "UPDATE_ROWS_COMPRESSED"; break;
    case event_type::kDeleteRowsCompressed: name = "DELETE_ROWS_COMPRESSED"; break;
    default: break;
  }
  return name != nullptr ? absl::StrCat(name, " (", type, ")") : absl::StrCat("unknown event type ", type);
}

absl::StatusOr<EventHeader> ParseEventHeader(absl::string_view event) {
  if (event.size() < kEventHeaderSize) return absl::DataLossError("binlog event shorter than its header");
  EventHeader h;
  h.timestamp = static_cast<uint32_t>(Le(event.data(), 4));
  h.type = static_cast<uint8_t>(event[4]);
  h.server_id = static_cast<uint32_t>(Le(event.data() + 5, 4));
  h.length = static_cast<uint32_t>(Le(event.data() + 9, 4));
  h.next_position = static_cast<uint32_t>(Le(event.data() + 13, 4));
  h.flags = static_cast<uint16_t>(Le(event.data() + 17, 2));
  if (h.length < kEventHeaderSize) {
    return absl::DataLossError(absl::StrCat("binlog event of ", EventTypeName(h.type),
                                            " claims an impossible length ", h.length));
  }
  return h;
}

bool BinlogFormat::mariadb() const {
  return absl::StrContains(absl::AsciiStrToLower(server_version), "mariadb");
}

absl::StatusOr<BinlogFormat> ParseFormatDescription(absl::string_view event) {
  if (event.size() < kEventHeaderSize + 57) return absl::DataLossError("FORMAT_DESCRIPTION event too short");
  absl::string_view body = event.substr(kEventHeaderSize);
  BinlogFormat f;
  const uint16_t binlog_version = static_cast<uint16_t>(Le(body.data(), 2));
  if (binlog_version != 4) {
    return absl::UnimplementedError(absl::StrCat("binlog format version ", binlog_version,
                                                 ": only version 4 (MySQL 5.0 and later) is read"));
  }
  absl::string_view version = body.substr(2, 50);
  f.server_version = std::string(version.substr(0, version.find('\0')));
  const uint8_t header_length = static_cast<uint8_t>(body[56]);
  if (header_length != kEventHeaderSize) {
    return absl::DataLossError(absl::StrCat("FORMAT_DESCRIPTION gives a common header of ", header_length,
                                            " bytes; binlog v4 has 19"));
  }
  // Servers that know checksums (MySQL 5.6.1+, MariaDB 5.3+) end this event with the algorithm
  // byte and, when it is CRC32, the checksum itself; the post-header table stops before them.
  const auto v = VersionNumbers(f.server_version);
  const bool checksum_aware = f.mariadb() ? (v[0] > 5 || (v[0] == 5 && v[1] >= 3))
                                          : (v[0] > 5 || (v[0] == 5 && (v[1] > 6 || (v[1] == 6 && v[2] >= 1))));
  size_t table_end = body.size();
  if (checksum_aware) {
    if (body.size() < 57 + 5) return absl::DataLossError("FORMAT_DESCRIPTION event too short for its checksum");
    const uint8_t alg = static_cast<uint8_t>(body[body.size() - 5]);
    if (alg != 0 && alg != 1) {
      return absl::UnimplementedError(absl::StrCat("binlog checksum algorithm ", alg, ": only CRC32 and none are read"));
    }
    f.checksums = alg == 1;
    table_end = body.size() - 5;
  }
  for (size_t i = 57; i < table_end && i - 57 + 1 < f.post_header.size(); ++i) {
    f.post_header[i - 57 + 1] = static_cast<uint8_t>(body[i]);
  }
  return f;
}

bool EventChecksumMatches(absl::string_view event) {
  if (event.size() < kEventHeaderSize + 4) return false;
  uLong crc = crc32(0L, Z_NULL, 0);
  if (static_cast<uint8_t>(event[4]) == event_type::kFormatDescription) {
    // The server sets LOG_EVENT_BINLOG_IN_USE_F in a file's first event while it writes the file
    // and clears it on close, both without touching the checksum, which is of the flag clear.
    std::string copy(event.substr(0, event.size() - 4));
    copy[17] = static_cast<char>(copy[17] & ~1);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(copy.data()), static_cast<uInt>(copy.size()));
  } else {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(event.data()), static_cast<uInt>(event.size() - 4));
  }
  return static_cast<uint32_t>(crc) == static_cast<uint32_t>(Le(event.data() + event.size() - 4, 4));
}

absl::StatusOr<TableMapInfo> ParseTableMap(absl::string_view body, const BinlogFormat& format) {
  Cursor c(body, "TABLE_MAP");
  TableMapInfo m;
  m.table_id = TableId(&c, event_type::kTableMap, format);
  c.Skip(2);  // flags
  m.schema = std::string(c.Bytes(c.Int(1)));
  c.Skip(1);
  m.table = std::string(c.Bytes(c.Int(1)));
  c.Skip(1);
  const uint64_t n = c.Packed();
  if (!c.ok() || n > 4096) return c.ok() ? absl::DataLossError("TABLE_MAP with too many columns") : c.Error();
  m.types = std::string(c.Bytes(n));
  m.metadata = std::string(c.Bytes(c.Packed()));
  c.Skip((n + 7) / 8);  // nullability
  if (!c.ok()) return c.Error();
  auto parsed = ParseColumnTypes(m.types, m.metadata);
  if (!parsed.ok()) return parsed.status();
  std::vector<int> numeric, character, enum_or_set, geometry;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t t = (*parsed)[i].type;
    if (IsNumericColumnType(t)) numeric.push_back(static_cast<int>(i));
    // MariaDB gives GEOMETRY (a BLOB underneath) a charset too; MySQL does not.
    if (IsCharacterColumn(t) || (t == coltype::kGeometry && format.mariadb())) character.push_back(static_cast<int>(i));
    if (t == coltype::kEnum || t == coltype::kSet) enum_or_set.push_back(static_cast<int>(i));
  }
  m.column_collations.assign(n, 0);
  // The optional metadata: type, length, value triples to the end of the event.
  while (c.ok() && c.left() > 0) {
    const uint8_t field = static_cast<uint8_t>(c.Int(1));
    absl::string_view value = c.Bytes(c.Packed());
    if (!c.ok()) break;
    switch (field) {
      case 1: {  // SIGNEDNESS: one bit per numeric column, most significant first; set = unsigned
        m.is_unsigned.assign(n, false);
        for (size_t k = 0; k < numeric.size(); ++k) {
          if (k / 8 >= value.size()) return absl::DataLossError("TABLE_MAP signedness too short");
          m.is_unsigned[numeric[k]] = (static_cast<uint8_t>(value[k / 8]) >> (7 - k % 8)) & 1;
        }
        break;
      }
      case 2: case 3: {  // DEFAULT_CHARSET / COLUMN_CHARSET of character columns
        auto s = ReadCollations(value, field == 2, character, &m.column_collations, &m.default_collation);
        if (!s.ok()) return s;
        break;
      }
      case 4: {  // COLUMN_NAME
        Cursor names(value, "TABLE_MAP column names");
        while (names.ok() && names.left() > 0 && m.names.size() <= n) m.names.emplace_back(names.Bytes(names.Packed()));
        if (!names.ok()) return names.Error();
        if (m.names.size() != n) m.names.clear();
        break;
      }
      case 5: case 6: {  // SET_STR_VALUE / ENUM_STR_VALUE
        size_t of_kind = 0;
        for (int col : enum_or_set) of_kind += (*parsed)[col].type == (field == 5 ? coltype::kSet : coltype::kEnum);
        auto lists = ReadValueLists(value, of_kind);
        if (!lists.ok()) return lists.status();
        (field == 5 ? m.set_values : m.enum_values) = *std::move(lists);
        break;
      }
      case 8: {  // SIMPLE_PRIMARY_KEY
        Cursor pk(value, "TABLE_MAP primary key");
        while (pk.ok() && pk.left() > 0 && m.primary_key.size() < n) m.primary_key.push_back(static_cast<int>(pk.Packed()));
        if (!pk.ok()) return pk.Error();
        break;
      }
      case 9: {  // PRIMARY_KEY_WITH_PREFIX: (column, prefix length) pairs
        Cursor pk(value, "TABLE_MAP primary key");
        while (pk.ok() && pk.left() > 0 && m.primary_key.size() < n) {
          m.primary_key.push_back(static_cast<int>(pk.Packed()));
          pk.Packed();
        }
        if (!pk.ok()) return pk.Error();
        break;
      }
      case 10: case 11: {  // ENUM_AND_SET_DEFAULT_CHARSET / ENUM_AND_SET_COLUMN_CHARSET
        auto s = ReadCollations(value, field == 10, enum_or_set, &m.column_collations, nullptr);
        if (!s.ok()) return s;
        break;
      }
      case 12: {  // COLUMN_VISIBILITY: one bit per column, most significant first; set = visible
        m.visible.assign(n, true);
        for (size_t k = 0; k < n; ++k) {
          if (k / 8 >= value.size()) return absl::DataLossError("TABLE_MAP visibility too short");
          m.visible[k] = (static_cast<uint8_t>(value[k / 8]) >> (7 - k % 8)) & 1;
        }
        break;
      }
      default:
        break;  // GEOMETRY_TYPE and fields of later servers: not needed to decode rows
    }
  }
  if (!c.ok()) return c.Error();
  for (int k : m.primary_key) {
    if (k < 0 || static_cast<uint64_t>(k) >= n) return absl::DataLossError("TABLE_MAP primary key out of range");
  }
  return m;
}

absl::StatusOr<RowsEventInfo> ParseRowsEvent(uint8_t type, absl::string_view body,
                                             const BinlogFormat& format) {
  Cursor c(body, EventTypeName(type));
  RowsEventInfo r;
  r.table_id = TableId(&c, type, format);
  r.flags = static_cast<uint16_t>(c.Int(2));
  const bool v2 = type == event_type::kWriteRows || type == event_type::kUpdateRows ||
                  type == event_type::kDeleteRows || type == event_type::kPartialUpdateRows ||
                  type == event_type::kWriteRowsCompressed ||
                  type == event_type::kUpdateRowsCompressed ||
                  type == event_type::kDeleteRowsCompressed;
  if (v2) {
    const uint64_t extra = c.Int(2);  // counts its own two bytes
    if (extra < 2) return c.Error();
    c.Skip(extra - 2);
  }
  r.column_count = c.Packed();
  if (!c.ok() || r.column_count > 4096) return c.ok() ? absl::DataLossError("rows event with too many columns") : c.Error();
  const size_t bitmap = (r.column_count + 7) / 8;
  r.present_before = std::string(c.Bytes(bitmap));
  const bool update = type == event_type::kUpdateRows || type == event_type::kUpdateRowsV1 ||
                      type == event_type::kPartialUpdateRows ||
                      type == event_type::kUpdateRowsCompressed ||
                      type == event_type::kUpdateRowsCompressedV1;
  if (update) r.present_after = std::string(c.Bytes(bitmap));
  if (!c.ok()) return c.Error();
  r.rows = c.rest();
  return r;
}

absl::StatusOr<QueryInfo> ParseQuery(absl::string_view body, const BinlogFormat& format) {
  Cursor c(body, "QUERY");
  c.Skip(4 + 4);  // thread id, execution time
  const uint64_t db_len = c.Int(1);
  c.Skip(2);  // error code
  const uint64_t status_len = c.Int(2);
  const size_t post = format.post_header[event_type::kQuery];
  if (post > 13) c.Skip(post - 13);
  absl::string_view status = c.Bytes(status_len);
  QueryInfo q;
  q.database = std::string(c.Bytes(db_len));
  c.Skip(1);
  if (!c.ok()) return c.Error();
  q.statement = std::string(c.rest());
  // Status variables: Q_FLAGS2 (code 0, 4 bytes) comes first when present, then Q_SQL_MODE
  // (code 1, 8 bytes); later ones are not needed.
  Cursor s(status, "QUERY status");
  while (s.ok() && s.left() > 0) {
    const uint64_t code = s.Int(1);
    if (code == 0) {
      s.Skip(4);
    } else if (code == 1) {
      q.sql_mode = s.Int(8);
      break;
    } else {
      break;
    }
  }
  return q;
}

absl::StatusOr<MariaGtidInfo> ParseMariaGtid(absl::string_view body) {
  Cursor c(body, "GTID");
  MariaGtidInfo g;
  g.sequence = c.Int(8);
  g.domain = static_cast<uint32_t>(c.Int(4));
  g.flags = static_cast<uint8_t>(c.Int(1));
  if (!c.ok()) return c.Error();
  return g;
}

namespace {

std::string UuidText(absl::string_view sid) {
  std::string hex;
  for (size_t i = 0; i < sid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex.push_back('-');
    absl::StrAppendFormat(&hex, "%02x", static_cast<uint8_t>(sid[i]));
  }
  return hex;
}

}  // namespace

absl::StatusOr<MysqlGtidInfo> ParseMysqlGtid(uint8_t type, absl::string_view body) {
  if (type == event_type::kMysqlGtidTagged) {
    return absl::UnimplementedError(
        "a tagged GTID event (MySQL 8.4+, GTID_TAGGED (42)): tagged GTIDs are not read yet");
  }
  Cursor c(body, "GTID");
  c.Skip(1);  // flags
  absl::string_view sid = c.Bytes(16);
  MysqlGtidInfo g;
  g.sequence = c.Int(8);
  if (!c.ok()) return c.Error();
  if (type == event_type::kMysqlGtid) g.uuid = UuidText(sid);
  return g;
}

std::optional<Gtid> GtidOfEvent(const EventHeader& header, absl::string_view event) {
  if (event.size() < kEventHeaderSize) return std::nullopt;
  const absl::string_view body = event.substr(kEventHeaderSize);
  if (header.type == event_type::kMariaGtid) {
    auto g = ParseMariaGtid(body);
    if (g.ok()) return Gtid::Maria(g->domain, header.server_id, g->sequence);
  } else if (header.type == event_type::kMysqlGtid || header.type == event_type::kMysqlAnonymousGtid) {
    auto g = ParseMysqlGtid(header.type, body);
    if (g.ok()) return g->uuid.empty() ? Gtid() : Gtid::Mysql(g->uuid, g->sequence);
  }
  return std::nullopt;  // not a GTID event, or one the assembler will refuse with its reason
}

absl::StatusOr<std::string> ParsePreviousGtids(absl::string_view body) {
  Cursor c(body, "PREVIOUS_GTIDS");
  const uint64_t sids = c.Int(8);
  if ((sids >> 56) != 0) {  // the top byte is a format number in MySQL 8.4+'s tagged form
    return absl::UnimplementedError("a tagged GTID set (MySQL 8.4+) in PREVIOUS_GTIDS: tagged GTIDs are not read yet");
  }
  std::string out;
  for (uint64_t i = 0; i < sids && c.ok(); ++i) {
    absl::string_view sid = c.Bytes(16);
    const uint64_t intervals = c.Int(8);
    if (!c.ok() || intervals > c.left() / 16) return c.Error();
    absl::StrAppend(&out, out.empty() ? "" : ",", UuidText(sid));
    for (uint64_t k = 0; k < intervals; ++k) {
      const uint64_t start = c.Int(8), end = c.Int(8);  // [start, end)
      if (end <= start) return absl::DataLossError("PREVIOUS_GTIDS with an empty interval");
      if (end - 1 == start) {
        absl::StrAppend(&out, ":", start);
      } else {
        absl::StrAppend(&out, ":", start, "-", end - 1);
      }
    }
  }
  if (!c.ok()) return c.Error();
  return out;
}

absl::StatusOr<std::string> EncodeMysqlGtidSet(const GtidPosition& position) {
  std::string out;
  auto put = [&out](uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(position.mysql_sets().size());
  for (const auto& [uuid, intervals] : position.mysql_sets()) {
    if (!IsServerUuid(uuid)) {
      return absl::UnimplementedError(absl::StrCat("the tagged GTIDs of ", uuid, " cannot be sent as a set yet"));
    }
    for (size_t i = 0; i < uuid.size(); ++i) {
      if (uuid[i] == '-') continue;
      int byte = 0;
      (void)absl::SimpleHexAtoi(uuid.substr(i, 2), &byte);
      out.push_back(static_cast<char>(byte));
      ++i;
    }
    put(intervals.size());
    for (const auto& [first, last] : intervals) {
      put(first);
      put(last + 1);  // the end is exclusive
    }
  }
  return out;
}

absl::StatusOr<RotateInfo> ParseRotate(absl::string_view body, const BinlogFormat& format) {
  Cursor c(body, "ROTATE");
  RotateInfo r;
  r.position = c.Int(8);
  if (!c.ok()) return c.Error();
  r.file = std::string(c.rest());
  return r;
}

}  // namespace duosync
