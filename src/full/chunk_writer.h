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

// A chunk as read from the source, in the form the destination takes: LOAD DATA text, built as the
// rows stream in (no row is held), or the rows themselves for statements.
struct Chunk {
  size_t rows = 0;
  size_t bytes = 0;            // value bytes as read (they size the next chunk)
  SqlRow last;                 // the last row read, every column (its key values page on)
  bool as_text = false;
  std::string text;            // as_text: each row's written values, AppendLoadField's form (binary as hex)
  std::vector<SqlRow> values;  // else: the rows
};

// Reads the rows of `query` into a chunk; the first cols.size() values of each row are written.
absl::StatusOr<Chunk> ReadChunk(SqlConnection* src, const std::string& query, const std::vector<CopyColumn>& cols,
                                bool as_text);

class ChunkWriter {
 public:
  // `key`: positions of the key columns among `cols` (named in the oversized-row error).
  ChunkWriter(const SelectedTable& table, const std::vector<CopyColumn>& cols, std::vector<int> key,
              size_t max_packet, bool local_data);

  // Writes `rows` (read by the copy's SELECT) into the open transaction. Returns what is left to
  // send, for the caller to send with its progress row and COMMIT in one round trip ("" when
  // nothing is left). FailedPrecondition, naming the row, when one row alone needs a statement
  // bigger than max_allowed_packet.
  absl::StatusOr<std::string> Write(SqlConnection* dst, const Chunk& chunk);

  // Whether chunks should be read as text for this writer.
  bool local_data() const { return local_data_; }

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
};

// Appends `n` bytes at `v` (nullptr: NULL) as one LOAD DATA field (backslash escapes, \N for NULL).
void AppendLoadField(const char* v, size_t n, std::string* out);
inline void AppendLoadField(const std::optional<std::string>& v, std::string* out) {
  AppendLoadField(v.has_value() ? v->data() : nullptr, v.has_value() ? v->size() : 0, out);
}

// Appends `n` bytes as hex digits (a binary column's LOAD DATA field).
void AppendHex(const char* v, size_t n, std::string* out);

// The rows of a chunk's LOAD DATA text, a value for each of `cols` (a chunk read as text goes as
// statements when the destination refuses LOAD DATA LOCAL after all).
absl::StatusOr<std::vector<SqlRow>> ParseLoadText(absl::string_view text, const std::vector<CopyColumn>& cols);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_CHUNK_WRITER_H_
