#include "project/event_dispatcher.h"

#include <chrono>

#include "link/link_events.h"

namespace duosync {

EventDispatcher::~EventDispatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void EventDispatcher::SetCallback(Callback cb) {
  std::lock_guard<std::mutex> lock(mu_);
  callback_ = std::move(cb);
  ++generation_;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void EventDispatcher::Post(int event, std::string json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!callback_) return;
  queue_.emplace_back(event, std::move(json));
  cv_.notify_all();
}

void EventDispatcher::SetRunning(bool running) {
  std::lock_guard<std::mutex> lock(mu_);
  running_ = running;
}

void EventDispatcher::Loop() {
  auto next_progress = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_until(lock, next_progress, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    if (queue_.empty() && running_ && callback_) {
      next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      lock.unlock();
      const std::string status = status_();
      lock.lock();
      queue_.emplace_back(kEventProgress, status);
    } else if (queue_.empty()) {
      next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    while (!queue_.empty() && callback_) {
      auto [event, json] = std::move(queue_.front());
      queue_.pop_front();
      Callback cb = callback_;
      const uint64_t generation = generation_;
      lock.unlock();
      const int rc = cb(event, json);  // a non-zero return unsubscribes
      lock.lock();
      // Only that callback: one set meanwhile stays subscribed.
      if (rc != 0 && generation == generation_) callback_ = nullptr;
    }
    queue_.clear();
  }
}

}  // namespace duosync
