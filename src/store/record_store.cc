// The store's writer side in one file (about 630 lines): recovery on open, appends, sealing,
// retention, truncation and time lookup all work on the segment list under one lock.
#include "store/record_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "duosync/store.pb.h"
#include "glog/logging.h"
#include "store/record_file.h"
#include "store/segment_file.h"
#include "store/store_cursor.h"

namespace duosync {
namespace {

void NoteCommitTime(uint32_t t, uint64_t transactions_before, uint32_t* min, uint32_t* max) {
  if (transactions_before == 0 || t < *min) *min = t;
  if (transactions_before == 0 || t > *max) *max = t;
}

}  // namespace

std::string RecordLocation::ToString() const {
  return absl::StrCat("segment ", segment, " offset ", offset);
}

RecordStore::RecordStore(const StoreOptions& options) : options_(options), last_sync_(absl::Now()) {}

RecordStore::~RecordStore() {
  if (active_fd_ >= 0) {
    if (dirty_) ::fdatasync(active_fd_);
    ::close(active_fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

absl::StatusOr<std::unique_ptr<RecordStore>> RecordStore::Open(const StoreOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("record store: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("record store: cannot create ", options.dir, ": ", ec.message()));
  }
  std::unique_ptr<RecordStore> store(new RecordStore(options));
  const std::string lock_path = options.dir + "/LOCK";
  store->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (store->lock_fd_ < 0) return ErrnoError("cannot open", lock_path);
  if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "record store ", options.dir, " is in use by another process (each link's store may be "
        "opened by one running project only)"));
  }
  DUO_RETURN_IF_ERROR(store->Recover());
  return store;
}

absl::Status RecordStore::Recover() {
  std::vector<uint64_t> numbers;
  DIR* d = ::opendir(options_.dir.c_str());
  if (d == nullptr) return ErrnoError("cannot list", options_.dir);
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    uint64_t n = 0;
    if (name.size() == 24 && absl::EndsWith(name, ".seg") && absl::SimpleAtoi(name.substr(0, 20), &n)) {
      numbers.push_back(n);
    }
  }
  ::closedir(d);
  std::sort(numbers.begin(), numbers.end());

  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < numbers.size(); ++i) {
    Segment seg;
    seg.number = numbers[i];
    seg.path = SegmentPath(options_.dir, seg.number);
    const int fd = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("cannot open", seg.path);
    struct stat st;
    ::fstat(fd, &st);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    auto head = ReadRange(fd, 0, 64 << 10, seg.path);
    absl::StatusOr<ParsedHeader> header =
        head.ok() ? ParseHeader(*head) : absl::StatusOr<ParsedHeader>(head.status());
    GtidPosition start;
    if (header.ok()) {
      auto parsed = GtidPosition::Parse(header->header.start_position());
      if (parsed.ok()) start = *parsed;
      else header = absl::DataLossError("bad start position in the header");
    }
    if (!header.ok() || (!segments_.empty() && start.ToString() != segments_.back().end.ToString())) {
      ::close(fd);
      LOG(WARNING) << "record store " << options_.dir << ": segment " << seg.number << " "
                   << (header.ok() ? "does not continue the one before" : header.status().message())
                   << "; it and later segments are dropped and read from the source again";
      for (size_t j = i; j < numbers.size(); ++j) (void)RemoveSegment(SegmentPath(options_.dir, numbers[j]));
      break;
    }
    seg.start = start;
    seg.end = start;
    seg.bytes = header->bytes;
    seg.created_time = header->header.created_time();
    ::close(fd);
    // A sealed segment is known by its index file, without reading its records.
    bool indexed = false;
    const std::string index_path = IndexPath(seg.path);
    const int index_fd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (index_fd >= 0) {
      auto index = ReadRange(index_fd, 0, 64 << 10, index_path);
      ::close(index_fd);
      std::optional<store::SegmentFooter> footer;
      if (index.ok()) footer = ParseIndex(*index, size);
      absl::StatusOr<GtidPosition> end = footer ? GtidPosition::Parse(footer->end_position())
                                                : absl::StatusOr<GtidPosition>(absl::DataLossError(""));
      if (end.ok()) {
        seg.end = *end;
        seg.transactions = footer->transactions();
        seg.min_commit_time = footer->min_commit_time();
        seg.max_commit_time = footer->max_commit_time();
        seg.bytes = size;
        seg.sealed = true;
        indexed = true;
      } else {
        LOG(WARNING) << "record store " << options_.dir << ": index of segment " << seg.number
                     << " does not match it; reading the segment instead";
        ::unlink(index_path.c_str());
      }
    }
    if (!indexed) {
      bool cut = false;
      DUO_RETURN_IF_ERROR(ScanSegment(&seg, &cut));
      if (!cut && !seg.sealed && i + 1 < numbers.size()) {
        // Whole but never sealed (a crash between its last record and its seal): seal it now,
        // so that readers move on to the next segment (whose start is checked against its end).
        const int fd = ::open(seg.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0) return ErrnoError("cannot open", seg.path);
        uint64_t sealed_bytes = 0;
        absl::Status s = WriteSeal(seg, fd, &sealed_bytes);
        ::close(fd);
        DUO_RETURN_IF_ERROR(s);
        seg.bytes = sealed_bytes;
        seg.sealed = true;
      }
      if (cut) {
        // Whatever followed a cut is not known to be contiguous.
        for (size_t j = i + 1; j < numbers.size(); ++j) {
          LOG(WARNING) << "record store " << options_.dir << ": dropping segment " << numbers[j]
                       << " after the cut; it is read from the source again";
          (void)RemoveSegment(SegmentPath(options_.dir, numbers[j]));
        }
        segments_.push_back(std::move(seg));
        break;
      }
    }
    segments_.push_back(std::move(seg));
  }
  initialized_ = !segments_.empty();
  if (initialized_ && !segments_.back().sealed) {
    Segment& active = segments_.back();
    active_fd_ = ::open(active.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (active_fd_ < 0) return ErrnoError("cannot open", active.path);
  }
  return absl::OkStatus();
}

