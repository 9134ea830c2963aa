#include "base/gtid_position.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace duosync {

std::string Gtid::ToString() const {
  if (!source_uuid.empty()) return absl::StrCat(source_uuid, ":", sequence);
  return absl::StrCat(domain, "-", server_id, "-", sequence);
}

absl::StatusOr<GtidPosition> GtidPosition::Parse(absl::string_view text) {
  GtidPosition pos;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> n = absl::StrSplit(absl::StripAsciiWhitespace(part), '-');
    Gtid g;
    if (n.size() != 3 || !absl::SimpleAtoi(n[0], &g.domain) || !absl::SimpleAtoi(n[1], &g.server_id) ||
        !absl::SimpleAtoi(n[2], &g.sequence)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", part, "' is not a GTID (domain-server-sequence)"));
    }
    pos.Advance(g);
  }
  return pos;
}

bool GtidPosition::Covers(const Gtid& gtid) const {
  auto it = domains_.find(gtid.domain);
  return it != domains_.end() && gtid.sequence <= it->second.sequence;
}

bool GtidPosition::CoversAll(const GtidPosition& other) const {
  for (const auto& [domain, gtid] : other.domains_) {
    if (!Covers(gtid)) return false;
  }
  return true;
}

std::string GtidPosition::ToString() const {
  std::string out;
  for (const auto& [domain, g] : domains_) absl::StrAppend(&out, out.empty() ? "" : ",", g.ToString());
  return out;
}

}  // namespace duosync
