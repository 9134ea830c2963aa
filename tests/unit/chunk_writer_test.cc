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
  const std::vector<CopyColumn> three(3), two(2);
  auto parsed = ParseLoadText(text, three);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, rows);
  EXPECT_TRUE(ParseLoadText("", three)->empty());
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText(text, two).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText(text.substr(0, text.size() - 1), three).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText("a\tb\t\\", three).status()));
}

// Binary values go as hex (MySQL checks a LOAD DATA file's text against its charset) and read back.
TEST(ChunkWriterTest, BinaryValuesGoAsHex) {
  std::vector<CopyColumn> cols(2);
  cols[1].form = CopyColumn::Form::kBinary;
  const std::string bytes("\x00\xff\t\n\\\x80", 6);
  std::string text;
  AppendLoadField(std::string("k"), &text);
  text.push_back('\t');
  AppendHex(bytes.data(), bytes.size(), &text);
  text += "\nk2\t\\N\n";
  EXPECT_EQ(text, "k\t00FF090A5C80\nk2\t\\N\n");
  auto parsed = ParseLoadText(text, cols);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<SqlRow>{{std::string("k"), bytes}, {std::string("k2"), std::nullopt}}));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText("k\tZZ\n", cols).status()));
}

}  // namespace
}  // namespace duosync
