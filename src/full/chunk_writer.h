// How the full copy writes a chunk of source rows into its destination table, inside the chunk's
// open transaction, in the fastest form the destination takes:
// - array binding (MariaDB): one prepared REPLACE run over the chunk's rows in a request or a few
//   (array_statement.h): values go as they were read, with their lengths;
// - LOAD DATA LOCAL ... REPLACE fed from memory (tab-separated text), where the destination allows
//   it: the server stores each field as it reads it, with none of the statement parsing and
//   literal building that dominate a multi-row REPLACE (about 40% of the destination's time in a
//   profile of the copy);
// - REPLACE statements, each within the destination's max_allowed_packet.
// A form the destination refuses at run time hands the chunk, and the rest, to the next one.
#ifndef DUOSYNC_SRC_FULL_CHUNK_WRITER_H_
#define DUOSYNC_SRC_FULL_CHUNK_WRITER_H_

#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/object_selector.h"
#include "full/table_columns.h"
#include "sql/array_statement.h"
#include "sql/sql_connection.h"

namespace duosync {

// Whether `dst` (opened with ConnectOptions::local_data) takes LOAD DATA LOCAL for the copy: the
// server allows it, and logs it as rows (a statement-logged load would reach the reverse link's
// reader as a file, not as rows).
bool TakesLocalData(SqlConnection* dst);

// Rows as read, every value's bytes in one buffer.
class RowBlock {
 public:
  explicit RowBlock(size_t columns = 0) : columns_(columns) {}
  // Adds a row: the first columns() of `values` (nullptr: NULL), of `lengths` bytes.
  void Add(const char* const* values, const unsigned long* lengths);
  size_t rows() const { return rows_; }
  size_t columns() const { return columns_; }
  // Value `c` of row `r`: nullptr for NULL, else length(r, c) bytes (valid until the next Add).
  const char* data(size_t r, size_t c) const {
    const size_t at = at_[r * columns_ + c];
    return at == kNull ? nullptr : bytes_.data() + at;
  }
  unsigned long length(size_t r, size_t c) const { return lengths_[r * columns_ + c]; }
  std::optional<std::string> value(size_t r, size_t c) const;
  std::vector<SqlRow> Rows() const;

 private:
  static constexpr size_t kNull = ~size_t{0};
  size_t columns_;
  size_t rows_ = 0;
  std::string bytes_;
  std::vector<size_t> at_;  // row after row, each value's offset in bytes_ (kNull: NULL)
  std::vector<unsigned long> lengths_;
};

// A chunk as read from the source, in the form the destination takes: LOAD DATA text, built as the
// rows stream in (no row is held), or the rows themselves.
struct Chunk {
  size_t rows = 0;
  size_t bytes = 0;  // value bytes as read (they size the next chunk)
  SqlRow last;       // the last row read, every column (its key values page on)
  bool as_text = false;
  std::string text;  // as_text: each row's written values, AppendLoadField's form (binary as hex)
  RowBlock values;   // else: the rows' written values
};

// Reads the rows of `query` into a chunk; the first cols.size() values of each row are written.
absl::StatusOr<Chunk> ReadChunk(SqlConnection* src, const std::string& query, const std::vector<CopyColumn>& cols,
                                bool as_text);

class ChunkWriter {
 public:
  // `key`: positions of the key columns among `cols` (named in the oversized-row error).
  // `array_binding`: the chunks may go as array-bound statements (the destination runs them,
  // ArrayStatement::Supported, and config full_load allows them); `local_data`: as LOAD DATA LOCAL
  // (TakesLocalData, and full_load allows it).
  ChunkWriter(const SelectedTable& table, const std::vector<CopyColumn>& cols, std::vector<int> key,
              size_t max_packet, bool array_binding, bool local_data);
  ~ChunkWriter();

  // Writes `rows` (read by the copy's SELECT) into the open transaction. Returns what is left to
  // send, for the caller to send with its progress row and COMMIT in one round trip ("" when
  // nothing is left). FailedPrecondition, naming the row, when one row alone needs a statement
  // bigger than max_allowed_packet.
  absl::StatusOr<std::string> Write(SqlConnection* dst, const Chunk& chunk);

  // Whether chunks should be read as text (LOAD DATA) for this writer.
  bool reads_text() const { return !array_binding_ && local_data_; }
  // Whether it still sends array-bound statements (false once the destination refused them).
  bool array_binding() const { return array_binding_; }

  // The bytes the caller may add to the returned statement within max_allowed_packet.
  size_t Room(const std::string& pending) const;

 private:
  // Sends the rows as array-bound REPLACEs; Unimplemented when the destination refuses them,
  // OutOfRange when a row alone passes max_allowed_packet (too_big_ says which).
  absl::Status WriteArrays(SqlConnection* dst, const RowBlock& rows);
  // Sends LOAD DATA text, or its rows as statements where LOAD DATA LOCAL is refused.
  absl::StatusOr<std::string> WriteText(SqlConnection* dst, const std::string& text);
  absl::StatusOr<std::string> WriteStatements(SqlConnection* dst, const RowBlock& rows);
  // The error for a row that needs `needed` bytes in one request or statement.
  absl::Status RowTooBig(const RowBlock& rows, size_t r, size_t needed) const;

  const SelectedTable& table_;
  const std::vector<CopyColumn>& cols_;
  std::vector<int> key_;
  size_t max_packet_, budget_;
  bool array_binding_, local_data_;
  std::string load_, replace_, array_replace_;  // statement heads; the array-bound REPLACE
  std::unique_ptr<ArrayStatement> array_;       // array_replace_ prepared on the destination
  std::vector<const char*> array_values_;       // a request's values, column after column
  std::vector<unsigned long> array_lengths_;
  std::pair<size_t, size_t> too_big_;           // after OutOfRange: the row, and the bytes it needs
  static constexpr size_t kRequestBytes = 16 << 20;
};

// Appends `n` bytes at `v` (nullptr: NULL) as one LOAD DATA field (backslash escapes, \N for NULL).
void AppendLoadField(const char* v, size_t n, std::string* out);
inline void AppendLoadField(const std::optional<std::string>& v, std::string* out) {
  AppendLoadField(v.has_value() ? v->data() : nullptr, v.has_value() ? v->size() : 0, out);
}

// Appends `n` bytes as hex digits (a binary column's LOAD DATA field).
void AppendHex(const char* v, size_t n, std::string* out);

// Appends a row of `n` values (nullptr: NULL) as a LOAD DATA line: cols[i]'s form decides hex.
void AppendLoadRow(const char* const* values, const unsigned long* lengths, size_t n,
                   const std::vector<CopyColumn>& cols, std::string* out);

// The rows of a chunk's LOAD DATA text, a value for each of `cols` (a chunk read as text goes as
// statements when the destination refuses LOAD DATA LOCAL after all).
absl::StatusOr<RowBlock> ParseLoadText(absl::string_view text, const std::vector<CopyColumn>& cols);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_CHUNK_WRITER_H_
