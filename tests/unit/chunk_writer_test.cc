#include "full/chunk_writer.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace duosync {
namespace {

TEST(ChunkWriterTest, LoadFieldsEscapeWhatLoadDataReadsSpecially) {
  std::string out;
  AppendLoadField(std::nullopt, &out);
  out += '|';
  AppendLoadField(std::string("a\tb\nc\\d") + '\0' + "e", &out);
  out += '|';
  AppendLoadField(std::string("\\N"), &out);  // the text \N, not NULL
  out += '|';
  AppendLoadField(std::string("NULL"), &out);  // a plain word without ENCLOSED BY
  EXPECT_EQ(out, "\\N|a\\tb\\nc\\\\d\\0e|\\\\N|NULL");
}

TEST(ChunkWriterTest, LoadTextReadsBackAsTheRowsItWasMadeOf) {
  const std::vector<SqlRow> rows = {
      {std::string("a\tb"), std::nullopt, std::string("")},
      {std::string("\\N"), std::string("x\ny\\") + '\0', std::string("NULL")},
  };
  std::string text;
  for (const SqlRow& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) text.push_back('\t');
      AppendLoadField(row[i], &text);
    }
    text.push_back('\n');
  }
  auto parsed = ParseLoadText(text, 3);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, rows);
  EXPECT_TRUE(ParseLoadText("", 3)->empty());
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText(text, 2).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText(text.substr(0, text.size() - 1), 3).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText("a\tb\t\\", 3).status()));
}

}  // namespace
}  // namespace duosync
