// The decision table of every policy, as README documents it: each link decides alone, so a
// conflict seen from both sides (the change arriving at each region competes with the other
// region's row) must name the same winner.
#include "apply/conflict_policy.h"

#include "gtest/gtest.h"

namespace duosync {
namespace {

using V = ConflictVerdict;

// The winner's region as seen from the link bringing region A's change (A's change competes
// with B's row) and from the link bringing B's (B's change competes with A's row).
// `a_against_b`: A's version compared with B's.
std::pair<char, char> Winners(config::ConflictPolicy policy, int a_against_b) {
  const V at_b = DecideConflict(policy, /*incoming_has_priority=*/true, {a_against_b});
  const V at_a = DecideConflict(policy, /*incoming_has_priority=*/false, {-a_against_b});
  return {at_b == V::kIncomingWins ? 'A' : 'B', at_a == V::kIncomingWins ? 'B' : 'A'};
}

TEST(ConflictPolicyTest, LastWriterWinsPicksTheSameRowOnBothSidesTiesToThePriorityRegion) {
  EXPECT_EQ(Winners(config::LAST_WRITER_WINS, 1), std::make_pair('A', 'A'));
  EXPECT_EQ(Winners(config::LAST_WRITER_WINS, -1), std::make_pair('B', 'B'));
  EXPECT_EQ(Winners(config::LAST_WRITER_WINS, 0), std::make_pair('A', 'A'));
}

TEST(ConflictPolicyTest, RegionPriorityPicksThePriorityRegionWhateverTheVersions) {
  for (int order : {-1, 0, 1}) EXPECT_EQ(Winners(config::REGION_PRIORITY, order), std::make_pair('A', 'A'));
  EXPECT_EQ(Winners(config::CONFLICT_POLICY_UNSPECIFIED, -1), std::make_pair('A', 'A'));
}

TEST(ConflictPolicyTest, OverwriteAndIgnoreDoNotConvergeStopStops) {
  EXPECT_EQ(Winners(config::OVERWRITE, 1), std::make_pair('A', 'B')) << "each side takes the other's row";
  EXPECT_EQ(Winners(config::IGNORE, 1), std::make_pair('B', 'A')) << "each side keeps its own";
  EXPECT_EQ(DecideConflict(config::STOP, true, {1}), V::kStop);
}

TEST(ConflictPolicyTest, AChangeMustOutrankEveryRowItWouldReplace) {
  EXPECT_EQ(DecideConflict(config::LAST_WRITER_WINS, false, {1, 1}), V::kIncomingWins);
  EXPECT_EQ(DecideConflict(config::LAST_WRITER_WINS, false, {1, -1}), V::kDestinationWins);
  EXPECT_EQ(DecideConflict(config::LAST_WRITER_WINS, false, {1, 0}), V::kDestinationWins);
  EXPECT_EQ(DecideConflict(config::LAST_WRITER_WINS, true, {1, 0}), V::kIncomingWins);
}

}  // namespace
}  // namespace duosync
