#include "harness/delay_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>

#include "absl/strings/str_cat.h"

namespace duosync::harness {
namespace {

using Clock = std::chrono::steady_clock;

// One direction of a connection: a reader stamps chunks, a writer sends each when it is due.
// While `cut` is set, what is read is dropped (a partition: nothing arrives, nothing is refused).
// A `close_at` above 0 ends the connection when that many chunks have been read, the last unsent.
void Pump(int from, int to, std::chrono::nanoseconds delay, const std::atomic<bool>* cut, int close_at = 0) {
  struct Chunk {
    Clock::time_point due;
    std::string bytes;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  bool eof = false;
  std::thread writer([&] {
    while (true) {
      Chunk chunk;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || eof; });
        if (queue.empty()) break;
        chunk = std::move(queue.front());
        queue.pop_front();
      }
      std::this_thread::sleep_until(chunk.due);
      size_t sent = 0;
      while (sent < chunk.bytes.size()) {
        ssize_t n = send(to, chunk.bytes.data() + sent, chunk.bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          shutdown(from, SHUT_RDWR);  // the other side is gone: stop reading too
          return;
        }
        sent += n;
      }
    }
    shutdown(to, SHUT_WR);
  });
  char buf[64 * 1024];
  for (int chunks = 1;; ++chunks) {
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (chunks == close_at) {
      shutdown(from, SHUT_RDWR);
      break;
    }
    if (cut->load()) continue;
    std::lock_guard<std::mutex> lock(mu);
    queue.push_back(Chunk{Clock::now() + delay, std::string(buf, n)});
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    eof = true;
    cv.notify_one();
  }
  writer.join();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DelayProxy>> DelayProxy::Start(const std::string& target_host,
                                                              unsigned target_port,
                                                              absl::Duration one_way_delay) {
  std::unique_ptr<DelayProxy> p(new DelayProxy());
  p->target_host_ = target_host;
  p->target_port_ = target_port;
  p->delay_ = one_way_delay;
  p->listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(p->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(p->listen_fd_, 128) != 0) {
    return absl::UnavailableError("delay proxy: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  getsockname(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  p->port_ = ntohs(addr.sin_port);
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

DelayProxy::~DelayProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  for (int fd : fds_) close(fd);
}

void DelayProxy::AcceptLoop() {
  while (!stopping_) {
    int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(client);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void DelayProxy::Serve(int client) {
  int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(target_port_);
  inet_pton(AF_INET, target_host_ == "localhost" ? "127.0.0.1" : target_host_.c_str(), &addr.sin_addr);
  if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(server);
    shutdown(client, SHUT_RDWR);
    return;
  }
  int one = 1;
  setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  {
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(server);
  }
  const auto delay = absl::ToChronoNanoseconds(delay_);
  std::thread back([=] { Pump(server, client, delay, &cut_); });
  Pump(client, server, delay, &cut_, close_next_at_.exchange(0));
  back.join();
}

}  // namespace duosync::harness
