#include "base/gtid_position.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace duosync {
namespace {

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// A MySQL 8.4 GTID tag: a letter or '_', then up to 31 letters, digits or '_'.
bool IsTag(absl::string_view s) {
  if (s.empty() || s.size() > 32 || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

// Adds [first, last] to sorted, disjoint, non-adjacent `set`, merging what touches it.
void AddInterval(GtidPosition::Intervals* set, uint64_t first, uint64_t last) {
  auto it = std::lower_bound(set->begin(), set->end(), first,
                             [](const std::pair<uint64_t, uint64_t>& iv, uint64_t v) {
                               return iv.second != UINT64_MAX && iv.second + 1 < v;
                             });
  // `it` is the first interval that ends at or after first - 1: it and the ones after that start
  // at or before last + 1 merge with the new one.
  auto end = it;
  while (end != set->end() && (last == UINT64_MAX || end->first <= last + 1)) {
    first = std::min(first, end->first);
    last = std::max(last, end->second);
    ++end;
  }
  it = set->erase(it, end);
  set->insert(it, {first, last});
}

bool IntervalsCover(const GtidPosition::Intervals& set, uint64_t first, uint64_t last) {
  auto it = std::lower_bound(set.begin(), set.end(), first,
                             [](const std::pair<uint64_t, uint64_t>& iv, uint64_t v) { return iv.second < v; });
  return it != set.end() && it->first <= first && last <= it->second;
}

absl::Status NotAPosition(absl::string_view part, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "'", part, "' is not a replication position (", why,
      "; expected a MariaDB GTID domain-server-sequence, a MySQL GTID set uuid:1-5:7, or a binlog "
      "file place name.000042:1234)"));
}

}  // namespace

bool SplitBinlogName(absl::string_view name, std::string* series, uint64_t* number) {
  const size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos || dot == 0 || name.size() - dot - 1 < 6) return false;
  const absl::string_view digits = name.substr(dot + 1);
  if (!AllDigits(digits)) return false;
  *series = std::string(name.substr(0, dot));
  return absl::SimpleAtoi(digits, number);
}

std::string BinlogFileName(absl::string_view series, uint64_t number) {
  return absl::StrCat(series, absl::StrFormat(".%06d", number));
}

bool IsServerUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !absl::ascii_isxdigit(text[i])) return false;
  }
  return true;
}

std::string Gtid::ToString() const {
  if (!source_uuid.empty()) return absl::StrCat(source_uuid, ":", sequence);
  if (!file_series.empty()) {
    return absl::StrCat(BinlogFileName(file_series, FileNumberOf(sequence)), ":", FileOffsetOf(sequence));
  }
  return absl::StrCat(domain, "-", server_id, "-", sequence);
}

absl::StatusOr<GtidPosition> GtidPosition::Parse(absl::string_view text) {
  GtidPosition pos;
  for (absl::string_view raw : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    const absl::string_view part = absl::StripAsciiWhitespace(raw);
    std::vector<absl::string_view> n = absl::StrSplit(part, '-');
    if (n.size() == 3 && AllDigits(n[0]) && AllDigits(n[1]) && AllDigits(n[2])) {  // MariaDB
      Gtid g;
      if (!absl::SimpleAtoi(n[0], &g.domain) || !absl::SimpleAtoi(n[1], &g.server_id) ||
          !absl::SimpleAtoi(n[2], &g.sequence)) {
        return NotAPosition(part, "a number out of range");
      }
      pos.Advance(g);
      continue;
    }
    const size_t colon = part.find(':');
    if (colon == absl::string_view::npos) return NotAPosition(part, "no ':' and not domain-server-sequence");
    const absl::string_view head = part.substr(0, colon);
    if (IsServerUuid(head)) {  // MySQL: uuid(:tag)?(:interval)+ ...
      const std::string uuid = absl::AsciiStrToLower(head);
      std::string key = uuid;
      bool any = false, tag_has_intervals = true;
      for (absl::string_view seg : absl::StrSplit(part.substr(colon + 1), ':')) {
        if (IsTag(seg)) {
          if (!tag_has_intervals) return NotAPosition(part, "a tag without intervals");
          key = absl::StrCat(uuid, ":", absl::AsciiStrToLower(seg));
          tag_has_intervals = false;
          continue;
        }
        std::vector<absl::string_view> ends = absl::StrSplit(seg, '-');
        uint64_t first = 0, last = 0;
        if (ends.size() > 2 || !AllDigits(ends[0]) || !absl::SimpleAtoi(ends[0], &first) ||
            (ends.size() == 2 && (!AllDigits(ends[1]) || !absl::SimpleAtoi(ends[1], &last)))) {
          return NotAPosition(part, absl::StrCat("'", seg, "' is not a sequence interval"));
        }
        if (ends.size() == 1) last = first;
        if (first == 0 || last < first) return NotAPosition(part, absl::StrCat("empty interval '", seg, "'"));
        AddInterval(&pos.mysql_[key], first, last);
        any = true;
        tag_has_intervals = true;
      }
      if (!any || !tag_has_intervals) return NotAPosition(part, "a server uuid without intervals");
      continue;
    }
    // A file place: name.NNNNNN:offset.
    const size_t last_colon = part.rfind(':');
    Gtid g;
    uint64_t number = 0, offset = 0;
    if (!SplitBinlogName(part.substr(0, last_colon), &g.file_series, &number) ||
        !AllDigits(part.substr(last_colon + 1)) || !absl::SimpleAtoi(part.substr(last_colon + 1), &offset) ||
        number >= (uint64_t{1} << (64 - kFileOffsetBits)) || offset >= (uint64_t{1} << kFileOffsetBits)) {
      return NotAPosition(part, "neither a server uuid nor a binlog file name with an offset");
    }
    g.sequence = FilePlace(number, offset);
    pos.Advance(g);
  }
  return pos;
}

