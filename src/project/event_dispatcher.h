// EventDispatcher: hands a project's events to the host's callback from one thread of its own, so
// that user code never runs inside a link's locks, and adds a progress event (the status) every
// second while the project runs.
#ifndef DUOSYNC_SRC_PROJECT_EVENT_DISPATCHER_H_
#define DUOSYNC_SRC_PROJECT_EVENT_DISPATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace duosync {

class EventDispatcher {
 public:
  // A non-zero return unsubscribes that callback.
  using Callback = std::function<int(int event, const std::string& json)>;
  // `status`: the project's status JSON, sent as a progress event every second while running.
  explicit EventDispatcher(std::function<std::string()> status) : status_(std::move(status)) {}
  ~EventDispatcher();

  // Replaces the callback (the thread starts with the first).
  void SetCallback(Callback cb);

  // Queues an event (dropped while no callback is set). Thread-safe.
  void Post(int event, std::string json);

  // Progress events flow only while the project runs.
  void SetRunning(bool running);

 private:
  void Loop();

  std::function<std::string()> status_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int, std::string>> queue_;
  Callback callback_;
  uint64_t generation_ = 0;  // counts SetCallback calls
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_PROJECT_EVENT_DISPATCHER_H_
