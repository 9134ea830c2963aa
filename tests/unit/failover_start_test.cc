#include "source/failover_start.h"

#include "gtest/gtest.h"

namespace duosync {
namespace {

GtidPosition At(const char* text) {
  auto p = GtidPosition::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : GtidPosition();
}

TEST(FailoverStartTest, AReplicaThatLackedTheLinksLastTransactionsIsAskedFromItsLastOfThem) {
  // Server 2 holds server 1's transactions of domain 0 up to 34, then its own.
  auto plan = PlanFailoverStart(At("0-1-64,5-9-3"), 2, "0-1-34,0-2-80,5-9-3");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->request.ToString(), "0-1-34,5-9-3");
  ASSERT_EQ(plan->applied_through.size(), 1u);
  EXPECT_EQ(plan->applied_through.at({0, 1}), 64u);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("0-1-34"), std::string::npos) << plan->notes[0];
}

TEST(FailoverStartTest, ASourceThatHoldsThePositionIsAskedForIt) {
  auto plan = PlanFailoverStart(At("0-1-64"), 2, "0-1-70,0-2-71");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rewound());
  EXPECT_EQ(plan->request.ToString(), "0-1-64");
}

TEST(FailoverStartTest, TheServerThatWroteThePositionButLostItIsNotRewound) {
  // Restored from a backup: its next transactions reuse its own sequence numbers, so passing its
  // numbers over would lose them; the server refuses the position instead.
  auto plan = PlanFailoverStart(At("0-1-64"), 1, "0-1-34");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rewound());
  EXPECT_EQ(plan->request.ToString(), "0-1-64");
}

TEST(FailoverStartTest, ASourceWithNoneOfTheWritersTransactionsIsNotRewound) {
  auto plan = PlanFailoverStart(At("0-1-64"), 3, "0-2-10");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rewound());
}

TEST(FailoverStartTest, ADomainAThirdServerWroteInIsNotRewound) {
  // Server 3's transactions in domain 0 after 0-1-34 may be applied already: sent again, doubled.
  auto plan = PlanFailoverStart(At("0-1-64"), 2, "0-1-34,0-3-50,0-2-80");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rewound());
  EXPECT_EQ(plan->request.ToString(), "0-1-64");
  // Another domain's writers do not matter, nor one that wrote before the rewind point (an
  // earlier primary).
  auto other = PlanFailoverStart(At("0-1-64"), 2, "0-1-34,0-2-80,7-3-50");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->rewound());
  auto earlier = PlanFailoverStart(At("0-1-64"), 2, "0-3-20,0-1-34,0-2-80");
  ASSERT_TRUE(earlier.ok());
  EXPECT_TRUE(earlier->rewound());
}

TEST(FailoverStartTest, AnEmptyStateChangesNothingAndGarbageIsAnError) {
  auto plan = PlanFailoverStart(At("0-1-64"), 2, "");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rewound());
  EXPECT_FALSE(PlanFailoverStart(At("0-1-64"), 2, "0-1-x").ok());
  EXPECT_FALSE(PlanFailoverStart(At("0-1-64"), 2, "0-1-3,zzz").ok());
}

}  // namespace
}  // namespace duosync
