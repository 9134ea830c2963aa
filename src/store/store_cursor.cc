#include "store/store_cursor.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "store/record_file.h"
#include "store/segment_file.h"

namespace duosync {

StoreCursor::StoreCursor(const RecordStore* store, const GtidPosition& after, uint64_t segment)
    : store_(store), after_(after) {
  // Opened by the first Next; until then the position is where the segment starts.
  const RecordStore::SegmentView view = store->View(segment);
  if (view.exists) {
    position_ = view.start;
    positioned_ = true;
  }
  seg_.number = segment;
}

StoreCursor::~StoreCursor() {
  if (fd_ >= 0) ::close(fd_);
}

void StoreCursor::Cancel() {
  cancel_ = true;
  std::lock_guard<std::mutex> lock(store_->mu_);
  store_->grew_.notify_all();
}

absl::Status StoreCursor::OpenSegment(uint64_t number) {
  seg_ = store_->View(number);
  if (!seg_.exists) {
    seg_.number = number;
    return absl::OkStatus();  // not written yet
  }
  fd_ = ::open(seg_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return ErrnoError("cannot open", seg_.path);
  buf_.clear();
  buf_offset_ = 0;
  pos_ = 0;
  decoder_.Reset();
  DUO_RETURN_IF_ERROR(Fill(kSegmentMagic.size() + kFrameHeaderBytes, seg_.bytes));
  const Frame f = ParseFrame(absl::string_view(buf_).substr(std::min(buf_.size(), kSegmentMagic.size())));
  if (f.status == FrameStatus::kIncomplete && f.size > 0) DUO_RETURN_IF_ERROR(Fill(kSegmentMagic.size() + f.size, seg_.bytes));
  auto header = ParseHeader(buf_);
  location_ = RecordLocation{seg_.number, 0};
  if (!header.ok()) return header.status();
  if (positioned_ && seg_.start.ToString() != position_.ToString()) {
    return absl::DataLossError(absl::StrCat("record store ", store_->dir(), ": segment ", seg_.number,
                                            " starts at ", seg_.start.ToString(), ", not where the one "
                                            "before ended (", position_.ToString(), ")"));
  }
  pos_ = header->bytes;
  position_ = seg_.start;
  positioned_ = true;
  return absl::OkStatus();
}

// Makes buf_ hold at least `need` bytes from pos_, reading no further than `readable`.
absl::Status StoreCursor::Fill(size_t need, uint64_t readable) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    buf_offset_ += pos_;
    pos_ = 0;
  }
  const uint64_t have_end = buf_offset_ + buf_.size();
  const uint64_t want_end = std::min<uint64_t>(readable, buf_offset_ + pos_ + std::max<size_t>(need, 1 << 20));
  if (want_end <= have_end) return absl::OkStatus();
  auto more = ReadRange(fd_, have_end, static_cast<size_t>(want_end - have_end), seg_.path);
  if (!more.ok()) return more.status();
  buf_.append(*more);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Transaction>> StoreCursor::Next(absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  while (!cancel_) {
    if (fd_ < 0) {
      DUO_RETURN_IF_ERROR(OpenSegment(seg_.number));
      if (fd_ < 0) {  // the segment does not exist yet
        const absl::Duration left = deadline - absl::Now();
        if (left <= absl::ZeroDuration()) return std::nullopt;
        store_->WaitForSegment(seg_.number, left, cancel_);
        continue;
      }
    }
    const Frame f = ParseFrame(absl::string_view(buf_).substr(pos_));
    location_ = RecordLocation{seg_.number, buf_offset_ + pos_};
    if (f.status == FrameStatus::kCorrupt) {
      return absl::DataLossError(absl::StrCat("record store ", store_->dir(), ": ", f.error, " at ",
                                              location_.ToString()));
    }
    if (f.status == FrameStatus::kIncomplete) {
      const size_t need = f.size > 0 ? f.size : kFrameHeaderBytes;
      const RecordStore::SegmentView now = store_->View(seg_.number);
      const uint64_t readable = now.exists && now.number == seg_.number ? now.bytes : 0;
      if (buf_offset_ + pos_ + need <= readable) {
        DUO_RETURN_IF_ERROR(Fill(need, readable));
        continue;
      }
      if (readable > buf_offset_ + buf_.size()) {  // part of it arrived: take it, look again
        DUO_RETURN_IF_ERROR(Fill(need, readable));
        continue;
      }
      if (now.sealed || readable == 0) {
        // A sealed segment ends with its footer; running out before it means a cut-off file.
        return absl::DataLossError(absl::StrCat("record store ", store_->dir(), ": segment ", seg_.number,
                                                " ends inside a record at ", location_.ToString()));
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return std::nullopt;
      store_->WaitForGrowth(seg_.number, readable, left, cancel_);
      continue;
    }
    auto record = decoder_.Decode(f.payload);
    if (!record.ok()) {
      return absl::DataLossError(absl::StrCat("record store ", store_->dir(), ": ", record.status().message(),
                                              " at ", location_.ToString()));
    }
    pos_ += f.size;
    switch (record->kind) {
      case DecodedRecord::Kind::kSchema: continue;
      case DecodedRecord::Kind::kFooter:
        // The footer (the segment's index) must agree with what its records say.
        if (record->end_position != position_.ToString()) {
          return absl::DataLossError(absl::StrCat(
              "record store ", store_->dir(), ": the footer of segment ", seg_.number, " says it ends at ",
              record->end_position, " but its records end at ", position_.ToString(), " (", location_.ToString(), ")"));
        }
        ::close(fd_);
        fd_ = -1;
        seg_.number += 1;
        continue;
      case DecodedRecord::Kind::kTransaction: break;
    }
    Transaction& txn = *record->transaction;
    if (!txn.more_parts) position_.Advance(txn.gtid);  // past a transaction in parts at its last
    if (after_.Covers(txn.gtid)) continue;
    return std::move(record->transaction);
  }
  return std::nullopt;
}

}  // namespace duosync
