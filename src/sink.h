// Sink: writes routed transactions to the destination, each in one destination transaction that
// also advances the link's checkpoint (table duosync.checkpoint), so a crash at any point leaves
// the destination either before or after the whole transaction — never half, never twice.
// The transaction is sent as one multi-statement batch: one round trip per source transaction.
// An UPDATE or DELETE that finds no row stops the batch before COMMIT (the destination has
// drifted): the transaction is rolled back and reported, the checkpoint stays put.
// Not thread-safe: one sink per applier thread.
#ifndef DUOSYNC_SRC_SINK_H_
#define DUOSYNC_SRC_SINK_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "router.h"
#include "sql_connection.h"

namespace duosync {

inline constexpr const char* kMetaSchema = "duosync";

class Sink {
 public:
  // Connects and prepares the session (UTC time zone, strict SQL mode, utf8mb4).
  static absl::StatusOr<std::unique_ptr<Sink>> Connect(const ConnectOptions& destination,
                                                       std::string link_id);

  // Creates duosync.checkpoint if missing.
  absl::Status EnsureCheckpointTable();
  // The link's recorded position, nullopt before its first start.
  absl::StatusOr<std::optional<std::string>> ReadCheckpoint();
  // Records `position` as the start unless one is recorded already; returns the recorded one.
  absl::StatusOr<std::string> InitCheckpoint(const std::string& position);

  // Applies `changes` and sets the checkpoint to `position` in one transaction.
  absl::Status Apply(const std::vector<RoutedChange>& changes, const std::string& position,
                     uint32_t commit_time);

  SqlConnection* connection() { return conn_.get(); }

 private:
  Sink(std::unique_ptr<SqlConnection> conn, std::string link_id);
  void AppendChange(const RoutedChange& change, std::string* sql);

  std::unique_ptr<SqlConnection> conn_;
  std::string link_id_;
  std::string quoted_link_id_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SINK_H_
