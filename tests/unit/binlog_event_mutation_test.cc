// Hostile binlog bytes: events of the real MySQL 8 fixtures mutated (bytes changed, bodies cut or
// grown) with their checksums recomputed, so the event parsers themselves (not only the CRC) meet
// the damage. Whatever the bytes, decoding ends in a transaction or a clear error, never a crash,
// a hang or an absurd allocation (the ASan/UBSan build runs this too).
#include <zlib.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "source/binlog_events.h"
#include "source/transaction_assembler.h"

namespace duosync {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The events of a binlog file, each as its bytes.
std::vector<std::string> SplitEvents(const std::string& file) {
  std::vector<std::string> events;
  size_t pos = 4;
  while (pos + kEventHeaderSize <= file.size()) {
    auto h = ParseEventHeader(absl::string_view(file).substr(pos));
    if (!h.ok() || pos + h->length > file.size()) break;
    events.push_back(file.substr(pos, h->length));
    pos += h->length;
  }
  return events;
}

void PutLe32(uint32_t v, char* at) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Makes `event` self-consistent again: its length field and (when the file has them) its CRC32.
void Reframe(std::string* event, bool checksums) {
  PutLe32(static_cast<uint32_t>(event->size()), event->data() + 9);
  if (!checksums || event->size() < kEventHeaderSize + 4) return;
  std::string copy = event->substr(0, event->size() - 4);
  if (static_cast<uint8_t>(copy[4]) == event_type::kFormatDescription) copy[17] &= ~1;
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(copy.data()),
                          static_cast<uInt>(copy.size()));
  PutLe32(static_cast<uint32_t>(crc), event->data() + event->size() - 4);
}

bool Acceptable(const absl::Status& s) {
  return absl::IsDataLoss(s) || absl::IsUnimplemented(s) || absl::IsFailedPrecondition(s);
}

TEST(BinlogEventMutationTest, MutatedEventsDecodeOrFailCleanly) {
  const std::vector<std::string> fixtures = {
      "binlog-invisible-columns.000001", "json.binlog.000001",  "minimal_row_metadata.000001",
      "mysql-enum-string-set.000001",    "mysql_type_bit.000001", "time_issue.000001",
      "transaction_compression.000001"};
  std::mt19937 rng(20261201);
  int decoded = 0, refused = 0;
  for (const auto& name : fixtures) {
    const std::string file = ReadAll(std::string(DUOSYNC_TEST_DATA_DIR) + "/binlog/" + name);
    const std::vector<std::string> events = SplitEvents(file);
    ASSERT_GT(events.size(), 3u) << name;
    for (int round = 0; round < 1500; ++round) {
      std::vector<std::string> mutated = events;
      const size_t victim = 1 + rng() % (mutated.size() - 1);  // the format description stays
      std::string& e = mutated[victim];
      const size_t body_end = e.size() - 4;  // every fixture has checksums
      switch (rng() % 4) {
        case 0: case 1:  // a few bytes of the body changed
          for (int k = 0, n = 1 + rng() % 4; k < n && body_end > kEventHeaderSize; ++k) {
            e[kEventHeaderSize + rng() % (body_end - kEventHeaderSize)] = static_cast<char>(rng());
          }
          break;
        case 2:  // the body cut short
          if (body_end > kEventHeaderSize) e.erase(kEventHeaderSize + rng() % (body_end - kEventHeaderSize), 1 + rng() % 8);
          break;
        case 3:  // bytes inserted into the body
          e.insert(kEventHeaderSize + rng() % (body_end - kEventHeaderSize + 1), std::string(1 + rng() % 8, static_cast<char>(rng())));
          break;
      }
      if (e.size() < kEventHeaderSize + 4) e.resize(kEventHeaderSize + 4, '\0');
      Reframe(&e, /*checksums=*/true);
      for (bool partial : {true, false}) {
        TransactionAssembler::Options options;
        options.allow_partial_images = partial;
        TransactionAssembler assembler(options);
        uint64_t position = 4;
        absl::Status status;
        for (const std::string& event : mutated) {
          auto t = assembler.Add(event, position);
          position += event.size();
          if (!t.ok()) {
            status = t.status();
            break;
          }
          if (t->has_value()) {
            for (const RowChange& c : (*t)->changes) {
              ASSERT_NE(c.table, nullptr);
              if (c.op != RowOp::kInsert) ASSERT_EQ(c.before.size(), c.table->columns.size());
              if (c.op != RowOp::kDelete) ASSERT_EQ(c.after.size(), c.table->columns.size());
            }
          }
        }
        if (status.ok()) {
          ++decoded;
        } else {
          ++refused;
          EXPECT_TRUE(Acceptable(status)) << name << " round " << round << ": " << status;
          EXPECT_FALSE(status.message().empty());
        }
      }
    }
  }
  // Both outcomes happen: the mutations reach past the first check.
  EXPECT_GT(decoded, 100);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace duosync
