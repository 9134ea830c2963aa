// Fuzz target of row filters (src/config/row_filter.h, filter_compare.h): whatever text a config's
// "where" holds and whatever values a decoded row brings, parsing, binding to a table's typed
// columns and evaluating rows must not crash, hang or hit undefined behaviour. Matches may return
// an error (a comparison only the server can decide), never a wrong answer detectable here.
//
// The input is the filter text, optionally followed by a NUL byte and a tail of bytes that
// becomes more rows (see RowsFromTail). The table has one column of every type family and
// collation a filter distinguishes (Table()); every filter is evaluated on the fixed rows of
// FixedRows() and on the tail's rows.
//
// Promises checked for each input (Fail() aborts with what broke):
//   - Parse fails only with InvalidArgument and a message; Bind by names or by columns fails only
//     with NotFound or InvalidArgument, and binds by names exactly when every column the filter
//     reads is in the table;
//   - Matches fails only with FailedPrecondition (the server would have to decide);
//   - three-valued logic: F and NOT (F) never both pass; (F) AND (F) and (F) OR (F) pass exactly
//     when F does (each parses, unless F is nested as deeply as a filter may be);
//   - what the filter decided without an oracle, it decides the same with one, without asking it.
// CompareDecimalText is also checked on pairs of the filter's literals: antisymmetric, reflexive.
//
// Built as `row_filter_fuzz` (Clang, -DDUOSYNC_FUZZ=ON: libFuzzer, tests/fuzz/run_fuzz.sh) and as
// `row_filter_corpus` (the normal build: replays tests/fuzz/corpus_row_filter plus deterministic
// mutations). `row_filter_corpus --write-seeds DIR` writes the seeds.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "config/filter_compare.h"
#include "config/filter_oracle.h"
#include "config/row_filter.h"
#include "fuzz_support.h"

namespace {

using duosync::ColumnSchema;
using duosync::Row;
using duosync::RowFilter;
using duosync::Value;
using duosync_fuzz::Fail;
namespace coltype = duosync::coltype;

const bool kNamed = duosync_fuzz::NameTarget("row_filter_fuzz");

ColumnSchema Column(std::string name, uint8_t type, uint16_t meta = 0, std::string collation = "",
                    std::vector<std::string> elements = {}, bool is_unsigned = false) {
  ColumnSchema c;
  c.name = std::move(name);
  c.type = type;
  c.meta = meta;
  c.is_unsigned = is_unsigned;
  c.collation = collation;
  if (!collation.empty()) c.charset = collation.substr(0, collation.find('_'));
  if (c.charset == "binary") c.collation.clear();
  c.elements = std::move(elements);
  return c;
}

// One column of every family and collation kind the comparisons tell apart, and the types a
// filter refuses (JSON, GEOMETRY).
const std::vector<ColumnSchema>& Table() {
  static const auto* table = new std::vector<ColumnSchema>{
      Column("id", coltype::kLong),
      Column("u", coltype::kLongLong, 0, "", {}, true),
      Column("tiny", coltype::kTiny),
      Column("bits", coltype::kBit, 0x0100),
      Column("price", coltype::kNewDecimal, 0x0a02),
      Column("f", coltype::kFloat, 4),
      Column("d", coltype::kDouble, 8),
      Column("day", coltype::kDate),
      Column("at", coltype::kDateTime2, 6),
      Column("old_at", coltype::kDateTime),
      Column("ts", coltype::kTimestamp2, 3),
      Column("t", coltype::kTime2, 6),
      Column("y", coltype::kYear),
      Column("status", coltype::kEnum, 1, "utf8mb4_general_ci", {"new", "Active", "closed ", "\xc3\xbc", ""}),
      Column("tags", coltype::kSet, 1, "utf8mb4_bin", {"a", "b", "c,d", "\xc3\x84"}),
      Column("unknown_enum", coltype::kEnum, 1, "utf8mb4_general_ci"),
      Column("ci", coltype::kVarchar, 400, "utf8mb4_general_ci"),
      Column("bin", coltype::kVarchar, 400, "utf8mb4_bin"),
      Column("uca", coltype::kVarchar, 400, "utf8mb4_unicode_ci"),
      Column("ai", coltype::kVarchar, 400, "utf8mb4_0900_ai_ci"),
      Column("nopad", coltype::kVarchar, 400, "utf8mb4_general_nopad_ci"),
      Column("lat", coltype::kVarchar, 100, "latin1_swedish_ci"),
      Column("latbin", coltype::kVarchar, 100, "latin1_bin"),
      Column("asc", coltype::kVarchar, 100, "ascii_general_ci"),
      Column("gbk", coltype::kVarchar, 100, "gbk_chinese_ci"),
      Column("ch", coltype::kString, 0xfe28, "utf8mb4_bin"),
      Column("txt", coltype::kBlob, 2, "utf8mb4_general_ci"),
      Column("raw", coltype::kVarchar, 100),
      Column("blob", coltype::kBlob, 2, "binary_x"),
      Column("j", coltype::kJson, 4),
      Column("g", coltype::kGeometry, 4),
      Column("untyped", 0),
  };
  return *table;
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const ColumnSchema& c : Table()) names.push_back(c.name);
  return names;
}

