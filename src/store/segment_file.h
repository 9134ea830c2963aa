// The files of a record store's segment: a segment "<20-digit number>.seg" (magic, header frame,
// record frames, and once sealed a footer and trailer) and its index "<number>.idx" (a copy of
// the trailer, written only by the store). Small POSIX helpers that report errors as the store's.
#ifndef DUOSYNC_SRC_STORE_SEGMENT_FILE_H_
#define DUOSYNC_SRC_STORE_SEGMENT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "duosync/store.pb.h"

namespace duosync {

// errno as a Status naming the file: ResourceExhausted for a full disk, else Internal.
absl::Status ErrnoError(absl::string_view what, const std::string& path);

std::string SegmentPath(const std::string& dir, uint64_t number);

// The index file of a sealed segment: a copy of its trailer (footer frame + tail). The segment's
// own trailer is not trusted alone: the last bytes of an unsealed segment are row values, which
// anyone may have written to look like a trailer. Only the store writes index files.
std::string IndexPath(const std::string& segment_path);

// The footer an index file holds, when it is one and matches a segment of `segment_bytes`.
std::optional<store::SegmentFooter> ParseIndex(absl::string_view index, uint64_t segment_bytes);

// Removes a segment file and its index. The segment goes first: an index without its segment is
// ignored, a segment without its index would have to be read through.
absl::Status RemoveSegment(const std::string& path);

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path);

// Reads [offset, offset+length) of a file; fewer bytes at its end.
absl::StatusOr<std::string> ReadRange(int fd, uint64_t offset, size_t length, const std::string& path);

absl::Status SyncDir(const std::string& dir);

// The header of a segment: its bytes (magic + frame) and content; DataLoss when not one.
struct ParsedHeader {
  size_t bytes = 0;
  store::SegmentHeader header;
};
absl::StatusOr<ParsedHeader> ParseHeader(absl::string_view data);

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_SEGMENT_FILE_H_
