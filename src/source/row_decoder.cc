#include "source/row_decoder.h"

#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "source/mysql_json.h"

namespace duosync {
namespace {

uint64_t LittleEndian(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t BigEndian(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

int64_t SignExtend(uint64_t v, int bytes) {
  const int shift = 64 - bytes * 8;
  return static_cast<int64_t>(v << shift) >> shift;
}

absl::Status Truncated(const ColumnSchema& c) {
  return absl::DataLossError(absl::StrCat("row image truncated in column '", c.name, "'"));
}

// Microseconds of a fractional-seconds part stored in (fsp+1)/2 big-endian bytes.
int64_t FractionMicros(const uint8_t* p, int fsp) {
  switch ((fsp + 1) / 2) {
    case 1: return static_cast<int64_t>(p[0]) * 10000;
    case 2: return static_cast<int64_t>(BigEndian(p, 2)) * 100;
    case 3: return static_cast<int64_t>(BigEndian(p, 3));
    default: return 0;
  }
}

std::string FormatFraction(int64_t micros, int fsp) {
  if (fsp <= 0) return "";
  std::string digits = absl::StrFormat("%06d", micros);
  return "." + digits.substr(0, fsp);
}

// Size in bytes of the value of column `c` at p (for variable-length types, including the
// length prefix); -1 when it cannot be determined.
int StringPrefixBytes(const ColumnSchema& c) {
  const uint16_t meta = c.meta;
  const unsigned max_len = (((meta >> 4) & 0x300) ^ 0x300) + (meta & 0xff);
  return max_len > 255 ? 2 : 1;
}

constexpr int kDigitsToBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

}  // namespace

absl::StatusOr<std::string> DecodeDecimal(const uint8_t* bytes, size_t available, int precision,
                                          int scale, size_t* consumed) {
  if (precision <= 0 || precision > 65 || scale < 0 || scale > precision) {
    return absl::DataLossError(absl::StrCat("bad DECIMAL(", precision, ",", scale, ") metadata"));
  }
  const int intg = precision - scale;
  const int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  const size_t size = intg0 * 4 + kDigitsToBytes[intg0x] + frac0 * 4 + kDigitsToBytes[frac0x];
  if (available < size) return absl::DataLossError("DECIMAL value truncated");
  std::vector<uint8_t> buf(bytes, bytes + size);
  const bool negative = (buf[0] & 0x80) == 0;
  buf[0] ^= 0x80;
  if (negative) {
    for (auto& b : buf) b = ~b;
  }
  size_t pos = 0;
  std::string int_part;
  if (intg0x > 0) {
    const int n = kDigitsToBytes[intg0x];
    absl::StrAppend(&int_part, BigEndian(&buf[pos], n));
    pos += n;
  }
  for (int i = 0; i < intg0; ++i) {
    absl::StrAppend(&int_part, absl::StrFormat("%09u", static_cast<uint32_t>(BigEndian(&buf[pos], 4))));
    pos += 4;
  }
  size_t nz = int_part.find_first_not_of('0');
  int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
  std::string frac_part;
  for (int i = 0; i < frac0; ++i) {
    absl::StrAppend(&frac_part, absl::StrFormat("%09u", static_cast<uint32_t>(BigEndian(&buf[pos], 4))));
    pos += 4;
  }
  if (frac0x > 0) {
    const int n = kDigitsToBytes[frac0x];
    std::string digits = absl::StrCat(BigEndian(&buf[pos], n));
    frac_part += std::string(frac0x - std::min<int>(frac0x, digits.size()), '0') + digits;
    pos += n;
  }
  *consumed = size;
  std::string out = negative ? "-" : "";
  out += int_part;
  if (scale > 0) out += "." + frac_part;
  return out;
}

absl::StatusOr<std::vector<ColumnType>> ParseColumnTypes(absl::string_view types,
                                                         absl::string_view metadata) {
  std::vector<ColumnType> out(types.size());
  const auto* m = reinterpret_cast<const uint8_t*>(metadata.data());
  size_t pos = 0;
  auto need = [&](size_t n) { return pos + n <= metadata.size(); };
  for (size_t i = 0; i < types.size(); ++i) {
    ColumnType& c = out[i];
    c.type = static_cast<uint8_t>(types[i]);
    switch (c.type) {
      case coltype::kFloat: case coltype::kDouble: case coltype::kBlob: case coltype::kTinyBlob:
      case coltype::kMediumBlob: case coltype::kLongBlob: case coltype::kGeometry:
      case coltype::kJson: case coltype::kTimestamp2: case coltype::kDateTime2:
      case coltype::kTime2:
        if (!need(1)) return absl::DataLossError("table map metadata truncated");
        c.meta = m[pos++];
        break;
      case coltype::kVarchar: case coltype::kVarString:
        if (!need(2)) return absl::DataLossError("table map metadata truncated");
        c.meta = static_cast<uint16_t>(LittleEndian(m + pos, 2));
        pos += 2;
        break;
      case coltype::kBit:
        if (!need(2)) return absl::DataLossError("table map metadata truncated");
        c.meta = static_cast<uint16_t>(m[pos] | (m[pos + 1] << 8));
        pos += 2;
        break;
      case coltype::kNewDecimal: case coltype::kString: case coltype::kEnum: case coltype::kSet: {
        if (!need(2)) return absl::DataLossError("table map metadata truncated");
        c.meta = static_cast<uint16_t>((m[pos] << 8) | m[pos + 1]);
        pos += 2;
        if (c.type == coltype::kString) {
          uint8_t real = c.meta >> 8;
          if ((real & 0x30) != 0x30) real |= 0x30;  // long CHAR: length bits borrowed from type
          if (real == coltype::kEnum || real == coltype::kSet) c.type = real;
        }
        break;
      }
      default:
        break;  // no metadata
    }
  }
  return out;
}

absl::StatusOr<Row> DecodeRow(const std::vector<ColumnSchema>& columns, const uint8_t* present,
                              absl::string_view data, size_t* pos, bool json_as_binary) {
  const auto* base = reinterpret_cast<const uint8_t*>(data.data());
  const size_t n = columns.size();
  size_t n_present = 0;
  for (size_t i = 0; i < n; ++i) n_present += (present[i / 8] >> (i % 8)) & 1;
  const size_t null_bytes = (n_present + 7) / 8;
  if (*pos + null_bytes > data.size()) return absl::DataLossError("row image truncated (null bitmap)");
  const uint8_t* nulls = base + *pos;
  size_t p = *pos + null_bytes;
  Row row(n);
  size_t k = 0;  // index among present columns
  for (size_t i = 0; i < n; ++i) {
    if (!((present[i / 8] >> (i % 8)) & 1)) continue;
    const bool is_null = (nulls[k / 8] >> (k % 8)) & 1;
    ++k;
    if (is_null) continue;
    const ColumnSchema& c = columns[i];
    const uint8_t* v = base + p;
    const size_t left = data.size() - p;
    auto need = [&](size_t bytes) { return bytes <= left; };
    size_t used = 0;
    switch (c.type) {
      case coltype::kTiny: case coltype::kShort: case coltype::kInt24: case coltype::kLong:
      case coltype::kLongLong: {
        const int bytes = c.type == coltype::kTiny ? 1 : c.type == coltype::kShort ? 2
                        : c.type == coltype::kInt24 ? 3 : c.type == coltype::kLong ? 4 : 8;
        if (!need(bytes)) return Truncated(c);
        uint64_t raw = LittleEndian(v, bytes);
        row[i] = c.is_unsigned ? Value::UInt(raw) : Value::Int(SignExtend(raw, bytes));
        used = bytes;
        break;
      }
      case coltype::kFloat: {
        if (!need(4)) return Truncated(c);
        float f;
        uint32_t raw = static_cast<uint32_t>(LittleEndian(v, 4));
        std::memcpy(&f, &raw, 4);
        row[i] = Value::Double(f);
        used = 4;
        break;
      }
      case coltype::kDouble: {
        if (!need(8)) return Truncated(c);
        double d;
        uint64_t raw = LittleEndian(v, 8);
        std::memcpy(&d, &raw, 8);
        row[i] = Value::Double(d);
        used = 8;
        break;
      }
      case coltype::kYear:
        if (!need(1)) return Truncated(c);
        row[i] = Value::Int(v[0] == 0 ? 0 : 1900 + v[0]);
        used = 1;
        break;
      case coltype::kDate: case coltype::kNewDate: {
        if (!need(3)) return Truncated(c);
        uint32_t d = static_cast<uint32_t>(LittleEndian(v, 3));
        row[i] = Value::String(absl::StrFormat("%04d-%02d-%02d", d >> 9, (d >> 5) & 15, d & 31));
        used = 3;
        break;
      }
      case coltype::kTime: {
        if (!need(3)) return Truncated(c);
        int64_t t = SignExtend(LittleEndian(v, 3), 3);
        const char* sign = t < 0 ? "-" : "";
        if (t < 0) t = -t;
        row[i] = Value::String(absl::StrFormat("%s%02d:%02d:%02d", sign, t / 10000, t / 100 % 100, t % 100));
        used = 3;
        break;
      }
      case coltype::kDateTime: {
        if (!need(8)) return Truncated(c);
        uint64_t t = LittleEndian(v, 8);
        const uint64_t date = t / 1000000, time = t % 1000000;
        row[i] = Value::String(absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", date / 10000,
                                               date / 100 % 100, date % 100, time / 10000,
                                               time / 100 % 100, time % 100));
        used = 8;
        break;
      }
      case coltype::kTimestamp: case coltype::kTimestamp2: {
        const int fsp = c.type == coltype::kTimestamp2 ? c.meta : 0;
        const size_t bytes = 4 + (fsp + 1) / 2;
        if (!need(bytes)) return Truncated(c);
        const time_t secs = c.type == coltype::kTimestamp2 ? static_cast<time_t>(BigEndian(v, 4))
                                                           : static_cast<time_t>(LittleEndian(v, 4));
        const int64_t micros = FractionMicros(v + 4, fsp);
        if (secs == 0 && micros == 0) {
          row[i] = Value::String("0000-00-00 00:00:00" + FormatFraction(0, fsp));
        } else {
          // In UTC: the sink's sessions run with time_zone '+00:00'.
          struct tm tm;
          gmtime_r(&secs, &tm);
          row[i] = Value::String(absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                                 tm.tm_sec) + FormatFraction(micros, fsp));
        }
        used = bytes;
        break;
      }
      case coltype::kDateTime2: {
        const int fsp = c.meta;
        const size_t bytes = 5 + (fsp + 1) / 2;
        if (!need(bytes)) return Truncated(c);
        const int64_t packed = static_cast<int64_t>(BigEndian(v, 5)) - 0x8000000000LL;
        const int64_t ymd = packed >> 17, hms = packed & 0x1FFFF;
        const int64_t ym = ymd >> 5;
        row[i] = Value::String(absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", ym / 13, ym % 13,
                                               ymd & 31, hms >> 12, (hms >> 6) & 63, hms & 63) +
                               FormatFraction(FractionMicros(v + 5, fsp), fsp));
        used = bytes;
        break;
      }
      case coltype::kTime2: {
        const int fsp = c.meta;
        const size_t bytes = 3 + (fsp + 1) / 2;
        if (!need(bytes)) return Truncated(c);
        // Packed as ((h<<12 | m<<6 | s) << 24) + micros, offset so that it sorts as unsigned.
        int64_t packed;
        switch ((fsp + 1) / 2) {
          case 0: packed = (static_cast<int64_t>(BigEndian(v, 3)) - 0x800000LL) * (1LL << 24); break;
          case 1: {
            int64_t intpart = static_cast<int64_t>(BigEndian(v, 3)) - 0x800000LL;
            int64_t frac = v[3];  // unsigned: negative values store 0x100 - frac
            if (intpart < 0 && frac != 0) { intpart++; frac -= 0x100; }
            packed = intpart * (1LL << 24) + frac * 10000;
            break;
          }
          case 2: {
            int64_t intpart = static_cast<int64_t>(BigEndian(v, 3)) - 0x800000LL;
            int64_t frac = static_cast<int64_t>(BigEndian(v + 3, 2));
            if (intpart < 0 && frac != 0) { intpart++; frac -= 0x10000; }
            packed = intpart * (1LL << 24) + frac * 100;
            break;
          }
          default: packed = static_cast<int64_t>(BigEndian(v, 6)) - 0x800000000000LL; break;
        }
        const char* sign = packed < 0 ? "-" : "";
        if (packed < 0) packed = -packed;
        const int64_t hms = packed >> 24, micros = packed % (1LL << 24);
        row[i] = Value::String(absl::StrFormat("%s%02d:%02d:%02d", sign, (hms >> 12) % (1 << 10),
                                               (hms >> 6) % 64, hms % 64) +
                               FormatFraction(micros, fsp));
        used = bytes;
        break;
      }
      case coltype::kNewDecimal: {
        auto text = DecodeDecimal(v, left, c.meta >> 8, c.meta & 0xff, &used);
        if (!text.ok()) return text.status();
        row[i] = Value::String(*std::move(text));
        break;
      }
      case coltype::kVarchar: case coltype::kVarString: case coltype::kString: {
        const int prefix = c.type == coltype::kString ? StringPrefixBytes(c) : (c.meta > 255 ? 2 : 1);
        if (!need(prefix)) return Truncated(c);
        const size_t len = LittleEndian(v, prefix);
        if (!need(prefix + len)) return Truncated(c);
        row[i] = Value::Bytes(std::string(reinterpret_cast<const char*>(v + prefix), len));
        if (c.type == coltype::kString && (c.charset.empty() || c.charset == "binary")) {
          // The binlog strips BINARY(n)'s trailing zero bytes; the stored value has them, and
          // comparisons (WHERE on a key, before images) need them.
          const size_t n = (((c.meta >> 4) & 0x300) ^ 0x300) + (c.meta & 0xff);
          if (row[i].s.size() < n) row[i].s.resize(n, '\0');
        }
        used = prefix + len;
        break;
      }
      case coltype::kEnum: case coltype::kSet: {
        const int bytes = c.meta & 0xff;
        if (bytes < 1 || bytes > 8 || !need(bytes)) return Truncated(c);
        row[i] = Value::UInt(LittleEndian(v, bytes));
        used = bytes;
        break;
      }
      case coltype::kBit: {
        const int bytes = ((c.meta >> 8) & 0xff) + ((c.meta & 0xff) > 0 ? 1 : 0);
        if (bytes > 8 || !need(bytes)) return Truncated(c);
        row[i] = Value::UInt(BigEndian(v, bytes));
        used = bytes;
        break;
      }
      case coltype::kBlob: case coltype::kTinyBlob: case coltype::kMediumBlob:
      case coltype::kLongBlob: case coltype::kGeometry: {
        const int prefix = c.meta;
        if (prefix < 1 || prefix > 4 || !need(prefix)) return Truncated(c);
        const size_t len = LittleEndian(v, prefix);
        if (!need(prefix + len)) return Truncated(c);
        row[i] = Value::Bytes(std::string(reinterpret_cast<const char*>(v + prefix), len));
        used = prefix + len;
        break;
      }
      case coltype::kJson: {  // MySQL's binary JSON, length-prefixed like a BLOB
        const int prefix = c.meta;
        if (prefix < 1 || prefix > 4 || !need(prefix)) return Truncated(c);
        const size_t len = LittleEndian(v, prefix);
        if (!need(prefix + len)) return Truncated(c);
        absl::string_view raw(reinterpret_cast<const char*>(v + prefix), len);
        if (json_as_binary) {
          row[i] = Value::Bytes(std::string(raw));
        } else {
          auto text = BinaryJsonToText(raw);
          if (!text.ok()) {
            return absl::DataLossError(absl::StrCat("column '", c.name, "': ", text.status().message()));
          }
          row[i] = Value::String(*std::move(text));
        }
        used = prefix + len;
        break;
      }
      default:
        return absl::UnimplementedError(absl::StrCat(
            "column '", c.name, "' has binlog type ", c.type, ", which duosync cannot decode"));
    }
    p += used;
  }
  *pos = p;
  return row;
}

}  // namespace duosync
