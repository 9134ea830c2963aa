#include "config/row_filter.h"

#include "gtest/gtest.h"

namespace duosync {
namespace {

// A row of table (id INT, name VARCHAR, price DECIMAL, note TEXT NULL).
Row MakeRow(int64_t id, std::string name, std::string price, bool note_null = true) {
  return {Value::Int(id), Value::String(std::move(name)), Value::String(std::move(price)),
          note_null ? Value::Null() : Value::String("n")};
}

bool Eval(const std::string& filter, const Row& row) {
  auto f = RowFilter::Parse(filter);
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return false;
  EXPECT_TRUE((*f)->Bind({"id", "name", "price", "note"}).ok());
  return (*f)->Matches(row);
}

TEST(RowFilterTest, Comparisons) {
  Row r = MakeRow(7, "bob", "12.50");
  EXPECT_TRUE(Eval("id = 7", r));
  EXPECT_TRUE(Eval("id >= 7 AND id < 8", r));
  EXPECT_FALSE(Eval("id <> 7", r));
  EXPECT_TRUE(Eval("price > 12.4", r));
  EXPECT_TRUE(Eval("name = 'bob'", r));
  EXPECT_TRUE(Eval("`name` != 'Bob'", r));  // binary comparison
  EXPECT_TRUE(Eval("id = '7'", r));
}

TEST(RowFilterTest, InBetweenLikeNot) {
  Row r = MakeRow(7, "bob's", "3");
  EXPECT_TRUE(Eval("id IN (1, 7, 9)", r));
  EXPECT_TRUE(Eval("id NOT IN (1, 2)", r));
  EXPECT_TRUE(Eval("id BETWEEN 5 AND 7", r));
  EXPECT_FALSE(Eval("id NOT BETWEEN 5 AND 7", r));
  EXPECT_TRUE(Eval("name LIKE 'bo%'", r));
  EXPECT_TRUE(Eval("name LIKE 'bob''_'", r));
  EXPECT_TRUE(Eval("NOT (id = 1 OR id = 2)", r));
}

TEST(RowFilterTest, NullsFollowThreeValuedLogic) {
  Row r = MakeRow(1, "a", "1");
  EXPECT_TRUE(Eval("note IS NULL", r));
  EXPECT_FALSE(Eval("note IS NOT NULL", r));
  EXPECT_FALSE(Eval("note = 'n'", r));
  EXPECT_FALSE(Eval("NOT (note = 'n')", r));  // unknown stays unknown
  EXPECT_TRUE(Eval("note = 'n' OR id = 1", r));
  EXPECT_TRUE(Eval("note = 'n'", MakeRow(1, "a", "1", false)));
}

TEST(RowFilterTest, RejectsWhatIsOutsideTheSubset) {
  for (const char* bad : {"id = (SELECT 1)", "lower(name) = 'x'", "id = ", "id == 1", "id = NULL",
                          "name = 'open", "id > 1 AND", "id + 1 > 2", "1 = id", ""}) {
    EXPECT_FALSE(RowFilter::Parse(bad).ok()) << bad;
  }
}

TEST(RowFilterTest, BindFailsForUnknownColumn) {
  auto f = RowFilter::Parse("missing = 1");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Bind({"id"}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*f)->Columns(), std::vector<std::string>{"missing"});
}

}  // namespace
}  // namespace duosync