// Rows of values as the decoder writes them (and some it never would), by column of Table().
const std::vector<Row>& FixedRows() {
  static const auto* rows = [] {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    auto* out = new std::vector<Row>;
    out->push_back(Row(Table().size()));  // every column NULL
    out->push_back({Value::Int(7), Value::UInt(7), Value::Int(-1), Value::UInt(5), Value::String("12.50"),
                    Value::Double(0.1f), Value::Double(0.1), Value::String("2024-01-05"),
                    Value::String("2024-01-05 10:00:00.500000"), Value::String("2024-01-05 10:00:00"),
                    Value::String("2024-01-05 10:00:00.500"), Value::String("-01:30:00.000000"), Value::Int(2024),
                    Value::UInt(2), Value::UInt(5), Value::UInt(1), Value::Bytes("EU"), Value::Bytes("eu"),
                    Value::Bytes("Eu "), Value::Bytes("eu"), Value::Bytes("eu  "), Value::Bytes("\xfc"),
                    Value::Bytes("\xe9t\xe9"), Value::Bytes("ok"), Value::Bytes("\xd6\xd0"), Value::Bytes("bob's"),
                    Value::Bytes("M\xc3\xbcller"), Value::Bytes(std::string("\0\x01\xff", 3)),
                    Value::Bytes("blob"), Value::String("{\"a\": 1}"), Value::Bytes("geo"), Value::Bytes("?")});
    out->push_back({Value::Int(std::numeric_limits<int64_t>::min()), Value::UInt(UINT64_MAX), Value::Int(127),
                    Value::UInt(0), Value::String("-99999999.99"), Value::Double(nan), Value::Double(-inf),
                    Value::String("0000-00-00"), Value::String("9999-12-31 23:59:59.999999"),
                    Value::String("0000-00-00 00:00:00"), Value::String("1970-01-01 00:00:01.000"),
                    Value::String("-838:59:59.000000"), Value::Int(0), Value::UInt(0), Value::UInt(UINT64_MAX),
                    Value::UInt(3), Value::Bytes(""), Value::Bytes("\xff\xfe"), Value::Bytes("\xe2\x82\xac"),
                    Value::Bytes("A\xcc\x8a"), Value::Bytes(" "), Value::Bytes("\x80\x9f"), Value::Bytes("\xff"),
                    Value::Bytes("\x7f"), Value::Bytes(""), Value::Bytes("   "), Value::Bytes("%_\\"),
                    Value::Bytes(""), Value::Bytes(std::string(300, 'x')), Value::Bytes("[]"), Value::Bytes(""),
                    Value::Int(1)});
    // Kinds the columns' types never decode to.
    out->push_back({Value::String("7"), Value::Int(-7), Value::Bytes("x"), Value::Double(2.5), Value::Int(12),
                    Value::String("abc"), Value::Bytes("1e400"), Value::Int(20240105), Value::Double(1e15),
                    Value::Bytes("2024-13-45 99:99:99"), Value::UInt(1), Value::String("25:61:61"),
                    Value::String("2024"), Value::String("new"), Value::Int(-1), Value::Bytes("a"), Value::UInt(65),
                    Value::Int(66), Value::Double(3), Value::UInt(0), Value::String("x"), Value::Int(-1),
                    Value::UInt(200), Value::Double(-0.0), Value::Int(0), Value::UInt(1), Value::Int(5),
                    Value::String("s"), Value::Double(1), Value::Bytes("\x01"), Value::Int(2), Value::UInt(3)});
    for (const Row& r : *out) {
      if (r.size() != Table().size()) Fail("harness: a fixed row of the wrong width");
    }
    return out;
  }();
  return *rows;
}