absl::Status RecordStore::ScanSegment(Segment* seg, bool* cut) {
  const int fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", seg->path);
  struct stat st;
  ::fstat(fd, &st);
  auto data = ReadRange(fd, 0, static_cast<size_t>(st.st_size), seg->path);
  if (!data.ok()) {
    ::close(fd);
    return data.status();
  }
  auto header = ParseHeader(*data);
  uint64_t valid = header.ok() ? header->bytes : 0;
  uint64_t whole = valid;  // the end of the last whole transaction (a crash may leave some parts)
  if (header.ok()) {
    RecordDecoder decoder;
    absl::string_view rest = absl::string_view(*data).substr(valid);
    while (!rest.empty()) {
      const Frame f = ParseFrame(rest);
      if (f.status != FrameStatus::kOk) break;
      auto record = decoder.Decode(f.payload);
      if (!record.ok()) break;
      if (record->kind == DecodedRecord::Kind::kFooter) {
        // Reached by reading record by record, so a real footer: with its whole trailer after it
        // the segment is sealed (its index file was lost); otherwise the seal was cut short and
        // the segment goes on unsealed.
        const absl::string_view after = rest.substr(f.size);
        if (after.size() == kTrailerTailBytes && ParseTrailerTail(after) == f.size &&
            GtidPosition::Parse(record->end_position).ok() &&
            GtidPosition::Parse(record->end_position)->ToString() == seg->end.ToString()) {
          DUO_RETURN_IF_ERROR(WriteIndex(seg->path, rest));
          seg->bytes = data->size();
          seg->sealed = true;
          *cut = false;
          ::close(fd);
          return absl::OkStatus();
        }
        break;
      }
      valid += f.size;
      rest.remove_prefix(f.size);
      if (record->kind == DecodedRecord::Kind::kTransaction && !record->transaction->more_parts) {
        const Transaction& t = *record->transaction;
        seg->end.Advance(t.gtid);
        NoteCommitTime(t.commit_time, seg->transactions++, &seg->min_commit_time, &seg->max_commit_time);
        whole = valid;
      } else if (record->kind == DecodedRecord::Kind::kTransaction) {
        continue;  // a part: whole until its last part arrives
      } else if (whole == valid - f.size) {
        whole = valid;  // a schema definition between transactions
      }
    }
  }
  valid = whole;
  seg->bytes = valid;
  seg->sealed = false;
  *cut = valid < data->size();
  if (*cut) {
    LOG(WARNING) << "record store " << options_.dir << ": segment " << seg->number << " cut at byte "
                 << valid << " of " << data->size()
                 << " (a torn or corrupt tail); what followed is read from the source again";
    if (::ftruncate(fd, static_cast<off_t>(valid)) != 0) {
      absl::Status s = ErrnoError("cannot truncate", seg->path);
      ::close(fd);
      return s;
    }
    ::fdatasync(fd);
  }
  ::close(fd);
  return absl::OkStatus();
}

