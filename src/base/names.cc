#include "base/names.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

// Decodes one UTF-8 code point at s[*i]; returns -1 for an invalid sequence.
int32_t NextCodePoint(absl::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + len > s.size()) return -1;
  int32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b >> 6) != 0x2) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += len;
  return cp;
}

bool IsChineseCodePoint(int32_t cp) {
  struct Range { int32_t lo, hi; };
  static constexpr Range kRanges[] = {
      {0x2E80, 0x2FDF},    // CJK radicals, Kangxi radicals
      {0x3000, 0x303F},    // CJK symbols and punctuation
      {0x3100, 0x312F},    // Bopomofo
      {0x31A0, 0x31EF},    // Bopomofo extended, CJK strokes
      {0x3400, 0x4DBF},    // CJK extension A
      {0x4E00, 0x9FFF},    // CJK unified ideographs
      {0xF900, 0xFAFF},    // CJK compatibility ideographs
      {0xFE30, 0xFE4F},    // CJK compatibility forms
      {0xFF00, 0xFFEF},    // full-width forms (Chinese punctuation)
      {0x20000, 0x3134F},  // CJK extensions B..G
  };
  for (const Range& r : kRanges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

}  // namespace

bool HasChineseCharacter(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp = NextCodePoint(s, &i);
    if (cp < 0 || IsChineseCodePoint(cp)) return true;
  }
  return false;
}

std::string CheckObjectName(absl::string_view name, absl::string_view kind) {
  if (name.empty()) return absl::StrCat(kind, " name is empty");
  if (name.size() > 64) return absl::StrCat(kind, " name '", name, "' is longer than 64 characters");
  if (HasChineseCharacter(name)) {
    return absl::StrCat(kind, " name '", name,
                        "' contains Chinese characters (or invalid UTF-8), which are not supported");
  }
  if (kind != "column" && absl::StrContains(name, "$$")) {
    return absl::StrCat(kind, " name '", name, "' contains '$$', which is not supported");
  }
  return "";
}

std::string QuoteIdent(absl::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string QuoteTable(absl::string_view schema, absl::string_view table) {
  return absl::StrCat(QuoteIdent(schema), ".", QuoteIdent(table));
}

uint64_t StableHash(absl::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool NamesEqual(absl::string_view a, absl::string_view b, bool case_insensitive) {
  return case_insensitive ? absl::EqualsIgnoreCase(a, b) : a == b;
}

}  // namespace duosync
