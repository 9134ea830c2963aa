// Integration tests share one pair of real MariaDB servers for the whole binary.
#include "gtest/gtest.h"
#include "support/test_support.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new duosync::testing::ServerPair);
  return RUN_ALL_TESTS();
}