bool RecordStore::initialized() const {
  std::lock_guard<std::mutex> lock(mu_);
  return initialized_;
}

GtidPosition RecordStore::start() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.empty() ? start_ : segments_.front().start;
}

GtidPosition RecordStore::end() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.empty() ? start_ : segments_.back().end;
}

bool RecordStore::Holds(const GtidPosition& position) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!initialized_) return false;
  return position.CoversAll(segments_.empty() ? start_ : segments_.front().start);
}

absl::Status RecordStore::Reset(const GtidPosition& start) {
  if (active_fd_ >= 0) {
    ::close(active_fd_);
    active_fd_ = -1;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    DUO_RETURN_IF_ERROR(DeleteSegmentsFrom(0));
    start_ = start;
    initialized_ = true;
  }
  broken_ = absl::OkStatus();
  return StartSegment(start);
}

absl::Status RecordStore::DeleteSegmentsFrom(size_t index) {
  for (size_t i = index; i < segments_.size(); ++i) {
    DUO_RETURN_IF_ERROR(RemoveSegment(segments_[i].path));
  }
  if (index == 0 && !segments_.empty()) start_ = segments_.front().start;
  segments_.resize(std::min(index, segments_.size()));
  return SyncDir(options_.dir);
}

absl::Status RecordStore::StartSegment(const GtidPosition& start) {
  Segment seg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seg.number = segments_.empty() ? 1 : segments_.back().number + 1;
  }
  seg.path = SegmentPath(options_.dir, seg.number);
  seg.start = start;
  seg.end = start;
  store::SegmentHeader header;
  header.set_number(seg.number);
  header.set_start_position(start.ToString());
  seg.created_time = static_cast<uint32_t>(absl::ToUnixSeconds(absl::Now()));
  header.set_created_time(seg.created_time);
  std::string bytes(kSegmentMagic);
  AppendFrame(header.SerializeAsString(), &bytes);
  if (::unlink(IndexPath(seg.path).c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("cannot delete", IndexPath(seg.path));
  }
  const int fd = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", seg.path);
  absl::Status s = WriteAll(fd, bytes, seg.path);
  if (s.ok() && ::fdatasync(fd) != 0) s = ErrnoError("cannot fsync", seg.path);
  if (s.ok()) s = SyncDir(options_.dir);
  if (!s.ok()) {
    ::close(fd);
    ::unlink(seg.path.c_str());
    return s;
  }
  active_fd_ = fd;
  encoder_.Reset();
  mid_transaction_ = false;
  seg.bytes = bytes.size();
  std::lock_guard<std::mutex> lock(mu_);
  segments_.push_back(std::move(seg));
  grew_.notify_all();
  return absl::OkStatus();
}

absl::Status RecordStore::WriteSeal(const Segment& seg, int fd, uint64_t* sealed_bytes) {
  store::Record record;
  store::SegmentFooter* footer = record.mutable_footer();
  footer->set_end_position(seg.end.ToString());
  footer->set_transactions(seg.transactions);
  footer->set_min_commit_time(seg.min_commit_time);
  footer->set_max_commit_time(seg.max_commit_time);
  // Fixed width, so the frame's size does not depend on the value (but proto3 omits a zero).
  footer->set_segment_bytes(1);
  std::string frame;
  AppendFrame(record.SerializeAsString(), &frame);
  *sealed_bytes = seg.bytes + frame.size() + kTrailerTailBytes;
  footer->set_segment_bytes(*sealed_bytes);
  std::string bytes;
  AppendFrame(record.SerializeAsString(), &bytes);
  bytes += TrailerTail(static_cast<uint32_t>(bytes.size()));
  DUO_RETURN_IF_ERROR(WriteAll(fd, bytes, seg.path));
  if (::fdatasync(fd) != 0) return ErrnoError("cannot fsync", seg.path);
  // Then the index file (a crash before it leaves a segment that recovery reads through).
  return WriteIndex(seg.path, bytes);
}

