#include "apply/statement_grouping.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace duosync {
namespace {

ColumnSchema Column(const std::string& name, uint8_t type) {
  ColumnSchema c;
  c.name = name;
  c.type = type;
  if (type == coltype::kVarchar) {
    c.charset = "utf8mb4";
    c.collation = "utf8mb4_general_ci";
  }
  return c;
}

// t(id INT PRIMARY KEY, c VARCHAR, u INT NOT NULL UNIQUE, b BIT)
struct Table {
  Table() {
    auto schema = std::make_shared<TableSchema>();
    schema->schema = "s";
    schema->table = "t";
    schema->columns = {Column("id", coltype::kLong), Column("c", coltype::kVarchar), Column("u", coltype::kLong),
                       Column("b", coltype::kBit)};
    schema->key_columns = {0};
    schema->unique_keys = {{0}, {2}};
    route.schema = schema;
    route.destination = {"s", "t"};
    route.columns = {0, 1, 2, 3};
    route.key_columns = {0};
  }
  Route route;
};

class Changes {
 public:
  explicit Changes(const Route* route) : route_(route) { rows_.reserve(4000); }
  // A row of t: u follows id unless given.
  const Row* R(int64_t id, const std::string& c, int64_t u = -1, int64_t b = 0) {
    rows_.push_back({Value::Int(id), Value::Bytes(c), Value::Int(u < 0 ? 1000 + id : u), Value::Int(b)});
    return &rows_.back();
  }
  void Insert(int64_t id) { Add(RowOp::kInsert, nullptr, R(id, "x")); }
  void Delete(int64_t id) { Add(RowOp::kDelete, R(id, "x"), nullptr); }
  void Update(int64_t id, const std::string& from, const std::string& to) {
    Add(RowOp::kUpdate, R(id, from), R(id, to));
  }
  void Add(RowOp op, const Row* before, const Row* after, bool idempotent = false) {
    RoutedChange c{op, route_, before, after};
    changes_.push_back(c);
    idempotent_.push_back(idempotent);
  }
  std::vector<GroupedChange> Input() const {
    std::vector<GroupedChange> in;
    for (size_t i = 0; i < changes_.size(); ++i) in.push_back(GroupedChange{&changes_[i], idempotent_[i]});
    return in;
  }
  // Each group as the positions of its changes.
  std::vector<std::vector<int>> Grouped() const {
    std::vector<std::vector<int>> out;
    for (const ChangeGroup& g : GroupChanges(Input())) {
      out.emplace_back();
      for (const GroupedChange& c : g.changes) out.back().push_back(static_cast<int>(c.change - &changes_[0]));
    }
    return out;
  }

