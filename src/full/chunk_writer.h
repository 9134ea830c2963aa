// How the full copy writes a chunk of source rows into its destination table, inside the chunk's
// open transaction.
//
// Where the destination takes it, the chunk goes as LOAD DATA LOCAL ... REPLACE, fed from memory
// (tab-separated text): the server stores each field as it reads it, with none of the statement
// parsing and literal building that dominate a multi-row REPLACE (about 40% of the destination's
// time in a profile of the copy). Otherwise it sends REPLACE statements, each within the
// destination's max_allowed_packet.
#ifndef DUOSYNC_SRC_FULL_CHUNK_WRITER_H_
#define DUOSYNC_SRC_FULL_CHUNK_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/object_selector.h"
#include "full/table_columns.h"
#include "sql/sql_connection.h"

namespace duosync {

// Whether `dst` (opened with ConnectOptions::local_data) takes LOAD DATA LOCAL for the copy: the
// server allows it, and logs it as rows (a statement-logged load would reach the reverse link's
// reader as a file, not as rows).
bool TakesLocalData(SqlConnection* dst);

class ChunkWriter {
 public:
  // `key`: positions of the key columns among `cols` (named in the oversized-row error).
  ChunkWriter(const SelectedTable& table, const std::vector<CopyColumn>& cols, std::vector<int> key,
              size_t max_packet, bool local_data);

  // Writes `rows` (read by the copy's SELECT) into the open transaction. Returns what is left to
  // send, for the caller to send with its progress row and COMMIT in one round trip ("" when
  // nothing is left). FailedPrecondition, naming the row, when one row alone needs a statement
  // bigger than max_allowed_packet.
  absl::StatusOr<std::string> Write(SqlConnection* dst, const std::vector<SqlRow>& rows);

  // The bytes the caller may add to the returned statement within max_allowed_packet.
  size_t Room(const std::string& pending) const;

 private:
  absl::StatusOr<std::string> WriteStatements(SqlConnection* dst, const std::vector<SqlRow>& rows);

  const SelectedTable& table_;
  const std::vector<CopyColumn>& cols_;
  std::vector<int> key_;
  size_t max_packet_, budget_;
  bool local_data_;
  std::string load_, replace_;  // statement heads
  std::string buffer_;          // the chunk's text, kept to reuse its memory
};

// Appends `v` as one LOAD DATA field (tab-separated, backslash escapes, \N for NULL).
void AppendLoadField(const std::optional<std::string>& v, std::string* out);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_CHUNK_WRITER_H_
