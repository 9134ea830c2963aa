#include "serve/status_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "serve/console_page.h"
#include "serve/metrics_text.h"

namespace duosync {

struct StatusServer::Impl {
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> finished{false};
};

StatusServer::~StatusServer() {
  if (impl_ == nullptr) return;
  // stop() does nothing until the loop runs; a loop that starts late is stopped on a later try.
  while (!impl_->finished) {
    impl_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(const std::string& listen,
                                                                  Snapshot snapshot,
                                                                  ConflictsSnapshot conflicts) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen address '", listen,
                                                   "' is not HOST:PORT (e.g. 127.0.0.1:9464, or :0 for any free port)"));
  }
  std::string host = listen.substr(0, colon);
  if (host.empty()) host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  auto server = std::unique_ptr<StatusServer>(new StatusServer());
  server->impl_ = std::make_unique<Impl>();
  httplib::Server& http = server->impl_->http;
  http.Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(PrometheusMetrics(snapshot()), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/status", [snapshot](const httplib::Request&, httplib::Response& res) {
    std::string json = "[";
    bool first = true;
    for (const auto& p : snapshot()) {
      std::string one;
      google::protobuf::util::JsonPrintOptions options;
      options.always_print_primitive_fields = true;
      options.preserve_proto_field_names = true;
      (void)google::protobuf::util::MessageToJsonString(p, &one, options);
      absl::StrAppend(&json, first ? "" : ",", one);
      first = false;
    }
    json += "]";
    res.set_content(json, "application/json");
  });
  http.Get("/conflicts", [conflicts](const httplib::Request&, httplib::Response& res) {
    res.set_content(conflicts ? conflicts() : "{}", "application/json");
  });
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(ConsolePageHtml(), "text/html; charset=utf-8");
  });
  const int bound = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, " (address in use, or not an "
                                               "address of this machine)"));
  }
  server->host_ = host;
  server->port_ = bound;
  server->impl_->thread = std::thread([impl = server->impl_.get()] {
    impl->http.listen_after_bind();
    impl->finished = true;
  });
  // httplib's stop() does nothing until the loop runs: wait for it, so that stopping right after
  // starting cannot leave the loop running (and the destructor's join waiting) forever.
  for (int i = 0; i < 5000 && !http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http.is_running()) return absl::UnavailableError(absl::StrCat("the listener on ", listen, " did not start"));
  return server;
}

}  // namespace duosync
