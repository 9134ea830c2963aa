#include "config/filter_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

Order FromInt(int c) { return c < 0 ? Order::kLess : c > 0 ? Order::kGreater : Order::kEqual; }

template <typename T>
Order Cmp(T a, T b) { return a < b ? Order::kLess : a > b ? Order::kGreater : Order::kEqual; }

// ---- numbers ----

// Splits a decimal number's text into sign, integer digits (no leading zeros) and fraction digits
// (no trailing zeros). False when it is not a plain decimal.
bool SplitDecimal(absl::string_view t, bool* negative, std::string* integer, std::string* fraction) {
  *negative = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    *negative = t[0] == '-';
    t.remove_prefix(1);
  }
  const size_t dot = t.find('.');
  absl::string_view i = t.substr(0, dot), f = dot == absl::string_view::npos ? "" : t.substr(dot + 1);
  if (i.empty() && f.empty()) return false;
  for (char c : i) if (!absl::ascii_isdigit(c)) return false;
  for (char c : f) if (!absl::ascii_isdigit(c)) return false;
  while (!i.empty() && i[0] == '0') i.remove_prefix(1);
  while (!f.empty() && f.back() == '0') f.remove_suffix(1);
  *integer = std::string(i);
  *fraction = std::string(f);
  if (integer->empty() && fraction->empty()) *negative = false;  // -0 is 0
  return true;
}

}  // namespace

int CompareDecimalText(absl::string_view a, absl::string_view b) {
  bool na, nb;
  std::string ia, fa, ib, fb;
  if (!SplitDecimal(a, &na, &ia, &fa) || !SplitDecimal(b, &nb, &ib, &fb)) {
    double x = StringToDoubleLikeServer(a), y = StringToDoubleLikeServer(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (na != nb) return na ? -1 : 1;
  int magnitude;
  if (ia.size() != ib.size()) {
    magnitude = ia.size() < ib.size() ? -1 : 1;
  } else if (int c = ia.compare(ib); c != 0) {
    magnitude = c < 0 ? -1 : 1;
  } else {
    int c2 = fa.compare(fb);  // no trailing zeros: lexical order is numeric order
    magnitude = c2 < 0 ? -1 : c2 > 0 ? 1 : 0;
  }
  return na ? -magnitude : magnitude;
}

// The server reads a string as a number by its longest numeric prefix ('12abc' is 12, 'abc' 0),
// after leading spaces.
double StringToDoubleLikeServer(absl::string_view t) {
  size_t i = 0;
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  const size_t start = i;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  size_t digits = 0;
  while (i < t.size() && absl::ascii_isdigit(t[i])) { ++i; ++digits; }
  if (i < t.size() && t[i] == '.') {
    size_t j = i + 1;
    while (j < t.size() && absl::ascii_isdigit(t[j])) { ++j; ++digits; }
    i = j;
  }
  if (digits == 0) return 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    size_t j = i + 1;
    if (j < t.size() && (t[j] == '-' || t[j] == '+')) ++j;
    if (j < t.size() && absl::ascii_isdigit(t[j])) {
      while (j < t.size() && absl::ascii_isdigit(t[j])) ++j;
      i = j;
    }
  }
  return std::strtod(std::string(t.substr(start, i - start)).c_str(), nullptr);
}

namespace {

double LiteralDouble(const FilterLiteral& l) { return StringToDoubleLikeServer(l.text); }

// An exact number's text, for decimal comparison.
std::string ExactText(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInt: return absl::StrCat(v.i);
    case Value::Kind::kUInt: return absl::StrCat(v.u);
    default: return v.s;
  }
}

double ValueDouble(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInt: return static_cast<double>(v.i);
    case Value::Kind::kUInt: return static_cast<double>(v.u);
    case Value::Kind::kDouble: return v.d;
    default: return StringToDoubleLikeServer(v.s);
  }
}

Order CompareNumber(const Value& v, const FilterLiteral& l, bool exact_value) {
  const bool exact_literal =
      l.kind == FilterLiteral::Kind::kInteger || l.kind == FilterLiteral::Kind::kDecimal;
  if (exact_value && exact_literal) return FromInt(CompareDecimalText(ExactText(v), l.text));
  return Cmp(ValueDouble(v), LiteralDouble(l));
}

// ---- time ----

constexpr int64_t kMicros = 1000000;

