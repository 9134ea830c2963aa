#include "full/key_range_split.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace duosync {
namespace {

using Bounds = std::vector<std::string>;

TEST(KeyRangeSplitTest, EqualWidthRangesCoverTheKeys) {
  EXPECT_EQ(*SplitIntegerRange("1", "1000000", 4), (Bounds{"250001", "500001", "750001"}));
  EXPECT_EQ(*SplitIntegerRange("-100", "99", 2), (Bounds{"0"}));
  EXPECT_EQ(*SplitIntegerRange("5", "5", 4), Bounds{});  // one value: nothing to cut
  EXPECT_EQ(*SplitIntegerRange("1", "3", 8), (Bounds{"2", "3"}));  // no empty piece
  EXPECT_EQ(*SplitIntegerRange("7", "1", 4), Bounds{});
}

TEST(KeyRangeSplitTest, TheWholeRangeOfBigintsSignedAndNot) {
  EXPECT_EQ(*SplitIntegerRange("-9223372036854775808", "9223372036854775807", 2), (Bounds{"0"}));
  EXPECT_EQ(*SplitIntegerRange("0", "18446744073709551615", 2), (Bounds{"9223372036854775808"}));
  EXPECT_EQ(*SplitIntegerRange("18446744073709551612", "18446744073709551615", 4),
            (Bounds{"18446744073709551613", "18446744073709551614", "18446744073709551615"}));
  EXPECT_FALSE(SplitIntegerRange("1", "18446744073709551616", 2).ok());
  EXPECT_FALSE(SplitIntegerRange("a", "9", 2).ok());
}

TEST(KeyRangeSplitTest, PiecesFollowTheRowEstimateAndThreads) {
  EXPECT_EQ(PieceCount(1000000, 4), 4);
  EXPECT_EQ(PieceCount(1000000, 1), 1);
  EXPECT_EQ(PieceCount(kMinRowsPerPiece * 2, 8), 2);
  EXPECT_EQ(PieceCount(1000, 4), 1);
}

TEST(KeyRangeSplitTest, TheSavedCutReadsBack) {
  const Bounds bounds{"-5", "10", "18446744073709551615"};
  auto parsed = ParseSplit(SplitText(bounds));
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ(**parsed, bounds);
  // A table copied whole keeps its last key literals there: not a cut.
  EXPECT_FALSE(ParseSplit("'abc'\x1f" "12")->has_value());
  EXPECT_FALSE(ParseSplit("")->has_value());
  // A damaged cut is an error, never a table copied from the start again.
  EXPECT_TRUE(absl::IsDataLoss(ParseSplit("$$pieces:10,x").status()));
  EXPECT_TRUE(absl::IsDataLoss(ParseSplit("$$pieces:10,5").status()));
}

TEST(KeyRangeSplitTest, PieceConditionsPartitionTheKey) {
  const Bounds bounds{"100", "200"};
  EXPECT_EQ(PieceCondition("`id`", bounds, 1), " AND `id`<100");
  EXPECT_EQ(PieceCondition("`id`", bounds, 2), " AND `id`>=100 AND `id`<200");
  EXPECT_EQ(PieceCondition("`id`", bounds, 3), " AND `id`>=200");
  EXPECT_EQ(PieceName("db.t", 2), "db.t$$2");
}

}  // namespace
}  // namespace duosync
