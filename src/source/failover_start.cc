#include "source/failover_start.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace duosync {

absl::StatusOr<FailoverStart> PlanFailoverStart(const GtidPosition& position, uint32_t source_server_id,
                                                absl::string_view binlog_state) {
  // (domain, server) -> last sequence number the source holds.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> held;
  for (absl::string_view part : absl::StrSplit(binlog_state, ',', absl::SkipWhitespace())) {
    auto one = GtidPosition::Parse(absl::StripAsciiWhitespace(part));
    if (!one.ok() || one->domains().size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("unreadable @@gtid_binlog_state entry '", part, "'"));
    }
    const Gtid& g = one->domains().begin()->second;
    held[{g.domain, g.server_id}] = g.sequence;
  }
  FailoverStart plan;
  plan.request = position;
  for (const auto& [domain, at] : position.domains()) {
    if (at.server_id == source_server_id) continue;  // its own: a reset or restored server
    auto it = held.find({domain, at.server_id});
    if (it == held.end() || it->second >= at.sequence) continue;  // none of its, or it has ours
    // Only the old primary's transactions are known applied up to the position: a third writer
    // in the domain with transactions after the rewind point may have some the source would send
    // again. (One whose last is before it wrote before: a domain's numbers rise.)
    bool third_writer = false;
    for (const auto& [where, seq] : held) {
      third_writer |= where.first == domain && where.second != at.server_id && where.second != source_server_id &&
                      seq > it->second;
    }
    if (third_writer) continue;
    const Gtid rewound = Gtid::Maria(domain, at.server_id, it->second);
    plan.request.Advance(rewound);  // the domain's GTID, earlier than the link's
    plan.applied_through[{domain, at.server_id}] = at.sequence;
    plan.notes.push_back(absl::StrCat(
        "the source (server ", source_server_id, ") holds server ", at.server_id, "'s transactions in domain ",
        domain, " only up to ", rewound.ToString(), ", and the link applied them up to ", at.ToString(),
        " (a failover to a replica that lagged, or a replica still catching up): ", at.sequence - it->second,
        " of them are on the destination only"));
  }
  return plan;
}

}  // namespace duosync
