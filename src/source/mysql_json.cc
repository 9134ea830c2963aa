#include "source/mysql_json.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_text.h"
#include "base/table_schema.h"
#include "source/binlog_events.h"
#include "source/row_decoder.h"

namespace duosync {
namespace {

// Type bytes of the binary format.
enum : uint8_t {
  kSmallObject = 0x0, kLargeObject = 0x1, kSmallArray = 0x2, kLargeArray = 0x3, kLiteral = 0x4,
  kInt16 = 0x5, kUInt16 = 0x6, kInt32 = 0x7, kUInt32 = 0x8, kInt64 = 0x9, kUInt64 = 0xA,
  kDouble = 0xB, kString = 0xC, kOpaque = 0xF,
};

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed binary JSON: ", what));
}

uint64_t Le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// The 7-bits-per-byte length of strings and opaque values.
bool ReadVarLength(absl::string_view data, size_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (*pos >= data.size()) return false;
    const uint8_t b = static_cast<uint8_t>(data[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

JsonNode Scalar(std::string text) {
  JsonNode n;
  n.scalar = std::move(text);
  return n;
}

std::string DoubleText(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";  // MySQL prints 3.0, not 3
  return s;
}

// MySQL's packed temporal longlong: ((ymd << 17 | hms) << 24) + microseconds, negated for
// negative TIMEs. `with_date` / `with_time` pick the parts shown.
std::string PackedTemporalText(int64_t packed, bool with_date, bool with_time) {
  const bool negative = packed < 0;
  // Negated as unsigned: INT64_MIN (from corrupt bytes) has no int64 magnitude.
  const uint64_t v = negative ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  const uint64_t micros = v % (1ULL << 24);
  const uint64_t intpart = v >> 24;
  std::string out;
  if (with_date) {
    const uint64_t ymd = intpart >> 17, ym = ymd >> 5;
    absl::StrAppendFormat(&out, "%04d-%02d-%02d", ym / 13, ym % 13, ymd % 32);
    if (with_time) out += ' ';
  }
  if (with_time) {
    const uint64_t hms = with_date ? intpart % (1ULL << 17) : intpart;
    absl::StrAppendFormat(&out, "%s%02d:%02d:%02d.%06d", negative ? "-" : "",
                          with_date ? (hms >> 12) % 32 : (hms >> 12), (hms >> 6) % 64, hms % 64,
                          micros);
  }
  return out;
}

absl::StatusOr<JsonNode> OpaqueValue(uint8_t field_type, absl::string_view data) {
  std::string quoted;
  switch (field_type) {
    case coltype::kNewDecimal: {
      if (data.size() < 2) return Malformed("short DECIMAL");
      size_t used = 0;
      auto text = DecodeDecimal(reinterpret_cast<const uint8_t*>(data.data()) + 2, data.size() - 2,
                                static_cast<uint8_t>(data[0]), static_cast<uint8_t>(data[1]), &used);
      if (!text.ok()) return text.status();
      return Scalar(*std::move(text));
    }
    case coltype::kDate: case coltype::kNewDate:
    case coltype::kTime: case coltype::kTime2:
    case coltype::kDateTime: case coltype::kDateTime2:
    case coltype::kTimestamp: case coltype::kTimestamp2: {
      if (data.size() < 8) return Malformed("short temporal value");
      const int64_t packed = static_cast<int64_t>(Le(data.data(), 8));
      const bool date_only = field_type == coltype::kDate || field_type == coltype::kNewDate;
      const bool time_only = field_type == coltype::kTime || field_type == coltype::kTime2;
      AppendJsonString(PackedTemporalText(packed, !time_only, !date_only), &quoted);
      return Scalar(std::move(quoted));
    }
    default:  // any other MySQL type wrapped in JSON: MySQL shows it this way
      AppendJsonString(absl::StrCat("base64:type", field_type, ":", absl::Base64Escape(data)), &quoted);
      return Scalar(std::move(quoted));
  }
}

// What a document may still cost: each node and each byte of a key or string spends one. MySQL
// writes every value once, so a real document costs at most about its size; hostile bytes whose
// entries point at shared or overlapping data (a few hundred bytes that unfold to 2^60 nodes)
// run out instead.
struct Budget {
  int64_t left;
  bool Spend(size_t n) {
    left -= static_cast<int64_t>(n);
    return left >= 0;
  }
};

absl::StatusOr<JsonNode> ParseValue(uint8_t type, absl::string_view data, int depth, Budget* budget);

// An object or array value starting at data[0] (its element count).
absl::StatusOr<JsonNode> ParseContainer(uint8_t type, absl::string_view data, int depth, Budget* budget) {
  const bool large = type == kLargeObject || type == kLargeArray;
  const bool object = type == kSmallObject || type == kLargeObject;
  const int word = large ? 4 : 2;
  if (data.size() < static_cast<size_t>(2 * word)) return Malformed("short container header");
  const uint64_t count = Le(data.data(), word);
  const uint64_t size = Le(data.data() + word, word);
  if (size > data.size()) return Malformed("container larger than its value");
  data = data.substr(0, size);
  const size_t key_entry = object ? word + 2 : 0;
  const size_t value_entry = 1 + word;
  const size_t header = 2 * word + count * (key_entry + value_entry);
  if (count > size || header > size) return Malformed("too many elements for the container's size");
  JsonNode node;
  node.kind = object ? JsonNode::Kind::kObject : JsonNode::Kind::kArray;
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    if (object) {
      const char* ke = data.data() + 2 * word + i * key_entry;
      const uint64_t off = Le(ke, word), len = Le(ke + word, 2);
      if (off + len > size) return Malformed("key out of bounds");
      if (!budget->Spend(len)) return Malformed("values overlap (it unfolds beyond its size)");
      key.assign(data.data() + off, len);
    }
    const char* ve = data.data() + 2 * word + count * key_entry + i * value_entry;
    const uint8_t vt = static_cast<uint8_t>(ve[0]);
    const bool inlined = vt == kLiteral || vt == kInt16 || vt == kUInt16 ||
                         (large && (vt == kInt32 || vt == kUInt32));
    absl::StatusOr<JsonNode> value =
        inlined ? ParseValue(vt, absl::string_view(ve + 1, word), depth + 1, budget)
                : [&]() -> absl::StatusOr<JsonNode> {
                    const uint64_t off = Le(ve + 1, word);
                    if (off >= size) return Malformed("value out of bounds");
                    return ParseValue(vt, data.substr(off), depth + 1, budget);
                  }();
    if (!value.ok()) return value.status();
    if (object) {
      node.members.emplace_back(std::move(key), *std::move(value));
    } else {
      node.items.push_back(*std::move(value));
    }
  }
  return node;
}

absl::StatusOr<JsonNode> ParseValue(uint8_t type, absl::string_view data, int depth, Budget* budget) {
  if (depth > 150) return Malformed("nested too deeply");
  if (!budget->Spend(1)) return Malformed("values overlap (it unfolds beyond its size)");
  auto need = [&](size_t n) { return data.size() >= n; };
  switch (type) {
    case kSmallObject: case kLargeObject: case kSmallArray: case kLargeArray:
      return ParseContainer(type, data, depth, budget);
    case kLiteral:
      if (!need(1)) return Malformed("short literal");
      switch (static_cast<uint8_t>(data[0])) {
        case 0: return Scalar("null");
        case 1: return Scalar("true");
        case 2: return Scalar("false");
        default: return Malformed("unknown literal");
      }
    case kInt16:
      if (!need(2)) return Malformed("short int16");
      return Scalar(absl::StrCat(static_cast<int16_t>(Le(data.data(), 2))));
    case kUInt16:
      if (!need(2)) return Malformed("short uint16");
      return Scalar(absl::StrCat(Le(data.data(), 2)));
    case kInt32:
      if (!need(4)) return Malformed("short int32");
      return Scalar(absl::StrCat(static_cast<int32_t>(Le(data.data(), 4))));
    case kUInt32:
      if (!need(4)) return Malformed("short uint32");
      return Scalar(absl::StrCat(Le(data.data(), 4)));
    case kInt64:
      if (!need(8)) return Malformed("short int64");
      return Scalar(absl::StrCat(static_cast<int64_t>(Le(data.data(), 8))));
    case kUInt64:
      if (!need(8)) return Malformed("short uint64");
      return Scalar(absl::StrCat(Le(data.data(), 8)));
    case kDouble: {
      if (!need(8)) return Malformed("short double");
      const uint64_t raw = Le(data.data(), 8);
      double d;
      std::memcpy(&d, &raw, 8);
      return Scalar(DoubleText(d));
    }
    case kString: {
      size_t pos = 0;
      uint64_t len = 0;
      if (!ReadVarLength(data, &pos, &len) || len > data.size() - pos) return Malformed("bad string length");
      if (!budget->Spend(len)) return Malformed("values overlap (it unfolds beyond its size)");
      std::string text;
      AppendJsonString(data.substr(pos, len), &text);
      return Scalar(std::move(text));
    }
    case kOpaque: {
      if (!need(1)) return Malformed("short opaque value");
      size_t pos = 1;
      uint64_t len = 0;
      if (!ReadVarLength(data, &pos, &len) || len > data.size() - pos) return Malformed("bad opaque length");
      if (!budget->Spend(len)) return Malformed("values overlap (it unfolds beyond its size)");
      return OpaqueValue(static_cast<uint8_t>(data[0]), data.substr(pos, len));
    }
    default:
      return Malformed(absl::StrCat("unknown value type ", type));
  }
}

void AppendText(const JsonNode& n, std::string* out) {
  switch (n.kind) {
    case JsonNode::Kind::kScalar:
      out->append(n.scalar);
      return;
    case JsonNode::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < n.members.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendJsonString(n.members[i].first, out);
        out->append(": ");
        AppendText(n.members[i].second, out);
      }
      out->push_back('}');
      return;
    case JsonNode::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < n.items.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendText(n.items[i], out);
      }
      out->push_back(']');
      return;
  }
}

// One step of a path: a member name or an array index.
struct PathLeg {
  bool is_index = false;
  bool from_end = false;  // [last] / [last-N]: `index` counts back from the last element
  std::string key;
  size_t index = 0;
  // The element position this leg names in an array of `size` elements (clamped to size).
  size_t Position(size_t size) const {
    if (!from_end) return std::min(index, size);
    return index < size ? size - index - 1 : 0;
  }
  bool InBounds(size_t size) const { return index < size; }
};

absl::StatusOr<std::vector<PathLeg>> ParsePath(absl::string_view path) {
  auto bad = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("bad JSON path '", path, "' in a partial update: ", why));
  };
  if (path.empty() || path[0] != '$') return bad("it does not start with $");
  std::vector<PathLeg> legs;
  size_t i = 1;
  while (i < path.size()) {
    PathLeg leg;
    if (path[i] == '.') {
      ++i;
      if (i < path.size() && path[i] == '"') {  // a quoted member name: a JSON string
        ++i;
        while (i < path.size() && path[i] != '"') {
          if (path[i] != '\\' || i + 1 >= path.size()) {
            leg.key.push_back(path[i++]);
            continue;
          }
          const char e = path[i + 1];
          i += 2;
          switch (e) {
            case 'n': leg.key.push_back('\n'); break;
            case 't': leg.key.push_back('\t'); break;
            case 'r': leg.key.push_back('\r'); break;
            case 'b': leg.key.push_back('\b'); break;
            case 'f': leg.key.push_back('\f'); break;
            case 'u': {  // \uXXXX, a code point below U+10000, as UTF-8
              uint32_t cp = 0;
              if (i + 4 > path.size() || !absl::SimpleHexAtoi(path.substr(i, 4), &cp)) return bad("bad \\u escape");
              i += 4;
              if (cp < 0x80) {
                leg.key.push_back(static_cast<char>(cp));
              } else if (cp < 0x800) {
                leg.key.push_back(static_cast<char>(0xC0 | (cp >> 6)));
                leg.key.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
              } else {
                leg.key.push_back(static_cast<char>(0xE0 | (cp >> 12)));
                leg.key.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
                leg.key.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
              }
              break;
            }
            default: leg.key.push_back(e); break;  // \" \\ \/
          }
        }
        if (i >= path.size()) return bad("unterminated quoted name");
        ++i;
      } else {
        while (i < path.size() && path[i] != '.' && path[i] != '[') leg.key.push_back(path[i++]);
        if (leg.key.empty()) return bad("empty member name");
      }
    } else if (path[i] == '[') {
      leg.is_index = true;
      ++i;
      if (path.substr(i, 4) == "last") {
        leg.from_end = true;
        i += 4;
        if (i < path.size() && path[i] == '-') ++i;
        else if (i < path.size() && path[i] == ']') {
          ++i;
          legs.push_back(std::move(leg));
          continue;
        }
      }
      size_t digits = 0;
      while (i < path.size() && path[i] >= '0' && path[i] <= '9') {
        leg.index = leg.index * 10 + (path[i++] - '0');
        ++digits;
      }
      if (digits == 0 || i >= path.size() || path[i] != ']') return bad("bad array index");
      ++i;
    } else {
      return bad(absl::StrCat("unexpected '", path.substr(i, 1), "'"));
    }
    legs.push_back(std::move(leg));
  }
  return legs;
}

