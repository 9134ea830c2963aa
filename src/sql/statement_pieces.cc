#include "sql/statement_pieces.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace duosync {

absl::Status ExecuteInPieces(SqlConnection* conn, const std::vector<std::string>& statements,
                             const std::string& what) {
  auto packet = conn->MaxAllowedPacket();
  if (!packet.ok()) return packet.status();
  const size_t max_packet = *packet;
  const size_t budget = max_packet - 1024;  // the protocol's own bytes
  for (const std::string& s : statements) {
    if (s.size() > budget) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a ", what, " statement of ", s.size(), " bytes is more than the destination's max_allowed_packet (",
          max_packet, "); raise it (SET GLOBAL max_allowed_packet=", ((s.size() >> 20) + 2) << 20,
          ") and run again; nothing was applied"));
    }
  }
  std::string piece;
  for (const std::string& s : statements) {
    if (!piece.empty() && piece.size() + 1 + s.size() > budget) {
      absl::Status sent = conn->Execute(piece);
      if (!sent.ok()) return sent;
      piece.clear();
    }
    if (!piece.empty()) piece.push_back(';');
    piece += s;
  }
  return piece.empty() ? absl::OkStatus() : conn->Execute(piece);
}

}  // namespace duosync
