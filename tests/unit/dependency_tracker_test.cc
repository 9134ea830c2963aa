#include "apply/dependency_tracker.h"

#include <vector>

#include "gtest/gtest.h"

namespace duosync {
namespace {

std::vector<uint64_t> TakeAll(DependencyTracker* t) {
  std::vector<uint64_t> out;
  while (uint64_t s = t->TakeReady()) out.push_back(s);
  return out;
}

TEST(DependencyTrackerTest, DisjointTransactionsAreReadyTogether) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  t.Add(2, {20}, false);
  t.Add(3, {30, 31}, false);
  EXPECT_EQ(TakeAll(&t), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(DependencyTrackerTest, SharedKeyWaitsForTheEarlierTransaction) {
  DependencyTracker t(100);
  t.Add(1, {10, 11}, false);
  t.Add(2, {11}, false);   // shares 11 with 1
  t.Add(3, {12}, false);
  t.Add(4, {11, 12}, false);  // waits for 2 and 3
  EXPECT_EQ(TakeAll(&t), (std::vector<uint64_t>{1, 3}));
  t.Complete(3);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{});
  t.Complete(1);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{2});
  t.Complete(2);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{4});
}

TEST(DependencyTrackerTest, KeysOfCompletedTransactionsAreForgotten) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  ASSERT_EQ(t.TakeReady(), 1u);
  t.Complete(1);
  t.Add(2, {10}, false);
  EXPECT_EQ(t.TakeReady(), 2u);
}

TEST(DependencyTrackerTest, BarrierWaitsForAllAndHoldsAllLater) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  t.Add(2, {20}, false);
  t.Add(3, {}, true);      // barrier
  t.Add(4, {40}, false);   // unrelated key, still after the barrier
  EXPECT_EQ(TakeAll(&t), (std::vector<uint64_t>{1, 2}));
  t.Complete(2);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{});
  t.Complete(1);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{3});
  t.Complete(3);
  EXPECT_EQ(TakeAll(&t), std::vector<uint64_t>{4});
}

TEST(DependencyTrackerTest, CompletedPrefixAndOldestIncomplete) {
  DependencyTracker t(100);
  for (uint64_t s = 1; s <= 4; ++s) t.Add(s, {s}, false);
  TakeAll(&t);
  t.Complete(2);
  t.Complete(3);
  EXPECT_EQ(t.completed_prefix(), 0u);
  EXPECT_EQ(t.oldest_incomplete(), 1u);
  t.Complete(1);
  EXPECT_EQ(t.completed_prefix(), 3u);
  EXPECT_EQ(t.oldest_incomplete(), 4u);
  t.AddDone(5);  // a no-op transaction holds its place
  EXPECT_EQ(t.completed_prefix(), 3u);
  t.Complete(4);
  EXPECT_EQ(t.completed_prefix(), 5u);
  EXPECT_EQ(t.oldest_incomplete(), 0u);
}

TEST(DependencyTrackerTest, WindowFullUntilTheOldestCompletes) {
  DependencyTracker t(3);
  t.Add(1, {1}, false);
  t.Add(2, {2}, false);
  t.Add(3, {3}, false);
  EXPECT_TRUE(t.full());
  TakeAll(&t);
  t.Complete(3);  // not the oldest: still full
  t.Complete(2);
  EXPECT_TRUE(t.full());
  t.Complete(1);
  EXPECT_FALSE(t.full());
  EXPECT_EQ(t.held(), 0u);
}

TEST(DependencyTrackerTest, DuplicateKeysInOneTransactionCountOnce) {
  DependencyTracker t(10);
  t.Add(1, {7}, false);
  t.Add(2, {7, 7, 7}, false);
  ASSERT_EQ(t.TakeReady(), 1u);
  t.Complete(1);
  EXPECT_EQ(t.TakeReady(), 2u);
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

size_t OneRow(uint64_t) { return 1; }

TEST(DependencyTrackerBatchTest, ChainsOfDependentTransactionsJoinOneBatchInOrder) {
  DependencyTracker t(100);
  t.Add(1, {1}, false);
  t.Add(2, {1}, false);     // after 1
  t.Add(3, {2}, false);     // independent
  t.Add(4, {1, 2}, false);  // after 2 and 3
  const auto batch = t.TakeBatch(10, 100, OneRow);
  EXPECT_EQ(batch, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(t.has_ready());
  for (uint64_t s : batch) t.Complete(s);
  EXPECT_EQ(t.completed_prefix(), 4u);
  EXPECT_FALSE(t.has_ready()) << "taken transactions never become ready again";
}

TEST(DependencyTrackerBatchTest, DependencyHeldByAnotherBatchKeepsTheDependentOut) {
  DependencyTracker t(100);
  t.Add(1, {1}, false);
  const auto first = t.TakeBatch(1, 100, OneRow);  // another worker holds 1
  ASSERT_EQ(first, std::vector<uint64_t>{1});
  t.Add(2, {1}, false);  // waits for 1
  t.Add(3, {3}, false);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{3});
  t.Complete(1);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{2});
}