absl::Status RecordStore::WriteIndex(const std::string& segment_path, absl::string_view trailer) {
  const std::string index_path = IndexPath(segment_path);
  const std::string tmp_path = index_path + ".tmp";
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp_path);
  absl::Status s = WriteAll(fd, trailer, tmp_path);
  if (s.ok() && ::fdatasync(fd) != 0) s = ErrnoError("cannot fsync", tmp_path);
  ::close(fd);
  if (s.ok() && ::rename(tmp_path.c_str(), index_path.c_str()) != 0) s = ErrnoError("cannot rename", tmp_path);
  if (s.ok()) s = SyncDir(options_.dir);
  return s;
}

absl::Status RecordStore::SealActive() {
  Segment snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot = segments_.back();
  }
  uint64_t sealed_bytes = 0;
  absl::Status s = WriteSeal(snapshot, active_fd_, &sealed_bytes);
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  ::close(active_fd_);
  active_fd_ = -1;
  dirty_ = false;
  last_sync_ = absl::Now();
  std::lock_guard<std::mutex> lock(mu_);
  segments_.back().bytes = sealed_bytes;
  segments_.back().sealed = true;
  grew_.notify_all();
  return absl::OkStatus();
}

absl::Status RecordStore::Append(const Transaction& txn) {
  if (!broken_.ok()) return broken_;
  bool need_segment;
  uint64_t active_bytes = 0, active_transactions = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!initialized_) return absl::FailedPreconditionError("record store: Append before Reset");
    need_segment = segments_.empty() || segments_.back().sealed;
    if (!need_segment) {
      active_bytes = segments_.back().bytes;
      active_transactions = segments_.back().transactions;
    }
  }
  if (need_segment) {
    DUO_RETURN_IF_ERROR(StartSegment(end()));
    return Append(txn);
  }
  if (mid_transaction_ && txn.part == 0) {
    // The source began the transaction again (the pump reconnected in its middle): the parts
    // stored of it go, so that it is stored once, whole. (A cursor that read them meets part 0
    // again and its link reads the transaction again.)
    std::string path;
    {
      std::lock_guard<std::mutex> lock(mu_);
      path = segments_.back().path;
    }
    if (::ftruncate(active_fd_, static_cast<off_t>(mid_transaction_bytes_)) != 0) {
      return ErrnoError("cannot cut an unfinished transaction off", path);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      segments_.back().bytes = mid_transaction_bytes_;
      active_bytes = mid_transaction_bytes_;
    }
    encoder_.Reset();  // schema definitions written with the parts went with them
    mid_transaction_ = false;
  }
  if (!mid_transaction_) mid_transaction_bytes_ = active_bytes;  // where this transaction starts
  buffer_.clear();
  DUO_RETURN_IF_ERROR(encoder_.Encode(txn, &buffer_));
  // A transaction in parts stays in one segment: a segment starts and ends between transactions.
  if (active_transactions > 0 && !mid_transaction_ && active_bytes + buffer_.size() > options_.segment_bytes) {
    DUO_RETURN_IF_ERROR(SealActive());
    DUO_RETURN_IF_ERROR(StartSegment(end()));
    return Append(txn);
  }
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    path = segments_.back().path;
  }
  absl::Status s = WriteAll(active_fd_, buffer_, path);
  if (!s.ok()) {
    // Cut a partial record off, and refuse further appends: the encoder may believe schemas
    // defined that never reached the file. Reopening the store recovers.
    if (::ftruncate(active_fd_, static_cast<off_t>(active_bytes)) != 0) {
      LOG(ERROR) << "record store: cannot cut a partial record off " << path;
    }
    broken_ = s;
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Segment& seg = segments_.back();
    seg.bytes += buffer_.size();
    if (!txn.more_parts) {
      seg.end.Advance(txn.gtid);
      NoteCommitTime(txn.commit_time, seg.transactions++, &seg.min_commit_time, &seg.max_commit_time);
    }
  }
  mid_transaction_ = txn.more_parts;
  grew_.notify_all();
  dirty_ = true;
  return MaybeSync();
}

