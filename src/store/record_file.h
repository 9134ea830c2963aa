// The byte layout of the record store's segment files, and a parser for it that trusts nothing.
//
//   segment  := magic "duoseg1\n" | frame(SegmentHeader) | frame(Record)* | [trailer]
//   frame    := u32 length | u32 crc | payload        (little endian; crc = CRC-32 of length+payload)
//   trailer  := frame(Record{footer}) | u32 footer frame bytes | "duosync-end\n"
//
// A frame is valid only when its length is in range and its CRC matches, so a torn write (a kill
// -9 mid-record), zero-filled or flipped bytes are found before anything is decoded. The trailer
// is written when a segment is sealed; a copy of it is the segment's index file (<number>.idx),
// which lets the store index the segment without reading it. The trailer inside the segment is
// never trusted alone: an unsealed segment ends with row values, which can hold any bytes.
#ifndef DUOSYNC_SRC_STORE_RECORD_FILE_H_
#define DUOSYNC_SRC_STORE_RECORD_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace duosync {

inline constexpr absl::string_view kSegmentMagic = "duoseg1\n";
inline constexpr absl::string_view kTrailerMagic = "duosync-end\n";
inline constexpr size_t kFrameHeaderBytes = 8;
inline constexpr size_t kTrailerTailBytes = 4 + 12;
// A bigger length is corruption, not a record (one source transaction is one record).
inline constexpr uint32_t kMaxRecordBytes = 1u << 30;

// Appends `payload` framed to `out`.
void AppendFrame(absl::string_view payload, std::string* out);

enum class FrameStatus { kOk, kIncomplete, kCorrupt };

struct Frame {
  FrameStatus status = FrameStatus::kIncomplete;
  absl::string_view payload;  // kOk: points into the parsed data
  size_t size = 0;            // kOk: bytes of the whole frame; kIncomplete: bytes needed (0 = unknown)
  std::string error;          // kCorrupt: why
};

// Parses the frame at the start of `data`. kIncomplete when `data` ends inside it (the rest may
// still be written); kCorrupt for a bad length or CRC.
Frame ParseFrame(absl::string_view data);

// The trailer's fixed tail for a footer frame of `footer_frame_bytes`.
std::string TrailerTail(uint32_t footer_frame_bytes);
// The footer frame's size told by a trailer tail (the last kTrailerTailBytes of a sealed
// segment), or 0 when `tail` is not one.
uint32_t ParseTrailerTail(absl::string_view tail);

}  // namespace duosync

#endif  // DUOSYNC_SRC_STORE_RECORD_FILE_H_
