// Decoding of ROW-format binlog row images into Values. Pure functions over bytes: no server.
#ifndef DUOSYNC_SRC_SOURCE_ROW_DECODER_H_
#define DUOSYNC_SRC_SOURCE_ROW_DECODER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"

namespace duosync {

struct ColumnType {
  uint8_t type = 0;
  uint16_t meta = 0;
};

// Parses a TABLE_MAP event's column type list and metadata block. For STRING columns that hold
// ENUM or SET, the returned type is kEnum / kSet. DataLoss when the metadata is malformed.
absl::StatusOr<std::vector<ColumnType>> ParseColumnTypes(absl::string_view types,
                                                         absl::string_view metadata);

// Decodes one row image at data[*pos]: a null bitmap over the columns present (bit set in
// `present`), then each non-null present column. Columns not present decode as NULL.
// `columns` gives types, metadata and signedness. Advances *pos. DataLoss on truncated or
// malformed bytes; Unimplemented for a type we cannot decode exactly.
// MySQL's binary JSON columns decode to JSON text, or stay raw bytes with `json_as_binary` (a
// partial update's after image holds diffs there, applied to the before image by the caller).
absl::StatusOr<Row> DecodeRow(const std::vector<ColumnSchema>& columns, const uint8_t* present,
                              absl::string_view data, size_t* pos, bool json_as_binary = false);

// Text of a binary DECIMAL(precision, scale), e.g. "-12.50". DataLoss when `bytes` is short.
absl::StatusOr<std::string> DecodeDecimal(const uint8_t* bytes, size_t available, int precision,
                                          int scale, size_t* consumed);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_ROW_DECODER_H_
