// The C ABI shim over duosync::Project: catches everything, maps absl::Status to codes.
#include "duosync.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "duosync/project.h"
#include "glog/logging.h"
#include "google/protobuf/util/json_util.h"
#include "base/json_text.h"
#include "serve/status_server.h"

struct duo_project_t {
  std::unique_ptr<duosync::Project> rep;
  std::mutex server_mu;  // guards server: the ABI may be called from several threads
  std::unique_ptr<duosync::StatusServer> server;  // after rep: it goes first (it reads rep)
};

namespace {

char* CopyString(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

int SetError(char** errptr, int code, const std::string& message) {
  if (errptr != nullptr) {
    std::free(*errptr);
    *errptr = CopyString(message);
  }
  return code;
}

int Report(const absl::Status& s, char** errptr) {
  if (s.ok()) return DUO_OK;
  return SetError(errptr, static_cast<int>(s.code()), std::string(s.message()));
}

// Runs `fn` and turns any escaping exception into DUO_INTERNAL.
template <typename Fn>
int Guard(char** errptr, Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return SetError(errptr, DUO_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return SetError(errptr, DUO_INTERNAL, "internal error: unknown exception");
  }
}

// Initializes glog once (unless the host did): to stderr, warnings and worse by default.
void InitLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!google::IsGoogleLoggingInitialized()) {
      FLAGS_logtostderr = true;
      FLAGS_minloglevel = google::GLOG_WARNING;
      google::InitGoogleLogging("duosync");
    }
  });
}

int NullArgument(char** errptr, const char* what) {
  return SetError(errptr, DUO_INVALID_ARGUMENT, std::string(what) + " must not be NULL");
}

}  // namespace

extern "C" {

const char* duo_version(void) { return duosync::kVersion; }

int duo_version_number(void) { return DUO_VERSION_NUMBER; }

void duo_free(void* ptr) { std::free(ptr); }

void duo_set_log_level(int level) {
  InitLogging();
  // NONE maps past ERROR; glog's FATAL still aborts (never raised by duosync on purpose).
  FLAGS_minloglevel = level <= DUO_LOG_INFO ? google::GLOG_INFO
                      : level == DUO_LOG_WARNING ? google::GLOG_WARNING
                      : level == DUO_LOG_ERROR ? google::GLOG_ERROR
                                               : google::GLOG_FATAL;
}

int duo_validate(const char* config_json, size_t config_len, char** report_json, char** errptr) {
  return Guard(errptr, [&] {
    if (config_json == nullptr) return NullArgument(errptr, "config_json");
    bool ok = false;
    std::string report = duosync::Project::Validate(std::string(config_json, config_len), &ok);
    if (report_json != nullptr) *report_json = CopyString(report);
    if (ok) return DUO_OK;
    return SetError(errptr, DUO_INVALID_ARGUMENT, "invalid project config; see the report");
  });
}

int duo_project_create(const char* config_json, size_t config_len, duo_project_t** out,
                       char** errptr) {
  return Guard(errptr, [&] {
    if (out == nullptr) return NullArgument(errptr, "out");
    *out = nullptr;
    InitLogging();
    if (config_json == nullptr) return NullArgument(errptr, "config_json");
    auto project = duosync::Project::Create(std::string(config_json, config_len));
    if (!project.ok()) return Report(project.status(), errptr);
    *out = new duo_project_t{std::move(*project)};
    return DUO_OK;
  });
}

void duo_project_destroy(duo_project_t* project) {
  try {
    delete project;
  } catch (...) {
  }
}

int duo_project_precheck(duo_project_t* project, char** report_json, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    bool ok = false;
    std::string report = project->rep->Precheck(&ok);
    if (report_json != nullptr) *report_json = CopyString(report);
    if (ok) return DUO_OK;
    return SetError(errptr, DUO_FAILED_PRECONDITION, "precheck failed; see the report");
  });
}

int duo_project_start(duo_project_t* project, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Start(), errptr);
  });
}

int duo_project_stop(duo_project_t* project, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Stop(), errptr);
  });
}

int duo_project_wait(duo_project_t* project, int64_t timeout_ms, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Wait(absl::Milliseconds(timeout_ms)), errptr);
  });
}

int duo_project_status(duo_project_t* project, char** status_json, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    if (status_json == nullptr) return NullArgument(errptr, "status_json");
    *status_json = CopyString(project->rep->StatusJson());
    return DUO_OK;
  });
}

int duo_project_conflicts(duo_project_t* project, char** conflicts_json, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    if (conflicts_json == nullptr) return NullArgument(errptr, "conflicts_json");
    *conflicts_json = CopyString(project->rep->ConflictsJson());
    return DUO_OK;
  });
}

int duo_project_switchover(duo_project_t* project, int make_source_read_only, int64_t timeout_ms,
                           char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Switchover(make_source_read_only != 0, absl::Milliseconds(timeout_ms)),
                  errptr);
  });
}

int duo_project_verify(duo_project_t* project, int repair, char** report_json, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    bool equal = false;
    auto report = project->rep->Verify(repair != 0, &equal);
    if (!report.ok()) return Report(report.status(), errptr);
    if (report_json != nullptr) *report_json = CopyString(*report);
    if (equal) return DUO_OK;
    return SetError(errptr, DUO_DATA_LOSS, "the sides differ; see the report");
  });
}

int duo_project_replay(duo_project_t* project, const char* link, const char* from, char** position,
                       char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    if (link == nullptr) return NullArgument(errptr, "link");
    if (from == nullptr) return NullArgument(errptr, "from");
    auto rewound = project->rep->Replay(link, from);
    if (!rewound.ok()) return Report(rewound.status(), errptr);
    if (position != nullptr) *position = CopyString(*rewound);
    return DUO_OK;
  });
}

int duo_project_listen(duo_project_t* project, const char* address, int* port, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    std::lock_guard<std::mutex> lock(project->server_mu);
    project->server.reset();
    if (address == nullptr || address[0] == '\0') return DUO_OK;
    duosync::Project* p = project->rep.get();
    auto server = duosync::StatusServer::Start(address, [p] {
      duosync::report::ProjectStatus status;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      (void)google::protobuf::util::JsonStringToMessage(p->StatusJson(), &status, options);
      return std::vector<duosync::report::ProjectStatus>{std::move(status)};
    }, [p] {
      std::string json = "{";
      duosync::AppendJsonString(p->name(), &json);
      return absl::StrCat(json, ":", p->ConflictsJson(), "}");
    });
    if (!server.ok()) return Report(server.status(), errptr);
    project->server = *std::move(server);
    if (port != nullptr) *port = project->server->port();
    return DUO_OK;
  });
}

int duo_project_set_event_callback(duo_project_t* project, duo_event_fn fn, void* user_data,
                                   char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    if (fn == nullptr) {
      project->rep->SetEventCallback(nullptr);
      return DUO_OK;
    }
    project->rep->SetEventCallback([fn, user_data](int event, const std::string& json) {
      try {
        return fn(event, json.c_str(), user_data);
      } catch (...) {
        return 1;  // a callback that throws (C++ host) is unsubscribed
      }
    });
    return DUO_OK;
  });
}

int duo_project_pause(duo_project_t* project, const char* link, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Pause(link == nullptr ? "" : link), errptr);
  });
}

int duo_project_resume(duo_project_t* project, const char* link, char** errptr) {
  return Guard(errptr, [&] {
    if (project == nullptr) return NullArgument(errptr, "project");
    return Report(project->rep->Resume(link == nullptr ? "" : link), errptr);
  });
}

}  // extern "C"
