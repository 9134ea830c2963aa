#include "store/segment_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "store/record_file.h"

namespace duosync {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const int e = errno;
  std::string message = absl::StrCat("record store: ", what, " ", path, ": ", strerror(e));
  if (e == ENOSPC || e == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

std::string SegmentPath(const std::string& dir, uint64_t number) {
  return absl::StrFormat("%s/%020d.seg", dir, number);
}

std::string IndexPath(const std::string& segment_path) {
  return segment_path.substr(0, segment_path.size() - 4) + ".idx";
}

std::optional<store::SegmentFooter> ParseIndex(absl::string_view index, uint64_t segment_bytes) {
  if (index.size() <= kTrailerTailBytes) return std::nullopt;
  const uint32_t n = ParseTrailerTail(index.substr(index.size() - kTrailerTailBytes));
  if (n != index.size() - kTrailerTailBytes) return std::nullopt;
  const Frame f = ParseFrame(index.substr(0, n));
  store::Record record;
  if (f.status != FrameStatus::kOk || f.size != n ||
      !record.ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size())) || !record.has_footer() ||
      record.footer().segment_bytes() != segment_bytes) {
    return std::nullopt;
  }
  return record.footer();
}

absl::Status RemoveSegment(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("cannot delete", path);
  if (::unlink(IndexPath(path).c_str()) != 0 && errno != ENOENT) return ErrnoError("cannot delete", IndexPath(path));
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadRange(int fd, uint64_t offset, size_t length, const std::string& path) {
  std::string out(length, '\0');
  size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("cannot fsync", dir);
}

absl::StatusOr<ParsedHeader> ParseHeader(absl::string_view data) {
  if (data.size() < kSegmentMagic.size() || data.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return absl::DataLossError("not a segment (bad magic)");
  }
  const Frame f = ParseFrame(data.substr(kSegmentMagic.size()));
  ParsedHeader out;
  if (f.status != FrameStatus::kOk ||
      !out.header.ParseFromArray(f.payload.data(), static_cast<int>(f.payload.size()))) {
    return absl::DataLossError("unreadable segment header");
  }
  out.bytes = kSegmentMagic.size() + f.size;
  return out;
}

}  // namespace duosync
