#include "apply/key_extractor.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace duosync {
namespace {

// Base letter of Latin-1 Supplement and Latin Extended-A letters (U+00C0..U+017F), lower case;
// 0 where there is none.
char LatinBase(uint32_t cp) {
  static const char* kLatin1 =  // U+00C0..U+00FF
      "aaaaaaaceeeeiiii"        // C0-CF  (Æ -> a)
      "dnooooo\0ouuuuyts"       // D0-DF  (× none, Þ -> t, ß -> s)
      "aaaaaaaceeeeiiii"        // E0-EF
      "dnooooo\0ouuuuyty";      // F0-FF  (÷ none)
  if (cp >= 0xC0 && cp <= 0xFF) return kLatin1[cp - 0xC0];
  static const char* kExtA =    // U+0100..U+017F
      "aaaaaaccccccccdd"
      "ddeeeeeeeeeegggg"
      "gggghhhhiiiiiiii"
      "iiiijjkkklllllll"
      "lllnnnnnnnnnoooo"
      "oooorrrrrrssssss"
      "ssttttttuuuuuuuu"
      "uuuuwwyyyzzzzzzs";
  if (cp >= 0x100 && cp <= 0x17F) return kExtA[cp - 0x100];
  return 0;
}

void FoldCaseInsensitive(absl::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out->push_back(absl::ascii_tolower(b));
      ++i;
      continue;
    }
    const int len = (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    uint32_t cp = 0;
    if (len == 2 && i + 1 < s.size()) cp = ((b & 0x1F) << 6) | (s[i + 1] & 0x3F);
    const char base = LatinBase(cp);
    if (base != 0) out->push_back(base);
    else absl::StrAppend(out, s.substr(i, std::min<size_t>(len, s.size() - i)));
    i += len;
  }
}

}  // namespace

std::string NormalizeKeyValue(const Value& v, const ColumnSchema& column) {
  switch (v.kind) {
    case Value::Kind::kNull: return std::string("\0N", 2);
    case Value::Kind::kInt: return absl::StrCat(v.i);
    case Value::Kind::kUInt: return absl::StrCat(v.u);
    case Value::Kind::kDouble: return absl::StrCat(v.d);
    case Value::Kind::kString: return v.s;
    case Value::Kind::kBytes: break;
  }
  if (column.charset.empty() || column.charset == "binary") return v.s;  // binary: exact bytes
  const std::string& coll = column.collation;
  absl::string_view text = v.s;
  if (!absl::StrContains(coll, "_nopad")) {
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);  // PAD SPACE
  }
  if (absl::EndsWith(coll, "_bin") || absl::StrContains(coll, "_bin_") || absl::EndsWith(coll, "_cs")) {
    return std::string(text);
  }
  std::string out;
  FoldCaseInsensitive(text, &out);
  return out;
}

namespace {

// The hash of a key of `table` (destination, lower case): its columns' names and normalized
// values, sorted by name, so that a child's foreign key and its parent's unique key agree.
uint64_t KeyHash(const std::string& table, std::vector<std::pair<std::string, std::string>> named_values) {
  std::sort(named_values.begin(), named_values.end());
  std::string material = table;
  for (const auto& [name, value] : named_values) absl::StrAppend(&material, "\x01", name, "\x02", value);
  return absl::HashOf(material);
}

}  // namespace

void ExtractKeys(const RoutedChange& change, std::vector<uint64_t>* out) {
  const Route& r = *change.route;
  const auto& cols = r.schema->columns;
  const std::string table = absl::AsciiStrToLower(r.destination.ToString());
  for (const Row* row : {change.before, change.after}) {
    if (row == nullptr) continue;
    for (const std::vector<int>& key : r.schema->unique_keys) {
      std::vector<std::pair<std::string, std::string>> named;
      for (int c : key) named.emplace_back(absl::AsciiStrToLower(cols[c].name), NormalizeKeyValue((*row)[c], cols[c]));
      out->push_back(KeyHash(table, std::move(named)));
    }
    // The parent row this row references: a parent's change and its children's stay in order.
    for (const ParentKey& fk : r.parent_keys) {
      std::vector<std::pair<std::string, std::string>> named;
      for (size_t i = 0; i < fk.columns.size(); ++i) {
        const Value& v = (*row)[fk.columns[i]];
        if (v.is_null()) break;  // references nothing
        named.emplace_back(absl::AsciiStrToLower(fk.parent_columns[i]), NormalizeKeyValue(v, cols[fk.columns[i]]));
      }
      if (named.size() == fk.columns.size()) {
        out->push_back(KeyHash(absl::AsciiStrToLower(fk.destination.ToString()), std::move(named)));
      }
    }
  }
}

}  // namespace duosync