 private:
  const Route* route_;
  std::vector<Row> rows_;
  std::vector<RoutedChange> changes_;
  std::vector<bool> idempotent_;
};

using Groups = std::vector<std::vector<int>>;

TEST(StatementGroupingTest, ChangesOfOneKindGoTogetherUnlessTheyShareARow) {
  Table t;
  Changes c(&t.route);
  c.Update(1, "a", "b");  // 0
  c.Insert(10);           // 1
  c.Update(2, "a", "b");  // 2: joins 0
  c.Delete(3);            // 3
  c.Update(1, "b", "c");  // 4: row 1 again: after 0's group, so a group of its own
  c.Insert(11);           // 5: joins 1
  c.Delete(10);           // 6: row 10 was inserted by group 1: the DELETE group (after it) takes it
  c.Update(4, "a", "b");  // 7: shares no row with anything: joins the earliest UPDATE group
  c.Delete(1);            // 8: row 1 was last updated by 4's group: a DELETE group after it
  c.Delete(12);           // 9: joins the earliest DELETE group
  c.Insert(1);            // 10: row 1 back: after 8, a new INSERT group
  c.Update(5, "a", "b");  // 11: joins the earliest UPDATE group
  EXPECT_EQ(c.Grouped(), (Groups{{0, 2, 7, 11}, {1, 5}, {3, 6, 9}, {4}, {8}, {10}}));
}

TEST(StatementGroupingTest, AUniqueValueKeepsItsOrder) {
  Table t;
  Changes c(&t.route);
  c.Insert(5);                                            // 0
  c.Add(RowOp::kDelete, c.R(1, "x", /*u=*/7), nullptr);  // 1: frees u=7
  c.Add(RowOp::kInsert, nullptr, c.R(2, "x", /*u=*/7));   // 2: takes u=7: may not move before 1
  c.Add(RowOp::kInsert, nullptr, c.R(3, "x", /*u=*/8));   // 3: joins the earliest INSERT group
  c.Add(RowOp::kInsert, nullptr, c.R(4, "x", /*u=*/7));   // 4: u=7 again: after 2
  EXPECT_EQ(c.Grouped(), (Groups{{0, 3}, {1}, {2}, {4}}));
}

TEST(StatementGroupingTest, UpdatesOfUniqueKeysOrOfUnsupportedTypesGoAlone) {
  Table t;
  Changes c(&t.route);
  c.Update(1, "a", "b");                                          // 0
  c.Add(RowOp::kUpdate, c.R(2, "a"), c.R(2, "a", /*u=*/99));      // 1: changes unique u
  c.Add(RowOp::kUpdate, c.R(3, "a"), c.R(3, "a", -1, /*b=*/1));   // 2: a BIT column
  c.Update(5, "a", "b");                                          // 3: joins 0
  EXPECT_EQ(c.Grouped(), (Groups{{0, 3}, {1}, {2}}));
  auto in = c.Input();
  EXPECT_EQ(JoinableUpdateColumns(*in[0].change), std::vector<int>{1});
  EXPECT_TRUE(JoinableUpdateColumns(*in[1].change).empty());
  EXPECT_TRUE(JoinableUpdateColumns(*in[2].change).empty());
}

// A REPLACE (idempotent change) may remove rows on keys the hashes cannot see, and a cascade may
// act on a child row that moved: such batches keep source order, as one group.
TEST(StatementGroupingTest, IdempotentChangesOrForeignKeysToSyncedTablesKeepSourceOrder) {
  Table t;
  Changes c(&t.route);
  c.Update(1, "a", "b");
  c.Insert(10);
  c.Update(2, "a", "b");
  c.Add(RowOp::kInsert, nullptr, c.R(4, "a"), /*idempotent=*/true);
  EXPECT_EQ(c.Grouped(), (Groups{{0, 1, 2, 3}}));
  EXPECT_TRUE(GroupChanges(c.Input())[0].update_columns.empty());

  Table child;
  child.route.parent_keys.push_back(ParentKey{{"s", "p"}, {2}, {"id"}});
  Changes d(&child.route);
  d.Update(1, "a", "b");
  d.Insert(10);
  d.Update(2, "a", "b");
  EXPECT_EQ(d.Grouped(), (Groups{{0, 1, 2}}));
}

TEST(StatementGroupingTest, AJoinedUpdateHoldsAtMostItsLimit) {
  Table t;
  Changes c(&t.route);
  for (size_t i = 0; i < kMaxJoinedUpdates + 5; ++i) c.Update(static_cast<int64_t>(i + 1), "a", "b");
  const std::vector<ChangeGroup> groups = GroupChanges(c.Input());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].changes.size(), kMaxJoinedUpdates);
  EXPECT_EQ(groups[1].changes.size(), 5u);
}

TEST(StatementGroupingTest, UpdatesSettingOtherColumnsOrWithATextKeyDoNotJoin) {
  Table t;
  Changes c(&t.route);
  c.Update(1, "a", "b");
  c.Add(RowOp::kUpdate, c.R(2, "a", 10), c.R(2, "a", 10, 0));  // sets nothing: alone
  EXPECT_EQ(c.Grouped(), (Groups{{0}, {1}}));
  Table text;
  auto schema = std::make_shared<TableSchema>(*text.route.schema);
  schema->columns[0] = Column("id", coltype::kVarchar);
  text.route.schema = schema;
  Changes d(&text.route);
  d.Update(1, "a", "b");
  EXPECT_TRUE(JoinableUpdateColumns(*d.Input()[0].change).empty());
}

}  // namespace
}  // namespace duosync