int DaysIn(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

// A date and time as one ordered number.
int64_t DateTimePoint(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us) {
  return ((((((y * 13 + mo) * 32 + d) * 24 + h) * 60 + mi) * 60 + s) * kMicros) + us;
}

// Reads up to `max` digits (at least one) at `*p`.
bool Digits(absl::string_view t, size_t* p, int min, int max, int64_t* out) {
  int n = 0;
  int64_t v = 0;
  while (*p < t.size() && n < max && absl::ascii_isdigit(t[*p])) {
    v = v * 10 + (t[*p] - '0');
    ++*p;
    ++n;
  }
  *out = v;
  return n >= min;
}

// ".ffffff" (1 to 6 digits) at `*p` as microseconds; absent is 0.
bool Fraction(absl::string_view t, size_t* p, int64_t* us) {
  *us = 0;
  if (*p >= t.size() || t[*p] != '.') return true;
  ++*p;
  const size_t start = *p;
  int64_t v;
  if (!Digits(t, p, 1, 6, &v)) return false;
  for (size_t n = *p - start; n < 6; ++n) v *= 10;
  *us = v;
  return *p == t.size() || !absl::ascii_isdigit(t[*p]);
}

// `stored`: a value the server holds, which may have zero parts ('2024-02-00', allowed without
// NO_ZERO_IN_DATE); a literal must be a real date.
bool ValidDateTime(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, bool stored = false) {
  if (h > 23 || mi > 59 || s > 59) return false;
  if (y == 0 && mo == 0 && d == 0) return true;  // the zero date
  if (stored) return y <= 9999 && mo <= 12 && d <= 31;
  return y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= DaysIn(y, mo);
}

// 'YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]]' (separators - / .), or the compact YYYYMMDD[HHMMSS[.ffffff]].
std::optional<int64_t> ParseDateTime(absl::string_view t, bool stored = false) {
  int64_t y, mo, d, h = 0, mi = 0, s = 0, us = 0;
  size_t p = 0;
  bool all_digits = !t.empty();
  size_t digits = 0;
  for (char c : t) {
    if (c == '.') break;
    all_digits = all_digits && absl::ascii_isdigit(c);
    ++digits;
  }
  if (all_digits && (digits == 8 || digits == 14)) {
    Digits(t, &p, 4, 4, &y);
    Digits(t, &p, 2, 2, &mo);
    Digits(t, &p, 2, 2, &d);
    if (digits == 14) {
      Digits(t, &p, 2, 2, &h);
      Digits(t, &p, 2, 2, &mi);
      Digits(t, &p, 2, 2, &s);
      if (!Fraction(t, &p, &us)) return std::nullopt;
    }
  } else {
    auto sep = [&](bool date) {
      if (p >= t.size()) return false;
      const char c = t[p];
      if (date ? (c == '-' || c == '/' || c == '.') : c == ':') { ++p; return true; }
      return false;
    };
    if (!Digits(t, &p, 4, 4, &y) || !sep(true) || !Digits(t, &p, 1, 2, &mo) || !sep(true) ||
        !Digits(t, &p, 1, 2, &d)) {
      return std::nullopt;
    }
    if (p < t.size()) {
      if (t[p] != ' ' && t[p] != 'T') return std::nullopt;
      ++p;
      if (!Digits(t, &p, 1, 2, &h) || !sep(false) || !Digits(t, &p, 1, 2, &mi) || !sep(false) ||
          !Digits(t, &p, 1, 2, &s) || !Fraction(t, &p, &us)) {
        return std::nullopt;
      }
    }
  }
  if (p != t.size() || !ValidDateTime(y, mo, d, h, mi, s, stored)) return std::nullopt;
  return DateTimePoint(y, mo, d, h, mi, s, us);
}

// '[-]H:MM:SS[.ffffff]', '[-]H:MM', or the compact [-]HHMMSS[.ffffff] read from the right.
std::optional<int64_t> ParseTime(absl::string_view t) {
  bool negative = false;
  if (!t.empty() && t[0] == '-') { negative = true; t.remove_prefix(1); }
  int64_t h = 0, mi = 0, s = 0, us = 0;
  size_t p = 0;
  if (t.find(':') != absl::string_view::npos) {
    if (!Digits(t, &p, 1, 3, &h) || p >= t.size() || t[p++] != ':' || !Digits(t, &p, 2, 2, &mi)) {
      return std::nullopt;
    }
    if (p < t.size() && t[p] == ':') {
      ++p;
      if (!Digits(t, &p, 2, 2, &s)) return std::nullopt;
    }
  } else {
    int64_t v;
    if (!Digits(t, &p, 1, 7, &v)) return std::nullopt;
    s = v % 100;
    mi = v / 100 % 100;
    h = v / 10000;
  }
  if (!Fraction(t, &p, &us) || p != t.size() || mi > 59 || s > 59 || h > 838) return std::nullopt;
  const int64_t point = ((h * 60 + mi) * 60 + s) * kMicros + us;
  return negative ? -point : point;
}

// A decoded value's point: the decoder writes canonical text.
std::optional<int64_t> ValuePoint(ColumnFamily f, const Value& v) {
  if (v.kind != Value::Kind::kString) return std::nullopt;
  return f == ColumnFamily::kTime ? ParseTime(v.s) : ParseDateTime(v.s, /*stored=*/true);
}

// ---- text ----

bool IsUtf8Charset(absl::string_view cs) { return absl::StartsWith(cs, "utf8") || cs == "ascii"; }

// MySQL's latin1 is Windows-1252 (with the five undefined bytes passed through).
char32_t Latin1ToUnicode(unsigned char b) {
  static const char32_t k80[32] = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  return b >= 0x80 && b < 0xA0 ? k80[b - 0x80] : b;
}

// UTF-8 to code points; nullopt when malformed.
std::optional<std::u32string> DecodeUtf8(absl::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Characters of a column's text in the unit its collation orders by: latin1 bytes as Unicode,
// utf8 as code points. nullopt for another charset or malformed text.
std::optional<std::u32string> ColumnChars(absl::string_view bytes, absl::string_view charset) {
  if (IsUtf8Charset(charset)) return DecodeUtf8(bytes);
  if (charset == "latin1") {
    std::u32string out;
    out.reserve(bytes.size());
    for (unsigned char b : bytes) out.push_back(Latin1ToUnicode(b));
    return out;
  }
  return std::nullopt;
}

struct Collation {
  enum class Kind { kBin, kAsciiFold, kUcaFold, kOther } kind = Kind::kOther;
  bool pad_space = true;
  bool latin1 = false;  // latin1_bin orders by the latin1 byte, not by code point
};

Collation CollationOf(const ColumnSchema& c) {
  Collation out;
  const std::string& name = c.collation;
  out.latin1 = c.charset == "latin1";
  out.pad_space = !absl::StrContains(name, "nopad") && !absl::StrContains(name, "_0900_");
  if (absl::EndsWith(name, "_bin")) {
    out.kind = Collation::Kind::kBin;
  } else if (absl::EndsWith(name, "_general_ci") || name == "latin1_swedish_ci") {
    out.kind = Collation::Kind::kAsciiFold;
  } else {
    // Only the root UCA collations: language ones (Czech "ch", Danish "aa", Turkish i) order
    // letters otherwise, and go to the server.
    const absl::string_view rest = absl::string_view(name).substr(std::min(name.size(), name.find('_') + 1));
    for (absl::string_view root : {"unicode_ci", "unicode_nopad_ci", "unicode_520_ci", "unicode_520_nopad_ci",
                                   "0900_ai_ci", "uca1400_ai_ci", "uca1400_nopad_ai_ci"}) {
      if (rest == root) out.kind = Collation::Kind::kUcaFold;
    }
  }
  return out;
}

// Whether `c` orders here exactly as the collation orders it, and its weight.
bool LocalWeight(const Collation& coll, char32_t c, int* w) {
  switch (coll.kind) {
    case Collation::Kind::kAsciiFold:
      if (c >= 0x80) return false;
      *w = absl::ascii_toupper(static_cast<char>(c));
      return true;
    case Collation::Kind::kUcaFold:
      // UCA puts punctuation and controls elsewhere (some are ignorable): only these are safe.
      if (c == ' ') { *w = 0; return true; }
      if (c >= '0' && c <= '9') { *w = 1 + static_cast<int>(c - '0'); return true; }
      if (absl::ascii_isalpha(static_cast<char>(c)) && c < 0x80) {
        *w = 100 + (absl::ascii_toupper(static_cast<char>(c)) - 'A');
        return true;
      }
      return false;
    default:
      return false;
  }
}

// Binary-collation order of one character: latin1_bin by byte.
uint32_t BinOrder(const Collation& coll, char32_t c) {
  if (!coll.latin1) return c;
  for (int b = 0x80; b < 0xA0; ++b) {
    if (Latin1ToUnicode(static_cast<unsigned char>(b)) == c) return b;
  }
  return c;
}

Order CompareChars(const Collation& coll, const std::u32string& a, const std::u32string& b) {
  if (a == b) return Order::kEqual;
  if (coll.kind == Collation::Kind::kOther) return Order::kUndecided;
  const size_t n = std::min(a.size(), b.size());
  auto compare_one = [&](char32_t x, char32_t y) -> Order {
    if (x == y) return Order::kEqual;
    if (coll.kind == Collation::Kind::kBin) return Cmp(BinOrder(coll, x), BinOrder(coll, y));
    int wx, wy;
    if (!LocalWeight(coll, x, &wx) || !LocalWeight(coll, y, &wy)) return Order::kUndecided;
    return Cmp(wx, wy);
  };
  for (size_t i = 0; i < n; ++i) {
    const Order o = compare_one(a[i], b[i]);
    if (o != Order::kEqual) return o;
  }
  if (a.size() == b.size()) return Order::kEqual;
  const bool a_longer = a.size() > b.size();
  const std::u32string& tail = a_longer ? a : b;
  if (!coll.pad_space) return a_longer ? Order::kGreater : Order::kLess;
  for (size_t i = n; i < tail.size(); ++i) {  // the shorter one is padded with spaces
    Order o = compare_one(tail[i], U' ');
    if (o == Order::kEqual) continue;
    if (o == Order::kUndecided) return o;
    if (!a_longer) o = o == Order::kLess ? Order::kGreater : Order::kLess;
    return o;
  }
  return Order::kEqual;
}

// SQL LIKE over characters: % any run, _ one character, backslash escapes. `equal` decides two
// characters; an undecided one anywhere makes the result undecided.
LikeResult LikeChars(const std::u32string& s, const std::u32string& p,
                     const std::function<Order(char32_t, char32_t)>& equal) {
  bool undecided = false;
  auto same = [&](char32_t x, char32_t y) {
    const Order o = equal(x, y);
    if (o == Order::kUndecided) undecided = true;
    return o == Order::kEqual;
  };
  size_t si = 0, pi = 0, star = std::u32string::npos, mark = 0;
  while (si < s.size()) {
    bool step = false;
    if (pi < p.size() && p[pi] == U'\\' && pi + 1 < p.size()) {
      if (same(p[pi + 1], s[si])) { pi += 2; ++si; step = true; }
    } else if (pi < p.size() && p[pi] == U'_') {
      ++pi; ++si; step = true;
    } else if (pi < p.size() && p[pi] != U'%' && same(p[pi], s[si])) {
      ++pi; ++si; step = true;
    }
    if (step) continue;
    if (pi < p.size() && p[pi] == U'%') {
      star = pi++;
      mark = si;
    } else if (star != std::u32string::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return undecided ? LikeResult::kUndecided : LikeResult::kNo;
    }
  }
  while (pi < p.size() && p[pi] == U'%') ++pi;
  if (pi != p.size()) return undecided ? LikeResult::kUndecided : LikeResult::kNo;
  return undecided ? LikeResult::kUndecided : LikeResult::kYes;
}

// The member text of an ENUM / SET value (UTF-8); false when the members are unknown.
bool MemberText(const ColumnSchema& c, const Value& v, std::string* out) {
  if (v.kind != Value::Kind::kUInt) return false;
  if (c.type == coltype::kEnum) {
    if (v.u == 0) { out->clear(); return true; }  // the error value ''
    if (v.u > c.elements.size()) return false;
    *out = c.elements[v.u - 1];
    return true;
  }
  out->clear();
  for (size_t b = 0; b < 64; ++b) {
    if (!((v.u >> b) & 1)) continue;
    if (b >= c.elements.size()) return false;
    if (!out->empty()) out->push_back(',');
    out->append(c.elements[b]);
  }
  return true;
}

// A text or member value's characters in its collation's unit.
std::optional<std::u32string> ValueChars(const ColumnSchema& c, ColumnFamily f, const Value& v) {
  if (f == ColumnFamily::kEnum || f == ColumnFamily::kSet) {
    std::string text;
    if (!MemberText(c, v, &text)) return std::nullopt;
    return DecodeUtf8(text);
  }
  return ColumnChars(v.s, c.charset);
}

// The literal's characters as the column's charset holds them: a latin1 column cannot hold every
// character (the server would substitute '?'), so those are left to the server.
std::optional<std::u32string> LiteralChars(const ColumnSchema& c, const std::string& text) {
  auto chars = DecodeUtf8(text);
  if (!chars.has_value()) return std::nullopt;
  if (c.charset == "latin1") {
    for (char32_t ch : *chars) {
      bool ok = ch < 0x80 || (ch >= 0xA0 && ch <= 0xFF);
      for (int b = 0x80; b < 0xA0 && !ok; ++b) ok = Latin1ToUnicode(static_cast<unsigned char>(b)) == ch;
      if (!ok) return std::nullopt;
    }
  } else if (c.charset == "ascii") {
    for (char32_t ch : *chars) if (ch >= 0x80) return std::nullopt;
  }
  return chars;
}

bool IsText(ColumnFamily f) {
  return f == ColumnFamily::kText || f == ColumnFamily::kEnum || f == ColumnFamily::kSet;
}

}  // namespace

absl::StatusOr<ColumnFamily> FamilyOf(const ColumnSchema& c) {
  switch (c.type) {
    case 0: return ColumnFamily::kUntyped;  // bound by name only
    case coltype::kTiny: case coltype::kShort: case coltype::kInt24: case coltype::kLong:
    case coltype::kLongLong: case coltype::kYear:
      return ColumnFamily::kInteger;
    case coltype::kBit: return ColumnFamily::kBit;
    case coltype::kNewDecimal: return ColumnFamily::kDecimal;  // (0, the pre-5.0 DECIMAL, means untyped here)
    case coltype::kFloat: case coltype::kDouble: return ColumnFamily::kFloat;
    case coltype::kDate: case coltype::kNewDate: return ColumnFamily::kDate;
    case coltype::kDateTime: case coltype::kDateTime2: case coltype::kTimestamp:
    case coltype::kTimestamp2:
      return ColumnFamily::kDateTime;
    case coltype::kTime: case coltype::kTime2: return ColumnFamily::kTime;
    case coltype::kEnum: return ColumnFamily::kEnum;
    case coltype::kSet: return ColumnFamily::kSet;
    case coltype::kVarchar: case coltype::kVarString: case coltype::kString: case coltype::kBlob:
    case coltype::kTinyBlob: case coltype::kMediumBlob: case coltype::kLongBlob:
      return c.charset.empty() || c.charset == "binary" ? ColumnFamily::kBinary : ColumnFamily::kText;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "row filter: column '", c.name, "' is of a type a filter cannot test (JSON or spatial)"));
  }
}

