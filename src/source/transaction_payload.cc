#include "source/transaction_payload.h"

#include <zstd.h>

#include "absl/strings/str_cat.h"
#include "source/binlog_events.h"

namespace duosync {
namespace {

constexpr size_t kMaxInnerEvent = size_t{1} << 30;  // as for any event (binlog_file.cc)

}  // namespace

struct TransactionPayload::Zstd {
  ZSTD_DStream* stream = ZSTD_createDStream();
  ~Zstd() { ZSTD_freeDStream(stream); }
};

TransactionPayload::~TransactionPayload() = default;

absl::StatusOr<std::unique_ptr<TransactionPayload>> TransactionPayload::Open(absl::string_view body) {
  // Fields: (type, length, value) with packed integers (the value too), ended by type 0; then
  // the payload. Types: 1 payload size, 2 compression (0 zstd, 255 none), 3 uncompressed size.
  auto bad = [] { return absl::DataLossError("malformed TRANSACTION_PAYLOAD header"); };
  size_t pos = 0;
  uint64_t payload_size = 0, compression = 255, uncompressed = 0;
  bool has_size = false;
  while (true) {
    uint64_t field = 0, length = 0;
    if (!ReadPackedInt(body, &pos, &field)) return bad();
    if (field == 0) break;
    if (!ReadPackedInt(body, &pos, &length) || length > body.size() - pos) return bad();
    absl::string_view value = body.substr(pos, length);
    pos += length;
    size_t vpos = 0;
    uint64_t number = 0;
    if (!ReadPackedInt(value, &vpos, &number)) return bad();
    if (field == 1) {
      payload_size = number;
      has_size = true;
    } else if (field == 2) {
      compression = number;
    } else if (field == 3) {
      uncompressed = number;
    }
  }
  if (!has_size || payload_size > body.size() - pos) return bad();
  if (compression != 0 && compression != 255) {
    return absl::UnimplementedError(absl::StrCat("TRANSACTION_PAYLOAD compressed with algorithm ",
                                                 compression, "; only zstd (0) is known"));
  }
  auto p = std::unique_ptr<TransactionPayload>(new TransactionPayload());
  p->input_ = body.substr(pos, payload_size);
  p->compressed_ = compression == 0;
  p->declared_size_ = compression == 0 ? uncompressed : payload_size;
  if (p->compressed_) {
    p->zstd_ = std::make_unique<Zstd>();
    if (p->zstd_->stream == nullptr) return absl::ResourceExhaustedError("cannot create a zstd stream");
    ZSTD_initDStream(p->zstd_->stream);
  }
  return p;
}

absl::Status TransactionPayload::Fill() {
  if (!compressed_) {
    pending_.append(input_.data(), input_.size());
    produced_ += input_.size();
    input_ = {};
    input_done_ = true;
    return absl::OkStatus();
  }
  ZSTD_inBuffer in{input_.data(), input_.size(), 0};
  std::string chunk(64 * 1024, '\0');
  ZSTD_outBuffer out{chunk.data(), chunk.size(), 0};
  const size_t rc = ZSTD_decompressStream(zstd_->stream, &out, &in);
  if (ZSTD_isError(rc)) {
    return absl::DataLossError(absl::StrCat("TRANSACTION_PAYLOAD does not decompress: ", ZSTD_getErrorName(rc)));
  }
  input_.remove_prefix(in.pos);
  pending_.append(chunk.data(), out.pos);
  produced_ += out.pos;
  if (produced_ > declared_size_) return absl::DataLossError("TRANSACTION_PAYLOAD is longer than it says");
  if (rc == 0 || (input_.empty() && out.pos == 0)) input_done_ = true;  // frame end, or nothing more
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> TransactionPayload::Next() {
  while (true) {
    if (pending_.size() >= kEventHeaderSize) {
      auto h = ParseEventHeader(pending_);
      if (!h.ok()) return h.status();
      if (h->length > kMaxInnerEvent) return absl::DataLossError("TRANSACTION_PAYLOAD holds an impossible event length");
      if (pending_.size() >= h->length) {
        std::string event = pending_.substr(0, h->length);
        pending_.erase(0, h->length);
        return std::optional<std::string>(std::move(event));
      }
    }
    if (input_done_) {
      if (!pending_.empty()) return absl::DataLossError("TRANSACTION_PAYLOAD ends inside an event");
      if (produced_ != declared_size_) return absl::DataLossError("TRANSACTION_PAYLOAD is shorter than it says");
      return std::optional<std::string>();
    }
    if (auto s = Fill(); !s.ok()) return s;
  }
}

}  // namespace duosync
