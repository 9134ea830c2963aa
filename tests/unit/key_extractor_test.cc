#include "apply/key_extractor.h"

#include <memory>

#include "gtest/gtest.h"

namespace duosync {
namespace {

ColumnSchema Text(const std::string& collation) {
  ColumnSchema c;
  c.name = "k";
  c.type = coltype::kVarchar;
  c.charset = "utf8mb4";
  c.collation = collation;
  return c;
}

std::string N(const std::string& v, const ColumnSchema& c) {
  return NormalizeKeyValue(Value::Bytes(v), c);
}

TEST(KeyExtractorTest, CaseInsensitiveCollationsFoldCaseAccentsAndTrailingSpaces) {
  const ColumnSchema ci = Text("utf8mb4_general_ci");
  EXPECT_EQ(N("Alice", ci), N("alice", ci));
  EXPECT_EQ(N("alice  ", ci), N("ALICE", ci));
  EXPECT_EQ(N("Café", ci), N("cafe", ci));
  EXPECT_EQ(N("ŁÓDŹ", ci), N("lodz", ci));
  EXPECT_NE(N("alice", ci), N("alicia", ci));
  EXPECT_NE(N("a b", ci), N("ab", ci));
}

TEST(KeyExtractorTest, BinaryCollationsCompareExactlyButPadSpaces) {
  const ColumnSchema bin = Text("utf8mb4_bin");
  EXPECT_NE(N("Alice", bin), N("alice", bin));
  EXPECT_EQ(N("alice  ", bin), N("alice", bin));  // PAD SPACE
  const ColumnSchema nopad = Text("utf8mb4_nopad_bin");
  EXPECT_NE(N("alice  ", nopad), N("alice", nopad));
  ColumnSchema blob;
  blob.type = coltype::kBlob;  // binary: no charset
  EXPECT_NE(N("a ", blob), N("a", blob));
}

TEST(KeyExtractorTest, BeforeAndAfterImagesOfEveryUniqueKeyAreKeys) {
  auto schema = std::make_shared<TableSchema>();
  schema->schema = "s";
  schema->table = "t";
  ColumnSchema id;
  id.name = "id";
  id.type = coltype::kLong;
  schema->columns = {id, Text("utf8mb4_general_ci")};
  schema->unique_keys = {{0}, {1}};
  schema->key_columns = {0};
  Route route;
  route.schema = schema;
  route.destination = {"s", "t"};
  route.columns = {0, 1};
  route.key_columns = {0};
  Row before = {Value::Int(1), Value::Bytes("old")};
  Row after = {Value::Int(2), Value::Bytes("NEW")};
  std::vector<uint64_t> update_keys;
  ExtractKeys(RoutedChange{RowOp::kUpdate, &route, &before, &after}, &update_keys);
  EXPECT_EQ(update_keys.size(), 4u);  // 2 keys x (before, after)

  // An insert of the old key value collides with the update's before image ("row movement").
  std::vector<uint64_t> insert_keys;
  Row reinserted = {Value::Int(1), Value::Bytes("other")};
  ExtractKeys(RoutedChange{RowOp::kInsert, &route, nullptr, &reinserted}, &insert_keys);
  bool shares = false;
  for (uint64_t k : insert_keys) {
    for (uint64_t u : update_keys) shares = shares || k == u;
  }
  EXPECT_TRUE(shares);

  // A unique value equal under the collation collides too.
  std::vector<uint64_t> ci_keys;
  Row ci_row = {Value::Int(99), Value::Bytes("new  ")};
  ExtractKeys(RoutedChange{RowOp::kInsert, &route, nullptr, &ci_row}, &ci_keys);
  shares = false;
  for (uint64_t k : ci_keys) {
    for (uint64_t u : update_keys) shares = shares || k == u;
  }
  EXPECT_TRUE(shares);

  // Another table with the same values does not.
  Route other;
  other.schema = schema;
  other.destination = {"s", "u"};
  other.columns = route.columns;
  other.key_columns = route.key_columns;
  std::vector<uint64_t> other_keys;
  ExtractKeys(RoutedChange{RowOp::kInsert, &other, nullptr, &reinserted}, &other_keys);
  for (uint64_t k : other_keys) {
    for (uint64_t i : insert_keys) EXPECT_NE(k, i);
  }
}

}  // namespace
}  // namespace duosync