absl::StatusOr<BoundLiteral> BindLiteral(const ColumnSchema& c, const FilterLiteral& l, bool for_like) {
  auto family = FamilyOf(c);
  if (!family.ok()) return family.status();
  BoundLiteral out;
  out.literal = l;
  out.family = *family;
  const bool is_string = l.kind == FilterLiteral::Kind::kString;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("row filter: column '", c.name, "' ", why));
  };
  switch (*family) {
    case ColumnFamily::kBit:
      if (is_string || for_like) return bad("is BIT: compare it with a number, e.g. flags = 5");
      break;
    case ColumnFamily::kFloat:
      if (for_like) return bad("is FLOAT/DOUBLE: LIKE on it depends on how the server prints numbers");
      break;
    case ColumnFamily::kDate: case ColumnFamily::kDateTime: case ColumnFamily::kTime: {
      if (for_like) break;  // LIKE compares the value's text
      const bool time = *family == ColumnFamily::kTime;
      std::optional<int64_t> point;
      if (l.kind != FilterLiteral::Kind::kDouble && (time || !absl::StartsWith(l.text, "-"))) {
        point = time ? ParseTime(l.text) : ParseDateTime(l.text);
      }
      if (!point.has_value()) {
        return bad(absl::StrCat(
            "is ", time ? "TIME" : "a date", ": '", l.text, "' is not a literal the server reads one way; write ",
            time ? "'HH:MM:SS[.ffffff]'" : "'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.ffffff]'"));
      }
      out.temporal = *point;
      break;
    }
    case ColumnFamily::kEnum: case ColumnFamily::kSet:
      if ((is_string || for_like) && c.elements.empty()) {
        return bad("is ENUM/SET and its members are not known, so it cannot be compared with text");
      }
      break;
    default:
      break;
  }
  return out;
}

