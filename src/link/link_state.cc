#include "link/link_state.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "base/json_text.h"

namespace duosync {

LinkState::LinkState(LinkDirection direction) : direction_(direction) {
  status_.set_name(LinkName(direction));
  const bool forward = direction == LinkDirection::kForward;
  status_.set_source(forward ? "a" : "b");
  status_.set_destination(forward ? "b" : "a");
  status_.set_stage("created");
}

void LinkState::Emit(int event, const std::string& json) const {
  if (events_) events_(event, json);
}

void LinkState::SetStage(const std::string& stage) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.stage() == stage) return;
  status_.set_stage(stage);
  Emit(kEventStage, absl::StrCat("{\"link\":\"", LinkName(direction_), "\",\"stage\":\"", stage, "\"}"));
}

std::string LinkState::stage() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_.stage();
}

void LinkState::SetRetrying(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_last_error(absl::StrCat(status.message(), " (reconnecting)"));
  status_.set_reconnects(status_.reconnects() + 1);
}

void LinkState::SetFailed(const absl::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.set_last_error(std::string(status.message()));
  }
  SetStage("failed");
  std::string json = absl::StrCat("{\"link\":\"", LinkName(direction_), "\",\"code\":",
                                  static_cast<int>(status.code()), ",\"error\":");
  AppendJsonString(status.message(), &json);
  Emit(kEventError, json + "}");
}

void LinkState::SetStarted(const std::string& stage, const std::string& position) {
  SetStage(stage);
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_position(position);
  durable_position_ = position;
  status_.clear_last_error();
  rate_mark_ = std::chrono::steady_clock::now();
}

void LinkState::SetRewound(const std::string& position) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_position(position);
  durable_position_ = position;
}

void LinkState::SetOwner(const std::string& owner, uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_owner(owner);
  status_.set_epoch(epoch);
}

void LinkState::SetFullProgress(uint64_t rows_copied, uint64_t rows_estimated, int tables_done,
                                int tables_total) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_full_rows_copied(rows_copied);
  status_.set_full_rows_estimated(rows_estimated);
  status_.set_full_tables_done(tables_done);
  status_.set_full_tables_total(tables_total);
}

void LinkState::SessionStarted(const ParallelApplier* applier, TransactionFeed* feed) {
  {
    std::lock_guard<std::mutex> lock(feed_mu_);
    feed_ = feed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  applier_ = applier;
}

void LinkState::SessionEnded(const ApplierProgress& progress) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    base_transactions_ += progress.transactions;
    base_rows_ += progress.rows;
    status_.set_position(progress.position);
    durable_position_ = progress.durable_position;
    applier_ = nullptr;
  }
  std::lock_guard<std::mutex> lock(feed_mu_);
  feed_ = nullptr;
}

void LinkState::CancelFeed() {
  std::lock_guard<std::mutex> lock(feed_mu_);
  if (feed_ != nullptr) feed_->Cancel();
}

void LinkState::ReaderIdle(const std::string& position, bool session_made_progress) {
  std::lock_guard<std::mutex> lock(mu_);
  reader_idle_position_ = position;
  if (!status_.last_error().empty() && session_made_progress) status_.clear_last_error();
}

void LinkState::ReaderBusy() {
  std::lock_guard<std::mutex> lock(mu_);
  reader_idle_position_.clear();
}

void LinkState::AddEcho() {
  std::lock_guard<std::mutex> lock(mu_);
  ++echoes_;
}

void LinkState::NoteFiltered(const std::vector<std::string>& tables) {
  if (tables.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  filtered_.insert(tables.begin(), tables.end());
}

void LinkState::NoteRefused(const std::vector<std::string>& tables) {
  if (tables.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  refused_.insert(tables.begin(), tables.end());
}

std::string LinkState::durable_position() const {
  std::lock_guard<std::mutex> lock(mu_);
  return applier_ != nullptr ? applier_->progress().durable_position : durable_position_;
}

report::LinkStatus LinkState::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  report::LinkStatus s = status_;
  uint64_t transactions = base_transactions_, rows = base_rows_;
  double lag = 0;
  if (applier_ != nullptr) {
    const ApplierProgress p = applier_->progress();
    transactions += p.transactions;
    rows += p.rows;
    s.set_position(p.position);
    // Caught up when the reader waits at the source's end and everything read is applied.
    const bool idle = !reader_idle_position_.empty() && reader_idle_position_ == p.position;
    if (!idle && p.commit_time != 0) {
      lag = std::max<double>(0, static_cast<double>(time(nullptr)) - p.commit_time);
    }
  }
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - rate_mark_).count();
  if (elapsed >= 1.0) {
    rate_ = (rows - rate_rows_) / elapsed;
    rate_rows_ = rows;
    rate_mark_ = now;
  }
  s.set_rows_per_second(rate_);
  s.set_rows_applied(rows);
  s.set_transactions_applied(transactions);
  s.set_lag_seconds(lag);
  for (const auto& t : filtered_) s.add_filtered_tables(t);
  for (const auto& t : refused_) s.add_refused_tables(t);
  s.set_echoes_dropped(echoes_);
  return s;
}

}  // namespace duosync
