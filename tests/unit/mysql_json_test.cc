// MySQL's binary JSON and JSON diffs, on documents written byte by byte from the format.
#include "source/mysql_json.h"

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace duosync {
namespace {

std::string Le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// A small object (2-byte offsets) of (key, type, inline-or-offset-resolved value) members, laid
// out as MySQL does: header, key entries, value entries, keys, then the non-inlined values.
std::string SmallObject(const std::vector<std::pair<std::string, std::string>>& members) {
  // Each member value is a full document (type byte + value); int16 and literals are inlined.
  const size_t count = members.size();
  size_t header = 4 + count * 4 + count * 3;
  std::string keys, values, key_entries, value_entries;
  size_t offset = header;
  for (const auto& m : members) {
    key_entries += Le(offset, 2) + Le(m.first.size(), 2);
    keys += m.first;
    offset += m.first.size();
  }
  for (const auto& m : members) {
    const char type = m.second[0];
    const std::string body = m.second.substr(1);
    if (type == 0x04 || type == 0x05 || type == 0x06) {
      value_entries += std::string(1, type) + body + std::string(2 - body.size(), '\0');
    } else {
      value_entries += std::string(1, type) + Le(offset, 2);
      values += body;
      offset += body.size();
    }
  }
  return std::string(1, '\x00') + Le(count, 2) + Le(offset, 2) + key_entries + value_entries + keys + values;
}

std::string Str(const std::string& s) { return std::string(1, '\x0c') + static_cast<char>(s.size()) + s; }
std::string Int16(int16_t v) { return std::string(1, '\x05') + Le(static_cast<uint16_t>(v), 2); }

TEST(MysqlJsonTest, ScalarsOfEveryTypePrintAsMysqlDoes) {
  EXPECT_EQ(*BinaryJsonToText(std::string("\x04\x00", 2)), "null");
  EXPECT_EQ(*BinaryJsonToText(std::string("\x04\x01", 2)), "true");
  EXPECT_EQ(*BinaryJsonToText(std::string("\x04\x02", 2)), "false");
  EXPECT_EQ(*BinaryJsonToText(Int16(-5)), "-5");
  EXPECT_EQ(*BinaryJsonToText("\x06" + Le(65535, 2)), "65535");
  EXPECT_EQ(*BinaryJsonToText("\x07" + Le(static_cast<uint32_t>(-70000), 4)), "-70000");
  EXPECT_EQ(*BinaryJsonToText("\x09" + Le(static_cast<uint64_t>(INT64_MIN), 8)), "-9223372036854775808");
  EXPECT_EQ(*BinaryJsonToText("\x0a" + Le(UINT64_MAX, 8)), "18446744073709551615");
  double d = 2.5;
  uint64_t raw;
  std::memcpy(&raw, &d, 8);
  EXPECT_EQ(*BinaryJsonToText("\x0b" + Le(raw, 8)), "2.5");
  d = 3;
  std::memcpy(&raw, &d, 8);
  EXPECT_EQ(*BinaryJsonToText("\x0b" + Le(raw, 8)), "3.0");
  EXPECT_EQ(*BinaryJsonToText(Str("a\"b\\c\n")), R"("a\"b\\c\u000a")");
  EXPECT_EQ(*BinaryJsonToText(""), "null");  // an empty value, as MySQL reads it
  // A 200-byte string: its length takes two 7-bit groups.
  const std::string long_text(200, 'x');
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0c") + "\xc8\x01" + long_text), "\"" + long_text + "\"");
}

TEST(MysqlJsonTest, OpaqueDecimalsAndTemporalsPrintAsValues) {
  // DECIMAL(5,2) -12.50: precision, scale, then the binary decimal.
  const std::string dec = std::string("\x0f\xf6\x05\x05\x02", 5) + std::string("\x7f\xf3\xcd", 3);
  EXPECT_EQ(*BinaryJsonToText(dec), "-12.50");
  // DATETIME 2015-01-15 23:24:25.000001 as MySQL's packed longlong.
  const int64_t ymd = ((2015 * 13 + 1) << 5) | 15;
  const int64_t hms = (23 << 12) | (24 << 6) | 25;
  const int64_t packed = (((ymd << 17) | hms) << 24) + 1;
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x0c\x08", 3) + Le(packed, 8)), "\"2015-01-15 23:24:25.000001\"");
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x0a\x08", 3) + Le((ymd << 17) << 24, 8)), "\"2015-01-15\"");
  const int64_t time = -(((static_cast<int64_t>(838) << 12 | 59 << 6 | 58)) << 24);
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x0b\x08", 3) + Le(time, 8)), "\"-838:59:58.000000\"");
}

// Found by binlog_decoder_fuzz: an opaque temporal value of INT64_MIN was negated as int64, which
// is undefined behaviour (the ASan/UBSan build stops on it). It prints like any corrupt value.
TEST(MysqlJsonTest, AnOpaqueTemporalOfInt64MinIsNoUndefinedBehaviour) {
  const std::string min = Le(static_cast<uint64_t>(INT64_MIN), 8);
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x0a\x08", 3) + min), "\"10082-06-00\"");
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x13\x08", 3) + min), "\"-134217728:00:00.000000\"");
  EXPECT_EQ(*BinaryJsonToText(std::string("\x0f\x0c\x08", 3) + min), "\"10082-06-00 -00:00:00.000000\"");
}

