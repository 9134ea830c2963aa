#include "base/names.h"

#include "gtest/gtest.h"

namespace duosync {
namespace {

TEST(NamesTest, DetectsChineseCharacters) {
  EXPECT_TRUE(HasChineseCharacter("订单"));
  EXPECT_TRUE(HasChineseCharacter("order_表"));
  EXPECT_TRUE(HasChineseCharacter("a，b"));       // full-width comma
  EXPECT_TRUE(HasChineseCharacter("\xF0\xA0\x80\x80"));  // U+20000, extension B
  EXPECT_FALSE(HasChineseCharacter("orders_2024"));
  EXPECT_FALSE(HasChineseCharacter("café"));       // Latin-1 supplement is fine
  EXPECT_TRUE(HasChineseCharacter("\xE4\xB8"));    // truncated UTF-8 is refused too
}

TEST(NamesTest, CheckObjectNameRules) {
  EXPECT_EQ(CheckObjectName("orders", "table"), "");
  EXPECT_NE(CheckObjectName("", "table"), "");
  EXPECT_NE(CheckObjectName(std::string(65, 'x'), "table"), "");
  EXPECT_NE(CheckObjectName("a$$b", "schema"), "");
  EXPECT_EQ(CheckObjectName("a$$b", "column"), "");
  EXPECT_NE(CheckObjectName("名", "column"), "");
}

TEST(NamesTest, QuotesIdentifiers) {
  EXPECT_EQ(QuoteIdent("a`b"), "`a``b`");
  EXPECT_EQ(QuoteTable("s", "t"), "`s`.`t`");
}

}  // namespace
}  // namespace duosync
