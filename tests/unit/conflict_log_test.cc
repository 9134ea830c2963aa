// The in-memory conflict log: bounded records, exact counts (also of conflicts whose records one
// huge transaction could not keep).
#include "apply/conflict_log.h"

#include "gtest/gtest.h"

namespace duosync {
namespace {

ConflictRecord Record(int i) {
  ConflictRecord r;
  r.link = "forward";
  r.table = "shop.t";
  r.key = "id=" + std::to_string(i);
  r.policy = "REGION_PRIORITY";
  r.outcome = "applied the incoming change";
  return r;
}

TEST(ConflictLogTest, KeepsTheLatestRecordsAndCountsEveryConflict) {
  ConflictLog log(10);
  int heard = 0;
  log.SetListener([&](const std::string&) { ++heard; });
  for (int i = 0; i < 25; ++i) log.Add(Record(i));
  log.Count("REGION_PRIORITY", "applied the incoming change", 1000);
  log.Count("IGNORE", "kept the destination's row", 3);
  EXPECT_EQ(log.total(), 1028u);
  EXPECT_EQ(log.Latest().size(), 10u);
  EXPECT_EQ(log.Latest().back().key, "id=24");
  EXPECT_EQ(heard, 25) << "counted conflicts send no events";
  const auto by = log.ByOutcome();
  EXPECT_EQ(by.at({"REGION_PRIORITY", "applied the incoming change"}), 1025u);
  EXPECT_EQ(by.at({"IGNORE", "kept the destination's row"}), 3u);
}

}  // namespace
}  // namespace duosync