TEST(MysqlJsonTest, ObjectsAndArraysNestWithInlinedAndOffsetValues) {
  // ["x", 7, null] as a small array.
  std::string arr = Le(3, 2);
  const size_t header = 4 + 3 * 3;
  std::string entries = std::string(1, '\x0c') + Le(header, 2) + Int16(7) + std::string("\x04\x00\x00", 3);
  std::string body = std::string(1, '\x01') + "x";
  arr += Le(4 + entries.size() + body.size(), 2) + entries + body;
  const std::string array_doc = std::string(1, '\x02') + arr;
  EXPECT_EQ(*BinaryJsonToText(array_doc), R"(["x", 7, null])");
  const std::string obj = SmallObject({{"a", Int16(1)}, {"bb", Str("yes")}, {"ccc", array_doc}});
  EXPECT_EQ(*BinaryJsonToText(obj), R"({"a": 1, "bb": "yes", "ccc": ["x", 7, null]})");
}

TEST(MysqlJsonTest, MalformedBytesAreDataLossNeverACrash) {
  const std::string obj = SmallObject({{"a", Int16(1)}, {"bb", Str("yes")}});
  for (size_t cut = 1; cut < obj.size(); ++cut) {
    auto r = BinaryJsonToText(obj.substr(0, cut));
    EXPECT_FALSE(r.ok()) << cut;
    if (!r.ok()) EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  }
  EXPECT_TRUE(absl::IsDataLoss(BinaryJsonToText("\x0d").status()));           // unknown type
  EXPECT_TRUE(absl::IsDataLoss(BinaryJsonToText("\x04\x07").status()));       // unknown literal
  std::string inner = Le(0, 2) + Le(4, 2);  // []
  for (int i = 0; i < 300; ++i) inner = Le(1, 2) + Le(7 + inner.size(), 2) + "\x02" + Le(7, 2) + inner;
  auto deep = BinaryJsonToText("\x02" + inner);  // [[[[...]]]]
  EXPECT_TRUE(absl::IsDataLoss(deep.status())) << deep.status();  // nesting is bounded
  // Two entries pointing at the same child, 60 levels deep: 600 bytes that would unfold to 2^60
  // nodes. Refused at once, not decoded forever.
  std::string shared = Le(0, 2) + Le(4, 2);
  for (int i = 0; i < 60; ++i) {
    shared = Le(2, 2) + Le(10 + shared.size(), 2) + "\x02" + Le(10, 2) + "\x02" + Le(10, 2) + shared;
  }
  auto bomb = BinaryJsonToText("\x02" + shared);
  EXPECT_TRUE(absl::IsDataLoss(bomb.status())) << bomb.status();
}

std::string Diff(int op, const std::string& path, const std::string& value = "") {
  std::string d(1, static_cast<char>(op));
  d += static_cast<char>(path.size());
  d += path;
  if (op != 2) {
    d += static_cast<char>(value.size());
    d += value;
  }
  return d;
}

TEST(MysqlJsonTest, DiffsApplyAsTheSourceServerDid) {
  const std::string arr = std::string(1, '\x02') + Le(2, 2) + Le(10, 2) + Int16(1).substr(0, 1) + Le(1, 2) +
                          Int16(2).substr(0, 1) + Le(2, 2);
  const std::string doc = SmallObject({{"a", Int16(1)}, {"list", arr}, {"name", Str("Joe")}});
  auto node = ParseBinaryJson(doc);
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_EQ(JsonText(*node), R"({"a": 1, "list": [1, 2], "name": "Joe"})");
  auto diffs = ParseJsonDiffs(Diff(0, "$.a", Int16(26)) + Diff(1, "$.list[1]", Str("mid")) +
                              Diff(1, "$.list[9]", Int16(9)) + Diff(2, "$.name") + Diff(1, "$.b", Int16(5)) +
                              Diff(0, "$.list[last]", Int16(10)) + Diff(1, "$.\"x y\"", Int16(0)));
  ASSERT_TRUE(diffs.ok()) << diffs.status();
  for (const auto& d : *diffs) ASSERT_TRUE(ApplyJsonDiff(d, &*node).ok()) << d.path;
  EXPECT_EQ(JsonText(*node), R"({"a": 26, "b": 5, "x y": 0, "list": [1, "mid", 2, 10]})");
  // A quoted member name is a JSON string, escapes included.
  auto escaped = ParseJsonDiffs(Diff(1, "$.\"a\\nb\\u00e9\"", Int16(7)));
  ASSERT_TRUE(escaped.ok());
  ASSERT_TRUE(ApplyJsonDiff(escaped->at(0), &*node).ok());
  EXPECT_THAT(JsonText(*node), ::testing::HasSubstr("\"a\\u000ab\xc3\xa9\": 7"));
  // Diffs that do not fit the document: the before image is not what the source had.
  for (const std::string& bad : {Diff(0, "$.missing", Int16(1)), Diff(1, "$.a", Int16(1)), Diff(0, "$", Int16(1)),
                                 Diff(2, "$.list[99]")}) {
    auto misfit = ParseJsonDiffs(bad);
    ASSERT_TRUE(misfit.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(ApplyJsonDiff(misfit->at(0), &*node))) << misfit->at(0).path;
  }
  EXPECT_TRUE(absl::IsDataLoss(ParseJsonDiffs(std::string("\x07\x01$", 3)).status()));
  EXPECT_EQ(*JsonDiffsAsSql(Diff(0, "$.age", Int16(26)) + Diff(2, "$.x"), "@2"),
            "JSON_REMOVE(JSON_REPLACE(@2, '$.age', 26), '$.x')");
}

}  // namespace
}  // namespace duosync
