#include "store/store_pump.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "source/live_source.h"

namespace duosync {

StorePump::StorePump(RecordStore* store, PumpOptions options)
    : store_(store), options_(std::move(options)), last_retention_(absl::Now()) {}

StorePump::~StorePump() { Stop(); }

void StorePump::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = absl::OkStatus();
  }
  thread_ = std::thread([this] { Run(); });
}

void StorePump::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reader_ != nullptr) reader_->Cancel();
    wake_.notify_all();  // under the lock: the backoff wait cannot miss it
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status StorePump::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

std::string StorePump::idle_position() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_position_;
}

void StorePump::Run() {
  auto backoff = std::chrono::milliseconds(200);
  while (!stop_) {
    absl::Status s = ReadSession();
    if (stop_) break;
    if (!IsRetryable(s)) {
      LOG(ERROR) << "record store " << store_->dir() << ": reading the source stopped: " << s;
      std::lock_guard<std::mutex> lock(mu_);
      error_ = s;
      break;
    }
    LOG(WARNING) << "record store " << store_->dir() << ": " << s << "; reconnecting to the source in "
                 << backoff.count() << " ms";
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, backoff, [this] { return stop_.load(); });
    // A session that got somewhere starts the backoff over.
    backoff = appended_ ? std::chrono::milliseconds(200) : std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  absl::Status synced = store_->Sync();
  if (!synced.ok()) LOG(ERROR) << synced;
}

absl::Status StorePump::ReadSession() {
  appended_ = false;
  ReaderOptions o = options_.reader;
  o.follow_failover = false;  // the store's cursor would take reused sequence numbers for old ones
  o.start = store_->end();
  auto reader = OpenLiveSource(o);
  if (!reader.ok()) return reader.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::OkStatus();
    reader_ = reader->get();
  }
  absl::Status s;
  while (!stop_) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      s = next.status();
      break;
    }
    if (next->has_value()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        idle_position_.clear();
      }
      s = store_->Append(**next);
      if (!s.ok()) break;
      appended_ = true;
      ApplyRetentionNow();  // a busy source sends no heartbeats
      continue;
    }
    // A heartbeat: the source has nothing more for now.
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_position_ = (*reader)->position().ToString();
    }
    s = store_->MaybeSync();
    if (!s.ok()) break;
    ApplyRetentionNow();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    reader_ = nullptr;
    idle_position_.clear();
  }
  return stop_ ? absl::OkStatus() : s;
}

void StorePump::ApplyRetentionNow() {
  if (absl::Now() - last_retention_ < options_.retention_every || !options_.applied) return;
  last_retention_ = absl::Now();
  auto deleted = store_->ApplyRetention(options_.applied());
  if (!deleted.ok()) LOG(WARNING) << deleted.status();
}

absl::StatusOr<std::optional<Transaction>> StoreFeed::Next() {
  // Read before the cursor looks: the pump appends nothing after it failed, so when it had failed
  // by now and the cursor finds nothing more, everything it stored has been handed out.
  const absl::Status pump = pump_->error();
  auto next = cursor_->Next(absl::Milliseconds(200));
  if (!next.ok()) {
    if (absl::IsDataLoss(next.status())) corrupt_at_ = cursor_->location();
    return next.status();
  }
  if (!next->has_value() && !pump.ok()) return pump;  // the pump's error is now the link's
  return next;
}

}  // namespace duosync
