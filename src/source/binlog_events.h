// The binlog's event format, for both dialects (MariaDB; MySQL 5.7/8 and OceanBase's binlog
// service, which speaks MySQL 5.7): the common header, the format description that frames every
// later event, and the bodies of the events a transaction is made of. Pure functions over bytes:
// no server, so a file, a live stream and a fuzzer all go through the same parsing.
#ifndef DUOSYNC_SRC_SOURCE_BINLOG_EVENTS_H_
#define DUOSYNC_SRC_SOURCE_BINLOG_EVENTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/gtid_position.h"
#include "base/transaction.h"

namespace duosync {

// Event type codes of both dialects.
namespace event_type {
enum : uint8_t {
  kQuery = 2, kStop = 3, kRotate = 4, kIntvar = 5, kRand = 13, kUserVar = 14,
  kFormatDescription = 15, kXid = 16, kBeginLoadQuery = 17, kExecuteLoadQuery = 18, kTableMap = 19,
  kWriteRowsV1 = 23, kUpdateRowsV1 = 24, kDeleteRowsV1 = 25, kIncident = 26, kHeartbeat = 27,
  kIgnorable = 28, kRowsQuery = 29, kWriteRows = 30, kUpdateRows = 31, kDeleteRows = 32,
  // MySQL only
  kMysqlGtid = 33, kMysqlAnonymousGtid = 34, kPreviousGtids = 35, kTransactionContext = 36,
  kViewChange = 37, kXaPrepare = 38, kPartialUpdateRows = 39, kTransactionPayload = 40,
  kHeartbeatV2 = 41, kMysqlGtidTagged = 42,
  // MariaDB only
  kAnnotateRows = 160, kBinlogCheckpoint = 161, kMariaGtid = 162, kGtidList = 163,
  kStartEncryption = 164, kQueryCompressed = 165, kWriteRowsCompressedV1 = 166,
  kUpdateRowsCompressedV1 = 167, kDeleteRowsCompressedV1 = 168, kWriteRowsCompressed = 169,
  kUpdateRowsCompressed = 170, kDeleteRowsCompressed = 171,
};
}  // namespace event_type

// The protocol's length-encoded integer at data[*pos]; advances *pos. False when truncated or
// malformed (0xff).
bool ReadPackedInt(absl::string_view data, size_t* pos, uint64_t* out);

// The column types TABLE_MAP's signedness metadata has a bit for.
bool IsNumericColumnType(uint8_t type);

// A name for messages ("TRANSACTION_PAYLOAD (40)"), also for codes we do not know.
std::string EventTypeName(uint8_t type);

inline constexpr size_t kEventHeaderSize = 19;
inline constexpr uint16_t kEventFlagIgnorable = 0x80;  // LOG_EVENT_IGNORABLE_F

struct EventHeader {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t length = 0;         // of the whole event: header, body and checksum
  uint32_t next_position = 0;  // offset of the next event in the file (0 inside a payload)
  uint16_t flags = 0;
};

// DataLoss when shorter than a header or when the length is impossible.
absl::StatusOr<EventHeader> ParseEventHeader(absl::string_view event);

// What the FORMAT_DESCRIPTION event says about every later event.
struct BinlogFormat {
  std::string server_version;  // "8.0.32", "10.11.6-MariaDB-log", "5.7.25-OceanBase..."
  bool checksums = false;      // events end with a CRC32
  std::array<uint8_t, 256> post_header{};  // post-header length per event type
  bool mariadb() const;
};

// Parses a FORMAT_DESCRIPTION event (header included, checksum included when it has one).
absl::StatusOr<BinlogFormat> ParseFormatDescription(absl::string_view event);

// The CRC32 binlogs use (zlib's). Checks the last 4 bytes of `event` against the rest.
bool EventChecksumMatches(absl::string_view event);

// A TABLE_MAP event, with the optional metadata servers may add (MariaDB and MySQL 8 with
// binlog_row_metadata=FULL; OceanBase and MINIMAL send little or none of it).
struct TableMapInfo {
  uint64_t table_id = 0;
  std::string schema, table;
  std::string types, metadata;     // raw column types and type metadata
  std::vector<std::string> names;  // column names, or empty
  std::vector<bool> is_unsigned;   // per column, when the server sent signedness
  std::vector<int> primary_key;    // column positions, when sent
  uint32_t default_collation = 0;  // of text columns, 0 = not sent
  std::vector<uint32_t> column_collations;  // per column (0 = not text or not sent)
  std::vector<std::vector<std::string>> enum_values, set_values;  // per ENUM / SET column, in order
  std::vector<bool> visible;       // per column, when sent (MySQL 8 invisible columns)
};

// Parses a TABLE_MAP event body (after the common header, before any checksum).
absl::StatusOr<TableMapInfo> ParseTableMap(absl::string_view body, const BinlogFormat& format);

// The fixed part of a rows event and where its row data lies in the body.
struct RowsEventInfo {
  uint64_t table_id = 0;
  uint16_t flags = 0;
  size_t column_count = 0;
  std::string present_before;  // column bitmap of the (before) image
  std::string present_after;   // UPDATE: of the after image; else empty
  absl::string_view rows;      // the row images (points into the body)
};

// Parses WRITE/UPDATE/DELETE_ROWS v1 and v2 and MySQL's PARTIAL_UPDATE_ROWS.
absl::StatusOr<RowsEventInfo> ParseRowsEvent(uint8_t type, absl::string_view body,
                                             const BinlogFormat& format);

struct QueryInfo {
  std::string database;
  std::string statement;
  uint64_t sql_mode = 0;  // 0 when the status variables do not say
};
absl::StatusOr<QueryInfo> ParseQuery(absl::string_view body, const BinlogFormat& format);

// MariaDB's GTID event.
struct MariaGtidInfo {
  uint64_t sequence = 0;
  uint32_t domain = 0;
  uint8_t flags = 0;
  bool standalone() const { return (flags & 1) != 0; }  // FL_STANDALONE: a DDL, no BEGIN/COMMIT
};
absl::StatusOr<MariaGtidInfo> ParseMariaGtid(absl::string_view body);

// MySQL's GTID and ANONYMOUS_GTID events (and the tagged form of 8.4+). `uuid` is the source
// server's uuid as text, with ":tag" appended for a tagged GTID; empty for an anonymous one.
struct MysqlGtidInfo {
  std::string uuid;
  uint64_t sequence = 0;
};
absl::StatusOr<MysqlGtidInfo> ParseMysqlGtid(uint8_t type, absl::string_view body);

// The GTID a transaction's first event gives it (MariaDB's GTID, MySQL's GTID): nullopt for any
// other event, an empty Gtid for MySQL's ANONYMOUS_GTID. `event` is the whole event.
std::optional<Gtid> GtidOfEvent(const EventHeader& header, absl::string_view event);

// A MySQL GTID set as text ("uuid:1-5:7-9,uuid2:1-3") from a PREVIOUS_GTIDS event.
absl::StatusOr<std::string> ParsePreviousGtids(absl::string_view body);
// The MySQL GTID sets of `position` in the same binary form (which COM_BINLOG_DUMP_GTID also
// takes). Unimplemented for tagged GTIDs (MySQL 8.4+'s form is not written yet).
absl::StatusOr<std::string> EncodeMysqlGtidSet(const GtidPosition& position);

// ROTATE: the next file's name and the position to read from.
struct RotateInfo {
  std::string file;
  uint64_t position = 0;
};
absl::StatusOr<RotateInfo> ParseRotate(absl::string_view body, const BinlogFormat& format);


}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_BINLOG_EVENTS_H_