void GtidPosition::Advance(const Gtid& gtid) {
  if (gtid.mysql()) {
    AddInterval(&mysql_[gtid.source_uuid], gtid.sequence, gtid.sequence);
  } else if (gtid.by_file()) {
    if (file_.file_series != gtid.file_series || file_.sequence < gtid.sequence) file_ = gtid;
  } else {
    domains_[gtid.domain] = gtid;
  }
}

void GtidPosition::Merge(const GtidPosition& other) {
  for (const auto& [domain, gtid] : other.domains_) {
    if (!Covers(gtid)) Advance(gtid);
  }
  for (const auto& [uuid, set] : other.mysql_) {
    for (const auto& [first, last] : set) AddInterval(&mysql_[uuid], first, last);
  }
  if (!other.file_.file_series.empty() && !Covers(other.file_)) file_ = other.file_;
}

bool GtidPosition::Covers(const Gtid& gtid) const {
  if (gtid.mysql()) {
    auto it = mysql_.find(gtid.source_uuid);
    return it != mysql_.end() && IntervalsCover(it->second, gtid.sequence, gtid.sequence);
  }
  if (gtid.by_file()) return file_.file_series == gtid.file_series && gtid.sequence <= file_.sequence;
  auto it = domains_.find(gtid.domain);
  return it != domains_.end() && gtid.sequence <= it->second.sequence;
}

bool GtidPosition::CoversAll(const GtidPosition& other) const {
  for (const auto& [domain, gtid] : other.domains_) {
    if (!Covers(gtid)) return false;
  }
  for (const auto& [uuid, set] : other.mysql_) {
    auto mine = mysql_.find(uuid);
    for (const auto& [first, last] : set) {
      if (mine == mysql_.end() || !IntervalsCover(mine->second, first, last)) return false;
    }
  }
  return other.file_.file_series.empty() || Covers(other.file_);
}

bool GtidPosition::CoversWhereNamed(const GtidPosition& other) const {
  for (const auto& [domain, gtid] : other.domains_) {
    if (domains_.count(domain) > 0 && !Covers(gtid)) return false;
  }
  for (const auto& [uuid, set] : other.mysql_) {
    auto mine = mysql_.find(uuid);
    if (mine == mysql_.end()) continue;
    for (const auto& [first, last] : set) {
      if (!IntervalsCover(mine->second, first, last)) return false;
    }
  }
  return other.file_.file_series.empty() || file_.file_series != other.file_.file_series || Covers(other.file_);
}

bool GtidPosition::NamesAnyOf(const GtidPosition& other) const {
  for (const auto& [domain, gtid] : other.domains_) {
    if (domains_.count(domain) > 0) return true;
  }
  for (const auto& [uuid, set] : other.mysql_) {
    if (mysql_.count(uuid) > 0) return true;
  }
  return !file_.file_series.empty() && file_.file_series == other.file_.file_series;
}

std::string GtidPosition::ToString() const {
  std::string out;
  for (const auto& [domain, g] : domains_) absl::StrAppend(&out, out.empty() ? "" : ",", g.ToString());
  for (const auto& [uuid, set] : mysql_) {
    absl::StrAppend(&out, out.empty() ? "" : ",", uuid);
    for (const auto& [first, last] : set) {
      if (first == last) absl::StrAppend(&out, ":", first);
      else absl::StrAppend(&out, ":", first, "-", last);
    }
  }
  if (!file_.file_series.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", file_.ToString());
  return out;
}

absl::Status CheckStartFitsSource(const GtidPosition& start, const GtidPosition& end, bool mariadb_source) {
  if (start.empty()) return absl::OkStatus();
  const std::string shown = start.ToString();
  if (mariadb_source && (!start.mysql_sets().empty() || !start.file_place().file_series.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start position ", shown, " is in the MySQL dialect, but the source is a MariaDB server: start at a "
        "MariaDB GTID position such as 0-1-100 (SELECT @@gtid_binlog_pos)"));
  }
  if (!mariadb_source && !start.domains().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start position ", shown, " is a MariaDB GTID position, but the source speaks MySQL's dialect: start "
        "at a GTID set such as uuid:1-100 (SELECT @@gtid_executed) or a file place such as "
        "mysql-bin.000042:1234 (SHOW MASTER STATUS)"));
  }
  if (end.empty()) return absl::OkStatus();
  auto shares = [](const auto& a, const auto& b) {
    for (const auto& [k, v] : a) {
      if (b.count(k) != 0) return true;
    }
    return false;
  };
  const bool other_server =
      (!start.domains().empty() && !end.domains().empty() && !shares(start.domains(), end.domains())) ||
      (!start.mysql_sets().empty() && !end.mysql_sets().empty() && !shares(start.mysql_sets(), end.mysql_sets())) ||
      (!start.file_place().file_series.empty() && !end.file_place().file_series.empty() &&
       start.file_place().file_series != end.file_place().file_series);
  if (other_server) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start position ", shown, " names none of the source's servers (its binlog is at ", end.ToString(),
        "): a position taken from another server? Take it from this source"));
  }
  if (!end.CoversWhereNamed(start)) {
    return absl::InvalidArgumentError(absl::StrCat("start position ", shown, " is past the source's binlog end ",
                                                   end.ToString(), ": nothing there to start after"));
  }
  return absl::OkStatus();
}

}  // namespace duosync