Order CompareValue(const ColumnSchema& c, const Value& v, const BoundLiteral& b) {
  const FilterLiteral& l = b.literal;
  const bool is_string = l.kind == FilterLiteral::Kind::kString;
  switch (b.family) {
    case ColumnFamily::kInteger: case ColumnFamily::kBit:
      return CompareNumber(v, l, !is_string);
    case ColumnFamily::kDecimal:
      return CompareNumber(v, l, !is_string);
    case ColumnFamily::kFloat:
      return CompareNumber(v, l, false);
    case ColumnFamily::kDate: case ColumnFamily::kDateTime: case ColumnFamily::kTime: {
      auto point = ValuePoint(b.family, v);
      if (!point.has_value()) return Order::kUndecided;
      return Cmp(*point, b.temporal);
    }
    case ColumnFamily::kEnum: case ColumnFamily::kSet:
      if (!is_string) return CompareNumber(v, l, true);  // the index / the bit mask
      [[fallthrough]];
    case ColumnFamily::kText: {
      if (!is_string) return CompareNumber(Value::String(v.s), l, false);
      auto a = ValueChars(c, b.family, v);
      auto lit = LiteralChars(c, l.text);
      if (!a.has_value() || !lit.has_value()) return Order::kUndecided;
      return CompareChars(CollationOf(c), *a, *lit);
    }
    case ColumnFamily::kBinary:
      if (!is_string) return CompareNumber(Value::String(v.s), l, false);
      return FromInt(v.s.compare(l.text));
    default:
      return Order::kUndecided;
  }
}