// In source order (a STOP conflict policy): a batch never passes a transaction over.
TEST(DependencyTrackerBatchTest, AConsecutiveBatchPassesNothingOver) {
  DependencyTracker t(100);
  t.Add(1, {1}, false);
  ASSERT_EQ(t.TakeBatch(1, 100, OneRow), std::vector<uint64_t>{1});  // in flight
  t.Add(2, {1}, false);  // waits for 1
  t.Add(3, {3}, false);
  EXPECT_TRUE(t.TakeBatch(10, 100, OneRow, /*consecutive=*/true).empty()) << "3 may not go before 1 and 2";
  t.Complete(1);
  t.Add(4, {2}, false);
  t.Add(5, {1}, false);  // after 2, which joins the batch: may follow it
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, /*consecutive=*/true), (std::vector<uint64_t>{2, 3, 4, 5}));
}

TEST(DependencyTrackerBatchTest, AConsecutiveBatchEndsAtTheFirstThatCannotJoin) {
  DependencyTracker t(100);
  t.Add(1, {1}, false);
  t.Add(2, {2}, false);
  ASSERT_EQ(t.TakeBatch(1, 100, OneRow), std::vector<uint64_t>{1});
  ASSERT_EQ(t.TakeBatch(1, 100, OneRow), std::vector<uint64_t>{2});
  t.Complete(1);
  t.Add(3, {2}, false);  // waits for 2, still in flight
  t.Add(4, {4}, false);
  EXPECT_TRUE(t.TakeBatch(10, 100, OneRow, /*consecutive=*/true).empty());
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{4}) << "out of order without the flag";
}

TEST(DependencyTrackerBatchTest, BoundsAndBarriers) {
  DependencyTracker t(100);
  for (uint64_t s = 1; s <= 5; ++s) t.Add(s, {s}, false);
  t.Add(6, {}, true);
  t.Add(7, {7}, false);
  EXPECT_EQ(t.TakeBatch(2, 100, OneRow), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(t.TakeBatch(10, 2, OneRow), (std::vector<uint64_t>{3, 4}));  // row budget
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{5});    // stops at the barrier
  for (uint64_t s = 1; s <= 5; ++s) t.Complete(s);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{6});    // the barrier alone
  t.Complete(6);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow), std::vector<uint64_t>{7});
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// A released transaction (its statements ran, not yet committed) lets those sharing its keys go,
// and names itself in their gate; a barrier still waits for the commit.
TEST(DependencyTrackerReleaseTest, DependentsGoOnReleaseAndFollowItsCommit) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  t.Add(2, {10}, false);  // follows 1
  t.Add(3, {20}, false);
  std::vector<uint64_t> gate;
  EXPECT_EQ(t.TakeBatch(1, 100, OneRow, false, &gate), std::vector<uint64_t>{1});
  EXPECT_TRUE(gate.empty());
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{3});  // 2 waits for 1
  t.Release(1);
  t.Add(4, {10}, false);  // follows 2 (the last with key 10); 1 comes into the batch's gate by 2
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(gate, std::vector<uint64_t>{1});
  EXPECT_FALSE(t.done(1));
  t.Complete(1);
  EXPECT_TRUE(t.done(1));
}

// A batch that rolled back after releasing: transactions added afterwards wait for its commit.
TEST(DependencyTrackerReleaseTest, AnUnreleasedTransactionIsWaitedForAgain) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  std::vector<uint64_t> gate;
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{1});
  t.Release(1);
  t.Unrelease(1);
  t.Add(2, {10}, false);
  EXPECT_FALSE(t.has_ready());
  t.Complete(1);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{2});
  EXPECT_TRUE(gate.empty());
}

TEST(DependencyTrackerReleaseTest, ABarrierWaitsForTheCommitOfReleasedTransactions) {
  DependencyTracker t(100);
  t.Add(1, {10}, false);
  std::vector<uint64_t> gate;
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{1});
  t.Add(2, {}, true);  // barrier, added before the release
  t.Release(1);
  t.Add(3, {}, true);  // barrier, added after it
  EXPECT_FALSE(t.has_ready());
  t.Complete(1);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{2});
  t.Release(2);  // a barrier is never released: 3 still waits for its commit
  EXPECT_FALSE(t.has_ready());
  t.Complete(2);
  EXPECT_EQ(t.TakeBatch(10, 100, OneRow, false, &gate), std::vector<uint64_t>{3});
}

}  // namespace
}  // namespace duosync
