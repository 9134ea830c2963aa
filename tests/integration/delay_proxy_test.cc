#include "harness/delay_proxy.h"

#include <chrono>

#include "support/test_support.h"

namespace duosync {
namespace {

TEST(DelayProxyTest, ForwardsQueriesAndDelaysEachRoundTrip) {
  auto proxy = harness::DelayProxy::Start("127.0.0.1", testing::ServerPair::B().port(),
                                          absl::Milliseconds(15));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ConnectOptions o = testing::ServerPair::B().Options();
  o.port = (*proxy)->port();
  auto conn = SqlConnection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto v = (*conn)->QueryValue("SELECT 40 + 2");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->value_or(""), "42");
  }
  // A lower bound only: the proxy can never deliver a round trip sooner than twice the delay.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(5 * 30));
  // Large statements and results cross intact, in both directions.
  const std::string big(3000000, 'x');
  auto md5 = (*conn)->QueryValue("SELECT MD5('" + big + "')");
  ASSERT_TRUE(md5.ok()) << md5.status();
  auto expected = (*conn)->QueryValue("SELECT MD5(REPEAT('x', 3000000))");
  EXPECT_EQ(md5->value_or("a"), expected->value_or("b"));
  auto payload = (*conn)->QueryValue("SELECT REPEAT('y', 5000000)");
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(payload->value_or(""), std::string(5000000, 'y'));
}

}  // namespace
}  // namespace duosync
