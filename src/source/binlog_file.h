// BinlogFile: a binlog file read event by event, as a server or a backup left it. Checks the
// magic bytes; an event cut off at the end (the file is still being written, or the server died
// mid-write) is not returned, and `incomplete_tail()` says how many bytes it had.
#ifndef DUOSYNC_SRC_SOURCE_BINLOG_FILE_H_
#define DUOSYNC_SRC_SOURCE_BINLOG_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace duosync {

class BinlogFile {
 public:
  struct Event {
    uint64_t position = 0;  // offset of its first byte in the file
    std::string bytes;      // header, body and checksum
  };

  // NotFound / PermissionDenied when it cannot be opened, InvalidArgument when it is not a
  // binlog file (no magic bytes).
  static absl::StatusOr<std::unique_ptr<BinlogFile>> Open(const std::string& path);
  ~BinlogFile();

  // The event at `position` (>= 4), for resuming inside a file.
  absl::Status Seek(uint64_t position);
  // The next complete event; nullopt at the end of what the file holds now.
  absl::StatusOr<std::optional<Event>> Next();
  uint64_t position() const { return position_; }
  uint64_t incomplete_tail() const { return incomplete_tail_; }
  const std::string& path() const { return path_; }

 private:
  BinlogFile(std::string path, FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  FILE* file_;
  uint64_t position_ = 4;
  uint64_t incomplete_tail_ = 0;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_BINLOG_FILE_H_