absl::Status RecordStore::MaybeSync() {
  if (!dirty_ || absl::Now() - last_sync_ < options_.fsync_interval) return absl::OkStatus();
  return Sync();
}

absl::Status RecordStore::Sync() {
  if (!dirty_ || active_fd_ < 0) return absl::OkStatus();
  if (::fdatasync(active_fd_) != 0) return ErrnoError("cannot fsync", options_.dir);
  dirty_ = false;
  last_sync_ = absl::Now();
  return absl::OkStatus();
}

absl::StatusOr<int> RecordStore::ApplyRetention(const GtidPosition& applied) {
  const absl::Time cutoff = absl::Now() - options_.retention;
  int deleted = 0;
  std::lock_guard<std::mutex> lock(mu_);
  // The newest segment always stays: it names the store's end.
  while (segments_.size() > 1 && segments_.front().sealed) {
    const Segment& oldest = segments_.front();
    struct stat st;
    if (::stat(oldest.path.c_str(), &st) != 0) return ErrnoError("cannot stat", oldest.path);
    if (absl::FromTimeT(st.st_mtime) > cutoff || !applied.CoversAll(oldest.end)) break;
    DUO_RETURN_IF_ERROR(RemoveSegment(oldest.path));
    LOG(INFO) << "record store " << options_.dir << ": retention deleted segment " << oldest.number
              << " (" << oldest.transactions << " transactions up to " << oldest.end.ToString() << ")";
    segments_.erase(segments_.begin());
    ++deleted;
  }
  return deleted;
}

absl::Status RecordStore::TruncateAt(const RecordLocation& at) {
  if (active_fd_ >= 0) {
    ::close(active_fd_);
    active_fd_ = -1;
  }
  std::lock_guard<std::mutex> lock(mu_);
  size_t index = 0;
  while (index < segments_.size() && segments_[index].number != at.segment) ++index;
  if (index == segments_.size()) {
    return absl::NotFoundError(absl::StrCat("record store: no segment ", at.segment));
  }
  Segment& seg = segments_[index];
  LOG(WARNING) << "record store " << options_.dir << ": truncating at " << at.ToString()
               << "; what followed is read from the source again";
  if (::unlink(IndexPath(seg.path).c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("cannot delete", IndexPath(seg.path));
  }
  if (::truncate(seg.path.c_str(), static_cast<off_t>(at.offset)) != 0) {
    return ErrnoError("cannot truncate", seg.path);
  }
  seg.end = seg.start;
  seg.transactions = 0;
  seg.min_commit_time = seg.max_commit_time = 0;
  bool cut = false;
  DUO_RETURN_IF_ERROR(ScanSegment(&seg, &cut));
  if (seg.bytes == 0) {
    // The segment's own header was damaged: the segment goes (its start position is known from
    // when it was opened, so the store stays one range: it now ends there).
    DUO_RETURN_IF_ERROR(DeleteSegmentsFrom(index));
    encoder_.Reset();
    mid_transaction_ = false;
    broken_ = absl::OkStatus();
    return absl::OkStatus();  // the next Append starts a segment after the last one
  }
  DUO_RETURN_IF_ERROR(DeleteSegmentsFrom(index + 1));
  active_fd_ = ::open(seg.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (active_fd_ < 0) return ErrnoError("cannot open", seg.path);
  encoder_.Reset();
  mid_transaction_ = false;
  broken_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::StatusOr<GtidPosition> RecordStore::PositionAtTime(uint32_t time) const {
  uint64_t number = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!initialized_) return absl::FailedPreconditionError("the record store is empty");
    const Segment* found = nullptr;
    const Segment* oldest = nullptr;
    for (const Segment& s : segments_) {
      if (s.transactions == 0) continue;
      if (oldest == nullptr) oldest = &s;
      if (s.max_commit_time >= time) {
        found = &s;
        break;
      }
    }
    if (found == nullptr) {
      // Nothing committed at or after `time` is stored; that is "up to date" only if the store
      // already existed then.
      const uint32_t since = oldest != nullptr ? oldest->min_commit_time
                                               : segments_.empty() ? 0 : segments_.front().created_time;
      if (since > time) {
        return absl::OutOfRangeError(absl::StrCat(
            "the record store holds transactions committed from ",
            absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(since), absl::UTCTimeZone()),
            " on, not from ",
            absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(time), absl::UTCTimeZone())));
      }
      return segments_.empty() ? start_ : segments_.back().end;
    }
    // Held from when the oldest segment was started: what was committed after that is here.
    if (found == oldest && oldest->min_commit_time > time && segments_.front().created_time > time) {
      return absl::OutOfRangeError(absl::StrCat(
          "the record store holds transactions committed from ",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(oldest->min_commit_time), absl::UTCTimeZone()),
          " on (", oldest->start.ToString(), "), not from ",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(time), absl::UTCTimeZone()),
          "; older records passed retention_hours or were never stored"));
    }
    number = found->number;
  }
  StoreCursor cursor(this, GtidPosition(), number);
  while (true) {
    const GtidPosition before = cursor.position();
    auto next = cursor.Next(absl::ZeroDuration());
    if (!next.ok()) return next.status();
    if (!next->has_value()) return cursor.position();
    if ((*next)->commit_time >= time) return before;
  }
}

