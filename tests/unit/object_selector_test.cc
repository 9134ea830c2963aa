#include "config/object_selector.h"

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace duosync {
namespace {

config::ObjectSelection Objects(const std::string& json) {
  config::ObjectSelection o;
  auto s = google::protobuf::util::JsonStringToMessage(json, &o);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return o;
}

TEST(WildcardMatchTest, StarAndQuestionMark) {
  EXPECT_TRUE(WildcardMatch("shop.*", "shop.orders", false));
  EXPECT_TRUE(WildcardMatch("shop.order_?", "shop.order_1", false));
  EXPECT_FALSE(WildcardMatch("shop.order_?", "shop.order_12", false));
  EXPECT_TRUE(WildcardMatch("*.t*s", "a.tables", false));
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_FALSE(WildcardMatch("shop.*", "shopx.orders", false));
  EXPECT_TRUE(WildcardMatch("s*p.*x", "sxxp.axbx", false));
}

TEST(WildcardMatchTest, MySqlModeIgnoresCase) {
  EXPECT_TRUE(WildcardMatch("Shop.ORDERS", "shop.orders", true));
  EXPECT_FALSE(WildcardMatch("Shop.ORDERS", "shop.orders", false));
}

TEST(ParseTableImportTest, AcceptsTrailingBarAndBlanks) {
  auto r = ParseTableImport(" s.t1 | s.t2|\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].ToString(), "s.t2");
  EXPECT_FALSE(ParseTableImport("s.t1|t2").ok());
  EXPECT_FALSE(ParseTableImport("s.|x.y").ok());
}

TEST(ObjectSelectorTest, RulesWhitelistMinusBlacklist) {
  ObjectSelector sel(Objects(R"({"rules": {"whitelist": ["shop.*", "crm.customer"],
                                 "blacklist": ["shop.tmp_*"]}})"), true);
  EXPECT_TRUE(sel.uses_rules());
  EXPECT_TRUE(sel.Select({"shop", "orders"}).has_value());
  EXPECT_TRUE(sel.Select({"SHOP", "Orders"}).has_value());
  EXPECT_FALSE(sel.Select({"shop", "tmp_1"}).has_value());
  EXPECT_TRUE(sel.Select({"crm", "customer"}).has_value());
  EXPECT_FALSE(sel.Select({"crm", "lead"}).has_value());
}

// A wildcard never selects a table whose name the config could not hold ('$$' would also pass
// for a piece of another table's full copy: "orders$$2").
TEST(ObjectSelectorTest, RulesLeaveOutNamesThatAreRefused) {
  ObjectSelector sel(Objects(R"({"rules": {"whitelist": ["shop.*"]}})"), true);
  EXPECT_TRUE(sel.Select({"shop", "orders"}).has_value());
  EXPECT_FALSE(sel.Select({"shop", "orders$$2"}).has_value());
  EXPECT_FALSE(sel.Select({"shop", "订单"}).has_value());
  EXPECT_NE(sel.RefusedName({"shop", "orders$$2"}).find("$$"), std::string::npos);
  EXPECT_EQ(sel.RefusedName({"shop", "orders"}), "");
  EXPECT_EQ(sel.RefusedName({"crm", "a$$b"}), "") << "not selected anyway";
  // 40 Cyrillic letters: 80 bytes, within a server's 64 characters.
  std::string long_name;
  for (int i = 0; i < 40; ++i) long_name += "ж";
  EXPECT_TRUE(sel.Select({"shop", long_name}).has_value());
}

TEST(ObjectSelectorTest, RulesRenameSchemasAndApplyPerTableSettings) {
  ObjectSelector sel(Objects(R"({"rules": {"whitelist": ["shop.*"],
      "schema_renames": {"shop": "shop_b"},
      "tables": [{"schema": "shop", "table": "orders", "rename": "orders_b", "where": "id > 5",
                  "columns": ["id", "total"]}]}})"), true);
  auto o = sel.Select({"shop", "orders"});
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->destination.ToString(), "shop_b.orders_b");
  EXPECT_EQ(o->where, "id > 5");
  EXPECT_EQ(o->columns.size(), 2u);
  auto i = sel.Select({"shop", "items"});
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(i->destination.ToString(), "shop_b.items");
}

TEST(ObjectSelectorTest, SpecifiedTablesAndImport) {
  ObjectSelector sel(Objects(R"({"tables": [{"schema": "s", "table": "a", "rename": "x.b"}],
                                 "import": "s.c|s.d|"})"), true);
  EXPECT_FALSE(sel.uses_rules());
  EXPECT_EQ(sel.named_tables().size(), 3u);
  EXPECT_EQ(sel.Select({"s", "a"})->destination.ToString(), "x.b");
  EXPECT_EQ(sel.Select({"s", "d"})->destination.ToString(), "s.d");
  EXPECT_FALSE(sel.Select({"s", "e"}).has_value());
}

TEST(ObjectSelectorTest, OracleModeIsCaseSensitive) {
  ObjectSelector sel(Objects(R"({"import": "S.T"})"), false);
  EXPECT_TRUE(sel.Select({"S", "T"}).has_value());
  EXPECT_FALSE(sel.Select({"s", "t"}).has_value());
}

}  // namespace
}  // namespace duosync
