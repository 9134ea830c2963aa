#include "store/record_file.h"

#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

void PutU32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Covers the length too, so a frame of zero bytes (a zero-filled tail) never checks out.
uint32_t FrameCrc(const char* length_bytes, absl::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(length_bytes), 4);
  // zlib takes uInt lengths; payloads are below kMaxRecordBytes (1 GiB), which fits.
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

}  // namespace

void AppendFrame(absl::string_view payload, std::string* out) {
  char header[kFrameHeaderBytes];
  PutU32(static_cast<uint32_t>(payload.size()), header);
  PutU32(FrameCrc(header, payload), header + 4);
  out->append(header, sizeof(header));
  out->append(payload.data(), payload.size());
}

Frame ParseFrame(absl::string_view data) {
  Frame f;
  if (data.size() < kFrameHeaderBytes) return f;  // incomplete, size unknown
  const uint32_t length = GetU32(data.data());
  if (length == 0 || length > kMaxRecordBytes) {
    f.status = FrameStatus::kCorrupt;
    f.error = absl::StrCat("impossible record length ", length);
    return f;
  }
  const size_t total = kFrameHeaderBytes + static_cast<size_t>(length);
  if (data.size() < total) {
    f.size = total;
    return f;
  }
  const absl::string_view payload = data.substr(kFrameHeaderBytes, length);
  if (FrameCrc(data.data(), payload) != GetU32(data.data() + 4)) {
    f.status = FrameStatus::kCorrupt;
    f.error = absl::StrCat("CRC mismatch in a record of ", length, " bytes");
    return f;
  }
  f.status = FrameStatus::kOk;
  f.payload = payload;
  f.size = total;
  return f;
}

std::string TrailerTail(uint32_t footer_frame_bytes) {
  std::string out(4, '\0');
  PutU32(footer_frame_bytes, out.data());
  out.append(kTrailerMagic.data(), kTrailerMagic.size());
  return out;
}

uint32_t ParseTrailerTail(absl::string_view tail) {
  if (tail.size() != kTrailerTailBytes || tail.substr(4) != kTrailerMagic) return 0;
  return GetU32(tail.data());
}

}  // namespace duosync
