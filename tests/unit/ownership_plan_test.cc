// Coordinated mode's spreading rules (src/coord/ownership_plan.h), without etcd.
#include "coord/ownership_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace duosync {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::vector<std::string> kLinks = {"forward", "reverse"};

OwnershipView View(const std::string& self, std::map<std::string, int> load,
                   std::map<std::string, std::string> owners, absl::Duration age = absl::Minutes(1)) {
  OwnershipView v;
  v.self = self;
  for (const auto& [member, n] : load) v.members[member] = age;
  v.load = std::move(load);
  v.owners = std::move(owners);
  return v;
}

TEST(OwnershipPlanTest, FreeLinksSpreadOverTheLeastLoadedMembers) {
  // Three idle members, two free links: the first goes to m1, the second to m2, none to m3.
  auto plan1 = PlanOwnership(View("m1", {{"m1", 0}, {"m2", 0}, {"m3", 0}}, {}), kLinks, {});
  EXPECT_THAT(plan1.take, ElementsAre("forward"));
  auto plan2 = PlanOwnership(View("m2", {{"m1", 0}, {"m2", 0}, {"m3", 0}}, {}), kLinks, {});
  EXPECT_THAT(plan2.take, ElementsAre("reverse"));
  auto plan3 = PlanOwnership(View("m3", {{"m1", 0}, {"m2", 0}, {"m3", 0}}, {}), kLinks, {});
  EXPECT_THAT(plan3.take, IsEmpty());
}

TEST(OwnershipPlanTest, AKilledOwnersLinkGoesToTheStandbyNotToTheBusyMember) {
  // m1 died holding forward; m2 runs reverse; m3 (idle) takes forward at once, m2 does not.
  auto view = View("m3", {{"m2", 1}, {"m3", 0}}, {{"reverse", "m2"}});
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).take, ElementsAre("forward"));
  view.self = "m2";
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).take, IsEmpty());
}

TEST(OwnershipPlanTest, ALinkLeftFreeTooLongIsTakenByAnyMember) {
  // The chosen member (m3) cannot take it (say its database is unreachable): after the grace m2 does.
  auto view = View("m2", {{"m2", 1}, {"m3", 0}}, {{"reverse", "m2"}});
  view.free_for["forward"] = absl::Milliseconds(200);
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).take, IsEmpty());
  view.free_for["forward"] = absl::Seconds(2);
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).take, ElementsAre("forward"));
}

TEST(OwnershipPlanTest, LinksMoveBackToAMemberThatReturnsOnceItHasSettled) {
  // m1 holds both links after m2 was lost; m2 is back.
  auto view = View("m1", {{"m1", 2}, {"m2", 0}}, {{"forward", "m1"}, {"reverse", "m1"}});
  view.members["m2"] = absl::Seconds(1);
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).give_up, IsEmpty()) << "not before it has settled";
  view.members["m2"] = absl::Seconds(10);
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).give_up, ElementsAre("reverse"));
  // One apart is balanced: nothing moves (no ping-pong).
  auto balanced = View("m1", {{"m1", 1}, {"m2", 0}}, {{"forward", "m1"}});
  balanced.owners["reverse"] = "m3-of-another-project";
  EXPECT_THAT(PlanOwnership(balanced, kLinks, {}).give_up, IsEmpty());
}

TEST(OwnershipPlanTest, ALinkThatCameBackAfterBalancingIsKept) {
  // m1 gave reverse to m2, which could not run it; m1 took it back: it keeps it for a while.
  auto view = View("m1", {{"m1", 2}, {"m2", 0}}, {{"forward", "m1"}, {"reverse", "m1"}});
  view.keep = {"reverse"};
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).give_up, ElementsAre("forward"));
  view.keep = {"forward", "reverse"};
  EXPECT_THAT(PlanOwnership(view, kLinks, {}).give_up, IsEmpty());
}

TEST(OwnershipPlanTest, LoadCountsLinksOfOtherProjectsOnTheSameProcess) {
  // m1's process already runs two links of another project: m2 takes this project's free link.
  auto view = View("m1", {{"m1", 2}, {"m2", 0}}, {});
  EXPECT_THAT(PlanOwnership(view, {"forward"}, {}).take, IsEmpty());
  view.self = "m2";
  EXPECT_THAT(PlanOwnership(view, {"forward"}, {}).take, ElementsAre("forward"));
}

}  // namespace
}  // namespace duosync
