#include "source/binlog_file.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "source/binlog_events.h"

namespace duosync {
namespace {

constexpr char kMagic[4] = {'\xfe', 'b', 'i', 'n'};
// No server writes a bigger event (MySQL and MariaDB cap max_allowed_packet at 1 GiB); a larger
// length is corruption, not a reason to allocate it.
constexpr uint32_t kMaxEvent = 1u << 30;

}  // namespace

absl::StatusOr<std::unique_ptr<BinlogFile>> BinlogFile::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    const std::string text = absl::StrCat("cannot open binlog file ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(text);
    if (err == EACCES) return absl::PermissionDeniedError(text);
    return absl::UnavailableError(text);
  }
  auto file = std::unique_ptr<BinlogFile>(new BinlogFile(path, f));
  char magic[4];
  if (std::fread(magic, 1, 4, f) != 4 || std::memcmp(magic, kMagic, 4) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a binlog file (it does not start with the "
                                                   "binlog magic bytes FE 62 69 6E)"));
  }
  return file;
}

BinlogFile::~BinlogFile() { std::fclose(file_); }

absl::Status BinlogFile::Seek(uint64_t position) {
  if (position < 4 || std::fseek(file_, static_cast<long>(position), SEEK_SET) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot seek to ", position, " in ", path_));
  }
  position_ = position;
  incomplete_tail_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<BinlogFile::Event>> BinlogFile::Next() {
  std::fseek(file_, static_cast<long>(position_), SEEK_SET);  // also forgets a previous EOF
  Event e;
  e.position = position_;
  e.bytes.resize(kEventHeaderSize);
  const size_t got = std::fread(e.bytes.data(), 1, kEventHeaderSize, file_);
  if (got < kEventHeaderSize) {
    incomplete_tail_ = got;
    return std::optional<Event>();
  }
  auto header = ParseEventHeader(e.bytes);
  if (!header.ok() || header->length > kMaxEvent) {
    return absl::DataLossError(absl::StrCat(path_, ": the event at ", position_, " has an impossible length",
                                            header.ok() ? absl::StrCat(" (", header->length, " bytes)") : ""));
  }
  e.bytes.resize(header->length);
  const size_t body = header->length - kEventHeaderSize;
  const size_t read = std::fread(e.bytes.data() + kEventHeaderSize, 1, body, file_);
  if (read < body) {
    incomplete_tail_ = kEventHeaderSize + read;
    return std::optional<Event>();
  }
  incomplete_tail_ = 0;
  position_ += header->length;
  return std::optional<Event>(std::move(e));
}

}  // namespace duosync