// Reads the tail a byte at a time; zeros once it runs out.
class Tail {
 public:
  explicit Tail(absl::string_view bytes) : bytes_(bytes) {}
  bool empty() const { return pos_ >= bytes_.size(); }
  uint8_t Byte() { return pos_ < bytes_.size() ? static_cast<uint8_t>(bytes_[pos_++]) : 0; }
  uint64_t U64(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | Byte();
    return v;
  }
  std::string Text() {
    const size_t n = Byte() % 48;
    std::string out = std::string(bytes_.substr(std::min(pos_, bytes_.size()), n));
    pos_ += n;
    return out;
  }

 private:
  absl::string_view bytes_;
  size_t pos_ = 0;
};

// A value of column `c` as the decoder would write it, from the tail.
Value Typed(const ColumnSchema& c, Tail* t) {
  auto fraction = [&](int digits) {
    if (digits <= 0) return std::string();
    return absl::StrFormat(".%06d", static_cast<int>(t->U64(3) % 1000000)).substr(0, digits + 1);
  };
  switch (c.type) {
    case coltype::kLong: case coltype::kTiny: case coltype::kYear:
      return Value::Int(static_cast<int64_t>(t->U64(8)));
    case coltype::kLongLong: case coltype::kBit: case coltype::kEnum: case coltype::kSet:
      return Value::UInt(t->U64(t->Byte() % 9));
    case coltype::kNewDecimal: {
      std::string s = t->Byte() & 1 ? "-" : "";
      absl::StrAppend(&s, t->U64(4) % 100000000, ".", absl::StrFormat("%02d", t->Byte() % 100));
      return Value::String(s);
    }
    case coltype::kFloat: case coltype::kDouble: {
      const uint64_t raw = t->U64(8);
      double d;
      std::memcpy(&d, &raw, sizeof d);
      return Value::Double(d);
    }
    case coltype::kDate:
      return Value::String(absl::StrFormat("%04d-%02d-%02d", t->U64(2) % 10000, t->Byte() % 14, t->Byte() % 33));
    case coltype::kDateTime: case coltype::kDateTime2: case coltype::kTimestamp2:
      return Value::String(absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", t->U64(2) % 10000, t->Byte() % 14,
                                           t->Byte() % 33, t->Byte() % 25, t->Byte() % 61, t->Byte() % 61) +
                           fraction(c.type == coltype::kDateTime ? 0 : c.meta));
    case coltype::kTime2:
      return Value::String(absl::StrFormat("%s%02d:%02d:%02d", t->Byte() & 1 ? "-" : "", t->U64(2) % 1024,
                                           t->Byte() % 61, t->Byte() % 61) + fraction(c.meta));
    default:
      return Value::Bytes(t->Text());
  }
}