absl::StatusOr<std::unique_ptr<StoreCursor>> RecordStore::NewCursor(const GtidPosition& after) {
  uint64_t number = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const GtidPosition& start = segments_.empty() ? start_ : segments_.front().start;
    if (!initialized_ || !after.CoversAll(start)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the record store of ", options_.dir, " starts at ", start.ToString(),
          ", after the position asked for (", after.ToString(), ")"));
    }
    for (const Segment& s : segments_) {
      number = s.number;
      if (!after.CoversAll(s.end) || !s.sealed) break;
    }
  }
  return std::unique_ptr<StoreCursor>(new StoreCursor(this, after, number));
}

StoreStats RecordStore::stats() const {
  StoreStats s;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Segment& seg : segments_) {
    s.bytes += seg.bytes;
    s.transactions += seg.transactions;
    if (seg.transactions > 0) {
      if (s.oldest_commit_time == 0 || seg.min_commit_time < s.oldest_commit_time) {
        s.oldest_commit_time = seg.min_commit_time;
      }
      s.newest_commit_time = std::max(s.newest_commit_time, seg.max_commit_time);
    }
  }
  s.segments = static_cast<uint32_t>(segments_.size());
  s.start_position = (segments_.empty() ? start_ : segments_.front().start).ToString();
  s.end_position = (segments_.empty() ? start_ : segments_.back().end).ToString();
  return s;
}

RecordStore::SegmentView RecordStore::View(uint64_t number) const {
  SegmentView v;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Segment& s : segments_) {
    if (s.number < number) continue;
    v.exists = true;
    v.number = s.number;
    v.path = s.path;
    v.start = s.start;
    v.bytes = s.bytes;
    v.sealed = s.sealed;
    break;
  }
  return v;
}

void RecordStore::WaitForGrowth(uint64_t number, uint64_t bytes, absl::Duration wait,
                                const std::atomic<bool>& cancel) const {
  std::unique_lock<std::mutex> lock(mu_);
  grew_.wait_for(lock, absl::ToChronoNanoseconds(wait), [&] {
    if (cancel) return true;
    for (const Segment& s : segments_) {
      if (s.number > number) return true;
      if (s.number == number && (s.bytes > bytes || s.sealed)) return true;
    }
    return false;
  });
}

void RecordStore::WaitForSegment(uint64_t number, absl::Duration wait, const std::atomic<bool>& cancel) const {
  std::unique_lock<std::mutex> lock(mu_);
  grew_.wait_for(lock, absl::ToChronoNanoseconds(wait), [&] {
    return cancel || (!segments_.empty() && segments_.back().number >= number);
  });
}

// ---- StoreCursor ---------------------------------------------------------------------------------

}  // namespace duosync
