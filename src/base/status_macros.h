// Small status helpers: Debian's Abseil (20220623) ships no RETURN_IF_ERROR / ASSIGN_OR_RETURN.
#ifndef DUOSYNC_SRC_BASE_STATUS_MACROS_H_
#define DUOSYNC_SRC_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// A lost server, a timeout or an aborted transaction: trying again (after a reconnect) may succeed.
inline bool IsRetryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsAborted(s);
}

#define DUO_RETURN_IF_ERROR(expr)                \
  do {                                           \
    ::absl::Status duo_status_ = (expr);         \
    if (!duo_status_.ok()) return duo_status_;   \
  } while (0)

#define DUO_CONCAT_INNER_(a, b) a##b
#define DUO_CONCAT_(a, b) DUO_CONCAT_INNER_(a, b)
#define DUO_ASSIGN_OR_RETURN(lhs, expr) \
  DUO_ASSIGN_OR_RETURN_IMPL_(DUO_CONCAT_(duo_statusor_, __LINE__), lhs, expr)
#define DUO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#endif  // DUOSYNC_SRC_BASE_STATUS_MACROS_H_