LikeResult LikeValue(const ColumnSchema& c, const Value& v, const BoundLiteral& b) {
  auto pattern = DecodeUtf8(b.literal.text);
  if (!pattern.has_value()) return LikeResult::kUndecided;
  auto exact = [](char32_t x, char32_t y) { return x == y ? Order::kEqual : Order::kLess; };
  switch (b.family) {
    case ColumnFamily::kInteger: case ColumnFamily::kDecimal:
    case ColumnFamily::kDate: case ColumnFamily::kDateTime: case ColumnFamily::kTime: {
      auto text = DecodeUtf8(ExactText(v));  // digits and punctuation: any collation agrees
      if (!text.has_value()) return LikeResult::kUndecided;
      return LikeChars(*text, *pattern, exact);
    }
    case ColumnFamily::kBinary: {
      std::u32string bytes(v.s.begin(), v.s.end());
      for (auto& ch : bytes) ch &= 0xFF;
      std::u32string pbytes;
      for (unsigned char ch : b.literal.text) pbytes.push_back(ch);
      return LikeChars(bytes, pbytes, exact);
    }
    default:
      break;
  }
  if (!IsText(b.family)) return LikeResult::kUndecided;
  auto chars = ValueChars(c, b.family, v);
  auto lit = LiteralChars(c, b.literal.text);
  if (!chars.has_value() || !lit.has_value()) return LikeResult::kUndecided;
  const Collation coll = CollationOf(c);
  if (coll.kind == Collation::Kind::kOther) return LikeResult::kUndecided;
  return LikeChars(*chars, *lit, [&](char32_t x, char32_t y) {
    if (x == y) return Order::kEqual;
    if (coll.kind == Collation::Kind::kBin) return Order::kLess;
    int wx, wy;
    if (!LocalWeight(coll, x, &wx) || !LocalWeight(coll, y, &wy)) return Order::kUndecided;
    return wx == wy ? Order::kEqual : Order::kLess;
  });
}

bool TextForServer(const ColumnSchema& c, const Value& v, std::string* bytes, std::string* charset) {
  auto family = FamilyOf(c);
  if (!family.ok()) return false;
  if (*family == ColumnFamily::kEnum || *family == ColumnFamily::kSet) {
    *charset = "utf8mb4";
    return MemberText(c, v, bytes);
  }
  if (*family != ColumnFamily::kText) return false;
  *bytes = v.s;
  *charset = c.charset;
  return true;
}

}  // namespace duosync