// MySQL orders object keys by length, then bytewise.
bool KeyBefore(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

absl::StatusOr<JsonNode> ParseBinaryJson(absl::string_view bytes) {
  if (bytes.empty()) return Scalar("null");
  Budget budget{static_cast<int64_t>(2 * bytes.size() + 16)};
  return ParseValue(static_cast<uint8_t>(bytes[0]), bytes.substr(1), 0, &budget);
}

std::string JsonText(const JsonNode& node) {
  std::string out;
  AppendText(node, &out);
  return out;
}

absl::StatusOr<std::string> BinaryJsonToText(absl::string_view bytes) {
  auto node = ParseBinaryJson(bytes);
  if (!node.ok()) return node.status();
  return JsonText(*node);
}

absl::StatusOr<std::vector<JsonDiff>> ParseJsonDiffs(absl::string_view bytes) {
  // Each diff: operation byte, path (length-encoded), and unless a removal a value (length-encoded
  // binary JSON). Lengths use the protocol's packed integer.
  auto packed = [&](size_t* pos, uint64_t* out) { return ReadPackedInt(bytes, pos, out); };
  std::vector<JsonDiff> diffs;
  size_t pos = 0;
  while (pos < bytes.size()) {
    JsonDiff d;
    const uint8_t op = static_cast<uint8_t>(bytes[pos++]);
    if (op > 2) return Malformed(absl::StrCat("unknown JSON diff operation ", op));
    d.op = static_cast<JsonDiff::Op>(op);
    uint64_t len = 0;
    if (!packed(&pos, &len) || len > bytes.size() - pos) return Malformed("bad JSON diff path length");
    d.path.assign(bytes.data() + pos, len);
    pos += len;
    if (d.op != JsonDiff::Op::kRemove) {
      if (!packed(&pos, &len) || len > bytes.size() - pos) return Malformed("bad JSON diff value length");
      d.value.assign(bytes.data() + pos, len);
      pos += len;
    }
    diffs.push_back(std::move(d));
  }
  return diffs;
}

absl::StatusOr<std::string> JsonDiffsAsSql(absl::string_view bytes, absl::string_view column) {
  auto diffs = ParseJsonDiffs(bytes);
  if (!diffs.ok()) return diffs.status();
  std::string sql(column);
  for (const JsonDiff& d : *diffs) {
    const char* fn = d.op == JsonDiff::Op::kReplace ? "JSON_REPLACE"
                     : d.op == JsonDiff::Op::kRemove ? "JSON_REMOVE"
                     : (!d.path.empty() && d.path.back() == ']') ? "JSON_ARRAY_INSERT" : "JSON_INSERT";
    std::string path;
    AppendJsonString(d.path, &path);
    path.front() = path.back() = '\'';
    sql = absl::StrCat(fn, "(", sql, ", ", path);
    if (d.op != JsonDiff::Op::kRemove) {
      auto value = BinaryJsonToText(d.value);
      if (!value.ok()) return value.status();
      absl::StrAppend(&sql, ", ", *value);
    }
    sql += ")";
  }
  return sql;
}

absl::Status ApplyJsonDiff(const JsonDiff& diff, JsonNode* document) {
  auto legs = ParsePath(diff.path);
  if (!legs.ok()) return legs.status();
  auto misfit = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the partial JSON update at ", diff.path, " does not fit the row's before image: ", why));
  };
  JsonNode value;
  if (diff.op != JsonDiff::Op::kRemove) {
    auto parsed = ParseBinaryJson(diff.value);
    if (!parsed.ok()) return parsed.status();
    value = *std::move(parsed);
  }
  if (legs->empty()) return misfit("a diff never targets the whole document ($)");
  JsonNode* parent = document;
  for (size_t i = 0; i + 1 < legs->size(); ++i) {
    const PathLeg& leg = (*legs)[i];
    JsonNode* next = nullptr;
    if (leg.is_index && parent->kind == JsonNode::Kind::kArray && leg.InBounds(parent->items.size())) {
      next = &parent->items[leg.Position(parent->items.size())];
    } else if (!leg.is_index && parent->kind == JsonNode::Kind::kObject) {
      for (auto& m : parent->members) {
        if (m.first == leg.key) next = &m.second;
      }
    }
    if (next == nullptr) return misfit("a step of the path is missing");
    parent = next;
  }
  const PathLeg& last = legs->back();
  if (last.is_index) {
    if (parent->kind != JsonNode::Kind::kArray) return misfit("an index into a non-array");
    auto& items = parent->items;
    switch (diff.op) {
      case JsonDiff::Op::kReplace:
        if (!last.InBounds(items.size())) return misfit("no element to replace");
        items[last.Position(items.size())] = std::move(value);
        break;
      case JsonDiff::Op::kInsert:  // past the end appends, as JSON_ARRAY_INSERT does
        items.insert(items.begin() + last.Position(items.size()), std::move(value));
        break;
      case JsonDiff::Op::kRemove:
        if (!last.InBounds(items.size())) return misfit("no element to remove");
        items.erase(items.begin() + last.Position(items.size()));
        break;
    }
    return absl::OkStatus();
  }
  if (parent->kind != JsonNode::Kind::kObject) return misfit("a member of a non-object");
  auto& members = parent->members;
  auto it = members.begin();
  while (it != members.end() && it->first != last.key) ++it;
  switch (diff.op) {
    case JsonDiff::Op::kReplace:
      if (it == members.end()) return misfit("no member to replace");
      it->second = std::move(value);
      break;
    case JsonDiff::Op::kInsert: {
      if (it != members.end()) return misfit("the member to insert is already there");
      auto at = members.begin();
      while (at != members.end() && KeyBefore(at->first, last.key)) ++at;
      members.emplace(at, last.key, std::move(value));
      break;
    }
    case JsonDiff::Op::kRemove:
      if (it == members.end()) return misfit("no member to remove");
      members.erase(it);
      break;
  }
  return absl::OkStatus();
}

}  // namespace duosync