// More rows from the tail: per column, a selector byte (0 NULL, 1 a typed value, 2 a value of any
// kind, 3 the value of a fixed row), then what the choice reads.
std::vector<Row> RowsFromTail(absl::string_view bytes) {
  std::vector<Row> rows;
  Tail t(bytes);
  while (!t.empty() && rows.size() < 8) {
    Row row;
    for (const ColumnSchema& c : Table()) {
      const uint8_t s = t.Byte();
      switch (s % 4) {
        case 0: row.push_back(Value::Null()); break;
        case 1: row.push_back(Typed(c, &t)); break;
        case 2:
          switch ((s >> 2) % 6) {
            case 0: row.push_back(Value::Int(static_cast<int64_t>(t.U64(8)))); break;
            case 1: row.push_back(Value::UInt(t.U64(8))); break;
            case 2: row.push_back(Value::Double(static_cast<double>(static_cast<int64_t>(t.U64(8))) / 1024)); break;
            case 3: row.push_back(Value::String(t.Text())); break;
            case 4: row.push_back(Value::Bytes(t.Text())); break;
            default: row.push_back(Value::Null()); break;
          }
          break;
        default: row.push_back(FixedRows()[(s >> 2) % FixedRows().size()][row.size()]); break;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Answers what the filter cannot decide alone, byte-wise, and counts the questions.
class ByteOracle : public duosync::FilterOracle {
 public:
  absl::StatusOr<int> Compare(absl::string_view text, absl::string_view, absl::string_view,
                              absl::string_view literal) override {
    ++asked;
    if (literal == "oracle error") return absl::UnavailableError("the oracle's server is gone");
    const int c = text.compare(literal);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  absl::StatusOr<bool> Like(absl::string_view text, absl::string_view, absl::string_view,
                            absl::string_view pattern) override {
    ++asked;
    return text.size() >= pattern.size();
  }
  int asked = 0;
};

// F composed; null when the composition nests deeper than a filter may (F itself is at the limit).
std::unique_ptr<RowFilter> MustParse(const std::string& text, const std::string& what) {
  auto f = RowFilter::Parse(text);
  if (!f.ok() && absl::StrContains(f.status().message(), "nested too deeply")) return nullptr;
  if (!f.ok()) Fail(absl::StrCat(what, " of a filter that parses does not parse: ", f.status().ToString()));
  return *std::move(f);
}

void CheckMatchesStatus(const absl::StatusOr<bool>& r, const std::string& what) {
  if (!r.ok() && (!absl::IsFailedPrecondition(r.status()) || r.status().message().empty())) {
    Fail(absl::StrCat(what, ": Matches failed other than with FailedPrecondition: ", r.status().ToString()));
  }
}

// Literals of the filter text, for CompareDecimalText: runs of number characters.
void CheckDecimalCompare(absl::string_view text) {
  std::vector<std::string> numbers;
  std::string cur;
  for (char c : text) {
    if (absl::ascii_isdigit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
      cur.push_back(c);
    } else if (!cur.empty()) {
      numbers.push_back(std::move(cur));
      cur.clear();
      if (numbers.size() >= 6) break;
    }
  }
  if (!cur.empty()) numbers.push_back(cur);
  for (const std::string& a : numbers) {
    if (duosync::CompareDecimalText(a, a) != 0) Fail(absl::StrCat("CompareDecimalText('", a, "', itself) != 0"));
    (void)duosync::StringToDoubleLikeServer(a);
    for (const std::string& b : numbers) {
      if (duosync::CompareDecimalText(a, b) != -duosync::CompareDecimalText(b, a)) {
        Fail(absl::StrCat("CompareDecimalText('", a, "', '", b, "') is not antisymmetric"));
      }
    }
  }
}

int RunOne(const uint8_t* data, size_t size) {
  const std::string input = duosync_fuzz::Bytes(data, size);
  const size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  const std::string tail = nul == std::string::npos ? "" : input.substr(nul + 1);
  CheckDecimalCompare(text);

  auto parsed = RowFilter::Parse(text);
  if (!parsed.ok()) {
    if (!absl::IsInvalidArgument(parsed.status()) || parsed.status().message().empty()) {
      Fail(absl::StrCat("Parse failed other than with InvalidArgument: ", parsed.status().ToString()));
    }
    return 0;
  }
  RowFilter& filter = **parsed;
  if (filter.text() != text) Fail("the filter's text is not what it was parsed from");

  // By names: binds exactly when every column read is in the table.
  const std::vector<std::string> names = Names();
  bool all_known = true;
  for (const std::string& c : filter.Columns()) {
    bool known = false;
    for (const std::string& n : names) known = known || absl::EqualsIgnoreCase(n, c);
    all_known = all_known && known;
  }
  const absl::Status by_names = filter.Bind(names);
  if (by_names.ok() != all_known) {
    Fail(absl::StrCat("Bind(names) ", by_names.ToString(), " though every column is ", all_known ? "" : "not ",
                      "in the table"));
  }
  if (!by_names.ok() && !absl::IsNotFound(by_names)) Fail(absl::StrCat("Bind(names): ", by_names.ToString()));

  const absl::Status bound = filter.Bind(Table(), nullptr);
  if (!bound.ok()) {
    if ((!absl::IsNotFound(bound) && !absl::IsInvalidArgument(bound)) || bound.message().empty()) {
      Fail(absl::StrCat("Bind(columns) failed other than with NotFound or InvalidArgument: ", bound.ToString()));
    }
    // (A bad literal met first may be reported instead of an unknown column.)
    if (all_known && absl::IsNotFound(bound)) Fail(absl::StrCat("Bind(columns) and Bind(names) disagree: ", bound.ToString()));
    return 0;
  }
  if (!all_known) Fail("Bind(columns) bound a filter that reads a column the table does not have");

  // The same filter composed: NOT, AND and OR with itself; and bound with an oracle.
  std::unique_ptr<RowFilter> negated = MustParse(absl::StrCat("NOT (", text, ")"), "NOT (F)");
  std::unique_ptr<RowFilter> both = MustParse(absl::StrCat("(", text, ") AND (", text, ")"), "(F) AND (F)");
  std::unique_ptr<RowFilter> either = MustParse(absl::StrCat("(", text, ") OR (", text, ")"), "(F) OR (F)");
  std::unique_ptr<RowFilter> with_oracle = MustParse(text, "F");
  if (negated == nullptr || both == nullptr || either == nullptr) return 0;
  for (RowFilter* f : {negated.get(), both.get(), either.get()}) {
    const absl::Status s = f->Bind(Table(), nullptr);
    if (!s.ok()) Fail(absl::StrCat("'", f->text(), "' does not bind though F does: ", s.ToString()));
  }
  ByteOracle oracle;
  if (const absl::Status s = with_oracle->Bind(Table(), &oracle); !s.ok()) {
    Fail(absl::StrCat("F binds without an oracle but not with one: ", s.ToString()));
  }

  std::vector<Row> rows = FixedRows();
  for (Row& r : RowsFromTail(tail)) rows.push_back(std::move(r));
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const std::string where = absl::StrCat("row ", i);
    const absl::StatusOr<bool> m = filter.Matches(row);
    CheckMatchesStatus(m, where);
    const absl::StatusOr<bool> again = filter.Matches(row);
    if (m.ok() != again.ok() || (m.ok() && *m != *again)) Fail(absl::StrCat(where, ": Matches differs when asked again"));
    const absl::StatusOr<bool> n = negated->Matches(row);
    CheckMatchesStatus(n, where + " NOT (F)");
    if (m.ok() && n.ok() && *m && *n) Fail(absl::StrCat(where, ": F and NOT (F) both pass"));
    for (RowFilter* f : {both.get(), either.get()}) {
      const absl::StatusOr<bool> x = f->Matches(row);
      CheckMatchesStatus(x, where + " " + f->text());
      if (m.ok() && x.ok() && *m != *x) {
        Fail(absl::StrCat(where, ": '", f->text(), "' gives ", *x, " where F gives ", *m));
      }
    }
    const int asked_before = oracle.asked;
    const absl::StatusOr<bool> o = with_oracle->Matches(row);
    if (!o.ok() && !absl::IsFailedPrecondition(o.status()) && !absl::IsUnavailable(o.status())) {
      Fail(absl::StrCat(where, ": Matches with an oracle: ", o.status().ToString()));
    }
    if (m.ok()) {
      if (!o.ok() || *o != *m) Fail(absl::StrCat(where, ": decided without an oracle, but not the same with one"));
      if (oracle.asked != asked_before) Fail(absl::StrCat(where, ": the oracle was asked what the filter decided alone"));
    }
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return RunOne(data, size); }

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
namespace {

// Filters over every column family and operator (those of tests/unit/row_filter_test.cc and more),
// a few that do not parse or bind, and two with a tail of extra rows.
const char* const kSeeds[] = {
    "id = 7",
    "id >= 7 AND id < 8 OR u <> 18446744073709551615",
    "price > 12.4 AND price BETWEEN -1.5 AND 1e3",
    "`bin` != 'Bob' AND ci = 'eu   ' AND nopad = 'eu'",
    "id IN (1, 7, 9) AND id NOT IN (1, 2) AND NOT (id = 1 OR id = 2)",
    "id NOT BETWEEN 5 AND 7 OR tiny = TRUE OR tiny = FALSE",
    "bin LIKE 'bo%' AND ch LIKE 'bob''_' AND txt LIKE '%\\_%'",
    "txt IS NULL OR txt IS NOT NULL",
    "status IN ('active') AND status = 2 AND status < 'b' AND tags = 'a,c' AND tags = 5",
    "tags LIKE '%c' OR status LIKE 'n_w'",
    "unknown_enum = 1 OR unknown_enum = 'x'",
    "uca = 'EU' AND ai = 'eu' AND lat = 'EU' AND latbin > '\xc3\xa9' AND asc = 'ok' AND gbk = 'x'",
    "ci = 'M\xc3\x9cLLER' OR ci = 'oracle error'",
    "raw = 'EU ' OR blob = 'blob' OR raw LIKE '%\\0%'",
    "d = 0.1 AND f < 1 AND d = 3e-1 AND id = '7' AND u = '9007199254740993'",
    "bits = 5 OR bits > 0.5",
    "day = '2024-1-5' AND day = 20240105 AND day < '2024-01-05 00:00:01'",
    "at > '2024-01-05 10:00:00' AND at BETWEEN '2024-01-05' AND '2024-01-06' AND at LIKE '2024-01-05 10:%'",
    "ts >= '1970-01-01 00:00:01.000' AND old_at <> '0000-00-00 00:00:00' AND y = 2024",
    "t < '00:00:00' AND t = '-1:30' AND t > '-838:59:59' AND t = 13000",
    "day = '2024-02-30'",
    "j = 1",
    "missing = 1",
    "id = (SELECT 1)",
    "lower(name) = 'x'",
    "id > 1 AND",
    "name = 'open",
};

// A filter with a tail: rows of chosen values (selector bytes 1: typed, 2: raw kinds, 3: fixed).
std::string WithTail(const std::string& filter, uint8_t fill) {
  std::string out = filter;
  out.push_back('\0');
  for (size_t i = 0; i < Table().size(); ++i) {
    out.push_back(static_cast<char>(i % 3 + 1 + (fill & 0xfc)));
    for (int k = 0; k < 10; ++k) out.push_back(static_cast<char>(fill + 17 * k + i));
  }
  return out;
}

int WriteSeeds(const std::string& dir, const std::vector<std::string>&) {
  int i = 0;
  auto write = [&](const std::string& bytes) {
    duosync_fuzz::WriteWholeFile(absl::StrCat(dir, "/seed-", i < 10 ? "0" : "", i), bytes);
    ++i;
  };
  for (const char* seed : kSeeds) write(seed);
  write(WithTail("id > 0 AND ci LIKE '%a%' AND day > '2000-01-01' OR t < '10:00' OR tags = 3", 0x41));
  write(WithTail("status = 'closed' OR price <= 0 OR at IS NULL OR bin BETWEEN 'a' AND 'z'", 0x9c));
  printf("%d seeds written to %s\n", i, dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  duosync_fuzz::Replay replay;
  replay.write_seeds = WriteSeeds;
  return duosync_fuzz::ReplayMain(argc, argv, DUOSYNC_FUZZ_CORPUS_DIR, replay);
}
#endif  // DUOSYNC_FUZZ_REPLAY_MAIN
