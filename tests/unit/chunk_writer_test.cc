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
  EXPECT_EQ(parsed->Rows(), rows);
  EXPECT_EQ(ParseLoadText("", three)->rows(), 0u);
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
  EXPECT_EQ(parsed->Rows(), (std::vector<SqlRow>{{std::string("k"), bytes}, {std::string("k2"), std::nullopt}}));
  EXPECT_TRUE(absl::IsDataLoss(ParseLoadText("k\tZZ\n", cols).status()));
}

// A row block gives back each value as added: bytes with their length, NULL apart from "".
TEST(RowBlockTest, HoldsEachValueAsAdded) {
  RowBlock block(3);
  const char* first[] = {"a\0b", nullptr, "", "extra"};  // a fourth value is not kept
  const unsigned long first_lengths[] = {3, 0, 0, 5};
  block.Add(first, first_lengths);
  const std::string big(100000, 'x');
  const char* second[] = {big.data(), "k", nullptr};
  const unsigned long second_lengths[] = {big.size(), 1, 0};
  block.Add(second, second_lengths);
  ASSERT_EQ(block.rows(), 2u);
  EXPECT_EQ(block.Rows(), (std::vector<SqlRow>{{std::string("a\0b", 3), std::nullopt, std::string("")},
                                              {big, std::string("k"), std::nullopt}}));
  EXPECT_EQ(block.data(0, 1), nullptr);
  EXPECT_NE(block.data(0, 2), nullptr);
  EXPECT_EQ(block.length(1, 0), big.size());
}

}  // namespace
}  // namespace duosync
